import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import {
  createEvent,
  deadLetterQueueName,
  declareTopology,
  EXCHANGES,
  EVENT_CATALOGUE,
  parseEvent,
  RETRY_DELAYS_MS,
  retryQueueName,
  TopologyMismatchError,
  type CloudEvent,
  type EventData,
  type EventKey,
  type QueueSpec,
} from '@faxnotify/contracts';
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

export interface ConsumeOptions<K extends EventKey> {
  accepts: readonly K[];
  /** Handlers running at once; the broker sends up to twice as many. */
  concurrency?: number;
  /** Retries through the retry queues before a message is given up (at most one per retry tier). */
  maxRetries?: number;
  /** Called once when a valid message is given up (retries exhausted or a permanent error), before it is dead-lettered: record the failure. */
  onGiveUp?: (event: CloudEvent<K>, error: unknown) => Promise<void>;
}

export interface BusOptions {
  /** One broker, or every node of a cluster (a list, or one string with the URLs separated by commas). */
  url: string | readonly string[];
  /** CloudEvents source of what this service publishes, e.g. `/faxnotify/status-tracker`. */
  source: string;
  logger: Logger;
  /** Backoff between reconnect attempts: the n-th waits min(max, initial * 2^n) with jitter. */
  reconnect?: { initialMs: number; maxMs: number };
}

const metrics = {
  handled: new Counter({ name: 'faxnotify_messages_handled_total', help: 'Messages consumed, by queue and outcome.', labelNames: ['queue', 'outcome'] }),
  published: new Counter({
    name: 'faxnotify_messages_published_total',
    help: 'Messages published and confirmed, by routing key.',
    labelNames: ['routing_key'],
  }),
  handlerSeconds: new Histogram({
    name: 'faxnotify_handler_seconds',
    help: 'Handler run time, by queue.',
    labelNames: ['queue'],
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
  }),
};

interface ConsumerRegistration {
  spec: QueueSpec;
  onMessage: (channel: Channel, message: ConsumeMessage) => Promise<void>;
  prefetch: number;
  channel?: Channel;
  tag?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The broker URLs of a bus option: a list, or one string with URLs separated by commas. */
export function amqpUrls(url: string | readonly string[]): string[] {
  const urls = (typeof url === 'string' ? url.split(',') : [...url]).map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0) throw new Error('no RabbitMQ URL given');
  return urls;
}

/** A URL with its password hidden, for logs. */
const redactUrl = (url: string): string => url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');

/**
 * The one RabbitMQ wrapper of faxnotify: publishes with confirms, consumes with manual ack after
 * the handler (and its database transaction) finished, retries transient failures through TTL
 * retry queues, dead-letters invalid or given-up messages with the reason, reconnects with
 * backoff re-declaring the topology, and drains in-flight work on close.
 */
