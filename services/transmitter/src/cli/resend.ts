/**
 * `faxnotify resend FAX_ID [--missing-pages]`: asks the status tracker to resend a final fax to its
 * recipients that did not get every page (POST /v1/faxes/:faxId/resend), and prints the new fax's id
 * and who gets what. The tracker decides who failed; the transmitter then sends the new fax, which
 * `faxnotify status NEW_FAX_ID --watch` follows.
 */
import { randomUUID } from 'node:crypto';
import type { CliIo } from './client';

export const RESEND_USAGE = `usage:
  faxnotify resend FAX_ID [--missing-pages] [--request-id ID]
    a new fax of FAX_ID's documents to its recipients that did not get every page
options:
  --missing-pages   a recipient that got some pages gets only the pages it did not get
  --request-id ID   the idempotency key: the same ID resends once, however often the command runs (default: a new one)
  --tracker URL     the status tracker (default $FAXNOTIFY_TRACKER or http://127.0.0.1:8082)
  --token TOKEN     bearer token of the fax's owner or an admin of their office (default $FAXNOTIFY_TOKEN)
exit status: 0 resent (or already resent with this ID); 3 refused (not final, nothing failed, not yours); 1 an error; 2 a usage error
`;

export const RESEND_EXIT = { resent: 0, error: 1, usage: 2, refused: 3 } as const;

class UsageError extends Error {}

interface ResendOptions {
  faxId: string;
  onlyMissingPages: boolean;
  requestId: string;
  tracker: string;
  token: string;
}

export function parseResendCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ResendOptions {
  const options: Partial<ResendOptions> & Pick<ResendOptions, 'onlyMissingPages' | 'tracker' | 'token'> = {
    onlyMissingPages: false,
    tracker: env.FAXNOTIFY_TRACKER ?? 'http://127.0.0.1:8082',
    token: env.FAXNOTIFY_TOKEN ?? '',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const take = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--missing-pages':
        options.onlyMissingPages = true;
        break;
      case '--request-id':
        options.requestId = take();
        break;
      case '--tracker':
        options.tracker = take().replace(/\/+$/, '');
        break;
      case '--token':
        options.token = take();
        break;
      case '--help':
        throw new UsageError('');
      default:
        if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
        if (options.faxId !== undefined) throw new UsageError(`one fax at a time: ${JSON.stringify(arg)} is one too many`);
        options.faxId = arg;
    }
  }
  if (!options.faxId) throw new UsageError('which fax? give its id');
  if (!options.token) throw new UsageError('no token: pass --token or set FAXNOTIFY_TOKEN');
  if (options.requestId !== undefined && !/^[A-Za-z0-9._:@-]{1,128}$/.test(options.requestId))
    throw new UsageError('--request-id must be 1 to 128 letters, digits or . _ : @ -');
  return { ...options, faxId: options.faxId, requestId: options.requestId ?? `cli-${randomUUID()}` };
}

interface ResendAnswer {
  faxId: string;
  resendOf: string;
  recipients: Array<{ number: string; pages?: { first: number; last: number } }>;
  duplicate: boolean;
}

export async function runResend(argv: readonly string[], io: CliIo): Promise<number> {
  let options: ResendOptions;
  try {
    options = parseResendCommandLine(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) io.stderr.write(`faxnotify resend: ${error.message}\n`);
    io.stderr.write(RESEND_USAGE);
    return RESEND_EXIT.usage;
  }
  let response: Response;
  try {
    response = await fetch(`${options.tracker}/v1/faxes/${encodeURIComponent(options.faxId)}/resend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ onlyMissingPages: options.onlyMissingPages, requestId: options.requestId, requestedVia: 'cli' }),
    });
  } catch (error) {
    io.stderr.write(`faxnotify resend: the status tracker at ${options.tracker} did not answer: ${error instanceof Error ? error.message : String(error)}\n`);
    return RESEND_EXIT.error;
  }
  const body = (await response.json().catch(() => null)) as (ResendAnswer & { error?: string; message?: string }) | null;
  if (response.status === 200 || response.status === 201) {
    const answer = body!;
    io.stdout.write(`${answer.duplicate ? 'already resent' : 'resent'} as ${answer.faxId} (resend of ${answer.resendOf}) to ${answer.recipients.length}:\n`);
    for (const r of answer.recipients) io.stdout.write(`  ${r.number}${r.pages ? `  pages ${r.pages.first}–${r.pages.last}` : '  all pages'}\n`);
    return RESEND_EXIT.resent;
  }
  io.stderr.write(`faxnotify resend: ${body?.message ?? `the status tracker answered ${response.status}`}\n`);
  return [403, 404, 409].includes(response.status) ? RESEND_EXIT.refused : RESEND_EXIT.error;
}
