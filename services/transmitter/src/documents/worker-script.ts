/**
 * How a conversion worker is started: from the built JavaScript beside this file, or, when the
 * transmitter runs from its TypeScript sources (its test suites do), through a small loader that
 * compiles the sources with swc as they are required and finds the sibling workspaces' sources
 * the way the tests' module map does.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface WorkerScript {
  /** A file to run, or JavaScript to evaluate. */
  script: string;
  eval: boolean;
  workerData: unknown;
}

const SOURCE_LOADER = `
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const swc = require(workerData.swc);
const aliases = workerData.aliases;
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, aliases[request] ?? request, ...rest);
};
Module._extensions['.ts'] = (module, filename) => {
  const options = { filename, sourceMaps: 'inline', module: { type: 'commonjs' }, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } };
  module._compile(swc.transformSync(readFileSync(filename, 'utf8'), options).code, filename);
};
require(workerData.entry);
`;

export function conversionWorkerScript(): WorkerScript {
  const built = join(__dirname, 'conversion-worker.js');
  if (existsSync(built)) return { script: built, eval: false, workerData: null };
  const source = join(__dirname, 'conversion-worker.ts');
  if (!existsSync(source)) throw new Error(`the conversion worker is missing (${built})`);
  const root = resolve(__dirname, '../../../..');
  const aliases = {
    '@faxnotify/contracts': join(root, 'contracts/src'),
    '@faxnotify/fax-line': join(root, 'packages/fax-line/src'),
    '@faxnotify/kit': join(root, 'services/kit/src'),
  };
  return { script: SOURCE_LOADER, eval: true, workerData: { swc: require.resolve('@swc/core'), aliases, entry: source } };
}
