import { Client } from 'pg';
import { sql } from 'kysely';
import { openServiceDatabase, type Database } from './db';
import { createLogger } from './logger';
import { POSTGRES_URL, createScratchDatabase, type ScratchDatabase } from './testing/postgres';

const logger = createLogger('db-terminate-test', 'silent');

let scratch: ScratchDatabase | undefined;
let database: Database<unknown> | undefined;

afterEach(async () => {
  await database?.close().catch(() => undefined);
  database = undefined;
  await scratch?.drop();
  scratch = undefined;
});

/** pg_terminate_backend on every connection to the database, as an administrator or a failover does. */
async function terminateBackends(name: string): Promise<number> {
  const admin = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    return rows.length;
  } finally {
    await admin.end();
  }
}

it('a connection dropped by the server while a transaction waits on other work fails that transaction, not the process, and the pool goes on', async () => {
  scratch = await createScratchDatabase('terminate');
  const name = scratch.url.slice(scratch.url.lastIndexOf('/') + 1);
  database = await openServiceDatabase<unknown>({ service: 'db-terminate-test', db: { url: scratch.url, sqlitePath: '' }, migrations: {}, logger });
  let release!: () => void;
  const otherWork = new Promise<void>((resolve) => (release = resolve));
  let inside!: () => void;
  const started = new Promise<void>((resolve) => (inside = resolve));
  // A transaction holding its connection while it waits for something that is not the database
  // (the outbox relay waits for the broker's confirms this way): no query is running on it.
  const transaction = database.db.transaction().execute(async (trx) => {
    await sql`select 1`.execute(trx);
    inside();
    await otherWork;
    await sql`select 2`.execute(trx);
  });
  const outcome = transaction.then(
    () => 'committed',
    (error: unknown) => `failed: ${(error as Error).message}`,
  );
  await started;
  expect(await terminateBackends(name)).toBeGreaterThan(0);
  // The server's notice reaches the idle, checked-out connection before the transaction goes on.
  await new Promise((resolve) => setTimeout(resolve, 300));
  release();
  expect(await outcome).toMatch(/^failed: /);
  const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
  expect(rows).toEqual([{ one: 1 }]);
});
