import { sql, type Compilable, type ExpressionBuilder, type Kysely, type UpdateObject } from 'kysely';
import { compiledQuery, type CompiledStatement } from './compiled-query';
import type { OutboxColumns } from './outbox-relay';

/**
 * An outbox table seen without the caller's schema: the relay's own columns, plus the caller's
 * columns (the key among them) known only by name.
 */
export type UntypedOutboxDatabase = Record<string, OutboxColumns & Record<string, unknown>>;
export type UntypedOutbox = Kysely<UntypedOutboxDatabase>;

/** A statement's values by name (an array's by index). */
type Values = Record<string | number, unknown>;
type Statement = CompiledStatement<UntypedOutboxDatabase, Values, unknown>;

/**
 * The key counts an `in (…)` list is written for. A list of n keys is cut into pieces of at most
 * 100, and each piece takes the smallest of these sizes that holds it, its last key repeated to fill
 * the rest (`in (4, 5, 6, 6)` picks the same rows as `in (4, 5, 6)`). So the relay's statements are
 * a few fixed texts, built once and kept prepared by SQLite, instead of a new text for every count.
 */
const SIZES = [1, 2, 4, 8, 16, 32, 64, 100];
const MAX_SIZE = SIZES[SIZES.length - 1];

/** The pieces `keys` is marked in, each padded to one of the sizes above. */
export function keyLists(keys: ReadonlyArray<unknown>): unknown[][] {
  const lists: unknown[][] = [];
  for (let start = 0; start < keys.length; start += MAX_SIZE) {
    const piece = keys.slice(start, start + MAX_SIZE);
    const size = SIZES.find((s) => s >= piece.length) ?? MAX_SIZE;
    while (piece.length < size) piece.push(piece[piece.length - 1]);
    lists.push(piece);
  }
  return lists;
}

const statements = new Map<string, Statement>();

/** The statement of this shape, built once (compiledQuery) and then run with new values. */
function statementOf(shape: string, build: (db: UntypedOutbox, p: Values) => Compilable<unknown>): Statement {
  let statement = statements.get(shape);
  if (!statement) statements.set(shape, (statement = compiledQuery(build)));
  return statement;
}

/** `select * … where published_at is null order by <key> limit ?`: the oldest unpublished rows. */
export async function readUnpublished(db: UntypedOutbox, table: string, key: string, limit: number): Promise<Array<Record<string, unknown>>> {
  const statement = statementOf(`unpublished ${table} ${key}`, (d, p) =>
    d
      .selectFrom(table)
      .selectAll()
      .where('published_at', 'is', null)
      .orderBy(key)
      .limit(p.limit as number),
  );
  return (await statement.rows(db, { limit })) as Array<Record<string, unknown>>;
}

/**
 * Takes the transaction-scoped PostgreSQL advisory lock named after the table (the relays of
 * several replicas take turns with it); `db` must be a transaction.
 */
export async function lockOutbox(db: UntypedOutbox, table: string): Promise<void> {
  const statement = statementOf('lock', (d, p) => d.selectNoFrom(sql<unknown>`pg_advisory_xact_lock(hashtext(${p.name}))`.as('locked')));
  await statement.execute(db, { name: `faxnotify outbox ${table}` });
}

/** How many rows of the table wait to be published. */
export async function countUnpublished(db: UntypedOutbox, table: string): Promise<number> {
  const statement = statementOf(`pending ${table}`, (d) =>
    d
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('published_at', 'is', null),
  );
  const row = (await statement.first(db, {})) as { n: string | number } | undefined;
  return Number(row?.n ?? 0);
}

/**
 * Runs `set` on the rows with these keys, a statement per padded list. A statement's values are one
 * array, the list's keys at 0 … size - 1 and then `value` (what `set` writes) at `size`: cheaper to
 * fill for every batch than an object with a name per key.
 */
async function updateKeys(
  db: UntypedOutbox,
  shape: string,
  table: string,
  key: string,
  keys: ReadonlyArray<unknown>,
  value: unknown,
  set: (eb: ExpressionBuilder<UntypedOutboxDatabase, string>, value: unknown) => UpdateObject<UntypedOutboxDatabase, string>,
): Promise<void> {
  for (const list of keyLists(keys)) {
    const size = list.length;
    const statement = statementOf(`${shape} ${table} ${key} ${size}`, (d, p) =>
      d
        .updateTable(table)
        .set((eb) => set(eb, p[size]))
        .where(
          key,
          'in',
          Array.from({ length: size }, (_, i) => p[i]),
        ),
    );
    list.push(value);
    await statement.execute(db, list as unknown as Values);
  }
}

/** Marks the rows with these keys handed over at `at` (one more attempt, the error cleared). */
export async function markPublished(db: UntypedOutbox, table: string, key: string, keys: ReadonlyArray<unknown>, at: string): Promise<void> {
  await updateKeys(db, 'published', table, key, keys, at, (eb, value) => ({
    published_at: value,
    publish_attempts: eb('publish_attempts', '+', 1),
    last_error: null,
  }));
}

/** Records one more failed attempt with `error` on the rows with these keys; they stay unpublished. */
export async function markFailed(db: UntypedOutbox, table: string, key: string, keys: ReadonlyArray<unknown>, error: string): Promise<void> {
  await updateKeys(db, 'failed', table, key, keys, error, (eb, value) => ({
    publish_attempts: eb('publish_attempts', '+', 1),
    last_error: value,
  }));
}
