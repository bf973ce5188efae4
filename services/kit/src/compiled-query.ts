import {
  NoResultError,
  type Compilable,
  type CompiledQuery,
  type DialectAdapter,
  type Kysely,
  type KyselyPlugin,
  type QueryNode,
  type QueryResult,
} from 'kysely';

/**
 * A query of a fixed shape built once and run many times with new values: Kysely builds and
 * compiles a query again each time it runs (node objects, freezing, parsing, the SQL text), which
 * for the small statements a service runs per message costs more CPU than the database's own work.
 *
 * `compiledQuery((db, p) => db.selectFrom('t').selectAll().where('id', '=', p.id))` gives a
 * statement whose `rows(db, { id })` runs the same SQL as the built query with `id` bound. The
 * builder is called once per database (per dialect and set of plugins) with placeholder objects
 * standing in for the values of `p`; each placeholder is found, by identity, among the compiled
 * query's parameters, and a run puts its value there. Everything else the builder uses is fixed
 * into the statement when it is built, so it must use nothing but `p` for what varies.
 *
 * A value reaches the driver exactly as it would from the built query (better-sqlite3 and pg
 * convert dates, booleans, JSON as they always do). A plugin that rewrites a value while the query
 * is compiled would rewrite the new values too, so when a placeholder does not come out of the
 * compiler as it went in, that database builds the query anew for each run, as Kysely does. A
 * statement run on a transaction runs on that transaction.
 */
export interface CompiledStatement<DB, P, O> {
  /** Runs the statement on `db` (or a transaction), giving the driver's result (rows, affected rows). */
  execute(db: Kysely<DB>, params: P): Promise<QueryResult<O>>;
  /** The rows the statement returned. */
  rows(db: Kysely<DB>, params: P): Promise<O[]>;
  /** The first row the statement returned, if any. */
  first(db: Kysely<DB>, params: P): Promise<O | undefined>;
  /** The first row the statement returned; an error when there was none. */
  firstOrThrow(db: Kysely<DB>, params: P): Promise<O>;
  /** Rows written, changed or removed (0 when the driver does not say). */
  affected(db: Kysely<DB>, params: P): Promise<number>;
}

/** What one database made of the query: its SQL with where each parameter comes from, or a query built anew each run. */
type Prepared<O> = { kind: 'fixed'; query: CompiledQuery<O>; slots: ReadonlyArray<{ name: string } | { value: unknown }> } | { kind: 'rebuilt' };

/** A builder that spread or enumerated `p`: the values' names are known only from what it reads. */
class EnumeratedPlaceholdersError extends Error {}

class Placeholder {
  constructor(readonly name: string) {}
  toString(): string {
    return `[placeholder ${this.name}]`;
  }
}

export function compiledQuery<DB, P extends object, O>(build: (db: Kysely<DB>, p: P) => Compilable<O>): CompiledStatement<DB, P, O> {
  // By the database's adapter (shared by its transactions and plugin variants), then by its plugins.
  const byAdapter = new WeakMap<DialectAdapter, Array<{ plugins: ReadonlyArray<KyselyPlugin>; prepared: Prepared<O> }>>();

  const prepare = (db: Kysely<DB>): Prepared<O> => {
    const executor = db.getExecutor();
    const plugins = executor.plugins;
    let kept = byAdapter.get(executor.adapter);
    const found = kept?.find((k) => k.plugins.length === plugins.length && k.plugins.every((plugin, i) => plugin === plugins[i]));
    if (found) return found.prepared;
    const prepared = compile(db);
    if (!kept) byAdapter.set(executor.adapter, (kept = []));
    kept.push({ plugins: [...plugins], prepared });
    return prepared;
  };

  const compile = (db: Kysely<DB>): Prepared<O> => {
    const placeholders = new Map<string, Placeholder>();
    const p = new Proxy({} as P, {
      get: (_, name) => {
        if (typeof name !== 'string') return undefined;
        let placeholder = placeholders.get(name);
        if (!placeholder) placeholders.set(name, (placeholder = new Placeholder(name)));
        return placeholder;
      },
      ownKeys: () => {
        throw new EnumeratedPlaceholdersError('a compiled query cannot spread or enumerate its placeholders: name each value (p.id, p.label …)');
      },
    });
    let query: CompiledQuery<O>;
    try {
      query = build(db, p).compile();
    } catch (error) {
      if (error instanceof EnumeratedPlaceholdersError) throw error;
      throw new Error(`a compiled query could not be built with placeholders (a value of p used where SQL needs a literal?): ${String(error)}`, {
        cause: error,
      });
    }
    const slots = query.parameters.map((value) => (value instanceof Placeholder ? { name: value.name } : { value }));
    const seen = new Set(slots.flatMap((slot) => ('name' in slot ? [slot.name] : [])));
    // A placeholder a plugin rewrote (or hid inside another value): its values need the plugin each run.
    if ([...placeholders.keys()].some((name) => !seen.has(name))) return { kind: 'rebuilt' };
    return { kind: 'fixed', query, slots };
  };

  const execute = async (db: Kysely<DB>, params: P): Promise<QueryResult<O>> => {
    const prepared = prepare(db);
    if (prepared.kind === 'rebuilt') return db.executeQuery(build(db, params));
    const values = params as Record<string, unknown>;
    const parameters = prepared.slots.map((slot) => {
      if (!('name' in slot)) return slot.value;
      const value = values[slot.name];
      // Kysely leaves a column with an undefined value out of the SQL; a fixed statement cannot.
      if (value === undefined) throw new Error(`compiled query: no value for parameter "${slot.name}" (give null for SQL NULL)`);
      return value;
    });
    return db.executeQuery<O>({ query: prepared.query.query, queryId: prepared.query.queryId, sql: prepared.query.sql, parameters });
  };

  return {
    execute,
    rows: async (db, params) => (await execute(db, params)).rows,
    first: async (db, params) => (await execute(db, params)).rows[0],
    firstOrThrow: async (db, params) => {
      const row = (await execute(db, params)).rows[0];
      if (row !== undefined) return row;
      const prepared = prepare(db);
      throw new NoResultError((prepared.kind === 'fixed' ? prepared.query.query : build(db, params).compile().query) as QueryNode);
    },
    affected: async (db, params) => Number((await execute(db, params)).numAffectedRows ?? 0n),
  };
}

/**
 * A family of statements whose SQL differs only by a shape (the columns a row sets, how many rows
 * one insert writes): each shape's statement is built (compiledQuery) the first time it is asked
 * for, with the shape given to the builder, and kept.
 */
export function compiledQueryFamily<DB, P extends object, O>(
  build: (db: Kysely<DB>, p: P, shape: string) => Compilable<O>,
): (shape: string) => CompiledStatement<DB, P, O> {
  const statements = new Map<string, CompiledStatement<DB, P, O>>();
  return (shape) => {
    let statement = statements.get(shape);
    if (!statement) statements.set(shape, (statement = compiledQuery((db: Kysely<DB>, p: P) => build(db, p, shape))));
    return statement;
  };
}

/**
 * The shape of the columns Kysely writes from `values` (set, values): those whose value is not
 * undefined, in order, each followed by a comma (`status,sends,`). `columnsOf` gives them back.
 */
export function columnsShape(values: object): string {
  let shape = '';
  for (const column in values) if ((values as Record<string, unknown>)[column] !== undefined) shape += `${column},`;
  return shape;
}

export const columnsOf = (shape: string): string[] => shape.split(',').slice(0, -1);
