import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { withStatementCache } from '../db';

/** A SQLite file of one test's own, with the statement cache the services use and every statement SQLite compiles counted. */
export interface CountedSqlite<Schema> {
  db: Kysely<Schema>;
  /** The better-sqlite3 file under it. */
  file: SQLite.Database;
  /** The SQL text of every statement SQLite compiled, in order. */
  prepared: string[];
  /** Closes the database and removes its folder. */
  remove: () => Promise<void>;
}

export function countedSqlite<Schema>(name: string, cacheSize?: number): CountedSqlite<Schema> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const file = new SQLite(join(dir, 'test.sqlite'));
  const prepared: string[] = [];
  const prepare = file.prepare.bind(file);
  file.prepare = (text: string) => {
    prepared.push(text);
    return prepare(text);
  };
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(file, cacheSize) }) });
  return {
    db,
    file,
    prepared,
    remove: async () => {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
