import type { Channel, ConsumeMessage } from 'amqplib';
import { EXCHANGES, RETRY_DELAYS_MS, parseEvent, retryQueueName, type CloudEvent, type EventKey, type QueueSpec } from '@faxnotify/contracts';
import { Counter, Histogram } from 'prom-client';
import type { Logger } from './logger';
import { PermanentError, errorMessage } from './errors';

/** Headers the wrapper sets; they travel with a message through retry and dead-letter queues. */
export const HEADERS = {
  attempt: 'x-faxnotify-attempt',
  reason: 'x-faxnotify-reason',
  queue: 'x-faxnotify-queue',
  failedAt: 'x-faxnotify-failed-at',
} as const;

/** What a handler made of one event: done (acknowledged), or the error (retried or given up). */
export type EventOutcome = { ok: true } | { ok: false; error: unknown };

export const OK: EventOutcome = { ok: true };

export interface HandlerContext {
  /** 0 for the first try; n after n retries through the retry queues. */
  attempt: number;
  /** Whether the broker redelivered it after a consumer died without acknowledging. */
  redelivered: boolean;
  /** Whether this is the last try before the message is given up. */
  lastAttempt: boolean;
  logger: Logger;
}

export type EventHandler<K extends EventKey> = (event: CloudEvent<K>, context: HandlerContext) => Promise<void>;

/** One valid event of a batch, with its context. */
export interface BatchItem<K extends EventKey> {
  event: CloudEvent<K>;
  context: HandlerContext;
}

/**
 * Handles a batch of valid events (in delivery order) and returns one outcome per event, in the
 * same order. Throwing fails every event of the batch with that error.
 */
export type BatchHandler<K extends EventKey> = (items: ReadonlyArray<BatchItem<K>>) => Promise<readonly EventOutcome[]>;

export interface ConsumeOptions<K extends EventKey> {
  accepts: readonly K[];
  /** Handlers running at once; the broker sends up to twice as many. */
  concurrency?: number;
  /** Retries through the retry queues before a message is given up (at most one per retry tier). */
  maxRetries?: number;
  /** Called once when a valid message is given up (retries exhausted or a permanent error), before it is dead-lettered: record the failure. */
  onGiveUp?: (event: CloudEvent<K>, error: unknown) => Promise<void>;
}

export interface ConsumeBatchOptions<K extends EventKey> extends ConsumeOptions<K> {
  /**
   * Most events handed to one call. A batch is what the broker has already delivered when a
   * handler slot frees (nothing waits for a batch to fill): one event at low load, up to this
   * many under a backlog. The broker sends up to `concurrency × maxBatch`.
   */
  maxBatch?: number;
}

const handled = new Counter({ name: 'faxnotify_messages_handled_total', help: 'Messages consumed, by queue and outcome.', labelNames: ['queue', 'outcome'] });
const handlerSeconds = new Histogram({
  name: 'faxnotify_handler_seconds',
  help: 'Handler run time (of a whole batch), by queue.',
  labelNames: ['queue'],
  buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
});

export type PublishRaw = (exchange: string, routingKey: string, content: Buffer, options: Parameters<Channel['publish']>[3]) => Promise<void>;

/** The try a message is on: 0 for the first, n after n retries through the retry queues. */
export const attemptOf = (message: ConsumeMessage): number => Number(message.properties.headers?.[HEADERS.attempt] ?? 0) || 0;

/** Hands a message back to its queue; on a closed channel the broker redelivers it anyway. */
export function nackQuietly(channel: Channel, message: ConsumeMessage): void {
  try {
    channel.nack(message, false, true);
  } catch {
    /* channel already closed: the broker redelivers */
  }
}

/**
 * What a consumer does with a batch of delivered messages: invalid ones are dead-lettered one by
 * one with the reason and never reach the handler; the valid ones go to the handler in one call,
 * then each is settled on its own outcome. A message that cannot be settled goes back to its queue.
 */
