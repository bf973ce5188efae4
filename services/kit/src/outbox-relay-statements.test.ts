import { sql, type Generated, type Kysely } from 'kysely';
import { Counter, Gauge, Registry } from 'prom-client';
import { countedSqlite } from './testing/sqlite';
import { createLogger } from './logger';
import { OutboxRelay, publishOutboxRows, type OutboxSource } from './outbox-relay';
import { keyLists } from './outbox-relay-statements';

interface Schema {
  test_outbox: { n: Generated<number>; body: string; published_at: string | null; publish_attempts: Generated<number>; last_error: string | null };
}
type Row = { n: number; body: string; published_at: string | null; publish_attempts: number; last_error: string | null };

describe('the key lists the relay marks rows with', () => {
  it('pads each list to a fixed size with its last key, in pieces of at most 100', () => {
    expect(keyLists([])).toEqual([]);
    expect(keyLists([7])).toEqual([[7]]);
    expect(keyLists([1, 2, 3])).toEqual([[1, 2, 3, 3]]);
    expect(keyLists(Array.from({ length: 37 }, (_, i) => i)).map((l) => l.length)).toEqual([64]);
    const many = Array.from({ length: 205 }, (_, i) => i);
    const lists = keyLists(many);
    expect(lists.map((l) => l.length)).toEqual([100, 100, 8]);
    expect([...new Set(lists.flat())]).toEqual(many);
  });
});

describe('the relay on SQLite', () => {
  let remove: () => Promise<void>;
  let db: Kysely<Schema>;
  let prepared: string[];
  let published: number[];
  let refused: Set<string>;
  let registry: Registry;
  let source: OutboxSource<Schema, 'test_outbox'>;

  beforeEach(async () => {
    ({ db, prepared, remove } = countedSqlite<Schema>('kit-outbox-statements'));
    await sql`create table test_outbox (n integer primary key autoincrement, body text not null, published_at text, publish_attempts integer not null default 0, last_error text)`.execute(
      db,
    );
    published = [];
    refused = new Set();
    registry = new Registry();
    source = {
      db,
      table: 'test_outbox',
      key: 'n',
      // The publish a caller gives: records what it was handed, and refuses the bodies it is told to.
      publish: async (row) => {
        if (refused.has(row.body)) throw new Error(`refused ${row.body}`);
        published.push(row.n);
      },
      metrics: {
        published: new Counter({ name: 'statements_test_published_total', help: 'confirmed', registers: [registry] }),
        failures: new Counter({ name: 'statements_test_failures_total', help: 'failed', registers: [registry] }),
        pending: new Gauge({ name: 'statements_test_unpublished', help: 'waiting', registers: [registry] }),
      },
    };
  });

  afterEach(async () => {
    await remove();
  });

  const write = async (count: number) => {
    await db
      .insertInto('test_outbox')
      .values(Array.from({ length: count }, (_, i) => ({ body: `b${i}` })))
      .execute();
  };
  const rows = async () => (await db.selectFrom('test_outbox').selectAll().orderBy('n').execute()) as Row[];
  const relay = (batchSize?: number) =>
    new OutboxRelay({ ...source, name: 'test relay', logger: createLogger('outbox-statements-test', 'silent'), pollMs: 3_600_000, batchSize });
  const pendingGauge = async () => (await source.metrics.pending.get()).values[0]?.value;

  it('marks batches of every size with a few fixed statements, compiled once each', async () => {
    const outbox = relay();
    let written = 0;
    for (let size = 1; size <= 40; size++) {
      await write(size);
      written += size;
      expect(await outbox.relayOnce()).toBe(size);
    }
    expect(published).toEqual(Array.from({ length: written }, (_, i) => i + 1));
    const after = await rows();
    expect(after.every((row) => row.published_at !== null && row.publish_attempts === 1 && row.last_error === null)).toBe(true);
    // One read, one count never needed (every pass ended short), and marks of 1, 2, 4, 8, 16, 32 and 64 keys.
    expect(prepared.filter((text) => text.startsWith('select') && text.includes('"published_at" is null'))).toHaveLength(1);
    expect(prepared.filter((text) => text.includes('count('))).toHaveLength(0);
    const updates = prepared.filter((text) => text.startsWith('update'));
    // Each: the three values it sets (the time, the attempt's 1, the error's null), then its keys.
    expect(updates.map((text) => text.match(/\?/g)?.length).sort((a = 0, b = 0) => a - b)).toEqual([4, 5, 7, 11, 19, 35, 67]);
    expect(await pendingGauge()).toBe(0);
  });

  it('marks only the rows it was given, the refused ones with their error', async () => {
    await write(11);
    refused = new Set(['b3', 'b7']);
    const batch = (await rows()).slice(0, 9);

    await expect(publishOutboxRows(source, batch)).rejects.toThrow('refused b3');

    const after = await rows();
    expect(after.filter((row) => row.published_at !== null).map((row) => row.n)).toEqual([1, 2, 3, 5, 6, 7, 9]);
    expect(after.filter((row) => row.last_error !== null).map((row) => [row.n, row.last_error])).toEqual([
      [4, 'refused b3'],
      [8, 'refused b3'],
    ]);
    expect(after.map((row) => row.publish_attempts)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  });

  it('counts the rows left waiting when a pass stops at a failure in a full batch', async () => {
    await write(6);
    refused = new Set(['b1']);

    await expect(relay(3).relayOnce()).rejects.toThrow('refused b1');

    expect(await pendingGauge()).toBe(4);
    expect(prepared.filter((text) => text.includes('count('))).toHaveLength(1);
  });
});
