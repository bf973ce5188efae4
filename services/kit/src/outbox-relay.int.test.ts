import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ChannelModel } from 'amqplib';
import { EXCHANGES, createEvent } from '@faxnotify/contracts';
import type { Generated } from 'kysely';
import { Counter, Gauge, Registry } from 'prom-client';
import { MessageBus } from './bus';
import { openDatabase, type Database } from './db';
import { createLogger } from './logger';
import { OutboxRelay, publishStoredEvent, type OutboxMetrics } from './outbox-relay';
import { createTestVhost, eventually, peekMessages, type TestVhost } from '@faxnotify/peers';

/** An outbox whose key column is not `seq`, to show the relay takes the caller's names. */
interface RelayTestDatabase {
  relay_test_outbox: {
    position: Generated<number>;
    routing_key: string;
    event_json: string;
    published_at: string | null;
    publish_attempts: Generated<number>;
    last_error: string | null;
  };
}

const logger = createLogger('outbox-relay-test', 'silent');
const KEY = 'fax.recipient.progress';
const QUEUE = 'relay-test-events';

let vhost: TestVhost;
let bus: MessageBus;
let broker: ChannelModel;
let folder: string;
let database: Database<RelayTestDatabase>;
let registry: Registry;
let metrics: OutboxMetrics;

beforeEach(async () => {
  vhost = await createTestVhost('outbox-relay');
  bus = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/test', logger, reconnect: { initialMs: 100, maxMs: 1000 } });
  await bus.start();
  broker = await connect(vhost.amqpUrl);
  folder = mkdtempSync(join(tmpdir(), 'outbox-relay-'));
  database = await openDatabase<RelayTestDatabase>({
    service: 'outbox-relay-test',
    url: '',
    sqlitePath: join(folder, 'relay.sqlite'),
    logger,
    migrations: {
      '001_outbox': {
        up: async (db) => {
          await db.schema
            .createTable('relay_test_outbox')
            .addColumn('position', 'integer', (c) => c.primaryKey().autoIncrement())
            .addColumn('routing_key', 'text', (c) => c.notNull())
            .addColumn('event_json', 'text', (c) => c.notNull())
            .addColumn('published_at', 'text')
            .addColumn('publish_attempts', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('last_error', 'text')
            .execute();
        },
      },
    },
  });
  registry = new Registry();
  metrics = {
    published: new Counter({ name: 'relay_test_published_total', help: 'confirmed', labelNames: ['by'], registers: [registry] }),
    failures: new Counter({ name: 'relay_test_failures_total', help: 'failed', registers: [registry] }),
    pending: new Gauge({ name: 'relay_test_unpublished', help: 'waiting', registers: [registry] }),
  };
});

afterEach(async () => {
  await database.close();
  rmSync(folder, { recursive: true, force: true });
  await broker.close().catch(() => undefined);
  await bus.close(2000);
  await vhost.delete();
});

function relay(options: { batchSize?: number; pollMs?: number } = {}) {
  return new OutboxRelay<RelayTestDatabase, 'relay_test_outbox'>({
    db: database.db,
    table: 'relay_test_outbox',
    key: 'position',
    publish: publishStoredEvent(bus),
    metrics,
    name: 'test relay',
    publishedLabels: { by: 'relay' },
    logger,
    pollMs: options.pollMs ?? 3_600_000,
    batchSize: options.batchSize,
  });
}

/** Writes one progress event per recipient as an outbox row, in the given order; returns the event ids in that order. */
async function write(...recipientIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const recipientId of recipientIds) {
    const data = { faxId: 'fax-1', recipientId, number: '+12025550101', attempt: 1, sequence: 1, status: 'dialing', at: new Date().toISOString() } as const;
    const event = createEvent(KEY, data, { source: '/faxnotify/test' });
    await database.db
      .insertInto('relay_test_outbox')
      .values({ routing_key: KEY, event_json: JSON.stringify(event) })
      .execute();
    ids.push(event.id);
  }
  return ids;
}

/** A queue that gets every event the relay publishes; with `maxLength`, the broker refuses (nacks) any beyond it. */
async function bindQueue(maxLength?: number): Promise<void> {
  const channel = await broker.createChannel();
  await channel.assertQueue(QUEUE, { durable: true, arguments: maxLength === undefined ? {} : { 'x-max-length': maxLength, 'x-overflow': 'reject-publish' } });
  await channel.bindQueue(QUEUE, EXCHANGES.fax, KEY);
  await channel.close();
}

