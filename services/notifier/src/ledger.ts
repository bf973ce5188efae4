import type { Kysely } from 'kysely';
import { Counter } from 'prom-client';
import { compiledQuery, isUniqueViolation } from '@faxnotify/kit';
import type { DeliveryReport, LostSend, SendReceipt } from './channels/types';
import { LedgerMarks } from './ledger-marks';
import { NewLedgerRows } from './ledger-new-rows';
import type { LedgerTable, NotifierDatabase } from './schema';

export type LedgerStatus = 'pending' | 'sending' | 'retrying' | 'sent' | 'failed' | 'skipped' | 'held';
export const FINAL_LEDGER_STATUSES: ReadonlySet<string> = new Set(['sent', 'failed', 'skipped']);

const duplicatesRisked = new Counter({
  name: 'faxnotify_notices_possible_duplicates_total',
  help: 'Notices sent again over an unfinished earlier send (a crash between the provider call and the ledger mark).',
  labelNames: ['channel'],
});

export interface LedgerEntry {
  resultId: string;
  channel: string;
  faxId: string;
  recipientId: string;
  ownerId: string;
  address: string | null;
  locale: string | null;
  /** The notice's own id, which the provider's delivery reports will name. */
  noticeId: string;
}

/** Provider reports after acceptance; a final one (delivered, undelivered, failed) is never replaced. */
const FINAL_DELIVERY_STATUSES = ['delivered', 'undelivered', 'failed'];

const rowByKey = compiledQuery((db: Kysely<NotifierDatabase>, p: { key: string }) => db.selectFrom('ledger').selectAll().where('idempotency_key', '=', p.key));

/** A claim of a notice already in the ledger: taken only if the row is still as it was read. */
const claimRow = compiledQuery(
  (
    db: Kysely<NotifierDatabase>,
    p: Pick<LedgerTable, 'sends' | 'possible_duplicates' | 'claimed_until' | 'claimed_by' | 'address' | 'locale' | 'notice_id' | 'updated_at'> & {
      key: string;
      status: string;
      readSends: number;
    },
  ) =>
    db
      .updateTable('ledger')
      .set({
        status: 'sending',
        sends: p.sends,
        possible_duplicates: p.possible_duplicates,
        claimed_until: p.claimed_until,
        claimed_by: p.claimed_by,
        address: p.address,
        locale: p.locale,
        notice_id: p.notice_id,
        updated_at: p.updated_at,
      })
      .where('idempotency_key', '=', p.key)
      .where('status', '=', p.status)
      .where('sends', '=', p.readSends),
);

export type Claim = { kind: 'done'; row: LedgerTable } | { kind: 'busy'; row: LedgerTable } | { kind: 'claimed'; row: LedgerTable; resumedUnfinished: boolean };

/**
 * The process a ledger claims for: its id, and how long its heartbeat stays good. A claim whose
 * process has missed its heartbeat for `leaseMs` (killed, frozen, cut off from the database) is
 * taken over at once instead of after the claim's own expiry.
 */
export interface LedgerWorker {
  id: string;
  leaseMs: number;
}

/**
 * The send ledger: one row per (result, channel) with a unique idempotency key, written and
 * committed before the provider is called and marked after. A notice is claimed for a while
 * before sending, so two workers holding the same result (a redelivery, a reconciliation
 * re-publish) never both send; a claim left by a crashed worker is free once that process's
 * heartbeat is stale (or, without a heartbeat, once the claim expires) and the notice goes out
 * again — the one window for a duplicate, counted.
 */
export class SendLedger {
  private readonly newRows: NewLedgerRows;
  private readonly marks: LedgerMarks;

  constructor(
    private readonly db: Kysely<NotifierDatabase>,
    private readonly claimMs: number,
    private readonly now: () => Date = () => new Date(),
    private readonly worker?: LedgerWorker,
  ) {
    this.newRows = new NewLedgerRows(db);
    this.marks = new LedgerMarks(db);
  }

