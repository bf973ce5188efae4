import {
  intervalPasses,
  OutboxRelay as TableRelay,
  publishOutboxRows,
  publishStoredEvent,
  type CoalescedPasses,
  type Logger,
  type MessageBus,
  type OutboxSource,
} from '@faxnotify/kit';
import { sql, type Kysely } from 'kysely';
import { Counter, Gauge } from 'prom-client';
import type { TrackerDatabase } from './schema';
import type { StatusTracker } from './tracker';

const metrics = {
  published: new Counter({
    name: 'faxnotify_tracker_outbox_published_total',
    help: 'Outbox events confirmed by the broker, by who published them.',
    labelNames: ['by'],
  }),
  failures: new Counter({ name: 'faxnotify_tracker_outbox_publish_failures_total', help: 'Outbox publishes that failed (retried later).' }),
  restored: new Counter({ name: 'faxnotify_tracker_outbox_restored_total', help: 'Outbox rows the reconciliation sweep had to write again.' }),
  pending: new Gauge({ name: 'faxnotify_tracker_outbox_unpublished', help: 'Outbox events not yet confirmed by the broker, as of the last relay pass.' }),
};

/** The part of the bus the relay needs. */
export type EventPublisher = Pick<MessageBus, 'publishEvent'>;

/** The tracker's outbox: rows go out as the CloudEvents they store, in `seq` order. */
function trackerOutbox(db: Kysely<TrackerDatabase>, bus: EventPublisher): OutboxSource<TrackerDatabase, 'outbox'> {
  return { db, table: 'outbox', key: 'seq', publish: publishStoredEvent(bus), metrics };
}

export interface OutboxRelayOptions {
  db: Kysely<TrackerDatabase>;
  bus: EventPublisher;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
}

/**
 * Hands outbox rows to the broker in the order they were written (the kit's relay), counted as
 * published `by: relay`. Replicas on one PostgreSQL database take turns batch by batch, so each
 * row goes out once; a row whose confirm was lost goes out again with the same event id, which
 * consumers tolerate.
 */
export class OutboxRelay extends TableRelay<TrackerDatabase, 'outbox'> {
  constructor(options: OutboxRelayOptions) {
    const { db, bus, ...timing } = options;
    super({ ...trackerOutbox(db, bus), ...timing, name: 'outbox relay', publishedLabels: { by: 'relay' } });
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
  private readonly passes: CoalescedPasses;

  constructor(private readonly options: ReconciliationSweepOptions) {
    this.passes = intervalPasses(() => this.sweepOnce(), { intervalMs: options.intervalMs, logger: options.logger, what: 'reconciliation sweep' });
  }

  /** True once `stop` was called: a sweep in progress ends early. */
  private get stopped(): boolean {
    return this.passes.stopped;
  }

  /** Sweeps every `intervalMs`, the first time one interval after the start. */
  start(): void {
    this.passes.start();
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
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('outbox as o')
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
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('outbox as o')
              .select(sql`1`.as('one'))
              .whereRef('o.fax_id', '=', 'f.id')
              .where('o.routing_key', '=', 'delivery.fax.final'),
          ),
        ),
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
    return publishOutboxRows(trackerOutbox(db, bus), rows, { by: 'sweep' });
  }

  async stop(): Promise<void> {
    await this.passes.stop();
  }
}
