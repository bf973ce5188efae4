import type { EventKey } from '@faxnotify/contracts';
import { PostgresAdapter, type Generated, type Kysely, type Selectable } from 'kysely';
import type { Counter, Gauge } from 'prom-client';
import type { MessageBus } from './bus';
import { CoalescedPasses } from './coalesced-passes';
import { errorMessage } from './errors';
import type { Logger } from './logger';
import { countUnpublished, lockOutbox, markFailed, markPublished, readUnpublished, type UntypedOutbox } from './outbox-relay-statements';

/** The columns of an outbox table the relay reads and writes; the rest are the caller's. */
export interface OutboxColumns {
  /** Set when the broker confirmed the row; null while it waits. */
  published_at: string | null;
  publish_attempts: number;
  /** The latest publish failure, cleared on success. */
  last_error: string | null;
}

/** The tables of `DB` that have the outbox columns. */
export type OutboxTableName<DB> = {
  [T in keyof DB & string]: Selectable<DB[T]> extends OutboxColumns ? T : never;
}[keyof DB & string];

/** The caller's metrics (their names are the service's); the relay only counts and sets them. */
export interface OutboxMetrics {
  /** Rows the broker confirmed; labelled with `publishedLabels` where the caller gives them. */
  published: Counter<string>;
  /** Rows whose publish failed (they are tried again later). */
  failures: Counter<string>;
  /** Rows not yet confirmed, as of the last relay pass's last read (see `OutboxRelay.relayOnce`). */
  pending: Gauge<string>;
}

/** One outbox table and how its rows go to the broker. */
export interface OutboxSource<DB, T extends OutboxTableName<DB>> {
  db: Kysely<DB>;
  table: T;
  /** The insertion-order column: rows go out in its order, and are marked by it. */
  key: keyof Selectable<DB[T]> & string;
  /** Hands one row to the broker, resolving on its confirm; a batch is handed over back to back. */
  publish: (row: Selectable<DB[T]>) => Promise<void>;
  metrics: OutboxMetrics;
}

/** The columns of an outbox that stores each event whole, as it is to be published. */
export interface StoredEventColumns {
  routing_key: string;
  /** The whole CloudEvent, JSON, exactly as published (its id stays the same on every retry). */
  event_json: string;
}

/**
 * The event outbox of a service that reports fax events (the transmitter's and the status
 * tracker's): each event is written in the same transaction as the state it reports, stored whole,
 * and handed to the broker by the relay in `seq` order.
 */
export interface EventOutboxTable extends OutboxColumns, StoredEventColumns {
  /** Insertion order: the relay publishes in this order. */
  seq: Generated<number>;
  /** The CloudEvent id; it stays the same when the event is published again. */
  id: string;
  fax_id: string;
  recipient_id: string | null;
  created_at: string;
}

/** One row of an event outbox, as read. */
export type EventOutboxRow = Selectable<EventOutboxTable>;

/** The `publish` of an outbox that stores whole events: the stored JSON goes out unchanged. */
export function publishStoredEvent(bus: Pick<MessageBus, 'publishEvent'>): (row: StoredEventColumns) => Promise<void> {
  return (row) => bus.publishEvent(row.routing_key as EventKey, row.event_json);
}

/** One batch of a pass: rows read, rows confirmed, and the first publish failure if any. */
interface Batch {
  read: number;
  confirmed: number;
  failure?: PromiseRejectedResult;
}

/** Longest `last_error` kept. */
const ERROR_LENGTH = 1000;

/**
 * Publishes `rows` back to back on the confirm channel (the wire keeps their order), waits for
 * every confirm, then marks the confirmed ones handed over in one statement. Rows that failed keep
 * `published_at` null, get their attempt and error recorded, and are tried again later; the first
 * failure is rethrown after marking. Returns how many were confirmed.
 */
export async function publishOutboxRows<DB, T extends OutboxTableName<DB>>(
  source: OutboxSource<DB, T>,
  rows: ReadonlyArray<Selectable<DB[T]>>,
  publishedLabels?: Record<string, string>,
): Promise<number> {
  // The table is the caller's choice, so its columns are checked by OutboxTableName, not by Kysely.
  const db = source.db as unknown as UntypedOutbox;
  const table: string = source.table;
  const key: string = source.key;
  const { metrics } = source;
  const settled = await Promise.allSettled(rows.map(async (row) => source.publish(row)));
  const keysWhere = (status: PromiseSettledResult<void>['status']) =>
    rows.filter((_, i) => settled[i].status === status).map((row) => (row as Record<string, unknown>)[key]);
  const confirmed = keysWhere('fulfilled');
  if (confirmed.length > 0) await markPublished(db, table, key, confirmed, new Date().toISOString());
  if (publishedLabels) metrics.published.inc(publishedLabels, confirmed.length);
  else metrics.published.inc(confirmed.length);
  const firstFailure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (firstFailure) {
    const failed = keysWhere('rejected');
    metrics.failures.inc(failed.length);
    await markFailed(db, table, key, failed, errorMessage(firstFailure.reason).slice(0, ERROR_LENGTH));
    throw firstFailure.reason;
  }
  return confirmed.length;
}

