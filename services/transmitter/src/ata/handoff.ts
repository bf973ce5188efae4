/**
 * Recipients of our own faxes sent through an ATA line. The line's modem hands the pages to a fax
 * ATA (a FaxBack client), which queues them with the port server; the port server delivers them
 * and reports the delivery in its accounting records. So the recipient is not final when the
 * local call ends well: it waits, handed over, until a CDR of the line's account to the
 * recipient's number reports the result, or until the report is overdue.
 *
 * The hand-over row exists from the moment the line dials, so a record that arrives before the
 * local call is recorded still finds its recipient. The recipient's events keep one sequence in
 * `recipients.sequence`, whoever writes them (the scheduler or the accounting path).
 */
import type { FinalStatus } from '@faxnotify/contracts';
import type { Kysely } from 'kysely';
import { appendEvent } from '../events';
import { markFaxDoneIfFinal } from '../jobs';
import type { RecipientRow, TransmitterDatabase } from '../db/schema';
import { calledNumberKey } from './numbers';
import type { AtaHandoffRow } from '../db/schema';
import { accountNameKey } from './store';

/** The recipient failed because the port server never reported the delivery. */
export const ATA_NO_REPORT = 'ATA_NO_REPORT';

const DETAIL_LIMIT = 4000;
/** How long after a recipient failed for want of a report a late one still finds it. */
const LATE_REPORT_MS = 7 * 24 * 3600_000;

/** Writes the hand-over row of an attempt about to be dialled on an ATA line (replacing an earlier attempt's). */
export async function openHandoff(
  db: Kysely<TransmitterDatabase>,
  input: { recipient: RecipientRow; faxId: string; account: string; lineId: string; region: string; now: Date },
): Promise<void> {
  const { recipient, now } = input;
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('ata_handoffs').where('outbox_id', '=', recipient.outbox_id).where('position', '=', recipient.position).execute();
    await trx
      .insertInto('ata_handoffs')
      .values({
        outbox_id: recipient.outbox_id,
        position: recipient.position,
        fax_id: input.faxId,
        recipient_id: recipient.recipient_id,
        account_key: accountNameKey(input.account),
        number_key: calledNumberKey(recipient.number, input.region) ?? recipient.number,
        line_id: input.lineId,
        attempt: recipient.attempt,
        pages_total: recipient.pages_total,
        state: 'calling',
        created_at: now.toISOString(),
        handed_at: null,
        expires_at: null,
        session_id: null,
        final_at: null,
      })
      .execute();
  });
}

export async function handoffOf(trx: Kysely<TransmitterDatabase>, outboxId: string, position: number): Promise<AtaHandoffRow | undefined> {
  return trx.selectFrom('ata_handoffs').selectAll().where('outbox_id', '=', outboxId).where('position', '=', position).executeTakeFirst();
}

/** The ATA took the fax: from now on only the port server's report (or its absence) ends the recipient. */
export async function markHandedOver(trx: Kysely<TransmitterDatabase>, handoff: AtaHandoffRow, now: Date, reportWithinMs: number): Promise<void> {
  await trx
    .updateTable('ata_handoffs')
    .set({ state: 'handed', pages_total: handoff.pages_total, handed_at: now.toISOString(), expires_at: new Date(now.getTime() + reportWithinMs).toISOString() })
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .where('state', '=', 'calling')
    .execute();
}

/** The local call failed before the port server heard of the fax: the row goes, the attempt fails as a modem call would. */
export async function dropHandoff(trx: Kysely<TransmitterDatabase>, handoff: AtaHandoffRow): Promise<void> {
  await trx.deleteFrom('ata_handoffs').where('outbox_id', '=', handoff.outbox_id).where('position', '=', handoff.position).where('state', '=', 'calling').execute();
}

/** A call on an ATA line cut by a restart: the row stays claimable until the redial replaces it. */
export async function orphanHandoff(trx: Kysely<TransmitterDatabase>, handoff: AtaHandoffRow): Promise<void> {
  await trx.updateTable('ata_handoffs').set({ state: 'orphan' }).where('outbox_id', '=', handoff.outbox_id).where('position', '=', handoff.position).where('state', '=', 'calling').execute();
}

