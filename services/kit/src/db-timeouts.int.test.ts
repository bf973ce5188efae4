import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { loadConfig, commonSchema } from './config';
import { openServiceDatabase, type Database } from './db';
import { createLogger } from './logger';
import { createScratchDatabase, type ScratchDatabase } from './testing/postgres';

const logger = createLogger('db-timeouts-test', 'silent');

let scratch: ScratchDatabase | undefined;
let database: Database<unknown> | undefined;

afterEach(async () => {
  await database?.close().catch(() => undefined);
  database = undefined;
  await scratch?.drop();
  scratch = undefined;
});

/** The `db` section as a service loads it from its environment. */
const dbConfig = (env: Record<string, string>) => loadConfig(commonSchema('db-timeouts', 0), {}, env).db;

it('a statement over the configured statement timeout fails with the server cancelling it, and the pool goes on', async () => {
  scratch = await createScratchDatabase('statement_timeout');
  database = await openServiceDatabase<unknown>({
    service: 'db-timeouts-test',
    db: dbConfig({ DB_TIMEOUTS_DATABASE_URL: scratch.url, DB_TIMEOUTS_DATABASE_STATEMENT_TIMEOUT_MS: '300' }),
    migrations: {},
    logger,
  });
  const started = Date.now();
  await expect(sql`select pg_sleep(5)`.execute(database.db)).rejects.toThrow(/canceling statement due to statement timeout/);
  expect(Date.now() - started).toBeLessThan(3000);
  // Statements within the limit still run on the same pool.
  const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
  expect(rows).toEqual([{ one: 1 }]);
});

it('a PostgreSQL server that never answers fails the start within the connect timeout, naming it', async () => {
  // A listener that accepts and stays silent: a server or network that hangs, which a real
  // PostgreSQL does not do on demand.
  const sockets: Socket[] = [];
  const silent: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  try {
    const started = Date.now();
    await expect(
      openServiceDatabase<unknown>({
        service: 'db-timeouts-test',
        db: dbConfig({ DB_TIMEOUTS_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/none`, DB_TIMEOUTS_DATABASE_CONNECT_TIMEOUT_MS: '400' }),
        migrations: {},
        logger,
      }),
    ).rejects.toThrow(/database migration failed: .*timeout/i);
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

it('the timeouts are settings of the db section, checked like any other', () => {
  expect(dbConfig({})).toMatchObject({ connectTimeoutMs: 10_000, statementTimeoutMs: 30_000 });
  expect(() => dbConfig({ DB_TIMEOUTS_DATABASE_STATEMENT_TIMEOUT_MS: '0' })).toThrow(/db\.statementTimeoutMs.*positive whole number/);
});
