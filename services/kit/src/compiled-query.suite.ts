import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoResultError, sql, type Kysely, type KyselyPlugin, type Migration, type RootOperationNode } from 'kysely';
import { columnsOf, columnsShape, compiledQuery, compiledQueryFamily } from './compiled-query';
import { openDatabase, type Database } from './db';
import { createLogger } from './logger';
import { createScratchDatabase, type ScratchDatabase } from './testing/postgres';

/**
 * compiledQuery's behaviour, run by compiled-query.test.ts on the embedded SQLite file and by
 * compiled-query.int.test.ts on PostgreSQL: every statement's result is compared with the same
 * query built and run by Kysely itself.
 */

interface Item {
  id: string;
  label: string;
  count: number;
  /** JSON text on SQLite, jsonb on PostgreSQL. */
  data: unknown;
  /** Text on SQLite; timestamptz on PostgreSQL. */
  at: unknown;
  /** Integer on SQLite; boolean on PostgreSQL. */
  flag: unknown;
}
interface TestDatabase {
  items: Item;
}

const logger = createLogger('compiled-query-test', 'silent');

const migrations = (dialect: 'sqlite' | 'postgres'): Record<string, Migration> => ({
  '001_items': {
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable('items')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('data', dialect === 'postgres' ? 'jsonb' : 'text')
        .addColumn('at', dialect === 'postgres' ? 'timestamptz' : 'text')
        .addColumn('flag', dialect === 'postgres' ? 'boolean' : 'integer')
        .execute();
    },
  },
});

const insertItem = compiledQuery((db: Kysely<TestDatabase>, p: Item) =>
  db
    .insertInto('items')
    .values({ id: p.id, label: p.label, count: p.count, data: p.data, at: p.at, flag: p.flag })
    .onConflict((oc) => oc.column('id').doUpdateSet({ label: p.label, count: p.count })),
);
const itemById = compiledQuery((db: Kysely<TestDatabase>, p: { id: string }) => db.selectFrom('items').selectAll().where('id', '=', p.id));
const bump = compiledQuery((db: Kysely<TestDatabase>, p: { id: string; by: number }) =>
  db
    .updateTable('items')
    .set((eb) => ({ count: eb('count', '+', p.by) }))
    .where('id', '=', p.id)
    .where('label', '!=', 'frozen')
    .returning(['id', 'count']),
);