/**
 * A port-server session reports the fax of an orphaned hand-over before its redial started: the
 * ATA had taken it after all. The recipient waits for the report instead of being dialled again.
 * False when the redial already started (the row is then gone or belongs to the new attempt).
 */
export async function reclaimOrphan(trx: Kysely<TransmitterDatabase>, handoff: AtaHandoffRow, now: Date, reportWithinMs: number): Promise<boolean> {
  const taken = await trx
    .updateTable('recipients')
    .set({ state: 'handed_over', status: 'queued', next_attempt_at: null, updated_at: now.toISOString() })
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .where('state', '=', 'queued')
    .where('attempt', '=', handoff.attempt)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) === 0) return false;
  await trx
    .updateTable('ata_handoffs')
    .set({ state: 'handed', handed_at: now.toISOString(), expires_at: new Date(now.getTime() + reportWithinMs).toISOString() })
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .execute();
  return true;
}

/** The oldest open hand-over of an account to a number, now claimed by `sessionId`; undefined if none. */
export async function claimHandoff(
  trx: Kysely<TransmitterDatabase>,
  input: { accountName: string; number: string; region: string; sessionId: string; now: Date },
): Promise<AtaHandoffRow | undefined> {
  const numberKey = calledNumberKey(input.number, input.region);
  if (!numberKey) return undefined;
  const unclaimed = trx
    .selectFrom('ata_handoffs')
    .selectAll()
    .where('account_key', '=', accountNameKey(input.accountName))
    .where('number_key', '=', numberKey)
    .where('session_id', 'is', null)
    .orderBy('created_at')
    .limit(1);
  // An open one; else one whose report was overdue, so a late report joins it (and changes nothing).
  const open =
    (await unclaimed.where('state', 'in', ['calling', 'handed', 'orphan']).executeTakeFirst()) ??
    (await unclaimed.where('state', '=', 'final').where('final_at', '>=', new Date(input.now.getTime() - LATE_REPORT_MS).toISOString()).executeTakeFirst());
  if (!open) return undefined;
  const claimed = await trx
    .updateTable('ata_handoffs')
    .set({ session_id: input.sessionId })
    .where('outbox_id', '=', open.outbox_id)
    .where('position', '=', open.position)
    .where('session_id', 'is', null)
    .executeTakeFirst();
  return Number(claimed.numUpdatedRows) > 0 ? { ...open, session_id: input.sessionId } : undefined;
}

/** Takes the recipient's next event sequence number (one sequence, whoever writes). */
export async function nextRecipientSequence(trx: Kysely<TransmitterDatabase>, handoff: Pick<AtaHandoffRow, 'outbox_id' | 'position'>): Promise<number> {
  const row = await trx
    .selectFrom('recipients')
    .select('sequence')
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('recipients')
    .set({ sequence: row.sequence + 1 })
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .execute();
  return row.sequence;
}

export interface HandoffResult {
  status: FinalStatus;
  reason: { code: string; detail: string };
  pagesSent: number;
  remoteCsid: string | null;
  remoteCsidRaw: string | null;
  startedAt: Date | null;
  endedAt: Date;
}

/**
 * Ends a handed-over recipient: its row, its attempt, its fax (done when every recipient is
 * final) and its fax.recipient.result, in the caller's transaction. Nothing if it already ended.
 */
