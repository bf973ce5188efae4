/**
 * Errors a message handler throws to tell the consumer wrapper what to do with the message.
 * Anything else thrown counts as retryable: an unknown failure is more often a passing one.
 * Both carry a short code for the reason and may carry the error that caused them.
 */
export abstract class HandlingError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A passing failure (a server busy, a connection lost): the message is tried again later. */
export class RetryableError extends HandlingError {
  override readonly name = 'RetryableError';
  constructor(message: string, code = 'retryable', options?: ErrorOptions) {
    super(message, code, options);
  }
}

/** Retrying cannot help (bad data, a rejected address): the message is dead-lettered with the reason. */
export class PermanentError extends HandlingError {
  override readonly name = 'PermanentError';
  constructor(message: string, code = 'permanent', options?: ErrorOptions) {
    super(message, code, options);
  }
}

/** A configuration value is wrong: the service must not start. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error));
