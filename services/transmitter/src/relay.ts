import type { EventKey } from '@faxnotify/contracts';
import { errorMessage, type Logger, type MessageBus } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { Counter, Gauge } from 'prom-client';
import type { TransmitterDatabase } from './schema';

const metrics = {
  published: new Counter({ name: 'faxnotify_transmitter_events_published_total', help: 'Outbox events confirmed by the broker.' }),
  failures: new Counter({ name: 'faxnotify_transmitter_event_publish_failures_total', help: 'Outbox publishes that failed (retried later).' }),
  pending: new Gauge({ name: 'faxnotify_transmitter_events_unpublished', help: 'Outbox events not yet confirmed by the broker, as of the last relay pass.' }),
};

export interface EventRelayOptions {
  db: Kysely<TransmitterDatabase>;
  bus: Pick<MessageBus, 'publishEvent'>;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
}

/**
 * Hands the event outbox to the broker in the order it was written: a batch back to back on the
 * confirm channel (the wire keeps their order), then the confirmed rows marked in one statement.
 * A batch with a failure stops the pass there, so a later event never overtakes an earlier one of
 * the same recipient for long; the tracker orders by (attempt, sequence) in any case. Runs every
 * `pollMs` and on `kick` after each commit, one pass at a time.
 */
export class EventRelay {
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private again = false;
  private stopped = false;
  private draining = false;

  constructor(private readonly options: EventRelayOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.timer.unref();
    this.kick();
  }

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
        this.options.logger.warn({ err: errorMessage(error) }, 'event relay pass failed; retrying on the next poll');
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
        const rows = await db.selectFrom('event_outbox').selectAll().where('published_at', 'is', null).orderBy('seq').limit(batchSize).execute();
        if ((this.stopped && !this.draining) || rows.length === 0) return published;
        const settled = await Promise.allSettled(rows.map((row) => bus.publishEvent(row.routing_key as EventKey, row.event_json)));
        const confirmed = rows.filter((_, i) => settled[i]!.status === 'fulfilled').map((row) => row.seq);
        if (confirmed.length > 0) {
          await db
            .updateTable('event_outbox')
            .set((eb) => ({ published_at: new Date().toISOString(), publish_attempts: eb('publish_attempts', '+', 1), last_error: null }))
            .where('seq', 'in', confirmed)
            .execute();
          metrics.published.inc(confirmed.length);
          published += confirmed.length;
        }
        const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) {
          const failed = rows.filter((_, i) => settled[i]!.status === 'rejected').map((row) => row.seq);
          metrics.failures.inc(failed.length);
          await db
            .updateTable('event_outbox')
            .set((eb) => ({ publish_attempts: eb('publish_attempts', '+', 1), last_error: errorMessage(failure.reason).slice(0, 1000) }))
            .where('seq', 'in', failed)
            .execute();
          throw failure.reason;
        }
        if (rows.length < batchSize) return published;
      }
    } finally {
      const pending = await db
        .selectFrom('event_outbox')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('published_at', 'is', null)
        .executeTakeFirst()
        .catch(() => undefined);
      if (pending) metrics.pending.set(Number(pending.n));
    }
  }

  /**
   * Stops polling and waits for the running pass to end; with `flush`, then tries once more to
   * hand over everything written so far (what fails waits in the table for the next start).
   */
  async stop(options: { flush?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
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
