import { columnsOf, compiledQueryFamily } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { GroupedPerTurn } from './grouped-per-turn';
import type { LedgerTable, NotifierDatabase } from './schema';

/**
 * The row counts one INSERT is written for, largest first: a turn's rows go out in pieces of these
 * sizes (37 rows: 32, 4 and 1), so the statements are a few fixed texts that SQLite keeps prepared
 * rather than one new text for every count up to the most written in one statement (100).
 */
const SIZES = [100, 64, 32, 16, 8, 4, 2, 1];

/** How `n` rows are cut into statements of the sizes above. */
export function insertSizes(n: number): number[] {
  const sizes: number[] = [];
  for (const size of SIZES) for (; n >= size; n -= size) sizes.push(size);
  return sizes;
}

/** The INSERT of a count of rows with these columns (shape `count:columns,`), built once. */
const insertFamily = compiledQueryFamily<NotifierDatabase, Record<string, unknown>, LedgerTable>((db, p, shape) => {
  const [count, columnList] = shape.split(':');
  const columns = columnsOf(columnList);
  return db
    .insertInto('ledger')
    .values(
      Array.from({ length: Number(count) }, (_, i) => Object.fromEntries(columns.map((column) => [column, p[`${i}:${column}`]])) as unknown as LedgerTable),
    )
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll();
});
const insertOf = (count: number, columns: ReadonlyArray<keyof LedgerTable>) => insertFamily(`${count}:${columns.join(',')},`);

/**
 * New send-ledger rows, written together (GroupedPerTurn): the rows asked for in one turn of the
 * event loop (an event's channels, which start at once, and the other events being handled then)
 * go into the ledger in INSERT … ON CONFLICT DO NOTHING RETURNING statements of up to 100 rows, one
 * commit instead of one per notice. Each caller gets its row as written, or undefined when the
 * ledger had one already, as with a statement of its own; a failed statement fails every caller in
 * it. The same notice asked for twice at once: the first caller writes it, the other finds it there.
 */
export class NewLedgerRows {
  private readonly grouped: GroupedPerTurn<LedgerTable, LedgerTable | undefined>;

  constructor(db: Kysely<NotifierDatabase>) {
    this.grouped = new GroupedPerTurn({
      chunks: insertSizes,
      inSequence: false,
      duplicate: () => undefined,
      write: async (rows) => {
        const columns = Object.keys(rows[0]) as Array<keyof LedgerTable>;
        const params: Record<string, unknown> = {};
        rows.forEach((row, i) => {
          if (Object.keys(row).length !== columns.length) throw new Error('ledger rows written together must have the same columns');
          for (const column of columns) params[`${i}:${column}`] = row[column];
        });
        const written = await insertOf(rows.length, columns).rows(db, params);
        const byKey = new Map(written.map((row) => [row.idempotency_key, row]));
        return rows.map((row) => byKey.get(row.idempotency_key));
      },
    });
  }

  insert(row: LedgerTable): Promise<LedgerTable | undefined> {
    return this.grouped.ask(row.idempotency_key, row);
  }
}
