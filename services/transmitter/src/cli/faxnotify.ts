#!/usr/bin/env node
import { runCli } from './client';
import { runDlq } from './dlq';

const argv = process.argv.slice(2);
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
(argv[0] === 'dlq' ? runDlq(argv.slice(1), io) : runCli(argv, io)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`faxnotify: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
