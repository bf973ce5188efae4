#!/usr/bin/env node
import { runCli } from './client';
import { runDlq } from './dlq';
import { runResend } from './resend';

const argv = process.argv.slice(2);
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
const run = argv[0] === 'dlq' ? runDlq : argv[0] === 'resend' ? runResend : undefined;
(run ? run(argv.slice(1), io) : runCli(argv, io)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`faxnotify: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
