import type { EventKey } from '@faxnotify/contracts';
import { errorMessage, type Logger, type MessageBus } from '@faxnotify/kit';
import { sql, type Kysely } from 'kysely';
import { Counter, Gauge } from 'prom-client';
import type { OutboxRow, TrackerDatabase } from './schema';
import type { StatusTracker } from './tracker';

const metrics = {
  published: new Counter({ name: 'faxnotify_tracker_outbox_published_total', help: 'Outbox events confirmed by the broker, by who published them.', labelNames: ['by'] }),
  failures: new Counter({ name: 'faxnotify_tracker_outbox_publish_failures_total', help: 'Outbox publishes that failed (retried later).' }),
  restored: new Counter({ name: 'faxnotify_tracker_outbox_restored_total', help: 'Outbox rows the reconciliation sweep had to write again.' }),
  pending: new Gauge({ name: 'faxnotify_tracker_outbox_unpublished', help: 'Outbox events not yet confirmed by the broker, as of the last relay pass.' }),
};

/** The part of the bus the relay needs. */
export type EventPublisher = Pick<MessageBus, 'publishEvent'>;

/**
 * Publishes outbox rows back to back on the confirm channel (the wire keeps their order), waits
 * for every confirm, then marks the confirmed ones handed over in one statement. Rows that failed
 * keep `published_at` null and are tried again; the first failure is rethrown after marking.
 */
async function publishRows(db: Kysely<TrackerDatabase>, bus: EventPublisher, rows: OutboxRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const settled = await Promise.allSettled(rows.map((row) => bus.publishEvent(row.routing_key as EventKey, row.event_json)));
  const confirmed = rows.filter((_, i) => settled[i]!.status === 'fulfilled').map((row) => row.seq);
  const failed = rows.filter((_, i) => settled[i]!.status === 'rejected').map((row) => row.seq);
  if (confirmed.length > 0)
    await db
      .updateTable('outbox')
      .set((eb) => ({ published_at: new Date().toISOString(), publish_attempts: eb('publish_attempts', '+', 1), last_error: null }))
      .where('seq', 'in', confirmed)
      .execute();
  const firstFailure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (firstFailure) {
    metrics.failures.inc(failed.length);
    await db
      .updateTable('outbox')
      .set((eb) => ({ publish_attempts: eb('publish_attempts', '+', 1), last_error: errorMessage(firstFailure.reason).slice(0, 1000) }))
      .where('seq', 'in', failed)
      .execute();
    throw firstFailure.reason;
  }
  return confirmed.length;
}

export interface OutboxRelayOptions {
  db: Kysely<TrackerDatabase>;
  bus: EventPublisher;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
}

/**
 * Hands outbox rows to the broker in the order they were written. Runs every `pollMs` and
 * whenever a handler committed new rows (`kick`); one pass at a time. A failed publish stops the
 * pass (rows after its batch wait) and is retried on the next one. Replicas may publish the
 * same row twice; consumers tolerate that, and the event id stays the same.
 */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Asks for a pass now (or right after the running one). */
  kick(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.runPasses().finally(() => {
      this.pass = undefined;
    });
  }

  private async runPasses(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.relayOnce();
      } catch (error) {
        this.options.logger.warn({ err: errorMessage(error) }, 'outbox relay pass failed; retrying on the next poll');
        return;
      }
    } while (this.again && !this.stopped);
  }

  /** Publishes every unpublished row, oldest first; returns how many were confirmed. Throws on the first failure. */
  async relayOnce(): Promise<number> {
    const { db, bus } = this.options;
    const batchSize = this.options.batchSize ?? 100;
    let published = 0;
    try {
      for (;;) {
        const rows = await db.selectFrom('outbox').selectAll().where('published_at', 'is', null).orderBy('seq').limit(batchSize).execute();
        if (this.stopped) return published;
        const confirmed = await publishRows(db, bus, rows);
        metrics.published.inc({ by: 'relay' }, confirmed);
        published += confirmed;
        if (rows.length < batchSize) return published;
      }
    } finally {
      const pending = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<string | number>().as('n')).where('published_at', 'is', null).executeTakeFirst().catch(() => undefined);
      if (pending) metrics.pending.set(Number(pending.n));
    }
  }

  /** Stops polling and waits for the running pass to end (it stops between rows). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
  }
}

export interface ReconciliationSweepOptions {
  db: Kysely<TrackerDatabase>;
  bus: EventPublisher;
  tracker: StatusTracker;
  relay?: OutboxRelay;
  logger: Logger;
  intervalMs: number;
  /** Unconfirmed rows younger than this are left to the relay. */
  minAgeMs: number;
  batchSize?: number;
}