export class MessageBus {
  private connection?: ChannelModel;
  private publishChannel?: ConfirmChannel;
  private readonly consumers: ConsumerRegistration[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private connecting?: Promise<void>;
  private closing = false;
  private readonly waiters: Array<() => void> = [];
  private readonly urls: string[];
  /** The node tried next: after a failed attempt or a lost connection the bus moves on to the next URL. */
  private nextUrl = 0;

  constructor(private readonly options: BusOptions) {
    this.urls = amqpUrls(options.url);
  }

  get ready(): boolean {
    return Boolean(this.publishChannel) && !this.closing;
  }

  /** Connects, retrying with backoff until the broker answers (or `close` is called). */
  async start(): Promise<void> {
    await this.ensureConnected();
  }

  private ensureConnected(): Promise<void> {
    if (this.publishChannel) return Promise.resolve();
    this.connecting ??= this.connectLoop().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectLoop(): Promise<void> {
    const { initialMs, maxMs } = this.options.reconnect ?? { initialMs: 250, maxMs: 15_000 };
    for (let attempt = 0; !this.closing; attempt++) {
      const url = this.urls[this.nextUrl % this.urls.length];
      try {
        await this.connectOnce(url);
        if (attempt > 0) this.options.logger.info({ attempt, node: redactUrl(url) }, 'reconnected to RabbitMQ');
        return;
      } catch (error) {
        // Retrying cannot fix queues declared with other arguments: the operator has to move them.
        if (error instanceof TopologyMismatchError) throw error;
        this.nextUrl++;
        // Every node of a cluster is tried at once before the backoff grows.
        const round = Math.floor(attempt / this.urls.length);
        const delay = (attempt + 1) % this.urls.length !== 0 ? 50 : Math.min(maxMs, initialMs * 2 ** round) * (0.75 + Math.random() * 0.5);
        this.options.logger.warn(
          { err: errorMessage(error), attempt, node: redactUrl(url), delayMs: Math.round(delay) },
          'RabbitMQ connection failed; retrying',
        );
        await sleep(delay);
      }
    }
    throw new Error('message bus closed');
  }

  private async connectOnce(url: string): Promise<void> {
    const connection = await connect(url, { clientProperties: { connection_name: this.options.source } });
    try {
      connection.on('error', (error) => this.options.logger.warn({ err: errorMessage(error) }, 'RabbitMQ connection error'));
      const publishChannel = await connection.createConfirmChannel();
      publishChannel.on('error', (error) => this.options.logger.warn({ err: errorMessage(error) }, 'publish channel error'));
      publishChannel.on('close', () => this.recycle(connection, 'publish channel closed'));
      await declareTopology(publishChannel);
      for (const consumer of this.consumers) await this.openConsumer(connection, consumer);
      connection.on('close', () => this.onConnectionLost(connection));
      this.connection = connection;
      this.publishChannel = publishChannel;
      for (const wake of this.waiters.splice(0)) wake();
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private onConnectionLost(connection: ChannelModel): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.publishChannel = undefined;
    for (const consumer of this.consumers) consumer.channel = undefined;
    // The node may be the one that went away: start with the next one.
    this.nextUrl++;
    if (this.closing) return;
    this.options.logger.warn('RabbitMQ connection lost; reconnecting');
    this.ensureConnected().catch((error: unknown) => this.options.logger.error({ err: errorMessage(error) }, 'RabbitMQ reconnect gave up'));
  }

  /**
   * A channel closed by the broker (404 on a missing exchange, consumer_timeout, a precondition
   * failure) or a consumer it cancelled (queue deleted) leaves the connection up but the wrapper
   * unable to publish or consume. Recycle the whole connection: not ready at once, then reconnect,
   * re-declaring the topology and every consumer. Messages in flight on the old channels stay
   * unacknowledged and the broker delivers them again.
   */
  private recycle(connection: ChannelModel, reason: string): void {
    if (this.closing || this.connection !== connection) return;
    this.options.logger.warn({ reason }, 'RabbitMQ channel lost; reopening the connection');
    this.onConnectionLost(connection);
    connection.close().catch(() => undefined);
  }

  /** Waits until connected, or fails after `timeoutMs` so the caller can count it as a transient failure. */
  private async channelForPublish(timeoutMs = 30_000): Promise<ConfirmChannel> {
    const deadline = Date.now() + timeoutMs;
    while (!this.publishChannel) {
      if (this.closing) throw new Error('message bus closed');
      if (Date.now() > deadline) throw new Error('RabbitMQ not connected');
      this.ensureConnected().catch(() => undefined);
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), sleep(Math.max(1, deadline - Date.now()))]);
    }
    return this.publishChannel;
  }

  private async publishRaw(exchange: string, routingKey: string, content: Buffer, options: Parameters<Channel['publish']>[3]): Promise<void> {
    const channel = await this.channelForPublish();
    const failed = (error: unknown) =>
      new Error(`RabbitMQ did not confirm the publish to ${exchange || 'the default exchange'} (${routingKey}): ${errorMessage(error)}`);
    await new Promise<void>((resolve, reject) => {
      try {
        channel.publish(exchange, routingKey, content, { persistent: true, ...options }, (error) => (error ? reject(failed(error)) : resolve()));
      } catch (error) {
        reject(failed(error));
      }
    });
  }

