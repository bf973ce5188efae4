import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Database as SqliteFile, Statement } from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type CompiledQuery, type KyselyConfig, type Migration, type SqliteDatabase } from 'kysely';
import { errorMessage } from './errors';
import { RecentMap } from './recent-map';
import type { Logger } from './logger';

export type { Migration };

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
const QUERY_TIMEOUT_GRACE_MS = 5_000;
/** How many distinct SQL texts keep their prepared statement on SQLite (least recently used ones go first). */
export const SQLITE_STATEMENT_CACHE_SIZE = 500;
export type Dialect = 'sqlite' | 'postgres';

export interface Database<DB> {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
}

/**
 * Opens the service's database — PostgreSQL when a URL is given, otherwise the embedded SQLite
 * file — and brings its schema up to date. Migrations are written once with Kysely's schema
 * builder and run on both dialects.
 */
export async function openDatabase<DB>(options: {
  service: string;
  url: string;
  sqlitePath: string;
  migrations: Record<string, Migration>;
  logger: Logger;
  /** PostgreSQL: how long opening a connection may take (default 10 s). */
  connectTimeoutMs?: number;
  /** PostgreSQL: how long one statement may run before the server cancels it (default 30 s). */
  statementTimeoutMs?: number;
  /** Told of every statement run (or failed) on the database, however it was built: for tests that count them. */
  onStatement?: (query: CompiledQuery) => void;
}): Promise<Database<DB>> {
  const onStatement = options.onStatement;
  const log: KyselyConfig['log'] = onStatement && ((event) => onStatement(event.query));
  let db: Kysely<DB>;
  let dialect: Dialect;
  if (options.url) {
    const { Pool } = await import('pg');
    const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    const pool = new Pool({
      connectionString: options.url,
      max: 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // The server cancels a statement over the limit; the client gives up a little later on an
      // answer that never comes (a server or network gone silent).
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS,
    });
    // An idle connection the server closes (restart, failover, admin) must not take the process down;
    // the pool replaces it on the next query.
    pool.on('error', (error) => options.logger.warn({ err: error.message }, 'PostgreSQL connection lost'));
    // A connection checked out by a transaction that is waiting on other work (the outbox relay
    // waits for the broker's confirms) has no query to fail when the server drops it: pg emits the
    // error on the client, and unheard it takes the process down. Heard, the transaction's next
    // statement fails, and the pool discards the connection when it comes back.
    pool.on('connect', (client) => {
      client.on('error', (error) => options.logger.warn({ err: error.message }, 'PostgreSQL connection lost while in use'));
    });
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log });
    dialect = 'postgres';
  } else {
    const { default: SQLite } = await import('better-sqlite3');
    const path = resolve(options.sqlitePath);
    mkdirSync(dirname(path), { recursive: true });
    const file = new SQLite(path);
    file.pragma('journal_mode = WAL');
    file.pragma('synchronous = NORMAL');
    file.pragma('busy_timeout = 5000');
    file.pragma('foreign_keys = ON');
    // SQLite's own lower() folds ASCII only; this one folds every letter (Cyrillic, accents) as
    // PostgreSQL's does, so a case-insensitive search reads the same on both.
    file.function('lower', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value));
    db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(file) }), log });
    dialect = 'sqlite';
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => options.migrations },
    migrationTableName: `${options.service.replace(/-/g, '_')}_migration`,
    migrationLockTableName: `${options.service.replace(/-/g, '_')}_migration_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? []) options.logger.info({ migration: r.migrationName, status: r.status }, 'migration');
  if (error) {
    await db.destroy();
    throw new Error(`database migration failed: ${errorMessage(error)}`);
  }
  return { db, dialect, close: () => db.destroy() };
}

/**
 * The SQLite file for Kysely with each SQL text prepared once: Kysely's SQLite driver asks for a
 * new prepared statement for every query, and compiling the same SQL again and again was a large
 * share of both services' CPU under load. Statements are kept for the most recently used texts
 * (Kysely binds values as parameters, so the texts are few); one still being iterated by a stream
 * is not handed out again — that query gets a statement of its own. SQLite prepares a kept
 * statement again by itself after a schema change.
 */
export function withStatementCache(file: SqliteFile, size = SQLITE_STATEMENT_CACHE_SIZE): SqliteDatabase {
  const statements = new RecentMap<string, Statement>(size);
  return {
    close: () => file.close(),
    prepare(text: string) {
      const kept = statements.get(text);
      if (kept && !kept.busy) {
        // Most recently used last, so the first key is the one to drop.
        statements.delete(text);
        statements.set(text, kept);
        return kept;
      }
      const statement = file.prepare(text);
      if (kept) return statement;
      statements.set(text, statement);
      return statement;
    },
  };
}

/** A service's `db` configuration section (see commonSchema): a PostgreSQL URL, or empty for the SQLite file. */
export interface DatabaseConfig {
  url: string;
  sqlitePath: string;
  /** PostgreSQL connect timeout. */
  connectTimeoutMs?: number;
  /** PostgreSQL statement timeout. */
  statementTimeoutMs?: number;
}

/**
 * Opens a service's database from its `db` configuration section. A service whose migrations
 * differ by dialect gives them as a function of the dialect its configuration picks.
 */
export function openServiceDatabase<DB>(options: {
  service: string;
  db: DatabaseConfig;
  migrations: Record<string, Migration> | ((dialect: Dialect) => Record<string, Migration>);
  logger: Logger;
}): Promise<Database<DB>> {
  const { service, db, migrations, logger } = options;
  const dialect: Dialect = db.url ? 'postgres' : 'sqlite';
  return openDatabase<DB>({
    service,
    url: db.url,
    sqlitePath: db.sqlitePath,
    connectTimeoutMs: db.connectTimeoutMs,
    statementTimeoutMs: db.statementTimeoutMs,
    migrations: typeof migrations === 'function' ? migrations(dialect) : migrations,
    logger,
  });
}

/** A cheap round trip, for /readyz. */
export async function databaseIsUp(db: Kysely<unknown>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/** Whether an error is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    /UNIQUE constraint failed/.test(e?.message ?? '')
  );
}
