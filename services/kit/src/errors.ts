/**
 * Errors a message handler throws to tell the consumer wrapper what to do with the message.
 * Anything else thrown counts as retryable: an unknown failure is more often a passing one.
 */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(
    message: string,
    readonly code = 'retryable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Retrying cannot help (bad data, a rejected address): the message is dead-lettered with the reason. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(
    message: string,
    readonly code = 'permanent',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A configuration value is wrong: the service must not start. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
