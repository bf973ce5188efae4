import { randomBytes } from 'node:crypto';
import { SecretBox, createLogger, issueToken, type Logger } from '@faxnotify/kit';
import type { ErrorView } from '../api';

/**
 * What the secrets-at-rest tests share: three keys in the three forms `secrets.key` takes, the
 * secrets they store, a logger that records what it is given, and the JSON API as a user.
 */
export const KEY_A = randomBytes(32).toString('base64');
export const KEY_B = randomBytes(32).toString('hex');
export const KEY_C = randomBytes(32).toString('base64url');

/** The id a key's sealed values carry (`v1:<id>:…`). */
export const idOf = (key: string) => new SecretBox({ key }).currentKeyId!;

export const ALICE_SECRET = 'whsec_alice-signing-secret-0123456789';
/** The longest secret the API takes: its encrypted form must still fit the column. */
export const LONG_SECRET = `whsec_${'x'.repeat(194)}`;
export const INGEST_SECRET = 'replix-shared-secret-0123456789';
export const PASSWORD = 'replix-api-password-0123';

export interface LoggedLine {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}

/** A logger that records what it is given, level by level. */
export function recordingLogger(): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = createLogger('status-tracker-test', 'silent');
  for (const level of ['info', 'warn', 'error'] as const)
    jest.spyOn(logger, level).mockImplementation(((fields: Record<string, unknown>, msg: string) => {
      lines.push({ level, fields, msg });
    }) as never);
  return { logger, lines };
}

/**
 * The tracker's JSON API as a user, with a token signed by `jwtSecret`; `url` is read at each call,
 * as the service may restart. A 204 answers with a null body.
 */
export const trackerApi =
  (url: () => string, jwtSecret: string) =>
  async <Answer = ErrorView>(method: string, path: string, user: string, body?: unknown): Promise<{ status: number; body: Answer }> => {
    const response = await fetch(`${url()}${path}`, {
      method,
      headers: { authorization: `Bearer ${await issueToken({ secret: jwtSecret }, user)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (response.status === 204 ? null : await response.json()) as Answer };
  };
