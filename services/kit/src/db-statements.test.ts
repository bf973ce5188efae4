import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { withStatementCache } from './db';
import { countedSqlite } from './testing/sqlite';

interface Schema {
  item: { id: number; name: string; note?: string | null };
}

describe('SQLite prepared statements kept per SQL text', () => {
  let remove: () => Promise<void>;
  let file: SQLite.Database;
  let db: Kysely<Schema>;
  let prepared: string[];

  beforeEach(async () => {
    ({ db, file, prepared, remove } = countedSqlite<Schema>('kit-statements', 3));
    await sql`create table item (id integer primary key, name text not null)`.execute(db);
  });

  afterEach(async () => {
    await remove();
  });

  it('compiles a query once and gives each run its own values and answer', async () => {
    for (let i = 1; i <= 5; i++)
      await db
        .insertInto('item')
        .values({ id: i, name: `n${i}` })
        .execute();
    const names: string[] = [];
    for (let i = 1; i <= 5; i++) names.push((await db.selectFrom('item').select('name').where('id', '=', i).executeTakeFirstOrThrow()).name);
    expect(names).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(prepared.filter((t) => t.startsWith('insert'))).toHaveLength(1);
    expect(prepared.filter((t) => t.startsWith('select'))).toHaveLength(1);
    const { numUpdatedRows } = await db.updateTable('item').set({ name: 'x' }).where('id', '>', 3).executeTakeFirst();
    expect(numUpdatedRows).toBe(2n);
  });

  it('keeps only the most recently used texts', async () => {
    await db.insertInto('item').values({ id: 1, name: 'a' }).execute();
    const byColumn = (column: 'id' | 'name') => db.selectFrom('item').select(column).execute();
    // create table, insert, select id, select name: the fourth text drops the create table.
    await byColumn('id');
    await byColumn('name');
    await byColumn('id');
    const before = prepared.length;
    await byColumn('name');
    await byColumn('id');
    expect(prepared.length).toBe(before);
    await sql`select 1`.execute(db); // a fourth text: the least recently used (the insert) goes
    await db.insertInto('item').values({ id: 2, name: 'b' }).execute();
    expect(prepared.slice(before)).toEqual(['select 1', 'insert into "item" ("id", "name") values (?, ?)']);
  });

  it('gives a query its own statement while the same text is still being streamed', async () => {
    for (let i = 1; i <= 3; i++)
      await db
        .insertInto('item')
        .values({ id: i, name: `n${i}` })
        .execute();
    const query = db.selectFrom('item').select('name').orderBy('id');
    const streamed: string[] = [];
    const file2 = withStatementCache(file, 3);
    const statement = file2.prepare(query.compile().sql);
    const iterator = statement.iterate([]);
    streamed.push((iterator.next().value as { name: string }).name);
    // The same text again while the first is mid-iteration: a second statement, not "busy".
    const again = file2.prepare(query.compile().sql);
    expect(again).not.toBe(statement);
    expect(again.all([])).toEqual([{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }]);
    for (const row of iterator) streamed.push((row as { name: string }).name);
    expect(streamed).toEqual(['n1', 'n2', 'n3']);
    expect(file2.prepare(query.compile().sql)).toBe(statement);
  });

  it('reads the columns a later schema change added through a kept select *', async () => {
    await db.insertInto('item').values({ id: 1, name: 'a' }).execute();
    expect(await db.selectFrom('item').selectAll().execute()).toEqual([{ id: 1, name: 'a' }]);
    await sql`alter table item add column note text`.execute(db);
    await db.updateTable('item').set({ note: 'later' }).execute();
    expect(await db.selectFrom('item').selectAll().execute()).toEqual([{ id: 1, name: 'a', note: 'later' }]);
  });
});