  /** Builds, validates and publishes an event; resolves once the broker confirmed it. */
  async publish<K extends EventKey>(key: K, data: EventData<K>, meta: { subject?: string; id?: string; time?: Date | string } = {}): Promise<CloudEvent<K>> {
    const event = createEvent(key, data, { source: this.options.source, ...meta });
    await this.publishEvent(key, event);
    return event;
  }

  /** Publishes an already built event (an outbox relay stores them); resolves on the broker's confirm. */
  async publishEvent(key: EventKey, event: CloudEvent | string): Promise<void> {
    const body = typeof event === 'string' ? event : JSON.stringify(event);
    const id = typeof event === 'string' ? (JSON.parse(event) as CloudEvent).id : event.id;
    await this.publishRaw(EVENT_CATALOGUE[key].exchange, key, Buffer.from(body), {
      contentType: 'application/cloudevents+json',
      messageId: id,
      type: typeof event === 'string' ? undefined : event.type,
    });
    metrics.published.inc({ routing_key: key });
  }

  /** Registers a consumer; it starts now if connected, and again after every reconnect. */
  async consume<K extends EventKey>(spec: QueueSpec, handler: EventHandler<K>, options: ConsumeOptions<K>): Promise<void> {
    const concurrency = Math.max(1, options.concurrency ?? 16);
    const maxRetries = Math.min(options.maxRetries ?? RETRY_DELAYS_MS.length, RETRY_DELAYS_MS.length);
    const logger = this.options.logger.child({ queue: spec.name });
    const registration: ConsumerRegistration = {
      spec,
      prefetch: concurrency * 2,
      onMessage: async (channel, message) => {
        const attempt = Number(message.properties.headers?.[HEADERS.attempt] ?? 0) || 0;
        const parsed = parseEvent(message.content, options.accepts);
        if (!parsed.ok) {
          logger.warn({ reason: parsed.reason }, 'invalid message dead-lettered');
          await this.deadLetter(channel, spec, message, parsed.reason);
          metrics.handled.inc({ queue: spec.name, outcome: 'invalid' });
          return;
        }
        const event = parsed.event as CloudEvent<K>;
        const lastAttempt = attempt >= maxRetries;
        const stop = metrics.handlerSeconds.startTimer({ queue: spec.name });
        let error: unknown;
        let failed = false;
        try {
          await handler(event, { attempt, redelivered: message.fields.redelivered, lastAttempt, logger: logger.child({ eventId: event.id }) });
        } catch (caught) {
          failed = true;
          error = caught;
        }
        stop();
        // A handler that succeeded is never retried: if its channel is gone by now, the broker
        // delivers the message again (marked redelivered) and nothing is put on a retry queue.
        if (!failed) {
          channel.ack(message);
          metrics.handled.inc({ queue: spec.name, outcome: 'ok' });
          return;
        }
        const permanent = error instanceof PermanentError;
        if (!permanent && !lastAttempt) {
          logger.warn({ err: errorMessage(error), eventId: event.id, attempt }, 'handler failed; retrying later');
          await this.publishRaw('', retryQueueName(spec.name, Math.min(attempt, RETRY_DELAYS_MS.length - 1)), message.content, {
            ...message.properties,
            headers: { ...message.properties.headers, [HEADERS.attempt]: attempt + 1, [HEADERS.reason]: errorMessage(error).slice(0, 1000) },
          });
          channel.ack(message);
          metrics.handled.inc({ queue: spec.name, outcome: 'retry' });
          return;
        }
        const reason = permanent ? `permanent: ${errorMessage(error)}` : `retries exhausted after ${attempt + 1} tries: ${errorMessage(error)}`;
        logger.error({ err: errorMessage(error), eventId: event.id, attempt }, 'message given up');
        if (options.onGiveUp) await options.onGiveUp(event, error);
        await this.deadLetter(channel, spec, message, reason);
        metrics.handled.inc({ queue: spec.name, outcome: 'dead' });
      },
    };
    this.consumers.push(registration);
    if (this.connection) await this.openConsumer(this.connection, registration);
  }

