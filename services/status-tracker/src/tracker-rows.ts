import { isFinalStatus, type DeliveryRecipientFinal, type FinalStatus, type NotificationOutcome } from '@faxnotify/contracts';
import type { Kysely } from 'kysely';
import type { FaxRow, NewRecipient, RecipientRow, TrackerDatabase } from './schema';

/**
 * The rows the status tracker's handlers read and write (tracker.ts): the fax's lock, a
 * recipient's state and history, and the delivery event a final recipient gives.
 */

/** The id of one recipient's result: the idempotency key of every notice about it. */
export const resultIdOf = (faxId: string, recipientId: string): string => `${faxId}:${recipientId}`;

/**
 * Inserts the fax's placeholder row if it is not there yet and takes its row lock for the rest of
 * the transaction, in one statement that returns the row: the upsert's update takes the row lock
 * on PostgreSQL and the write lock on SQLite — portable, and it serialises every handler of one
 * fax (the aggregate is only right if they do not interleave).
 */
export async function lockFax(trx: Kysely<TrackerDatabase>, faxId: string, now: string): Promise<FaxRow> {
  return trx
    .insertInto('faxes')
    .values({ id: faxId, state: 'in_progress', created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ updated_at: now }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export const selectRecipient = (trx: Kysely<TrackerDatabase>, faxId: string, recipientId: string): Promise<RecipientRow | undefined> =>
  trx.selectFrom('recipients').selectAll().where('fax_id', '=', faxId).where('recipient_id', '=', recipientId).executeTakeFirst();

/** What a progress or result event sets on a recipient; the other columns name it and place it in the submission. */
export type RecipientChanges = Omit<NewRecipient, 'fax_id' | 'recipient_id' | 'position' | 'created_at'>;

/**
 * Writes what an event established about a recipient: its row is updated or, when the event came
 * before anything else named the recipient, created (created when it is updated, with no place in
 * the submission's list until the submission gives it one).
 */
export async function saveRecipient(
  trx: Kysely<TrackerDatabase>,
  faxId: string,
  recipientId: string,
  exists: boolean,
  changes: RecipientChanges,
): Promise<void> {
  if (exists) {
    await trx.updateTable('recipients').set(changes).where('fax_id', '=', faxId).where('recipient_id', '=', recipientId).execute();
  } else {
    await trx
      .insertInto('recipients')
      .values({ ...changes, fax_id: faxId, recipient_id: recipientId, position: null, created_at: changes.updated_at })
      .execute();
  }
}

/** Appends to the history; false when the event id is already there (a duplicate). */
export async function recordEvent(
  trx: Kysely<TrackerDatabase>,
  eventId: string,
  kind: 'progress' | 'result',
  data: { faxId: string; recipientId: string; attempt: number; sequence: number; status: string },
  at: string,
  applied: boolean,
  now: string,
): Promise<boolean> {
  const result = await trx
    .insertInto('recipient_events')
    .values({
      event_id: eventId,
      fax_id: data.faxId,
      recipient_id: data.recipientId,
      kind,
      attempt: data.attempt,
      sequence: data.sequence,
      status: data.status,
      at,
      applied: applied ? 1 : 0,
      data_json: JSON.stringify(data),
      received_at: now,
    })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export const latest = (times: Array<string | null>): string | null =>
  times.reduce<string | null>((max, t) => (t !== null && (max === null || t > max) ? t : max), null);

export function finalStatusOf(recipient: RecipientRow): FinalStatus {
  if (!isFinalStatus(recipient.status)) throw new Error(`recipient ${recipient.recipient_id} has no final status (${recipient.status})`);
  return recipient.status;
}

export function recipientFinal(fax: FaxRow, recipient: RecipientRow, link: string, recipientCount: number): DeliveryRecipientFinal {
  return {
    resultId: resultIdOf(fax.id, recipient.recipient_id),
    faxId: fax.id,
    recipientId: recipient.recipient_id,
    number: recipient.number,
    ownerId: fax.owner_id!,
    subject: fax.subject ?? '',
    status: finalStatusOf(recipient),
    reason: { code: recipient.reason_code ?? '', detail: recipient.reason_detail ?? '' },
    pagesSent: recipient.pages_sent,
    pagesTotal: recipient.pages_total,
    remoteCsid: recipient.remote_csid,
    submittedAt: fax.submitted_at!,
    startedAt: recipient.started_at,
    endedAt: recipient.ended_at ?? fax.updated_at,
    attempts: recipient.attempts ?? Math.max(1, recipient.attempt),
    links: { fax: link },
    recipientCount,
  };
}

/** Stores a notice outcome; of two outcomes for one (result, channel), the later `at` wins. */
export async function saveNotice(db: Kysely<TrackerDatabase>, data: NotificationOutcome, receivedAt: string): Promise<void> {
  const row = {
    result_id: data.resultId,
    channel: data.channel,
    fax_id: data.faxId,
    recipient_id: data.recipientId,
    owner_id: data.ownerId,
    outcome: data.outcome,
    reason: data.reason ?? null,
    address: data.address ?? null,
    locale: data.locale ?? null,
    provider_message_id: data.providerMessageId ?? null,
    sms_segments: data.sms?.segments ?? null,
    sms_encoding: data.sms?.encoding ?? null,
    provider_status: data.provider?.status ?? null,
    provider_error_code: data.provider?.errorCode ?? null,
    smtp_code: data.smtp?.code ?? null,
    attempts: data.attempts,
    at: new Date(data.at).toISOString(),
    received_at: receivedAt,
  };
  await db
    .insertInto('notices')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['result_id', 'channel'])
        .doUpdateSet((eb) => ({
          outcome: eb.ref('excluded.outcome'),
          reason: eb.ref('excluded.reason'),
          address: eb.ref('excluded.address'),
          locale: eb.ref('excluded.locale'),
          provider_message_id: eb.ref('excluded.provider_message_id'),
          sms_segments: eb.ref('excluded.sms_segments'),
          sms_encoding: eb.ref('excluded.sms_encoding'),
          provider_status: eb.ref('excluded.provider_status'),
          provider_error_code: eb.ref('excluded.provider_error_code'),
          smtp_code: eb.ref('excluded.smtp_code'),
          attempts: eb.ref('excluded.attempts'),
          at: eb.ref('excluded.at'),
          received_at: eb.ref('excluded.received_at'),
        }))
        .where('notices.at', '<=', (eb) => eb.ref('excluded.at')),
    )
    .execute();
}
