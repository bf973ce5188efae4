import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import {
  createEvent,
  deadLetterQueueName,
  declareTopology,
  EVENT_CATALOGUE,
  TopologyMismatchError,
  type CloudEvent,
  type EventData,
  type EventKey,
  type QueueSpec,
} from '@faxnotify/contracts';
import { Counter } from 'prom-client';
import type { Logger } from './logger';
import { errorMessage } from './errors';
import { coalesceWritesPerTurn } from './bus-socket';
import { batchConsumer, nackQuietly, OK, type BatchHandler, type ConsumeBatchOptions, type ConsumeOptions, type EventHandler } from './bus-consumer';

export {
  HEADERS,
  type BatchHandler,
  type BatchItem,
  type ConsumeBatchOptions,
  type ConsumeOptions,
  type EventHandler,
  type EventOutcome,
  type HandlerContext,
} from './bus-consumer';

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
  published: new Counter({
    name: 'faxnotify_messages_published_total',
    help: 'Messages published and confirmed, by routing key.',
    labelNames: ['routing_key'],
  }),
};

interface ConsumerRegistration {
  spec: QueueSpec;
  /** Handles and settles a batch of delivered messages (each settled on its own). */
  onBatch: (channel: Channel, messages: ConsumeMessage[]) => Promise<void>;
  prefetch: number;
  concurrency: number;
  maxBatch: number;
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
    // Nagle off: amqplib leaves it on, and then a small frame written while an earlier one is not
    // yet acknowledged at the TCP level (a publish right after a basic.ack, to which the broker
    // sends nothing back) waits for the broker's delayed ACK, tens of ms on every hop of a result.
    const connection = await connect(url, { clientProperties: { connection_name: this.options.source }, noDelay: true });
    coalesceWritesPerTurn(connection);
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
    await this.consumeBatch<K>(
      spec,
      async ([{ event, context }]) => {
        try {
          await handler(event, context);
          return [OK];
        } catch (error) {
          return [{ ok: false, error }];
        }
      },
      { ...options, maxBatch: 1 },
    );
  }

  /**
   * Registers a consumer that takes batches: what the broker has delivered (up to `maxBatch`) when
   * a handler slot frees. Invalid messages are dead-lettered one by one and never reach the
   * handler; each valid one is then settled on its own outcome, exactly as `consume` settles it
   * (acknowledged after the handler returned, or retried, or given up), so one failing event never
   * makes the others of its batch run again.
   */
  async consumeBatch<K extends EventKey>(spec: QueueSpec, handler: BatchHandler<K>, options: ConsumeBatchOptions<K>): Promise<void> {
    const concurrency = Math.max(1, options.concurrency ?? 16);
    const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 1));
    const registration: ConsumerRegistration = {
      spec,
      concurrency,
      maxBatch,
      // Room for every slot's full batch (and, batches of one, as many again waiting).
      prefetch: Math.min(65_535, concurrency * Math.max(2, maxBatch)),
      onBatch: batchConsumer(spec, handler, options, this.options.logger, this.publishRaw.bind(this)),
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
    let scheduled = false;
    const backlog: ConsumeMessage[] = [];
    const pump = () => {
      scheduled = false;
      if (this.closing) {
        // Draining: nothing new starts; what the broker already sent goes back to the queue.
        for (const message of backlog.splice(0)) nackQuietly(channel, message);
        return;
      }
      while (running < registration.concurrency && backlog.length > 0) {
        const batch = backlog.splice(0, registration.maxBatch);
        running++;
        const work = registration
          .onBatch(channel, batch)
          .catch((error: unknown) => {
            this.options.logger.error({ err: errorMessage(error), queue: registration.spec.name }, 'could not settle messages; returning them to the queue');
            for (const message of batch) nackQuietly(channel, message);
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
        // Batches: let the messages of the same read arrive first (no timer, nothing waits).
        if (registration.maxBatch === 1) pump();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(pump);
        }
      },
      { noAck: false },
    );
    registration.channel = channel;
    registration.tag = consumerTag;
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