  private async openConsumer(connection: ChannelModel, registration: ConsumerRegistration): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', (error) => this.options.logger.warn({ err: errorMessage(error), queue: registration.spec.name }, 'consumer channel error'));
    channel.on('close', () => this.recycle(connection, `consumer channel of ${registration.spec.name} closed`));
    await channel.prefetch(registration.prefetch);
    let running = 0;
    const backlog: ConsumeMessage[] = [];
    const limit = Math.max(1, registration.prefetch / 2);
    const pump = () => {
      if (this.closing) {
        // Draining: nothing new starts; what the broker already sent goes back to the queue.
        for (const message of backlog.splice(0)) {
          try {
            channel.nack(message, false, true);
          } catch {
            /* channel already closed: the broker redelivers */
          }
        }
        return;
      }
      while (running < limit && backlog.length > 0) {
        const message = backlog.shift()!;
        running++;
        const work = registration
          .onMessage(channel, message)
          .catch((error: unknown) => {
            // Only the broker can still save this message: leave it unacknowledged on a dead
            // channel (it comes back), or hand it back on a live one.
            this.options.logger.error({ err: errorMessage(error), queue: registration.spec.name }, 'could not settle message; returning it to the queue');
            try {
              channel.nack(message, false, true);
            } catch {
              /* channel already closed: the broker redelivers */
            }
          })
          .finally(() => {
            running--;
            this.inFlight.delete(work);
            pump();
          });
        this.inFlight.add(work);
      }
    };
    const { consumerTag } = await channel.consume(
      registration.spec.name,
      (message) => {
        if (!message) {
          // Cancelled by the broker (queue deleted): reconnecting re-declares the queue and consumes again.
          this.recycle(connection, `consumer of ${registration.spec.name} cancelled by the broker`);
          return;
        }
        backlog.push(message);
        pump();
      },
      { noAck: false },
    );
    registration.channel = channel;
    registration.tag = consumerTag;
  }

  /** Puts a message on its queue's dead-letter queue with the reason, then acknowledges the original. */
  private async deadLetter(channel: Channel, spec: QueueSpec, message: ConsumeMessage, reason: string): Promise<void> {
    await this.publishRaw(EXCHANGES.deadLetter, spec.name, message.content, {
      ...message.properties,
      headers: {
        ...message.properties.headers,
        [HEADERS.reason]: reason.slice(0, 2000),
        [HEADERS.queue]: spec.name,
        [HEADERS.failedAt]: new Date().toISOString(),
      },
    });
    channel.ack(message);
  }

  /** Name of the dead-letter queue of a work queue (for tools and tests). */
  static deadLetterQueue(spec: QueueSpec): string {
    return deadLetterQueueName(spec.name);
  }

  /**
   * Stops taking messages (no handler starts once this is called; consumers are cancelled and
   * messages not yet started go back to their queue), waits for the handlers in flight to finish
   * and settle, then disconnects.
   */
  async close(drainTimeoutMs = 30_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const deadline = Date.now() + drainTimeoutMs;
    await Promise.all(
      this.consumers.map(async (consumer) => {
        if (consumer.channel && consumer.tag) await consumer.channel.cancel(consumer.tag).catch(() => undefined);
      }),
    );
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), sleep(deadline - Date.now())]);
    }
    if (this.inFlight.size > 0) this.options.logger.warn({ handlers: this.inFlight.size }, 'drain timed out; closing with handlers still running');
    for (const wake of this.waiters.splice(0)) wake();
    // Close the consumer channels one by one first: a quorum queue can hand back a message whose
    // acknowledgement was still on its way when the whole connection went, and it would run again.
    await Promise.all(this.consumers.map(async (consumer) => consumer.channel?.close().catch(() => undefined)));
    const connection = this.connection;
    this.connection = undefined;
    this.publishChannel = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }
}