  /** Records that this process is alive (call more often than `leaseMs`); old rows of processes gone long ago are removed. */
  async heartbeat(): Promise<void> {
    if (!this.worker) return;
    const now = this.now();
    const nowIso = now.toISOString();
    const updated = await this.db.updateTable('notifier_workers').set({ heartbeat_at: nowIso }).where('worker_id', '=', this.worker.id).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      try {
        await this.db.insertInto('notifier_workers').values({ worker_id: this.worker.id, started_at: nowIso, heartbeat_at: nowIso }).execute();
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
      }
    }
    await this.db
      .deleteFrom('notifier_workers')
      .where('heartbeat_at', '<', new Date(now.getTime() - 24 * 3600_000).toISOString())
      .execute();
  }

  /** On a clean stop: this process holds nothing any more (its claims are all marked by then). */
  async retire(): Promise<void> {
    if (this.worker) await this.db.deleteFrom('notifier_workers').where('worker_id', '=', this.worker.id).execute();
  }

  /** Whether the process holding a claim has stopped beating (or never did): its claim is free. */
  private async claimantGone(db: Kysely<NotifierDatabase>, claimedBy: string | null, now: Date): Promise<boolean> {
    if (!claimedBy || !this.worker || claimedBy === this.worker.id) return false;
    const claimant = await db.selectFrom('notifier_workers').select('heartbeat_at').where('worker_id', '=', claimedBy).executeTakeFirst();
    return !claimant || claimant.heartbeat_at < new Date(now.getTime() - this.worker.leaseMs).toISOString();
  }

  static key(resultId: string, channel: string): string {
    return `${resultId}:${channel}`;
  }

  async get(resultId: string, channel: string): Promise<LedgerTable | undefined> {
    return rowByKey.first(this.db, { key: SendLedger.key(resultId, channel) });
  }

  /**
   * Records a notice that will not be sent (the owner does not want it, or has no address): one
   * insert for a new notice; a notice already in the ledger keeps its row.
   */
  async skip(entry: LedgerEntry, reason: string): Promise<LedgerTable> {
    const inserted = await this.insertNew(entry, { status: 'skipped', error: reason });
    if (inserted) return inserted;
    const existing = await this.get(entry.resultId, entry.channel);
    if (!existing) throw new Error(`ledger row ${SendLedger.key(entry.resultId, entry.channel)} vanished while it was skipped`);
    // A held notice the owner no longer wants (the channel turned off meanwhile) is skipped when it falls due.
    if (existing.status !== 'held') return existing;
    return (await this.mark(entry.resultId, entry.channel, { status: 'skipped', error: reason.slice(0, 2000) })) ?? existing;
  }

  /**
   * Holds a notice until `notBefore` (the end of the owner's quiet hours) with what it is rendered
   * from, unless it is already final or being sent: true when it is held. Durable, so a restart
   * loses nothing; the notice is then sent by whichever notifier claims it first once it is due.
   */
  async hold(entry: LedgerEntry, notBefore: Date, heldJson: string): Promise<boolean> {
    const key = SendLedger.key(entry.resultId, entry.channel);
    await this.insertNew(entry, { status: 'pending' });
    const updated = await this.db
      .updateTable('ledger')
      .set({
        status: 'held',
        not_before: notBefore.toISOString(),
        held_json: heldJson,
        address: entry.address,
        locale: entry.locale,
        updated_at: this.now().toISOString(),
      })
      .where('idempotency_key', '=', key)
      .where('status', 'in', ['pending', 'held', 'retrying'])
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /**
   * Held notices due by now, oldest first: held ones whose quiet hours ended, and ones the
   * scheduler took that failed transiently or whose sender died (no bus message will bring them again).
   */
  async dueHeld(limit: number): Promise<LedgerTable[]> {
    return this.db
      .selectFrom('ledger')
      .selectAll()
      .where('status', 'in', ['held', 'retrying', 'sending'])
      .where('held_json', 'is not', null)
      .where('not_before', '<=', this.now().toISOString())
      .orderBy('not_before')
      .limit(limit)
      .execute();
  }

  /** A held notice tried when due that failed transiently: tried again by the scheduler no sooner than `notBefore`. */
  async postpone(resultId: string, channel: string, notBefore: Date): Promise<void> {
    await this.db.updateTable('ledger').set({ not_before: notBefore.toISOString() }).where('idempotency_key', '=', SendLedger.key(resultId, channel)).execute();
  }

  /**
   * Reserves the notice for sending, unless it is already final or another worker holds it. A new
   * notice is written claimed in one insert; one already in the ledger is claimed in a transaction
   * that looks at its state first.
   */
  async claim(entry: LedgerEntry): Promise<Claim> {
    const key = SendLedger.key(entry.resultId, entry.channel);
    const now = this.now();
    const nowIso = now.toISOString();
    const claimedUntil = new Date(now.getTime() + this.claimMs).toISOString();
    const inserted = await this.insertNew(entry, { status: 'sending', sends: 1, claimed_until: claimedUntil, claimed_by: this.worker?.id ?? null });
    if (inserted) return { kind: 'claimed', row: inserted, resumedUnfinished: false };
    return this.db.transaction().execute(async (tx) => {
      const row = await rowByKey.firstOrThrow(tx, { key });
      if (FINAL_LEDGER_STATUSES.has(row.status)) return { kind: 'done', row };
      const unfinished = row.status === 'sending';
      if (unfinished && row.claimed_until && row.claimed_until > nowIso && !(await this.claimantGone(tx, row.claimed_by, now))) return { kind: 'busy', row };
      const updated = await claimRow.affected(tx, {
        sends: row.sends + 1,
        possible_duplicates: row.possible_duplicates + (unfinished ? 1 : 0),
        claimed_until: claimedUntil,
        claimed_by: this.worker?.id ?? null,
        address: entry.address,
        locale: entry.locale,
        notice_id: entry.noticeId,
        updated_at: nowIso,
        key,
        status: row.status,
        readSends: row.sends,
      });
      if (updated !== 1) return { kind: 'busy', row };
      if (unfinished) duplicatesRisked.inc({ channel: entry.channel });
      return { kind: 'claimed', row: { ...row, status: 'sending', sends: row.sends + 1, claimed_by: this.worker?.id ?? null }, resumedUnfinished: unfinished };
    });
  }

  /** The marks return the row as they left it (undefined only for a notice not in the ledger). */
  async markSent(resultId: string, channel: string, receipt: SendReceipt): Promise<LedgerTable | undefined> {
    return this.mark(resultId, channel, {
      status: 'sent',
      provider_message_id: receipt.providerMessageId,
      segments: receipt.segments ?? null,
      encoding: receipt.encoding ?? null,
      smtp_code: receipt.smtpCode ?? null,
      error: null,
    });
  }

  /**
   * Records what a provider reported about a notice it accepted. A report may come before the
   * send is marked (a fast receipt), so the row is found by its notice id. Returns the row when
   * the report changed it; undefined for an unknown notice, a report about another provider
   * message (an earlier try), or one that would step back from a final report.
   */
  async recordDelivery(report: DeliveryReport): Promise<LedgerTable | undefined> {
    const now = this.now().toISOString();
    let update = this.db
      .updateTable('ledger')
      .set({ delivery_status: report.status, delivery_error_code: report.errorCode ?? null, delivery_updated_at: now, updated_at: now })
      .where('notice_id', '=', report.noticeId)
      .where('channel', '=', report.channel)
      .where((eb) =>
        report.status === 'sent'
          ? eb('delivery_status', 'is', null)
          : eb.or([eb('delivery_status', 'is', null), eb('delivery_status', 'not in', FINAL_DELIVERY_STATUSES)]),
      );
    if (report.providerMessageId) {
      const id = report.providerMessageId;
      update = update.where((eb) => eb.or([eb('provider_message_id', 'is', null), eb('provider_message_id', '=', id)]));
    }
    if (report.fromAddress) update = update.where('address', '=', report.fromAddress);
    return update.returningAll().executeTakeFirst();
  }

  /**
   * `smtpCode`: the SMTP server's reply behind this failure, null when the server did not reply;
   * left out when the failure is no new answer from the provider (retries exhausted), so the
   * last reply recorded stands.
   */
  async markFailed(resultId: string, channel: string, error: string, smtpCode?: number | null): Promise<LedgerTable | undefined> {
    return this.mark(resultId, channel, { status: 'failed', error: error.slice(0, 2000), ...(smtpCode !== undefined ? { smtp_code: smtpCode } : {}) });
  }

  /** A claimed notice that will not be sent after all (over a rate limit). */
  async markSkipped(resultId: string, channel: string, reason: string): Promise<LedgerTable | undefined> {
    return this.mark(resultId, channel, { status: 'skipped', error: reason.slice(0, 2000) });
  }

  /** A transient failure: the notice is free to be claimed again by the retry. `smtpCode` as for markFailed. */
  async markRetrying(resultId: string, channel: string, error: string, smtpCode?: number | null, lostSend?: LostSend): Promise<LedgerTable | undefined> {
    return this.mark(resultId, channel, {
      status: 'retrying',
      error: error.slice(0, 2000),
      ...(smtpCode !== undefined ? { smtp_code: smtpCode } : {}),
      // Kept for whichever worker tries next, so it looks at the provider before it sends again.
      ...(lostSend ? { lost_send_started_at: new Date(lostSend.startedAt).toISOString(), lost_answer_at: new Date(lostSend.lostAt).toISOString() } : {}),
    });
  }

  /** The lost send a ledger row remembers, if any. */
  static lostSendOf(row: Pick<LedgerTable, 'lost_send_started_at' | 'lost_answer_at'>): LostSend | undefined {
    return row.lost_send_started_at && row.lost_answer_at
      ? { startedAt: Date.parse(row.lost_send_started_at), lostAt: Date.parse(row.lost_answer_at) }
      : undefined;
  }

  private async mark(resultId: string, channel: string, values: Partial<LedgerTable>): Promise<LedgerTable | undefined> {
    return this.marks.mark(SendLedger.key(resultId, channel), { ...values, claimed_until: null, claimed_by: null, updated_at: this.now().toISOString() });
  }

  /**
   * Writes the notice's row as `state` says (status, and for a claim its first send) when the
   * ledger has none yet: the row written, or undefined when there was one already. Written
   * together with the other new rows of the moment (NewLedgerRows).
   */
  private insertNew(
    entry: LedgerEntry,
    state: { status: LedgerStatus; error?: string } & Partial<Pick<LedgerTable, 'sends' | 'claimed_until' | 'claimed_by'>>,
  ): Promise<LedgerTable | undefined> {
    const now = this.now().toISOString();
    return this.newRows.insert({
      idempotency_key: SendLedger.key(entry.resultId, entry.channel),
      result_id: entry.resultId,
      channel: entry.channel,
      fax_id: entry.faxId,
      recipient_id: entry.recipientId,
      owner_id: entry.ownerId,
      address: entry.address,
      locale: entry.locale,
      status: state.status,
      sends: state.sends ?? 0,
      possible_duplicates: 0,
      claimed_until: state.claimed_until ?? null,
      claimed_by: state.claimed_by ?? null,
      provider_message_id: null,
      error: state.error?.slice(0, 2000) ?? null,
      notice_id: entry.noticeId,
      segments: null,
      encoding: null,
      delivery_status: null,
      delivery_error_code: null,
      delivery_updated_at: null,
      smtp_code: null,
      lost_send_started_at: null,
      lost_answer_at: null,
      not_before: null,
      held_json: null,
      created_at: now,
      updated_at: now,
    });
  }

  /** Totals for reports and tests. */
  async totals(): Promise<{ rows: number; sends: number; possibleDuplicates: number }> {
    const row = await this.db
      .selectFrom('ledger')
      .select((eb) => [eb.fn.countAll<number>().as('rows'), eb.fn.sum<number>('sends').as('sends'), eb.fn.sum<number>('possible_duplicates').as('dups')])
      .executeTakeFirstOrThrow();
    return { rows: Number(row.rows), sends: Number(row.sends ?? 0), possibleDuplicates: Number(row.dups ?? 0) };
  }
}
