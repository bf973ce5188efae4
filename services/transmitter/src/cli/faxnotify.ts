#!/usr/bin/env node
import { runCli } from './client';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`faxnotify: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
