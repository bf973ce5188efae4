/**
 * The ATA events' outbox: an event is written in the same transaction as the accounting record it
 * comes from, so it is published if and only if that record was taken, and a resent record (which
 * changes nothing) publishes nothing. The relay hands the rows to the broker in the order written
 * and marks them once confirmed; a crash between the two re-publishes with the same event id,
 * which consumers already tolerate.
 */
import { createEvent, type EventData, type EventKey } from '@faxnotify/contracts';
import { errorMessage, type Logger, type MessageBus } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { TRANSMITTER_SOURCE, faxSubject, recipientSubject } from '../events';
import type { AtaDatabase } from './schema';

export async function appendAtaEvent<K extends EventKey>(
  trx: Kysely<AtaDatabase>,
  key: K,
  data: EventData<K>,
  meta: { id: string; faxId: string; recipientId?: string; time: Date },
): Promise<void> {
  const event = createEvent(key, data, {
    id: meta.id,
    source: TRANSMITTER_SOURCE,
    subject: meta.recipientId ? recipientSubject(meta.faxId, meta.recipientId) : faxSubject(meta.faxId),
    time: meta.time,
  });
  await trx
    .insertInto('ata_event_outbox')
    .values({
      id: event.id,
      routing_key: key,
      fax_id: meta.faxId,
      recipient_id: meta.recipientId ?? null,
      event_json: JSON.stringify(event),
      created_at: new Date().toISOString(),
      published_at: null,
      publish_attempts: 0,
      last_error: null,
    })
    .execute();
}

export interface AtaEventRelayOptions {
  db: Kysely<AtaDatabase>;
  bus: Pick<MessageBus, 'publishEvent'>;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
}

/** Publishes the ATA outbox oldest first, every `pollMs` and on `kick`, one pass at a time. */
export class AtaEventRelay {
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private again = false;
  private stopped = true;

  constructor(private readonly options: AtaEventRelayOptions) {}

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
        this.options.logger.warn({ err: errorMessage(error) }, 'ATA event relay pass failed; retrying on the next poll');
        return;
      }
    } while (this.again && !this.stopped);
  }

  /**
   * Publishes unpublished rows in order, one at a time, so a fax's events reach the broker in the
   * order they were written; stops at the first failure. Returns how many were confirmed.
   */
  async relayOnce(): Promise<number> {
    const { db, bus } = this.options;
    let published = 0;
    for (;;) {
      const rows = await db
        .selectFrom('ata_event_outbox')
        .select(['seq', 'routing_key', 'event_json'])
        .where('published_at', 'is', null)
        .orderBy('seq')
        .limit(this.options.batchSize ?? 100)
        .execute();
      if (rows.length === 0) return published;
      for (const row of rows) {
        try {
          await bus.publishEvent(row.routing_key as EventKey, row.event_json);
        } catch (error) {
          await db
            .updateTable('ata_event_outbox')
            .set((eb) => ({ publish_attempts: eb('publish_attempts', '+', 1), last_error: errorMessage(error).slice(0, 1000) }))
            .where('seq', '=', row.seq)
            .execute();
          throw error;
        }
        await db
          .updateTable('ata_event_outbox')
          .set((eb) => ({ published_at: new Date().toISOString(), publish_attempts: eb('publish_attempts', '+', 1), last_error: null }))
          .where('seq', '=', row.seq)
          .execute();
        published++;
      }
    }
  }

  /** Stops polling, waits for the running pass, then tries once more to hand over what is written. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
    try {
      await this.relayOnce();
    } catch (error) {
      this.options.logger.warn({ err: errorMessage(error) }, 'ATA events left unpublished for the next start');
    }
  }
}
