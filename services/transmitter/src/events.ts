import { createEvent, type EventData, type EventKey } from '@faxnotify/contracts';
import type { Kysely } from 'kysely';
import type { TransmitterDatabase } from './db/schema';

/** CloudEvents source of everything the transmitter publishes. */
export const TRANSMITTER_SOURCE = '/faxnotify/transmitter';

export const faxSubject = (faxId: string): string => `fax/${faxId}`;
export const recipientSubject = (faxId: string, recipientId: string): string => `fax/${faxId}/recipient/${recipientId}`;

/**
 * Writes an event to the outbox table, in the caller's transaction, so it is published if and
 * only if the state change it reports is committed. The event is built and validated here: a
 * producer can never store what a consumer would reject.
 */
export async function appendEvent<K extends EventKey>(
  trx: Kysely<TransmitterDatabase>,
  key: K,
  data: EventData<K>,
  meta: { faxId: string; recipientId?: string; time: Date; /** A deterministic event id; default a fresh one. */ id?: string },
): Promise<void> {
  const event = createEvent(key, data, {
    ...(meta.id ? { id: meta.id } : {}),
    source: TRANSMITTER_SOURCE,
    subject: meta.recipientId ? recipientSubject(meta.faxId, meta.recipientId) : faxSubject(meta.faxId),
    time: meta.time,
  });
  await trx
    .insertInto('event_outbox')
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
