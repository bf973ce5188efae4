/**
 * The recipient ledger: the one writer of a recipient's state (`recipients`), of its attempts
 * (`attempts`) and of the events that report them (fax.recipient.progress and .result in the
 * event outbox), always in the caller's transaction, so a state and the event that reports it
 * commit together. The scheduler, the recovery after a restart and the port-server path of fax
 * ATAs all start, report and end recipients here; nothing else writes those tables.
 *
 * Every recipient event carries (attempt, sequence): `recipients.sequence` is the next sequence
 * number of the current attempt, whoever writes, and the event's id is made of the four (fax,
 * recipient, attempt, sequence), so one step is one event whichever path reports it.
 */
import type { FinalStatus, ProgressStatus } from '@faxnotify/contracts';
import type { Kysely } from 'kysely';
import type { FaxRow, RecipientRow, RecipientState, TransmitterDatabase } from '../db/schema';
import { appendEvent } from '../events';
import { decideRetry, type RetryDelays } from '../retry-policy';
import { attemptRow, callFacts, csidOf, detailOf, withAttempts } from './rows';
import {
  DOCUMENT_PREPARATION,
  HANDED_OVER,
  type AttemptEnd,
  type CallProgress,
  type Final,
  type HandoverReport,
  type RecipientKey,
  type ReportedProgress,
} from './types';

export * from './types';

type Db = Kysely<TransmitterDatabase>;

const eventId = (faxId: string, recipientId: string, attempt: number, sequence: number): string => `${faxId}:${recipientId}:${attempt}:${sequence}`;

export class RecipientLedger {
  constructor(private readonly retryDelays: RetryDelays) {}

  /** The recipient, when it is in `state` (and its current attempt is `attempt`, if given). */
  async current(trx: Db, key: RecipientKey, expected: { state?: RecipientState; attempt?: number } = {}): Promise<RecipientRow | undefined> {
    const row = await trx.selectFrom('recipients').selectAll().where('outbox_id', '=', key.outbox_id).where('position', '=', key.position).executeTakeFirst();
    if (!row) return undefined;
    if (expected.state !== undefined && row.state !== expected.state) return undefined;
    if (expected.attempt !== undefined && row.attempt !== expected.attempt) return undefined;
    return row;
  }

  /** The recipients of an outbox entry not sent yet, as its owner lists them (none: the entry goes). */
  async replaceRecipients(trx: Db, outboxId: string, numbers: readonly string[], now: Date): Promise<void> {
    await trx.deleteFrom('recipients').where('outbox_id', '=', outboxId).where('state', '=', 'waiting').execute();
    if (numbers.length === 0) return;
    await trx
      .insertInto('recipients')
      .values(
        numbers.map((number, position) => ({
          outbox_id: outboxId,
          position,
          recipient_id: `r${position + 1}`,
          number,
          state: 'waiting' as const,
          status: 'queued',
          next_attempt_at: null,
          attempt: 0,
          sequence: 0,
          line_id: null,
          call_started_at: null,
          connected_at: null,
          remote_csid: null,
          remote_csid_raw: null,
          pages_confirmed: 0,
          pages_total: 0,
          reason_code: null,
          reason_detail: null,
          ended_at: null,
          updated_at: now.toISOString(),
        })),
      )
      .execute();
  }

  /** The recipients of a fax just released wait for a line from now on. */
  async queueAll(trx: Db, outboxId: string, pages: number, now: Date): Promise<void> {
    await trx
      .updateTable('recipients')
      .set({ state: 'queued', status: 'queued', next_attempt_at: now.toISOString(), pages_total: pages, updated_at: now.toISOString() })
      .where('outbox_id', '=', outboxId)
      .execute();
  }

  /** Takes a queued recipient for its next attempt on `lineId`; undefined when it is no longer queued (changed, cancelled, taken). */
  async startAttempt(db: Db, recipient: RecipientRow, lineId: string, now: Date): Promise<RecipientRow | undefined> {
    const at = now.toISOString();
    const started = {
      state: 'in_call' as const,
      // What the API shows from now on; the dialing event follows when the line starts to dial.
      status: 'dialing',
      attempt: recipient.attempt + 1,
      sequence: 0,
      line_id: lineId,
      call_started_at: at,
      connected_at: null,
      remote_csid: null,
      remote_csid_raw: null,
      pages_confirmed: 0,
      updated_at: at,
    };
    const claimed = await db
      .updateTable('recipients')
      .set(started)
      .where('outbox_id', '=', recipient.outbox_id)
      .where('position', '=', recipient.position)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    return Number(claimed.numUpdatedRows) === 0 ? undefined : { ...recipient, ...started };
  }

