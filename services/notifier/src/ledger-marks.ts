import type { Kysely } from 'kysely';
import type { LedgerTable, NotifierDatabase } from './schema';

/** The most marks written in one transaction. */
const MAX_MARKS = 100;

interface Mark {
  key: string;
  values: Partial<LedgerTable>;
  resolve: (row: LedgerTable | undefined) => void;
  reject: (error: unknown) => void;
}

const update = (db: Kysely<NotifierDatabase>, mark: Mark) =>
  db.updateTable('ledger').set(mark.values).where('idempotency_key', '=', mark.key).returningAll().executeTakeFirst();

/**
 * Marks of send-ledger rows (sent, failed, retrying, skipped), written together: the marks asked for
 * in one turn of the event loop (the providers' answers that came in together) go into the ledger in
 * one transaction, one commit instead of one per notice. A mark alone is one statement, as before.
 * Each caller gets its row as the mark left it; a failed transaction fails every caller in it (the
 * notifier tries a failed mark again). Marks are applied in key order, and those of one key in the
 * order they were asked for, so notifiers marking the same rows on PostgreSQL never wait on each
 * other in a cycle.
 */
export class LedgerMarks {
  private waiting: Mark[] = [];

  constructor(private readonly db: Kysely<NotifierDatabase>) {}

  mark(key: string, values: Partial<LedgerTable>): Promise<LedgerTable | undefined> {
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => void this.flush());
      this.waiting.push({ key, values, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    // Array sort is stable: marks of one key keep the order they were asked for.
    const marks = this.waiting.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.waiting = [];
    for (let i = 0; i < marks.length; i += MAX_MARKS) await this.write(marks.slice(i, i + MAX_MARKS));
  }

  private async write(marks: Mark[]): Promise<void> {
    try {
      const rows =
        marks.length === 1
          ? [await update(this.db, marks[0])]
          : await this.db.transaction().execute(async (tx) => {
              const written: Array<LedgerTable | undefined> = [];
              for (const mark of marks) written.push(await update(tx, mark));
              return written;
            });
      marks.forEach((mark, i) => mark.resolve(rows[i]));
    } catch (error) {
      for (const mark of marks) mark.reject(error);
    }
  }
}