export interface OutboxRelayOptions<DB, T extends OutboxTableName<DB>> extends OutboxSource<DB, T> {
  /** What the logs call it, e.g. `event relay`. */
  name: string;
  /** Labels of the `published` counter for what this relay publishes, if it has labels. */
  publishedLabels?: Record<string, string>;
  logger: Logger;
  pollMs: number;
  /** Rows per batch (default 100). */
  batchSize?: number;
}

/**
 * Hands an outbox table to the broker in the order it was written, a batch at a time (see
 * `publishOutboxRows`). A batch with a failure stops the pass there, so a later row never
 * overtakes an earlier one for long; the pass is tried again on the next poll. Runs every `pollMs`
 * and on `kick` after each commit, one pass at a time.
 *
 * On PostgreSQL, replicas share the table: each batch is read, published and marked in one
 * transaction that first takes a transaction-scoped advisory lock named after the table, so the
 * relays of several replicas take turns batch by batch. The next relay reads only after the
 * previous batch is marked, so no row is published twice and the table's order holds across
 * replicas. SQLite is one process's file, so its relay reads without reserving.
 */
export class OutboxRelay<DB, T extends OutboxTableName<DB>> {
  private readonly passes: CoalescedPasses;
  /** Whether batches are reserved (PostgreSQL) rather than only read (SQLite). */
  private readonly reserving: boolean;
  private draining = false;

  constructor(private readonly options: OutboxRelayOptions<DB, T>) {
    this.reserving = options.db.getExecutor().adapter instanceof PostgresAdapter;
    this.passes = new CoalescedPasses({
      pass: () => this.relayOnce(),
      onError: (error) => options.logger.warn({ err: errorMessage(error) }, `${options.name} pass failed; retrying on the next poll`),
      pollMs: options.pollMs,
    });
  }

  start(): void {
    this.passes.start();
  }

  /** Asks for a pass now (or right after the running one). */
  kick(): void {
    this.passes.kick();
  }

  /**
   * Publishes every unpublished row, oldest first; returns how many were confirmed. Throws on the
   * first failure. Sets the `pending` gauge to the rows left unconfirmed as of the pass's last read:
   * a read of fewer rows than a batch saw every row waiting then, so what it left unconfirmed is the
   * count; only a pass that ended otherwise (a failure or a stop in a full batch, an error) counts
   * the table.
   */
  async relayOnce(): Promise<number> {
    const db = this.options.db as unknown as UntypedOutbox;
    const batchSize = this.options.batchSize ?? 100;
    let published = 0;
    let pending: number | undefined;
    try {
      for (;;) {
        const batch = this.reserving ? await this.reservedBatch(db, batchSize) : await this.plainBatch(db, batchSize);
        if (batch === 'stopped') return published;
        if (batch.read < batchSize) pending = batch.read - batch.confirmed;
        if (batch.failure) throw batch.failure.reason;
        published += batch.confirmed;
        if (batch.read < batchSize) return published;
      }
    } finally {
      pending ??= await countUnpublished(db, this.options.table).catch(() => undefined);
      if (pending !== undefined) this.options.metrics.pending.set(pending);
    }
  }

  private get halted(): boolean {
    return this.passes.stopped && !this.draining;
  }

  private async unpublished(db: UntypedOutbox, batchSize: number): Promise<Array<Selectable<DB[T]>>> {
    return (await readUnpublished(db, this.options.table, this.options.key, batchSize)) as Array<Selectable<DB[T]>>;
  }

  private async plainBatch(db: UntypedOutbox, batchSize: number): Promise<Batch | 'stopped'> {
    const rows = await this.unpublished(db, batchSize);
    if (this.halted) return 'stopped';
    return { read: rows.length, ...(await this.publishBatch(this.options.db, rows)) };
  }

  /**
   * Reads, publishes and marks one batch in one transaction holding the table's advisory lock (see
   * the class). A failed publish is recorded and committed like a success (the rows wait for the
   * next pass), then reported.
   */
  private async reservedBatch(db: UntypedOutbox, batchSize: number): Promise<Batch | 'stopped'> {
    return db.transaction().execute(async (trx) => {
      await lockOutbox(trx, this.options.table);
      const rows = await this.unpublished(trx, batchSize);
      if (this.halted) return 'stopped' as const;
      return { read: rows.length, ...(await this.publishBatch(trx as unknown as Kysely<DB>, rows)) };
    });
  }

  private async publishBatch(db: Kysely<DB>, rows: Array<Selectable<DB[T]>>): Promise<{ confirmed: number; failure?: PromiseRejectedResult }> {
    try {
      return { confirmed: await publishOutboxRows({ ...this.options, db }, rows, this.options.publishedLabels) };
    } catch (reason) {
      return { confirmed: 0, failure: { status: 'rejected', reason } };
    }
  }

  /**
   * Stops polling and waits for the running pass to end (it stops between batches); with `flush`,
   * then tries once more to hand over everything written so far (what fails waits in the table
   * for the next start).
   */
  async stop(options: { flush?: boolean } = {}): Promise<void> {
    await this.passes.stop();
    if (!options.flush) return;
    this.draining = true;
    try {
      await this.relayOnce();
    } catch (error) {
      this.options.logger.warn({ err: errorMessage(error) }, 'events left unpublished for the next start');
    } finally {
      this.draining = false;
    }
  }
}
