import { columnsOf, columnsShape, compiledQueryFamily } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { GroupedPerTurn, chunksOf } from './grouped-per-turn';
import type { LedgerTable, NotifierDatabase } from './schema';

/** The most marks written in one transaction. */
const MAX_MARKS = 100;

interface Mark {
  key: string;
  values: Partial<LedgerTable>;
}

/** The UPDATE setting these columns, built once per set of columns (a mark of each kind sets its own). */
const updateOf = compiledQueryFamily<NotifierDatabase, Record<string, unknown>, LedgerTable>((db, p, shape) =>
  db
    .updateTable('ledger')
    .set(Object.fromEntries(columnsOf(shape).map((column) => [column, p[`set:${column}`]])) as Partial<LedgerTable>)
    .where('idempotency_key', '=', p.key as string)
    .returningAll(),
);

const update = (db: Kysely<NotifierDatabase>, mark: Mark): Promise<LedgerTable | undefined> => {
  const values = mark.values as Record<string, unknown>;
  // As Kysely's set() does, a column whose value is undefined is left out (columnsShape leaves it out too).
  const params: Record<string, unknown> = { key: mark.key };
  for (const column in values) if (values[column] !== undefined) params[`set:${column}`] = values[column];
  return updateOf(columnsShape(values)).first(db, params);
};

/**
 * Marks of send-ledger rows (sent, failed, retrying, skipped), written together (GroupedPerTurn): the
 * marks asked for in one turn of the event loop (the providers' answers that came in together) go
 * into the ledger in one transaction, one commit instead of one per notice. A mark alone is one
 * statement, as before. Each caller gets its row as the mark left it; a failed transaction fails
 * every caller in it (the notifier tries a failed mark again). Marks are applied in key order, and
 * those of one key in the order they were asked for.
 */
export class LedgerMarks {
  private readonly grouped: GroupedPerTurn<Mark, LedgerTable | undefined>;

  constructor(db: Kysely<NotifierDatabase>) {
    this.grouped = new GroupedPerTurn({
      chunks: chunksOf(MAX_MARKS),
      inSequence: true,
      write: async (marks) =>
        marks.length === 1
          ? [await update(db, marks[0])]
          : db.transaction().execute(async (tx) => {
              const written: Array<LedgerTable | undefined> = [];
              for (const mark of marks) written.push(await update(tx, mark));
              return written;
            }),
    });
  }

  mark(key: string, values: Partial<LedgerTable>): Promise<LedgerTable | undefined> {
    return this.grouped.ask(key, { key, values });
  }
}
