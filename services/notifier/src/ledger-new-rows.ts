import type { Kysely } from 'kysely';
import type { LedgerTable, NotifierDatabase } from './schema';

/** The most rows written in one statement. */
const MAX_ROWS = 100;

interface Waiter {
  resolve: (row: LedgerTable | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * New send-ledger rows, written together: the rows asked for in one turn of the event loop (an
 * event's channels, which start at once, and the other events being handled then) go into the
 * ledger in one INSERT … ON CONFLICT DO NOTHING RETURNING, one commit instead of one per notice.
 * Each caller gets its row as written, or undefined when the ledger had one already, as with a
 * statement of its own; a failed statement fails every caller in it. Rows are written in key
 * order, so notifiers writing the same keys at once on PostgreSQL never wait on each other in a
 * cycle.
 */
export class NewLedgerRows {
  private waiting = new Map<string, { row: LedgerTable; waiters: Waiter[] }>();

  constructor(private readonly db: Kysely<NotifierDatabase>) {}

  insert(row: LedgerTable): Promise<LedgerTable | undefined> {
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) setImmediate(() => this.flush());
      const same = this.waiting.get(row.idempotency_key);
      // The same notice asked for twice at once: the first caller writes it, the other finds it there.
      if (same) same.waiters.push({ resolve, reject });
      else this.waiting.set(row.idempotency_key, { row, waiters: [{ resolve, reject }] });
    });
  }

  private flush(): void {
    const batch = [...this.waiting.values()].sort((a, b) => (a.row.idempotency_key < b.row.idempotency_key ? -1 : 1));
    this.waiting = new Map();
    for (let i = 0; i < batch.length; i += MAX_ROWS) void this.write(batch.slice(i, i + MAX_ROWS));
  }

  private async write(batch: { row: LedgerTable; waiters: Waiter[] }[]): Promise<void> {
    try {
      const written = await this.db
        .insertInto('ledger')
        .values(batch.map(({ row }) => row))
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .returningAll()
        .execute();
      const byKey = new Map(written.map((row) => [row.idempotency_key, row]));
      for (const { row, waiters } of batch) waiters.forEach((waiter, i) => waiter.resolve(i === 0 ? byKey.get(row.idempotency_key) : undefined));
    } catch (error) {
      for (const { waiters } of batch) for (const waiter of waiters) waiter.reject(error);
    }
  }
}