export interface SweepReport {
  /** Outbox rows written again because a final recipient or fax had none. */
  restored: number;
  /** Rows published by the sweep because the relay had not got them confirmed within minAgeMs. */
  republished: number;
}

/**
 * The safety net behind the outbox: every `intervalMs` it (1) writes the final events missing for
 * recipients and faxes that are final, and (2) publishes outbox rows still unconfirmed `minAgeMs`
 * after they were written, whatever happened to the relay. Consumers see such a result by push and
 * by sweep and keep one.
 */
export class ReconciliationSweep {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(private readonly options: ReconciliationSweepOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => {
      if (this.running || this.stopped) return;
      this.running = this.sweepOnce()
        .catch((error) => this.options.logger.warn({ err: errorMessage(error) }, 'reconciliation sweep failed; trying again next interval'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async sweepOnce(): Promise<SweepReport> {
    const restored = await this.restoreMissing();
    if (restored > 0) this.options.relay?.kick();
    const republished = await this.republishStale();
    if (restored + republished > 0) this.options.logger.info({ restored, republished }, 'reconciliation sweep handed over final results');
    return { restored, republished };
  }

  private async restoreMissing(): Promise<number> {
    const { db, tracker } = this.options;
    const limit = this.options.batchSize ?? 500;
    const recipientGaps = await db
      .selectFrom('recipients as r')
      .innerJoin('faxes as f', 'f.id', 'r.fax_id')
      .select('r.fax_id')
      .distinct()
      .where('r.final', '=', 1)
      .where('r.position', 'is not', null)
      .where('f.submitted_at', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('outbox as o')
              .select(sql`1`.as('one'))
              .whereRef('o.fax_id', '=', 'r.fax_id')
              .whereRef('o.recipient_id', '=', 'r.recipient_id')
              .where('o.routing_key', '=', 'delivery.recipient.final'),
          ),
        ),
      )
      .limit(limit)
      .execute();
    const faxGaps = await db
      .selectFrom('faxes as f')
      .select('f.id as fax_id')
      .where('f.submitted_at', 'is not', null)
      .where('f.state', '<>', 'in_progress')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('outbox as o').select(sql`1`.as('one')).whereRef('o.fax_id', '=', 'f.id').where('o.routing_key', '=', 'delivery.fax.final'))),
      )
      .limit(limit)
      .execute();
    let restored = 0;
    for (const faxId of new Set([...recipientGaps, ...faxGaps].map((g) => g.fax_id))) {
      if (this.stopped) break;
      const written = await tracker.reconcileFax(faxId);
      if (written > 0) this.options.logger.warn({ faxId, written }, 'final events were missing from the outbox; written again');
      restored += written;
    }
    metrics.restored.inc(restored);
    return restored;
  }

  private async republishStale(): Promise<number> {
    const { db, bus } = this.options;
    const cutoff = new Date(Date.now() - this.options.minAgeMs).toISOString();
    const rows = await db
      .selectFrom('outbox')
      .selectAll()
      .where('published_at', 'is', null)
      .where('created_at', '<=', cutoff)
      .orderBy('seq')
      .limit(this.options.batchSize ?? 500)
      .execute();
    if (this.stopped) return 0;
    const republished = await publishRows(db, bus, rows);
    metrics.published.inc({ by: 'sweep' }, republished);
    return republished;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