  /** A step of the call under way; false when that attempt is no longer the recipient's current one. */
  async progress(trx: Db, faxId: string, call: RecipientRow, status: ProgressStatus, extra: CallProgress, now: Date): Promise<boolean> {
    const current = await this.current(trx, call, { state: 'in_call', attempt: call.attempt });
    if (!current) return false;
    const csid = csidOf(extra.csid ?? null);
    await this.update(trx, current, {
      status,
      sequence: current.sequence + 1,
      updated_at: now.toISOString(),
      ...(status === 'connected' ? { connected_at: now.toISOString(), remote_csid: csid, remote_csid_raw: csidOf(extra.csidRaw ?? null) } : {}),
      ...(extra.page ? { pages_confirmed: extra.page.n, pages_total: extra.page.of } : {}),
    });
    await this.progressEvent(trx, faxId, current, { status, ...(csid !== null ? { remoteCsid: csid } : {}), ...(extra.page ? { page: extra.page } : {}) }, now);
    return true;
  }

  /**
   * Ends an attempt whose call ended: its row, then either a redial (retry_scheduled, with when and
   * why) when the fax's retry policy allows one, or the recipient's final result naming every
   * attempt. Returns what became of the recipient, and whether its fax is now done.
   */
  async endAttempt(trx: Db, fax: FaxRow, current: RecipientRow, end: AttemptEnd, now: Date): Promise<{ final: boolean; faxDone: boolean }> {
    const detail = detailOf(end.reason.detail);
    const row = attemptRow(current, end, { status: end.status, reason_code: end.reason.code, reason_detail: detail, pages_confirmed: end.pagesConfirmed });
    const decision = decideRetry(
      { status: end.status, reasonCode: end.reason.code, endedAt: end.endedAt },
      current.attempt,
      { count: fax.retry_count, delayMinutes: fax.retry_delay_minutes },
      this.retryDelays,
    );
    if (decision.retry) {
      await trx.insertInto('attempts').values(row).execute();
      await this.update(trx, current, {
        ...callFacts(end, detail, now),
        sequence: current.sequence + 1,
        state: 'queued',
        status: 'retry_scheduled',
        next_attempt_at: decision.at.toISOString(),
      });
      const retry = { at: decision.at.toISOString(), reason: { code: end.reason.code, detail } };
      await this.progressEvent(trx, fax.fax_id!, current, { status: 'retry_scheduled', retry }, now);
      return { final: false, faxDone: false };
    }
    const history = await trx
      .selectFrom('attempts')
      .selectAll()
      .where('outbox_id', '=', current.outbox_id)
      .where('position', '=', current.position)
      .orderBy('attempt')
      .execute();
    const finalDetail = withAttempts(detail, [...history, row], 1 + fax.retry_count, decision.why);
    const faxDone = await this.finalize(
      trx,
      fax.fax_id!,
      current,
      {
        status: end.status,
        code: end.reason.code,
        detail: finalDetail,
        pagesSent: end.pagesConfirmed,
        pagesTotal: end.pagesTotal,
        remoteCsid: csidOf(end.remoteCsid),
        remoteCsidRaw: csidOf(end.remoteCsidRaw),
        startedAt: end.connectedAt,
        endedAt: end.endedAt,
        connectedAt: end.connectedAt,
        attemptRow: row,
      },
      now,
      now,
    );
    return { final: true, faxDone };
  }

