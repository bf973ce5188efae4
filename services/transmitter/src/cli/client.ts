/**
 * The `faxnotify` command: sends files as a fax through the transmitter's API and shows each
 * recipient's progress live (dialling, connected to the remote CSID, page n of m, result) until
 * every recipient is final; `status` prints the same table once.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

export const USAGE = `usage:
  faxnotify send FILE… --to NUMBER… [--subject TEXT] [--send-time TIME] [--retry COUNT] [--retry-delay MINUTES] [--no-wait]
  faxnotify status FAX_ID [--watch]
  faxnotify resend FAX_ID [--missing-pages]   (to the recipients that failed, through the status tracker; faxnotify resend --help)
  faxnotify dlq list|show|replay|purge …   (dead-lettered messages; faxnotify dlq --help)
options for both:
  --api URL      the transmitter (default $FAXNOTIFY_API or http://127.0.0.1:8081)
  --token TOKEN  bearer token (default $FAXNOTIFY_TOKEN)
  --interval MS  how often to look for progress (default 1000)
exit status: 0 every recipient got every page; 3 some did not; 1 an error; 2 a usage error
`;

/** Exit codes. */
export const EXIT = { delivered: 0, error: 1, usage: 2, notDelivered: 3 } as const;

class UsageError extends Error {}
class ApiError extends Error {}

interface Options {
  command: 'send' | 'status';
  positional: string[];
  to: string[];
  subject?: string;
  sendTime?: string;
  retry?: number;
  retryDelay?: number;
  wait: boolean;
  watch: boolean;
  api: string;
  token: string;
  intervalMs: number;
}

