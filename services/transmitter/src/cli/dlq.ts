/**
 * `faxnotify dlq`: the dead-letter queues for an operator. `list` shows each dead-lettered
 * message with why it was given up (the consumer's reason header, or the broker's x-death: a
 * delivery limit, an expiry), `show` one in full, `replay` puts chosen ones back on their original
 * exchange and routing key once the cause is fixed (they start again as a first try), `purge`
 * drops chosen ones or all. Messages are read from the broker without consuming them for good:
 * what is not replayed or purged goes back to its dead-letter queue.
 */
import { createHash } from 'node:crypto';
import { connect, type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { EVENT_CATALOGUE, QUEUES, deadLetterQueueName, eventType, type EventKey } from '@faxnotify/contracts';
import { HEADERS, amqpUrls, errorMessage } from '@faxnotify/kit';
import type { CliIo } from './client';

export const DLQ_USAGE = `usage:
  faxnotify dlq list [--queue QUEUE] [--json]
  faxnotify dlq show ID [--queue QUEUE] [--json]
  faxnotify dlq replay (ID… | --all) [--queue QUEUE]
  faxnotify dlq purge (ID… | --all) [--queue QUEUE]
options:
  --amqp URL     RabbitMQ (default $AMQP_URL or amqp://guest:guest@127.0.0.1:5672; a cluster's URLs separated by commas)
  --queue QUEUE  one work queue (e.g. notifier.recipient-final) or its dead-letter queue; default all
  --json         machine-readable output
exit status: 0 done; 1 an error; 2 a usage error; 3 an ID not found
`;

class UsageError extends Error {}

export interface DeadLetter {
  /** The event's id (the message id), or a hash of the body when it has none. */
  id: string;
  deadLetterQueue: string;
  /** The work queue it was given up in. */
  queue: string;
  reason: string;
  deadLetteredAt: string | null;
  /** Where a replay publishes it: the event's exchange and routing key, or the work queue for a body that is no event. */
  original: { exchange: string; routingKey: string };
  eventType: string | null;
  /** Tries before it was given up, as far as the headers tell. */
  attempts: number | null;
  headers: Record<string, unknown>;
  body: string;
}

interface DeathEntry {
  reason?: string;
  queue?: string;
  exchange?: string;
  'routing-keys'?: string[];
  count?: number;
  time?: { value?: number } | Date | number;
}

const KEY_OF_TYPE = new Map<string, EventKey>((Object.keys(EVENT_CATALOGUE) as EventKey[]).map((key) => [eventType(key), key]));

/** A header's value as text: AMQP gives strings, buffers (long strings) or numbers. */
const text = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : Buffer.isBuffer(value)
      ? value.toString('utf8')
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;

const deathTime = (time: DeathEntry['time']): string | null => {
  if (time instanceof Date) return time.toISOString();
  const seconds = typeof time === 'number' ? time : time?.value;
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null;
};

/** What a dead-lettered message says about itself. */
export function describeDeadLetter(deadLetterQueue: string, message: Pick<GetMessage, 'content' | 'properties'>): DeadLetter {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const body = message.content.toString('utf8');
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as DeathEntry[]) : [];
  const workQueue = deadLetterQueue.replace(/\.dead$/, '');
  const ours = text(headers[HEADERS.queue]) !== undefined;
  // Given up by the consumer: its reason header. By the broker (delivery limit): the newest x-death,
  // with the last failure the consumer recorded before it, if any.
  const death = deaths.find((d) => d.queue === workQueue) ?? deaths[0];
  const reason = ours
    ? (text(headers[HEADERS.reason]) ?? 'given up')
    : death
      ? `broker: ${death.reason ?? 'dead-lettered'} in ${death.queue ?? workQueue}${text(headers[HEADERS.reason]) ? ` (last failure: ${text(headers[HEADERS.reason])})` : ''}`
      : (text(headers[HEADERS.reason]) ?? 'unknown');
  let type: string | null = text(message.properties.type) ?? null;
  let eventId: string | undefined = text(message.properties.messageId);
  try {
    const parsed = JSON.parse(body) as { type?: unknown; id?: unknown };
    if (typeof parsed.type === 'string') type = parsed.type;
    if (typeof parsed.id === 'string') eventId ??= parsed.id;
  } catch {
    /* not JSON: replayed to its work queue */
  }
  const key = type ? KEY_OF_TYPE.get(type) : undefined;
  const attempt = Number(headers[HEADERS.attempt]);
  return {
    id: eventId ?? createHash('sha256').update(message.content).digest('hex').slice(0, 24),
    deadLetterQueue,
    queue: text(headers[HEADERS.queue]) ?? death?.queue ?? workQueue,
    reason,
    deadLetteredAt: text(headers[HEADERS.failedAt]) ?? deathTime(death?.time),
    original: key ? { exchange: EVENT_CATALOGUE[key].exchange, routingKey: key } : { exchange: '', routingKey: workQueue },
    eventType: type,
    attempts: Number.isFinite(attempt) ? attempt + 1 : (death?.count ?? null),
    headers,
    body,
  };
}

interface Options {
  command: 'list' | 'show' | 'replay' | 'purge';
  ids: string[];
  all: boolean;
  queue?: string;
  json: boolean;
  amqp: string;
}

