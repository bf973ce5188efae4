import { connect, type ChannelModel } from 'amqplib';
import { EXCHANGES, createEvent } from '@faxnotify/contracts';
import type { Generated } from 'kysely';
import { Counter, Gauge, Registry } from 'prom-client';
import { MessageBus } from './bus';
import { openDatabase, type Database } from './db';
import { createLogger } from './logger';
import { OutboxRelay, publishStoredEvent } from './outbox-relay';
import { createScratchDatabase, type ScratchDatabase } from './testing/postgres';
import { createTestVhost, eventually, peekMessages, type TestVhost } from '@faxnotify/peers';

interface ReplicaDatabase {
  replica_outbox: {
    seq: Generated<number>;
    recipient_id: string;
    routing_key: string;
    event_json: string;
    published_at: string | null;
    publish_attempts: Generated<number>;
    last_error: string | null;
  };
}

const logger = createLogger('outbox-replicas-test', 'silent');
const KEY = 'fax.recipient.progress';
const QUEUE = 'replica-test-events';
const ROWS = 600;

let vhost: TestVhost;
let scratch: ScratchDatabase;
const buses: MessageBus[] = [];
const databases: Array<Database<ReplicaDatabase>> = [];
let broker: ChannelModel;

/** One replica: its own pool on the shared database, its own broker connection, its own relay. */
interface Replica {
  database: Database<ReplicaDatabase>;
  relay: OutboxRelay<ReplicaDatabase, 'replica_outbox'>;
  published: Counter<string>;
}

/** Rows a replica's relay counted as confirmed. */
const published = async (r: Replica): Promise<number> => (await r.published.get()).values[0]?.value ?? 0;

async function replica(index: number): Promise<Replica> {
  const database = await openDatabase<ReplicaDatabase>({
    service: 'outbox-replicas-test',
    url: scratch.url,
    sqlitePath: 'unused',
    logger,
    migrations: {
      '001_outbox': {
        up: async (db) => {
          await db.schema
            .createTable('replica_outbox')
            .addColumn('seq', 'serial', (c) => c.primaryKey())
            .addColumn('recipient_id', 'text', (c) => c.notNull())
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
  databases.push(database);
  const bus = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/test', logger });
  await bus.start();
  buses.push(bus);
  const registry = new Registry();
  const confirmed = new Counter({ name: `replica_${index}_published_total`, help: 'confirmed', registers: [registry] });
  const relay = new OutboxRelay<ReplicaDatabase, 'replica_outbox'>({
    db: database.db,
    table: 'replica_outbox',
    key: 'seq',
    publish: publishStoredEvent(bus),
    metrics: {
      published: confirmed,
      failures: new Counter({ name: `replica_${index}_failures_total`, help: 'failed', registers: [registry] }),
      pending: new Gauge({ name: `replica_${index}_unpublished`, help: 'waiting', registers: [registry] }),
    },
    name: `relay ${index}`,
    logger,
    pollMs: 50,
    batchSize: 25,
  });
  return { database, relay, published: confirmed };
}

beforeEach(async () => {
  vhost = await createTestVhost('outbox-replicas');
  scratch = await createScratchDatabase('outbox_replicas');
  broker = await connect(vhost.amqpUrl);
});

afterEach(async () => {
  await broker.close().catch(() => undefined);
  for (const bus of buses.splice(0)) await bus.close(2000);
  for (const database of databases.splice(0)) await database.close().catch(() => undefined);
  await scratch.drop();
  await vhost.delete();
});

it('two relays on one PostgreSQL outbox publish each row exactly once, and each recipient in order', async () => {
  const a = await replica(1);
  const b = await replica(2);
  const channel = await broker.createChannel();
  await channel.assertQueue(QUEUE, { durable: true });
  await channel.bindQueue(QUEUE, EXCHANGES.fax, KEY);
  await channel.close();
  a.relay.start();
  b.relay.start();
  // Rows arrive while both relays poll, and each write kicks both, as two replicas' commits would.
  const written: string[] = [];
  for (let i = 0; i < ROWS; i += 1) {
    const recipientId = `r${i % 7}`;
    const sequence = Math.floor(i / 7) + 1;
    const data = { faxId: 'fax-1', recipientId, number: '+12025550101', attempt: 1, sequence, status: 'dialing', at: new Date().toISOString() } as const;
    const event = createEvent(KEY, data, { source: '/faxnotify/test' });
    await (i % 2 === 0 ? a : b).database.db
      .insertInto('replica_outbox')
      .values({ recipient_id: recipientId, routing_key: KEY, event_json: JSON.stringify(event) })
      .execute();
    written.push(event.id);
    if (i % 10 === 0) {
      a.relay.kick();
      b.relay.kick();
    }
  }
  await eventually(async () => {
    const left = await a.database.db.selectFrom('replica_outbox').select('seq').where('published_at', 'is', null).execute();
    expect(left).toEqual([]);
    return true;
  }, 30_000);
  await Promise.all([a.relay.stop(), b.relay.stop()]);
  const messages = await peekMessages(vhost, QUEUE, ROWS + 100);
  const ids = messages.map((m) => (JSON.parse(m.payload) as { id: string }).id);
  expect(ids).toHaveLength(ROWS);
  expect(new Set(ids).size).toBe(ROWS);
  // The table's order holds across the replicas, so each recipient's events arrive in order.
  expect(ids).toEqual(written);
  const attempts = await a.database.db.selectFrom('replica_outbox').select('publish_attempts').execute();
  expect(attempts.filter((row) => row.publish_attempts !== 1)).toEqual([]);
  // Both replicas took part (each counted what it published), so the rows were shared.
  expect(await published(a)).toBeGreaterThan(0);
  expect(await published(b)).toBeGreaterThan(0);
  expect((await published(a)) + (await published(b))).toBe(ROWS);
});
