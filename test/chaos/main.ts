import { runChaos } from './run';

/**
 * `npm run chaos [-- --results N] [--short]`: the chaos run; prints its figures as JSON and exits
 * non-zero when a goal is missed (anything lost, more than 0.1 % duplicated). CHAOS_RESULTS and
 * CHAOS_SHORT=1 do the same as the flags.
 */
function parseArgs(argv: string[], env: NodeJS.ProcessEnv): { results: number; short: boolean } {
  let results = env.CHAOS_RESULTS ? Number(env.CHAOS_RESULTS) : undefined;
  let short = env.CHAOS_SHORT === '1' || env.CHAOS_SHORT === 'true';
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split('=', 2) : [argv[i], undefined];
    if (flag === '--short') short = true;
    else if (flag === '--results') results = Number(inline ?? argv[++i]);
    else throw new Error(`unknown option ${argv[i]} (options: --results N, --short)`);
  }
  results ??= short ? 1000 : 10_000;
  if (!Number.isInteger(results) || results < 1) throw new Error('--results must be a whole number above 0');
  return { results, short };
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2), process.env);
  // Ctrl-C or SIGTERM: every node, process, database and folder the run started is removed first.
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
  const report = await runChaos({ ...options, signal: controller.signal, log: (line) => process.stderr.write(`chaos: ${line}\n`) });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