  /** The line's far side took the fax and reports its delivery later: the attempt and the recipient wait, handed over. */
  async handOver(trx: Db, faxId: string, current: RecipientRow, end: AttemptEnd, detail: string, now: Date): Promise<void> {
    const row = attemptRow(current, end, { status: 'queued', reason_code: HANDED_OVER, reason_detail: detailOf(detail), pages_confirmed: 0 });
    await trx
      .insertInto('attempts')
      .values({ ...row, remote_csid: null, remote_csid_raw: null })
      .execute();
    await this.update(trx, current, {
      state: 'handed_over',
      status: 'queued',
      pages_total: end.pagesTotal,
      sequence: current.sequence + 1,
      next_attempt_at: null,
      updated_at: now.toISOString(),
    });
    await this.progressEvent(trx, faxId, current, { status: 'queued' }, now);
  }

  /** A recipient whose redial waits (its call was cut by a restart) turns out handed over after all; false when the redial already started. */
  async resumeHandedOver(trx: Db, key: RecipientKey, attempt: number, now: Date): Promise<boolean> {
    const taken = await trx
      .updateTable('recipients')
      .set({ state: 'handed_over', status: 'queued', next_attempt_at: null, updated_at: now.toISOString() })
      .where('outbox_id', '=', key.outbox_id)
      .where('position', '=', key.position)
      .where('state', '=', 'queued')
      .where('attempt', '=', attempt)
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) > 0;
  }

  /** A step the far side reports for a recipient handed to it: the next event of the recipient's attempt, and what the API shows. */
  async reportProgress(trx: Db, key: RecipientKey, faxId: string, attempt: number, step: ReportedProgress, at: Date): Promise<void> {
    const current = await this.current(trx, key);
    if (!current) return;
    await this.update(trx, current, {
      sequence: current.sequence + 1,
      ...(current.state === 'final'
        ? {}
        : {
            status: step.status,
            updated_at: new Date().toISOString(),
            ...(step.page ? { pages_confirmed: step.page.n } : {}),
            ...(step.remoteCsid ? { remote_csid: step.remoteCsid } : {}),
          }),
    });
    await this.progressEvent(trx, faxId, { ...current, attempt }, step, at);
  }

  /** Ends a recipient handed to a line's far side with its report (or the want of one); false when it already ended or moved on. */
  async finishHandedOver(trx: Db, key: RecipientKey, faxId: string, attempt: number, report: HandoverReport, now: Date): Promise<boolean> {
    const current = await this.current(trx, key, { attempt });
    if (!current || current.state === 'final') return false;
    const detail = detailOf(report.reason.detail);
    const ended = { status: report.status, reason_code: report.reason.code, reason_detail: detail, pages_confirmed: report.pagesSent };
    await this.finalize(
      trx,
      faxId,
      current,
      {
        status: report.status,
        code: report.reason.code,
        detail,
        pagesSent: report.pagesSent,
        pagesTotal: current.pages_total,
        remoteCsid: csidOf(report.remoteCsid),
        remoteCsidRaw: csidOf(report.remoteCsidRaw),
        startedAt: report.startedAt,
        endedAt: report.endedAt,
        attemptRow: {
          outbox_id: current.outbox_id,
          position: current.position,
          attempt,
          line_id: current.line_id,
          pages_total: current.pages_total,
          started_at: current.call_started_at,
          connected_at: current.connected_at,
          ended_at: report.endedAt.toISOString(),
          signalling_rate: null,
          remote_csid: csidOf(report.remoteCsid),
          remote_csid_raw: csidOf(report.remoteCsidRaw),
          ...ended,
        },
      },
      report.endedAt,
      now,
    );
    return true;
  }

  /** Ends a recipient that will never be dialled for this fax (its documents failed): one attempt, no call. */
  async endWithoutCall(trx: Db, faxId: string, recipient: RecipientRow, failure: { status: FinalStatus; detail: string }, now: Date): Promise<boolean> {
    const attempt = recipient.attempt + 1;
    const detail = detailOf(failure.detail);
    const ended = now.toISOString();
    return this.finalize(
      trx,
      faxId,
      { ...recipient, attempt, sequence: 0 },
      {
        status: failure.status,
        code: DOCUMENT_PREPARATION,
        detail,
        pagesSent: 0,
        pagesTotal: recipient.pages_total,
        remoteCsid: null,
        remoteCsidRaw: null,
        startedAt: null,
        endedAt: now,
        attemptRow: {
          outbox_id: recipient.outbox_id,
          position: recipient.position,
          attempt,
          line_id: null,
          status: failure.status,
          reason_code: DOCUMENT_PREPARATION,
          reason_detail: detail,
          pages_confirmed: 0,
          pages_total: 0,
          remote_csid: null,
          remote_csid_raw: null,
          started_at: null,
          connected_at: null,
          ended_at: ended,
          signalling_rate: null,
        },
      },
      now,
      now,
    );
  }

  /**
   * The one place a recipient ends: its final row, its attempt's row (written, or its ending
   * filled in when the attempt already has one), its fax.recipient.result, and its fax done when
   * every recipient is final (returned).
   */
  private async finalize(trx: Db, faxId: string, current: RecipientRow, final: Final, eventTime: Date, now: Date): Promise<boolean> {
    const attempt = final.attemptRow;
    const updated = await trx
      .updateTable('attempts')
      .set({
        status: attempt.status,
        reason_code: attempt.reason_code,
        reason_detail: attempt.reason_detail,
        pages_confirmed: attempt.pages_confirmed,
        remote_csid: attempt.remote_csid,
        remote_csid_raw: attempt.remote_csid_raw,
        ended_at: attempt.ended_at,
      })
      .where('outbox_id', '=', attempt.outbox_id)
      .where('position', '=', attempt.position)
      .where('attempt', '=', attempt.attempt)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) await trx.insertInto('attempts').values(attempt).execute();
    await this.update(trx, current, {
      state: 'final',
      status: final.status,
      attempt: current.attempt,
      sequence: current.sequence + 1,
      next_attempt_at: null,
      pages_confirmed: final.pagesSent,
      pages_total: final.pagesTotal,
      remote_csid: final.remoteCsid,
      remote_csid_raw: final.remoteCsidRaw,
      reason_code: final.code,
      reason_detail: final.detail,
      ended_at: final.endedAt.toISOString(),
      updated_at: now.toISOString(),
      ...(final.connectedAt !== undefined ? { connected_at: final.connectedAt?.toISOString() ?? null } : {}),
    });
    await appendEvent(
      trx,
      'fax.recipient.result',
      {
        faxId,
        recipientId: current.recipient_id,
        number: current.number,
        attempt: current.attempt,
        sequence: current.sequence,
        status: final.status,
        reason: { code: final.code, detail: final.detail },
        pagesSent: final.pagesSent,
        pagesTotal: final.pagesTotal,
        remoteCsid: final.remoteCsid,
        remoteCsidRaw: final.remoteCsidRaw,
        startedAt: final.startedAt?.toISOString() ?? null,
        endedAt: final.endedAt.toISOString(),
        attempts: current.attempt,
      },
      { id: eventId(faxId, current.recipient_id, current.attempt, current.sequence), faxId, recipientId: current.recipient_id, time: eventTime },
    );
    return this.faxDoneIfFinal(trx, current.outbox_id, now);
  }

  /** Marks an outbox entry's fax done once every recipient is final; true when it did. */
  async faxDoneIfFinal(trx: Db, outboxId: string, now: Date): Promise<boolean> {
    const open = await trx.selectFrom('recipients').select('position').where('outbox_id', '=', outboxId).where('state', '<>', 'final').limit(1).execute();
    if (open.length > 0) return false;
    await trx.updateTable('faxes').set({ state: 'done', updated_at: now.toISOString() }).where('outbox_id', '=', outboxId).execute();
    return true;
  }

  private async progressEvent(trx: Db, faxId: string, current: RecipientRow, step: ReportedProgress, at: Date): Promise<void> {
    const { recipient_id: recipientId, attempt, sequence } = current;
    await appendEvent(
      trx,
      'fax.recipient.progress',
      { faxId, recipientId, number: current.number, attempt, sequence, at: at.toISOString(), ...step },
      { id: eventId(faxId, recipientId, attempt, sequence), faxId, recipientId, time: at },
    );
  }

  private async update(trx: Db, key: RecipientKey, values: Partial<Omit<RecipientRow, 'outbox_id' | 'position'>>): Promise<void> {
    await trx.updateTable('recipients').set(values).where('outbox_id', '=', key.outbox_id).where('position', '=', key.position).execute();
  }
}