export const describeCompiledQuery = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`compiledQuery on ${dialect}`, () => {
    let database: Database<TestDatabase>;
    let dir: string;
    let scratch: ScratchDatabase | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kit-compiled-query-'));
      if (dialect === 'postgres') scratch = await createScratchDatabase('compiled_query');
      database = await openDatabase<TestDatabase>({
        service: 'compiled-query-test',
        url: scratch?.url ?? '',
        sqlitePath: join(dir, 'items.sqlite'),
        migrations: migrations(dialect),
        logger,
      });
    });

    afterAll(async () => {
      await database?.close();
      await scratch?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    beforeEach(async () => {
      await database.db.deleteFrom('items').execute();
    });

    const sample = (id: string): Item => ({
      id,
      label: `label ${id}`,
      count: 1,
      data: JSON.stringify({ id, tags: ['a', 'b'] }),
      at: '2026-01-02T03:04:05.678Z',
      flag: dialect === 'postgres' ? true : 1,
    });

    it('writes and reads what the same query built by Kysely writes and reads', async () => {
      const db = database.db;
      await insertItem.execute(db, sample('a'));
      await db.insertInto('items').values(sample('b')).execute();
      const compiledRows = [await itemById.first(db, { id: 'a' }), await itemById.first(db, { id: 'b' })];
      const builtRows = await db.selectFrom('items').selectAll().orderBy('id').execute();
      expect(compiledRows).toEqual(builtRows);
      expect(compiledRows[0]).toMatchObject({ id: 'a', label: 'label a', count: 1 });
      expect(await itemById.first(db, { id: 'none' })).toBeUndefined();
      await expect(itemById.firstOrThrow(db, { id: 'none' })).rejects.toBeInstanceOf(NoResultError);
    });

    it('puts a value used twice in both places, and keeps the values the builder fixed', async () => {
      const db = database.db;
      await insertItem.execute(db, sample('a'));
      await insertItem.execute(db, { ...sample('a'), label: 'again', count: 7 });
      expect(await itemById.firstOrThrow(db, { id: 'a' })).toMatchObject({ label: 'again', count: 7 });
      expect(await bump.rows(db, { id: 'a', by: 3 })).toEqual([{ id: 'a', count: 10 }]);
      await db.updateTable('items').set({ label: 'frozen' }).where('id', '=', 'a').execute();
      expect(await bump.affected(db, { id: 'a', by: 3 })).toBe(0);
      expect(await bump.rows(db, { id: 'a', by: 3 })).toEqual([]);
    });

    it('counts the rows a statement changed', async () => {
      const db = database.db;
      expect(await insertItem.affected(db, sample('a'))).toBe(1);
      const skip = compiledQuery((d: Kysely<TestDatabase>, p: Item) =>
        d
          .insertInto('items')
          .values({ id: p.id, label: p.label, count: p.count, data: p.data, at: p.at, flag: p.flag })
          .onConflict((oc) => oc.column('id').doNothing()),
      );
      expect(await skip.affected(db, sample('a'))).toBe(0);
      expect(await skip.affected(db, sample('b'))).toBe(1);
    });

    it('passes dates, booleans and JSON to the driver as the built query does', async () => {
      const db = database.db;
      const at = new Date('2026-05-06T07:08:09.123Z');
      const odd = { ...sample('typed'), data: { nested: { n: 1 } }, at, flag: false };
      const built = await db
        .insertInto('items')
        .values(odd)
        .execute()
        .then(
          () => 'ok',
          (error: unknown) => (error as Error).message,
        );
      const builtRow = await db.selectFrom('items').selectAll().where('id', '=', 'typed').executeTakeFirst();
      await db.deleteFrom('items').execute();
      const compiled = await insertItem.execute(db, odd).then(
        () => 'ok',
        (error: unknown) => (error as Error).message,
      );
      expect(compiled).toBe(built);
      expect(await itemById.first(db, { id: 'typed' })).toEqual(builtRow);
      if (dialect === 'postgres') {
        // pg converts the date, the boolean and the object itself; the column types read them back.
        expect(built).toBe('ok');
        expect(builtRow).toMatchObject({ data: { nested: { n: 1 } }, at, flag: false });
      } else {
        // better-sqlite3 binds neither dates nor booleans, for either path.
        expect(built).toMatch(/can only bind/);
      }
    });

    it('runs on the transaction it is given', async () => {
      const db = database.db;
      const rolledBack = new Error('roll back');
      await expect(
        db.transaction().execute(async (trx) => {
          await insertItem.execute(trx, sample('inside'));
          // Read back on the transaction's own connection: the row is there before commit.
          expect(await itemById.first(trx, { id: 'inside' })).toMatchObject({ id: 'inside' });
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      expect(await itemById.first(db, { id: 'inside' })).toBeUndefined();
      await db.transaction().execute((trx) => insertItem.execute(trx, sample('committed')));
      expect(await itemById.first(db, { id: 'committed' })).toMatchObject({ id: 'committed' });
    });

    it('builds the query once per database and refuses a missing value', async () => {
      let builds = 0;
      const byLabel = compiledQuery((d: Kysely<TestDatabase>, p: { label: string }) => {
        builds++;
        return d.selectFrom('items').select('id').where('label', '=', p.label);
      });
      await insertItem.execute(database.db, sample('a'));
      for (let i = 0; i < 3; i++) expect(await byLabel.rows(database.db, { label: 'label a' })).toEqual([{ id: 'a' }]);
      await database.db.transaction().execute((trx) => byLabel.rows(trx, { label: 'label a' }));
      expect(builds).toBe(1);
      await expect(byLabel.rows(database.db, {} as { label: string })).rejects.toThrow('no value for parameter "label"');
    });

    it('refuses a builder that spreads the placeholders (their names are not known before a run)', async () => {
      const spread = compiledQuery((d: Kysely<TestDatabase>, p: Item) => d.insertInto('items').values(p));
      await expect(spread.execute(database.db, sample('a'))).rejects.toThrow('name each value');
    });

    it('refuses a builder that uses a value where SQL needs a literal', async () => {
      const literal = compiledQuery((d: Kysely<TestDatabase>, p: { label: string }) =>
        d.selectFrom('items').select('id').where('label', '=', sql.lit(p.label)),
      );
      await expect(literal.rows(database.db, { label: 'x' })).rejects.toThrow('could not be built with placeholders');
    });

    it('leaves a plugin that rewrites values to rewrite each run', async () => {
      const seen: Array<RootOperationNode['kind']> = [];
      // Upper-cases every string bound as a value, as a plugin that converts values would.
      const upper: KyselyPlugin = {
        transformQuery: ({ node }) => {
          seen.push(node.kind);
          const up = (value: unknown) => (typeof value === 'string' ? value.toUpperCase() : value);
          type Node = { kind?: string; value?: unknown; values?: unknown[] } | null;
          return JSON.parse(JSON.stringify(node), (_, value: Node): unknown =>
            value?.kind === 'ValueNode'
              ? { ...value, value: up(value.value) }
              : value?.kind === 'PrimitiveValueListNode'
                ? { ...value, values: value.values!.map(up) }
                : value,
          ) as RootOperationNode;
        },
        transformResult: async ({ result }) => result,
      };
      const db = database.db.withPlugin(upper);
      await insertItem.execute(db, sample('a'));
      await insertItem.execute(db, sample('b'));
      expect(await database.db.selectFrom('items').select(['id', 'label']).orderBy('id').execute()).toEqual([
        { id: 'A', label: 'LABEL A' },
        { id: 'B', label: 'LABEL B' },
      ]);
      // Tried once with placeholders, then built each run: the plugin saw every statement.
      expect(seen.filter((kind) => kind === 'InsertQueryNode')).toHaveLength(3);
      // A plugin that leaves values alone sees the statement once, when it is built, and every result.
      const results: unknown[] = [];
      const watching = database.db.withPlugin({
        transformQuery: ({ node }) => node,
        transformResult: async ({ result }) => (results.push(result), result),
      });
      expect(await itemById.first(watching, { id: 'A' })).toMatchObject({ label: 'LABEL A' });
      expect(await itemById.first(watching, { id: 'B' })).toMatchObject({ label: 'LABEL B' });
      expect(results).toHaveLength(2);
    });

    it('builds a family statement once per shape, each with the columns its values set', async () => {
      const db = database.db;
      await insertItem.execute(db, sample('a'));
      const built: string[] = [];
      const updateOf = compiledQueryFamily((d: Kysely<TestDatabase>, p: Record<string, unknown>, shape: string) => {
        built.push(shape);
        return d
          .updateTable('items')
          .set(Object.fromEntries(columnsOf(shape).map((column) => [column, p[column]])))
          .where('id', '=', p.id as string);
      });
      const update = (values: Partial<Item>) => updateOf(columnsShape(values)).execute(db, { ...values, id: 'a' });
      // A column whose value is undefined is left out, as Kysely's set() leaves it out.
      expect(columnsShape({ label: 'x', count: undefined, flag: null })).toBe('label,flag,');
      expect(columnsOf('label,flag,')).toEqual(['label', 'flag']);
      await update({ label: 'one' });
      await update({ label: 'two', count: undefined });
      await update({ label: 'three', count: 9 });
      expect(await itemById.firstOrThrow(db, { id: 'a' })).toMatchObject({ label: 'three', count: 9 });
      expect(built).toEqual(['label,', 'label,count,']);
    });
  });
