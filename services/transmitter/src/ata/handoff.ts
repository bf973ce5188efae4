/**
 * Recipients of our own faxes sent through an ATA line. The line's modem hands the pages to a fax
 * ATA (a FaxBack client), which queues them with the port server; the port server delivers them
 * and reports the delivery in its accounting records. So the recipient is not final when the
 * local call ends well: it waits, handed over, until a CDR of the line's account to the
 * recipient's number reports the result, or until the report is overdue.
 *
 * This is the ATA line's hand-over capability (lines/types.ts) and the port-server side's own
 * table, `ata_handoffs`: the hand-over row exists from the moment the line dials, so a record that
 * arrives before the local call is recorded still finds its recipient. The recipient's own state,
 * attempts and events are written by the recipient ledger, whoever reports them.
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { AtaHandoffRow, RecipientRow, TransmitterDatabase } from '../db/schema';
import type { HandoverSettlement, LineHandover } from '../lines/types';
import type { AttemptEnd, HandoverReport, RecipientLedger } from '../ledger/recipient-ledger';
import { TRANSMITTER_RESTART } from '../retry-policy';
import { calledNumberKey } from './numbers';
import { accountNameKey } from './store';

/** The recipient failed because the port server never reported the delivery. */
export const ATA_NO_REPORT = 'ATA_NO_REPORT';

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

/** The hand-over row of this call, as long as its call is still being made. */
const whileCalling = (handoff: AtaHandoffRow) => (eb: ExpressionBuilder<TransmitterDatabase, 'ata_handoffs'>) =>
  eb.and({ outbox_id: handoff.outbox_id, position: handoff.position, state: 'calling' });

/** The ATA took the fax: from now on only the port server's report (or its absence) ends the recipient. */
export async function markHandedOver(trx: Kysely<TransmitterDatabase>, handoff: AtaHandoffRow, now: Date, reportWithinMs: number): Promise<void> {
  await trx
    .updateTable('ata_handoffs')
    .set({
      state: 'handed',
      pages_total: handoff.pages_total,
      handed_at: now.toISOString(),
      expires_at: new Date(now.getTime() + reportWithinMs).toISOString(),
    })
    .where(whileCalling(handoff))
    .execute();
}

/** The local call failed before the port server heard of the fax: the row goes, the attempt fails as a modem call would. */
export async function dropHandoff(trx: Kysely<TransmitterDatabase>, handoff: AtaHandoffRow): Promise<void> {
  await trx.deleteFrom('ata_handoffs').where(whileCalling(handoff)).execute();
}

/** A call on an ATA line cut by a restart: the row stays claimable until the redial replaces it. */
export async function orphanHandoff(trx: Kysely<TransmitterDatabase>, handoff: AtaHandoffRow): Promise<void> {
  await trx.updateTable('ata_handoffs').set({ state: 'orphan' }).where(whileCalling(handoff)).execute();
}

/**
 * A port-server session reports the fax of an orphaned hand-over before its redial started: the
 * ATA had taken it after all. The recipient waits for the report instead of being dialled again.
 * False when the redial already started (the row is then gone or belongs to the new attempt).
 */
export async function reclaimOrphan(
  trx: Kysely<TransmitterDatabase>,
  ledger: RecipientLedger,
  handoff: AtaHandoffRow,
  now: Date,
  reportWithinMs: number,
): Promise<boolean> {
  if (!(await ledger.resumeHandedOver(trx, handoff, handoff.attempt, now))) return false;
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
    (await unclaimed
      .where('state', '=', 'final')
      .where('final_at', '>=', new Date(input.now.getTime() - LATE_REPORT_MS).toISOString())
      .executeTakeFirst());
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

/**
 * Ends a handed-over recipient with the port server's report (or the want of one), in the
 * caller's transaction: the ledger writes the recipient's end, this the hand-over's. False if the
 * recipient already ended or moved on to another attempt.
 */
export async function finishHandoff(
  trx: Kysely<TransmitterDatabase>,
  ledger: RecipientLedger,
  handoff: AtaHandoffRow,
  report: HandoverReport,
  now: Date,
): Promise<boolean> {
  if (!(await ledger.finishHandedOver(trx, handoff, handoff.fax_id, handoff.attempt, report, now))) return false;
  await trx
    .updateTable('ata_handoffs')
    .set({ state: 'final', final_at: now.toISOString() })
    .where('outbox_id', '=', handoff.outbox_id)
    .where('position', '=', handoff.position)
    .execute();
  return true;
}

/** Fails the handed-over recipients whose report is overdue; returns how many. */
export async function expireHandoffs(db: Kysely<TransmitterDatabase>, ledger: RecipientLedger, now: Date): Promise<number> {
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
        ledger,
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

/**
 * The hand-over capability of an ATA line: the port server under `account` delivers what the
 * line's ATA takes, and reports the delivery later in its accounting records.
 */
export class PortServerHandover implements LineHandover {
  readonly describe: string;

  constructor(private readonly options: { account: string; region: string; reportWithinMs: number }) {
    this.describe = `port-server account "${options.account}"`;
  }

  open(db: Kysely<TransmitterDatabase>, attempt: { recipient: RecipientRow; faxId: string; lineId: string; now: Date }): Promise<void> {
    return openHandoff(db, { ...attempt, account: this.options.account, region: this.options.region });
  }

  async settle(trx: Kysely<TransmitterDatabase>, ended: { recipient: RecipientRow; end: AttemptEnd; lineId: string; now: Date }): Promise<HandoverSettlement> {
    const { recipient, end, now } = ended;
    const handoff = await handoffOf(trx, recipient.outbox_id, recipient.position);
    if (!handoff || handoff.attempt !== recipient.attempt || handoff.state !== 'calling') return { handedOver: false };
    // The ATA took the fax (or the port server already reports it): the recipient waits for the report.
    if (end.status === 'success' || handoff.session_id) {
      await markHandedOver(trx, { ...handoff, pages_total: end.pagesTotal }, now, this.options.reportWithinMs);
      const ata = end.remoteCsid ? ` ("${end.remoteCsid}")` : '';
      return {
        handedOver: true,
        detail: `the ATA on line ${handoff.line_id}${ata} took ${end.pagesConfirmed} of ${end.pagesTotal} pages; the port server delivers them and reports the result`,
      };
    }
    // Cut by a restart, the ATA may or may not have taken the fax: the redial waits its delay,
    // and a port-server session that reports the fax meanwhile takes the recipient back.
    if (end.reason.code === TRANSMITTER_RESTART) await orphanHandoff(trx, handoff);
    else await dropHandoff(trx, handoff);
    return { handedOver: false };
  }
}
