import { Client } from 'pg';

/** The local PostgreSQL the tests use (trust authentication), without a database name. */
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

export interface ScratchDatabase {
  /** The database's URL. */
  url: string;
  drop(): Promise<void>;
}

async function admin<R>(query: (client: Client) => Promise<R>): Promise<R> {
  const client = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await client.connect();
  try {
    return await query(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database of its own for one test; `drop` removes it, closing what is still connected. */
export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const name = `kit_test_${label.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  return {
    url: `${POSTGRES_URL}/${name}`,
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