export async function finishHandoff(trx: Kysely<TransmitterDatabase>, handoff: AtaHandoffRow, result: HandoffResult, now: Date): Promise<boolean> {
  const recipient = await trx
    .selectFrom('recipients')
    .selectAll()
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .executeTakeFirst();
  if (!recipient || recipient.state === 'final' || recipient.attempt !== handoff.attempt) return false;
  const detail = result.reason.detail.slice(0, DETAIL_LIMIT);
  const ended = result.endedAt.toISOString();
  await trx
    .updateTable('recipients')
    .set({
      state: 'final',
      status: result.status,
      next_attempt_at: null,
      sequence: recipient.sequence + 1,
      pages_confirmed: result.pagesSent,
      remote_csid: result.remoteCsid,
      remote_csid_raw: result.remoteCsidRaw,
      reason_code: result.reason.code,
      reason_detail: detail,
      ended_at: ended,
      updated_at: now.toISOString(),
    })
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .execute();
  await trx
    .updateTable('attempts')
    .set({
      status: result.status,
      reason_code: result.reason.code,
      reason_detail: detail,
      pages_confirmed: result.pagesSent,
      remote_csid: result.remoteCsid,
      remote_csid_raw: result.remoteCsidRaw,
      ended_at: ended,
    })
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .where('attempt', '=', handoff.attempt)
    .execute();
  await trx
    .updateTable('ata_handoffs')
    .set({ state: 'final', final_at: now.toISOString() })
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .execute();
  await appendEvent(
    trx,
    'fax.recipient.result',
    {
      faxId: handoff.fax_id,
      recipientId: handoff.recipient_id,
      number: recipient.number,
      attempt: handoff.attempt,
      sequence: recipient.sequence,
      status: result.status,
      reason: { code: result.reason.code, detail },
      pagesSent: result.pagesSent,
      pagesTotal: handoff.pages_total,
      remoteCsid: result.remoteCsid,
      remoteCsidRaw: result.remoteCsidRaw,
      startedAt: result.startedAt?.toISOString() ?? null,
      endedAt: ended,
      attempts: handoff.attempt,
    },
    { faxId: handoff.fax_id, recipientId: handoff.recipient_id, time: result.endedAt, id: `${handoff.fax_id}:${handoff.recipient_id}:${handoff.attempt}:${recipient.sequence}` },
  );
  await markFaxDoneIfFinal(trx, handoff.outbox_id, now);
  return true;
}

/** Fails the handed-over recipients whose report is overdue; returns how many. */
export async function expireHandoffs(db: Kysely<TransmitterDatabase>, now: Date): Promise<number> {
  const overdue = await db
    .selectFrom('ata_handoffs')
    .selectAll()
    .where('state', '=', 'handed')
    .where('expires_at', '<=', now.toISOString())
    .orderBy('expires_at')
    .limit(100)
    .execute();
  let ended = 0;
  for (const handoff of overdue) {
    const done = await db.transaction().execute(async (trx) => {
      const current = await handoffOf(trx, handoff.outbox_id, handoff.position);
      if (!current || current.state !== 'handed') return false;
      const progressed = await trx
        .selectFrom('ata_faxes')
        .select('pages_sent')
        .where('fax_id', '=', handoff.fax_id)
        .where('recipient_id', '=', handoff.recipient_id)
        .executeTakeFirst();
      const pages = progressed?.pages_sent ?? 0;
      const finished = await finishHandoff(
        trx,
        current,
        {
          status: pages > 0 ? 'partially_sent' : 'failed_to_send',
          reason: {
            code: ATA_NO_REPORT,
            detail:
              `the ATA on line ${current.line_id} took the fax at ${current.handed_at ?? '?'}, but the port server ` +
              (current.session_id ? `never sent the final record of session ${current.session_id}` : 'never reported a session for it') +
              ` by ${current.expires_at ?? '?'}${pages > 0 ? `; ${pages} pages were reported sent` : ''}`,
          },
          pagesSent: pages,
          remoteCsid: null,
          remoteCsidRaw: null,
          startedAt: current.handed_at ? new Date(current.handed_at) : null,
          endedAt: now,
        },
        now,
      );
      if (finished)
        await trx
          .updateTable('ata_faxes')
          .set({ final_at: now.toISOString(), updated_at: now.toISOString() })
          .where('fax_id', '=', handoff.fax_id)
          .where('recipient_id', '=', handoff.recipient_id)
          .execute();
      return finished;
    });
    if (done) ended++;
  }
  return ended;
}