async function deleteQueue(): Promise<void> {
  const channel = await broker.createChannel();
  await channel.deleteQueue(QUEUE);
  await channel.close();
}

/** Event ids in the queue, in the order the broker holds them. */
async function queued(): Promise<string[]> {
  const messages = await peekMessages(vhost, QUEUE, 100);
  return messages.map((m) => (JSON.parse(m.payload) as { id: string }).id);
}

const rows = () => database.db.selectFrom('relay_test_outbox').selectAll().orderBy('position').execute();
const metricValue = async (metric: Counter<string> | Gauge<string>, labels: Record<string, string> = {}) =>
  (await metric.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;

describe('OutboxRelay against RabbitMQ and SQLite', () => {
  it('publishes every unpublished row oldest first, batch by batch, and marks each confirmed', async () => {
    await bindQueue();
    const ids = await write('r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7');

    expect(await relay({ batchSize: 3 }).relayOnce()).toBe(7);

    expect(await eventually(async () => ((await queued()).length === 7 ? queued() : undefined))).toEqual(ids);
    const after = await rows();
    expect(after.every((row) => row.published_at !== null && row.publish_attempts === 1 && row.last_error === null)).toBe(true);
    expect(await metricValue(metrics.published, { by: 'relay' })).toBe(7);
    expect(await metricValue(metrics.pending)).toBe(0);
    // Nothing left: a second pass publishes nothing again.
    expect(await relay({ batchSize: 3 }).relayOnce()).toBe(0);
  });

  it('leaves rows the broker refused unpublished with the error, stops the pass there, and publishes them on the next pass', async () => {
    // The broker takes one message into the queue and nacks the rest.
    await bindQueue(1);
    const ids = await write('r1', 'r2', 'r3', 'r4', 'r5');
    const outbox = relay({ batchSize: 2 });

    await expect(outbox.relayOnce()).rejects.toThrow();

    const failed = await rows();
    expect(failed[0]).toMatchObject({ publish_attempts: 1, last_error: null });
    expect(failed[0].published_at).not.toBeNull();
    expect(failed[1]).toMatchObject({ published_at: null, publish_attempts: 1, last_error: expect.stringMatching(/nack/i) });
    // The pass stopped at the failing batch: the later rows were not tried.
    expect(failed.slice(2).map((row) => [row.published_at, row.publish_attempts])).toEqual([
      [null, 0],
      [null, 0],
      [null, 0],
    ]);
    expect(await metricValue(metrics.failures)).toBe(1);
    expect(await metricValue(metrics.pending)).toBe(4);

    // The broker takes messages again: the next pass hands over the rest, still in order.
    await deleteQueue();
    await bindQueue();
    expect(await outbox.relayOnce()).toBe(4);
    expect(await eventually(async () => ((await queued()).length === 4 ? queued() : undefined))).toEqual(ids.slice(1));
    const after = await rows();
    expect(after.every((row) => row.published_at !== null && row.last_error === null)).toBe(true);
    expect(after.map((row) => row.publish_attempts)).toEqual([1, 2, 1, 1, 1]);
    expect(await metricValue(metrics.pending)).toBe(0);
  });

  it('publishes on start and on kick, and hands over what is left on stop with flush only', async () => {
    await bindQueue();
    const first = await write('r1', 'r2');
    const outbox = relay();
    outbox.start();
    await eventually(async () => (await rows()).every((row) => row.published_at !== null));

    const kicked = await write('r3');
    outbox.kick();
    await eventually(async () => (await rows()).every((row) => row.published_at !== null));

    // Written after the last pass, with no kick and the next poll an hour away.
    const late = await write('r4', 'r5');
    await outbox.stop({ flush: true });
    expect((await rows()).every((row) => row.published_at !== null)).toBe(true);
    expect(await eventually(async () => ((await queued()).length === 5 ? queued() : undefined))).toEqual([...first, ...kicked, ...late]);

    // Stopped: a kick no longer publishes, and a plain stop leaves the rows for the next start.
    await write('r6');
    outbox.kick();
    await outbox.stop();
    expect((await rows()).filter((row) => row.published_at === null)).toHaveLength(1);
  });
});