/** Something that looks like a phone number rather than a file name. */
const NUMBER_LIKE = /^[+\d(][\d\s().+-]*$/;

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const [command, ...rest] = argv;
  if (command !== 'send' && command !== 'status') throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command');
  const options: Options = {
    command,
    positional: [],
    to: [],
    wait: true,
    watch: false,
    api: env.FAXNOTIFY_API ?? 'http://127.0.0.1:8081',
    token: env.FAXNOTIFY_TOKEN ?? '',
    intervalMs: 1000,
  };
  const value = (i: number, flag: string): string => {
    const next = rest[i + 1];
    if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return next;
  };
  const integer = (text: string, flag: string): number => {
    if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number`);
    return Number(text);
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const take = (): string => inline ?? value(i++, flag);
    switch (flag) {
      case '--to': {
        // --to A B C, --to A,B and --to=A all work; numbers run until the next flag or file name.
        const first = take();
        options.to.push(
          ...first
            .split(',')
            .map((n) => n.trim())
            .filter(Boolean),
        );
        if (inline === undefined)
          while (rest[i + 1] !== undefined && !rest[i + 1].startsWith('--') && NUMBER_LIKE.test(rest[i + 1])) options.to.push(rest[++i]);
        break;
      }
      case '--subject':
        options.subject = take();
        break;
      case '--send-time':
        options.sendTime = take();
        break;
      case '--retry':
        options.retry = integer(take(), flag);
        break;
      case '--retry-delay':
        options.retryDelay = integer(take(), flag);
        break;
      case '--api':
        options.api = take().replace(/\/+$/, '');
        break;
      case '--token':
        options.token = take();
        break;
      case '--interval':
        options.intervalMs = Math.max(50, integer(take(), flag));
        break;
      case '--no-wait':
        options.wait = false;
        break;
      case '--watch':
        options.watch = true;
        break;
      case '--help':
        throw new UsageError('');
      default:
        if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
        options.positional.push(arg);
    }
  }
  if (!options.token) throw new UsageError('no token: give --token or set FAXNOTIFY_TOKEN');
  if (command === 'send') {
    if (options.positional.length === 0) throw new UsageError('send needs at least one file');
    if (options.to.length === 0) throw new UsageError('send needs --to and at least one number');
  } else if (options.positional.length !== 1) {
    throw new UsageError('status needs one fax id');
  }
  return options;
}

// ---- the API ----

interface RecipientView {
  recipient_id: string;
  to: string;
  status: string;
  final: boolean;
  attempt: number;
  max_attempts: number;
  page: { n: number; of: number };
  remote_csid: string | null;
  reason: { code: string; detail: string } | null;
  retry_at: string | null;
}

interface FaxView {
  id: string;
  comment: { text: string };
  status: string;
  page_count: number;
  recipients: RecipientView[];
}

class Api {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: string | FormData | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}/v3/accounts/self${path}`, { method, headers, body: payload });
    } catch (error) {
      throw new ApiError(`cannot reach the transmitter at ${this.base}: ${(error as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: reported below */
    }
    if (!response.ok) {
      const problem = parsed as { error?: string; description?: string; message?: string } | null;
      throw new ApiError(
        `${method} ${path}: ${response.status} ${problem?.error ?? ''}${problem?.description || problem?.message ? `: ${problem.description ?? problem.message}` : ''}`.trim(),
      );
    }
    return parsed as T;
  }
}

// ---- the table ----

const time = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** One recipient's state in words. */
export function describeRecipient(r: RecipientView): string {
  const csid = r.remote_csid ? ` to ${JSON.stringify(r.remote_csid)}` : '';
  switch (r.status) {
    case 'queued':
      return 'queued';
    case 'scheduled':
      return 'scheduled';
    case 'dialing':
      return 'dialing';
    case 'connected':
      return `connected${csid}`;
    case 'sending':
      return `connected${csid}, page ${r.page.n} of ${r.page.of} confirmed`;
    case 'retry_scheduled':
      return `retry at ${r.retry_at ? time(r.retry_at) : '?'} (${r.reason?.code ?? 'failed'})`;
    default: {
      const pages = `${r.page.n}/${r.page.of} pages`;
      const why = r.status === 'success' ? '' : ` (${r.reason?.code ?? 'no reason given'})`;
      return `${r.status}${why}: ${pages}${r.remote_csid ? `, remote ${JSON.stringify(r.remote_csid)}` : ''}`;
    }
  }
}

export function renderTable(fax: FaxView): string[] {
  const rows = fax.recipients.map((r) => [r.recipient_id, r.to, `${Math.max(r.attempt, 1)}/${r.max_attempts}`, describeRecipient(r)]);
  const header = ['', 'number', 'try', 'status'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  const subject = fax.comment.text ? ` "${fax.comment.text}"` : '';
  return [`fax ${fax.id}${subject}: ${fax.status}, ${fax.page_count} page${fax.page_count === 1 ? '' : 's'}`, line(header), ...rows.map(line)];
}

// ---- commands ----

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(options: Options, api: Api, io: CliIo): Promise<number> {
  const paths: string[] = [];
  for (const file of options.positional) {
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
    const form = new FormData();
    form.append('fax_file', new Blob([content]), basename(file));
    const { path } = await api.call<{ path: string }>('POST', '/files', form);
    paths.push(path);
  }
  const retry =
    options.retry !== undefined || options.retryDelay !== undefined
      ? { ...(options.retry !== undefined ? { count: options.retry } : {}), ...(options.retryDelay !== undefined ? { delay: options.retryDelay } : {}) }
      : undefined;
  const { id } = await api.call<{ id: string }>('POST', '/outbox', {
    to: options.to,
    files: paths,
    ...(options.subject !== undefined ? { comment: { text: options.subject } } : {}),
    ...(options.sendTime !== undefined ? { send_time: options.sendTime } : {}),
    ...(retry ? { retry } : {}),
  });
  io.stdout.write(
    `outbox ${id}: ${paths.length} file${paths.length === 1 ? '' : 's'} to ${options.to.length} recipient${options.to.length === 1 ? '' : 's'}\n`,
  );
  if (!options.wait) return EXIT.delivered;
  let faxId: string | null = null;
  let announcedWait = false;
  while (!faxId) {
    const entry = await api.call<{ fax_id: string | null; send_time: string | null; status: string }>('GET', `/outbox/${encodeURIComponent(id)}`);
    faxId = entry.fax_id;
    if (!faxId) {
      if (!announcedWait && entry.send_time && Date.parse(entry.send_time) > Date.now() + 2000) {
        io.stdout.write(`scheduled for ${time(new Date(entry.send_time).toISOString())}; waiting\n`);
        announcedWait = true;
      }
      await sleep(options.intervalMs);
    }
  }
  io.stdout.write(`fax ${faxId}\n`);
  return follow(faxId, options, api, io);
}

/** Shows the fax until every recipient is final: redrawn in place on a terminal, changes as lines otherwise. */
async function follow(faxId: string, options: Options, api: Api, io: CliIo): Promise<number> {
  const tty = Boolean(io.stdout.isTTY);
  let drawn = 0;
  const seen = new Map<string, string>();
  for (;;) {
    const fax = await api.call<FaxView>('GET', `/faxes/${encodeURIComponent(faxId)}`);
    if (tty) {
      const lines = renderTable(fax);
      io.stdout.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
      drawn = lines.length;
    } else {
      for (const r of fax.recipients) {
        const text = `${r.recipient_id} ${r.to} [${Math.max(r.attempt, 1)}/${r.max_attempts}] ${describeRecipient(r)}`;
        if (seen.get(r.recipient_id) !== text) io.stdout.write(`${text}\n`);
        seen.set(r.recipient_id, text);
      }
    }
    if (fax.recipients.every((r) => r.final)) {
      if (!tty) io.stdout.write(`${renderTable(fax).join('\n')}\n`);
      return fax.status === 'delivered' ? EXIT.delivered : EXIT.notDelivered;
    }
    await sleep(options.intervalMs);
  }
}

async function status(options: Options, api: Api, io: CliIo): Promise<number> {
  const faxId = options.positional[0];
  if (options.watch) return follow(faxId, options, api, io);
  const fax = await api.call<FaxView>('GET', `/faxes/${encodeURIComponent(faxId)}`);
  io.stdout.write(`${renderTable(fax).join('\n')}\n`);
  if (!fax.recipients.every((r) => r.final)) return EXIT.delivered;
  return fax.status === 'delivered' ? EXIT.delivered : EXIT.notDelivered;
}

/** Runs the command line; returns the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let options: Options;
  try {
    options = parseCommandLine(argv, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      if (error.message) io.stderr.write(`faxnotify: ${error.message}\n`);
      io.stderr.write(USAGE);
      return EXIT.usage;
    }
    throw error;
  }
  const api = new Api(options.api, options.token);
  try {
    return options.command === 'send' ? await send(options, api, io) : await status(options, api, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`faxnotify: ${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`faxnotify: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.error;
  }
}