export function batchConsumer<K extends EventKey>(
  spec: QueueSpec,
  handler: BatchHandler<K>,
  options: ConsumeOptions<K>,
  busLogger: Logger,
  publishRaw: PublishRaw,
): (channel: Channel, messages: ConsumeMessage[]) => Promise<void> {
  const maxRetries = Math.min(options.maxRetries ?? RETRY_DELAYS_MS.length, RETRY_DELAYS_MS.length);
  const logger = busLogger.child({ queue: spec.name });
  const settlement = new Settlement<K>(publishRaw, spec, logger, maxRetries, options.onGiveUp);
  const guard = (channel: Channel, message: ConsumeMessage, settling: Promise<void>): Promise<void> =>
    settling.catch((error: unknown) => {
      // Only the broker can still save this message: leave it unacknowledged on a dead
      // channel (it comes back), or hand it back on a live one.
      busLogger.error({ err: errorMessage(error), queue: spec.name }, 'could not settle message; returning it to the queue');
      nackQuietly(channel, message);
    });
  return async (channel, messages) => {
    const settled: Array<Promise<void>> = [];
    const valid: Array<{ message: ConsumeMessage; item: BatchItem<K> }> = [];
    for (const message of messages) {
      const parsed = parseEvent(message.content, options.accepts);
      if (!parsed.ok) {
        settled.push(guard(channel, message, settlement.invalid(channel, message, parsed.reason)));
        continue;
      }
      const event = parsed.event as CloudEvent<K>;
      const attempt = attemptOf(message);
      const lastAttempt = attempt >= maxRetries;
      valid.push({ message, item: { event, context: handlerContext(logger, event.id, attempt, message.fields.redelivered, lastAttempt) } });
    }
    if (valid.length > 0) {
      const stop = handlerSeconds.startTimer({ queue: spec.name });
      let outcomes: readonly EventOutcome[];
      try {
        outcomes = await handler(valid.map((v) => v.item));
        if (outcomes.length !== valid.length) throw new Error(`the handler returned ${outcomes.length} outcomes for ${valid.length} events`);
      } catch (error) {
        outcomes = valid.map(() => ({ ok: false, error }));
      }
      stop();
      valid.forEach(({ message, item }, i) => settled.push(guard(channel, message, settlement.settle(channel, message, item.event, outcomes[i]))));
    }
    await Promise.all(settled);
  };
}

/** A handler's context; its logger (a child naming the event) is made when the handler first uses it: most never log. */
function handlerContext(logger: Logger, eventId: string, attempt: number, redelivered: boolean, lastAttempt: boolean): HandlerContext {
  let child: Logger | undefined;
  return {
    attempt,
    redelivered,
    lastAttempt,
    get logger() {
      return (child ??= logger.child({ eventId }));
    },
  };
}

/**
 * Settles one consumed message of a queue once its handler is done: acknowledges it, puts it on
 * its retry tier, or gives it up (onGiveUp, then the dead-letter queue with the reason). Every
 * message is settled on its own, whether it was handled alone or in a batch.
 */
class Settlement<K extends EventKey> {
  constructor(
    private readonly publishRaw: PublishRaw,
    private readonly spec: QueueSpec,
    private readonly logger: Logger,
    private readonly maxRetries: number,
    private readonly onGiveUp?: (event: CloudEvent<K>, error: unknown) => Promise<void>,
  ) {}

  /** A message that is not a valid event of the queue: dead-lettered with the reason, never handled. */
  async invalid(channel: Channel, message: ConsumeMessage, reason: string): Promise<void> {
    this.logger.warn({ reason }, 'invalid message dead-lettered');
    await this.deadLetter(channel, message, reason);
    handled.inc({ queue: this.spec.name, outcome: 'invalid' });
  }

  async settle(channel: Channel, message: ConsumeMessage, event: CloudEvent<K>, outcome: EventOutcome): Promise<void> {
    // A handler that succeeded is never retried: if its channel is gone by now, the broker
    // delivers the message again (marked redelivered) and nothing is put on a retry queue.
    if (outcome.ok) {
      channel.ack(message);
      handled.inc({ queue: this.spec.name, outcome: 'ok' });
      return;
    }
    const { error } = outcome;
    const attempt = attemptOf(message);
    const permanent = error instanceof PermanentError;
    if (!permanent && attempt < this.maxRetries) {
      this.logger.warn({ err: errorMessage(error), eventId: event.id, attempt }, 'handler failed; retrying later');
      await this.publishRaw('', retryQueueName(this.spec.name, Math.min(attempt, RETRY_DELAYS_MS.length - 1)), message.content, {
        ...message.properties,
        headers: { ...message.properties.headers, [HEADERS.attempt]: attempt + 1, [HEADERS.reason]: errorMessage(error).slice(0, 1000) },
      });
      channel.ack(message);
      handled.inc({ queue: this.spec.name, outcome: 'retry' });
      return;
    }
    const reason = permanent ? `permanent: ${errorMessage(error)}` : `retries exhausted after ${attempt + 1} tries: ${errorMessage(error)}`;
    this.logger.error({ err: errorMessage(error), eventId: event.id, attempt }, 'message given up');
    if (this.onGiveUp) await this.onGiveUp(event, error);
    await this.deadLetter(channel, message, reason);
    handled.inc({ queue: this.spec.name, outcome: 'dead' });
  }

  /** Puts a message on its queue's dead-letter queue with the reason, then acknowledges the original. */
  private async deadLetter(channel: Channel, message: ConsumeMessage, reason: string): Promise<void> {
    await this.publishRaw(EXCHANGES.deadLetter, this.spec.name, message.content, {
      ...message.properties,
      headers: {
        ...message.properties.headers,
        [HEADERS.reason]: reason.slice(0, 2000),
        [HEADERS.queue]: this.spec.name,
        [HEADERS.failedAt]: new Date().toISOString(),
      },
    });
    channel.ack(message);
  }
}