export function parseDlqCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const [command, ...rest] = argv;
  if (command !== 'list' && command !== 'show' && command !== 'replay' && command !== 'purge')
    throw new UsageError(command ? `unknown dlq command ${JSON.stringify(command)}` : 'dlq needs a command');
  const options: Options = { command, ids: [], all: false, json: false, amqp: env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      const next = rest[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--queue') options.queue = value();
    else if (arg === '--amqp') options.amqp = value();
    else if (arg === '--json') options.json = true;
    else if (arg === '--all') options.all = true;
    else if (arg === '--help') throw new UsageError('');
    else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else options.ids.push(arg);
  }
  const known = Object.values(QUEUES).map((q) => q.name) as string[];
  if (options.queue !== undefined) {
    const work = options.queue.replace(/\.dead$/, '');
    if (!known.includes(work)) throw new UsageError(`unknown queue ${options.queue} (one of ${known.join(', ')})`);
    options.queue = work;
  }
  if (command === 'list' && (options.ids.length > 0 || options.all)) throw new UsageError('list takes no ids');
  if (command === 'show' && options.ids.length !== 1) throw new UsageError('show needs one id');
  if ((command === 'replay' || command === 'purge') && options.ids.length === 0 && !options.all) throw new UsageError(`${command} needs ids or --all`);
  if (options.all && options.ids.length > 0) throw new UsageError('give ids or --all, not both');
  return options;
}

async function connectAny(url: string): Promise<ChannelModel> {
  let last: unknown;
  for (const candidate of amqpUrls(url)) {
    try {
      return await connect(candidate, { clientProperties: { connection_name: 'faxnotify dlq' } });
    } catch (error) {
      last = error;
    }
  }
  throw new Error(`cannot reach RabbitMQ: ${errorMessage(last)}`);
}

/** Takes every message off the dead-letter queues, unacknowledged: each is acked (replayed, purged) or handed back. */
async function takeAll(channel: ConfirmChannel, queues: string[]): Promise<Array<{ letter: DeadLetter; message: GetMessage }>> {
  const taken: Array<{ letter: DeadLetter; message: GetMessage }> = [];
  for (const queue of queues) {
    for (;;) {
      const message = await channel.get(queue, { noAck: false });
      if (!message) break;
      taken.push({ letter: describeDeadLetter(queue, message), message });
    }
  }
  return taken;
}

const line = (l: DeadLetter) => `${l.id}  ${l.queue}  ${l.deadLetteredAt ?? '-'}  ${l.attempts ?? '-'} tries  ${l.reason.replace(/\s+/g, ' ').slice(0, 200)}`;

export async function runDlq(argv: readonly string[], io: CliIo): Promise<number> {
  let options: Options;
  try {
    options = parseDlqCommandLine(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) io.stderr.write(`faxnotify dlq: ${error.message}\n`);
    io.stderr.write(DLQ_USAGE);
    return 2;
  }
  const queues = Object.values(QUEUES)
    .map((q) => q.name as string)
    .filter((name) => !options.queue || name === options.queue)
    .map(deadLetterQueueName);
  let connection: ChannelModel | undefined;
  try {
    connection = await connectAny(options.amqp);
    const channel = await connection.createConfirmChannel();
    const taken = await takeAll(channel, queues);
    const chosen = options.all || options.command === 'list' ? taken : taken.filter((t) => options.ids.includes(t.letter.id));
    const missing = options.ids.filter((id) => !taken.some((t) => t.letter.id === id));
    let code = missing.length > 0 ? 3 : 0;
    const settled = new Set<GetMessage>();
    for (const id of missing) io.stderr.write(`faxnotify dlq: no dead-lettered message ${id}\n`);
    if (options.command === 'list') {
      if (options.json)
        io.stdout.write(
          `${JSON.stringify(
            chosen.map((t) => ({ ...t.letter, headers: undefined, body: undefined })),
            null,
            2,
          )}\n`,
        );
      else {
        io.stdout.write(`${chosen.length} dead-lettered message${chosen.length === 1 ? '' : 's'}\n`);
        for (const t of chosen) io.stdout.write(`${line(t.letter)}\n`);
      }
    } else if (options.command === 'show') {
      for (const t of chosen) {
        if (options.json) io.stdout.write(`${JSON.stringify(t.letter, null, 2)}\n`);
        else {
          const { body, headers, ...facts } = t.letter;
          io.stdout.write(
            `${Object.entries(facts)
              .map(([k, v]) => `${k}: ${typeof v === 'string' || v === null ? v : JSON.stringify(v)}`)
              .join('\n')}\nheaders: ${JSON.stringify(headers, null, 2)}\nbody:\n${body}\n`,
          );
        }
      }
    } else {
      for (const t of chosen) {
        if (options.command === 'replay') {
          const { exchange, routingKey } = t.letter.original;
          // A fresh first try: the retry and dead-letter bookkeeping stays behind.
          const headers = Object.fromEntries(
            Object.entries(t.letter.headers).filter(
              ([k]) =>
                !k.startsWith('x-death') && !k.startsWith('x-first-death') && !k.startsWith('x-last-death') && !Object.values(HEADERS).includes(k as never),
            ),
          );
          try {
            await new Promise<void>((resolve, reject) =>
              channel.publish(exchange, routingKey, t.message.content, { ...t.message.properties, headers, persistent: true }, (error) =>
                error ? reject(new Error(errorMessage(error))) : resolve(),
              ),
            );
          } catch (error) {
            io.stderr.write(`faxnotify dlq: replaying ${t.letter.id} failed (kept): ${errorMessage(error)}\n`);
            code = 1;
            continue;
          }
          io.stdout.write(`replayed ${t.letter.id} to ${exchange || '(default exchange)'} ${routingKey}\n`);
        } else io.stdout.write(`purged ${t.letter.id} from ${t.letter.deadLetterQueue}\n`);
        channel.ack(t.message);
        settled.add(t.message);
      }
    }
    // Everything not replayed or purged goes back to its dead-letter queue.
    for (const t of taken) if (!settled.has(t.message)) channel.nack(t.message, false, true);
    await channel.close();
    return code;
  } catch (error) {
    io.stderr.write(`faxnotify dlq: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
