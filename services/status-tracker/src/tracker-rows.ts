import { isFinalStatus, type DeliveryRecipientFinal, type FinalStatus, type NotificationOutcome } from '@faxnotify/contracts';
import { columnsOf, columnsShape, compiledQuery, compiledQueryFamily, type CompiledStatement } from '@faxnotify/kit';
import type { Compilable, Kysely } from 'kysely';
import type { FaxRow, FaxTable, NewRecipient, NoticeTable, RecipientEventTable, RecipientRow, TrackerDatabase } from './schema';

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
  return faxLock.firstOrThrow(trx, { faxId, now });
}

/*
 * The statements every event of a batch runs are built once (compiledQuery) and run with its values.
 */

const faxLock = compiledQuery((db: Kysely<TrackerDatabase>, p: { faxId: string; now: string }) =>
  db
    .insertInto('faxes')
    .values({ id: p.faxId, state: 'in_progress', created_at: p.now, updated_at: p.now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ updated_at: p.now }))
    .returningAll(),
);

const recipientByIds = compiledQuery((db: Kysely<TrackerDatabase>, p: { faxId: string; recipientId: string }) =>
  db.selectFrom('recipients').selectAll().where('fax_id', '=', p.faxId).where('recipient_id', '=', p.recipientId),
);

export const selectRecipient = (trx: Kysely<TrackerDatabase>, faxId: string, recipientId: string): Promise<RecipientRow | undefined> =>
  recipientByIds.first(trx, { faxId, recipientId });

type Values = Record<string, unknown>;

/**
 * A statement per set of columns (progress and results each set their own), built the first time
 * it is needed. The columns are those of `values` Kysely would write: the ones not undefined.
 */
function byColumns(build: (db: Kysely<TrackerDatabase>, p: Values, columns: string[]) => Compilable<unknown>) {
  const family = compiledQueryFamily<TrackerDatabase, Values, unknown>((db, p, shape) => build(db, p, columnsOf(shape)));
  return (values: object): CompiledStatement<TrackerDatabase, Values, unknown> => family(columnsShape(values));
}

const pick = (p: Values, columns: string[]): Values => Object.fromEntries(columns.map((column) => [column, p[column]]));

const recipientUpdate = byColumns((db, p, columns) =>
  db
    .updateTable('recipients')
    .set(pick(p, columns))
    .where('fax_id', '=', p.$faxId as string)
    .where('recipient_id', '=', p.$recipientId as string),
);

const recipientInsert = byColumns((db, p, columns) => db.insertInto('recipients').values(pick(p, columns) as NewRecipient));

/* A submission's statements, built once (compiledQuery) and run with its values. */

export const faxSubmission = compiledQuery(
  (
    db: Kysely<TrackerDatabase>,
    p: Pick<
      FaxTable,
      | 'id'
      | 'owner_id'
      | 'outbox_id'
      | 'from_number'
      | 'subject'
      | 'pages'
      | 'files_json'
      | 'resend_of'
      | 'submitted_at'
      | 'send_at'
      | 'retry_count'
      | 'retry_delay_minutes'
      | 'updated_at'
    >,
  ) =>
    db
      .updateTable('faxes')
      .set({
        owner_id: p.owner_id,
        outbox_id: p.outbox_id,
        from_number: p.from_number,
        subject: p.subject,
        pages: p.pages,
        files_json: p.files_json,
        resend_of: p.resend_of,
        submitted_at: p.submitted_at,
        send_at: p.send_at,
        retry_count: p.retry_count,
        retry_delay_minutes: p.retry_delay_minutes,
        updated_at: p.updated_at,
      })
      .where('id', '=', p.id),
);

export const submittedRecipient = compiledQuery(
  (
    db: Kysely<TrackerDatabase>,
    p: { fax_id: string; recipient_id: string; number: string; position: number; pages_total: number; first_page: number | null; now: string },
  ) =>
    db
      .insertInto('recipients')
      .values({
        fax_id: p.fax_id,
        recipient_id: p.recipient_id,
        number: p.number,
        position: p.position,
        status: 'queued',
        attempt: 0,
        sequence: 0,
        pages_sent: 0,
        pages_total: p.pages_total,
        first_page: p.first_page,
        final: 0,
        created_at: p.now,
        updated_at: p.now,
      })
      // Events got here first: keep what they said, take the submission's place, number and share of the pages.
      .onConflict((oc) => oc.columns(['fax_id', 'recipient_id']).doUpdateSet({ position: p.position, number: p.number, first_page: p.first_page })),
);

export const unlistedRecipients = compiledQuery((db: Kysely<TrackerDatabase>, p: { faxId: string }) =>
  db.selectFrom('recipients').select('recipient_id').where('fax_id', '=', p.faxId).where('position', 'is', null),
);

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
    await recipientUpdate(changes).execute(trx, { ...changes, $faxId: faxId, $recipientId: recipientId });
  } else {
    const row = { ...changes, fax_id: faxId, recipient_id: recipientId, position: null, created_at: changes.updated_at };
    await recipientInsert(row).execute(trx, row);
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
  const inserted = await eventInsert.affected(trx, {
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
  });
  return inserted > 0;
}

const eventInsert = compiledQuery((db: Kysely<TrackerDatabase>, p: RecipientEventTable) =>
  db
    .insertInto('recipient_events')
    .values({
      event_id: p.event_id,
      fax_id: p.fax_id,
      recipient_id: p.recipient_id,
      kind: p.kind,
      attempt: p.attempt,
      sequence: p.sequence,
      status: p.status,
      at: p.at,
      applied: p.applied,
      data_json: p.data_json,
      received_at: p.received_at,
    })
    .onConflict((oc) => oc.column('event_id').doNothing()),
);

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
  const row: NoticeTable = {
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
  await noticeUpsert.execute(db, row);
}

const noticeUpsert = compiledQuery((db: Kysely<TrackerDatabase>, p: NoticeTable) =>
  db
    .insertInto('notices')
    .values({
      result_id: p.result_id,
      channel: p.channel,
      fax_id: p.fax_id,
      recipient_id: p.recipient_id,
      owner_id: p.owner_id,
      outcome: p.outcome,
      reason: p.reason,
      address: p.address,
      locale: p.locale,
      provider_message_id: p.provider_message_id,
      sms_segments: p.sms_segments,
      sms_encoding: p.sms_encoding,
      provider_status: p.provider_status,
      provider_error_code: p.provider_error_code,
      smtp_code: p.smtp_code,
      attempts: p.attempts,
      at: p.at,
      received_at: p.received_at,
    })
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
    ),
);
