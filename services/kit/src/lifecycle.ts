import { errorMessage } from './errors';
import type { Logger } from './logger';

/**
 * Runs `stop` once on SIGTERM or SIGINT (drain in-flight work, close connections), then exits.
 * A second signal exits at once.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping: draining in-flight work');
    stop()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: errorMessage(error) }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Entry point wrapper: a start-up failure (a bad config value, say) prints its message and exits non-zero. */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
