/**
 * The scheduler and line pool. Outbox entries become faxes when their send time comes (documents
 * prepared once per fax, page count known before anyone dials, fax.submitted written); each
 * recipient is then a job dialled on any free line when its time comes, one call per line, and
 * redialled by cause as its fax's retry policy allows. Every state change and the event that
 * reports it are committed together; the relay publishes the events.
 *
 * A restart loses nothing: entries caught mid-preparation wait again, and a call cut by the
 * restart counts as a failed attempt (TRANSMITTER_RESTART) and is redialled if the policy allows.
 */
import { randomUUID } from 'node:crypto';
import { MAX_CSID_LENGTH, type FinalStatus, type ProgressStatus } from '@faxnotify/contracts';
import { CoalescedPasses, errorMessage, type Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { Counter, Gauge } from 'prom-client';
import { LineReason, type FaxDocument, type FaxPage, type LineResult } from '@faxnotify/fax-line';
import { prepareDocument, type PreparationFailureStatus } from './documents';
import { dropHandoff, expireHandoffs, handoffOf, markHandedOver, openHandoff, orphanHandoff } from './ata/handoff';
import { calledNumberKey } from './ata/numbers';
import { recordCalledNumber } from './ata/store';
import { appendEvent } from './events';
import { markFaxDoneIfFinal } from './jobs';
import { statusFor, type TransmitterLine } from './lines';
import { dialStringFor, type DialPlan } from './numbers';
import { decideRetry, TRANSMITTER_RESTART, type RetryDelays } from './retry-policy';
import type { AtaHandoffRow } from './db/schema';
import type { AttemptRow, FaxRow, RecipientRow, TransmitterDatabase } from './db/schema';

const metrics = {
  calls: new Counter({ name: 'faxnotify_transmitter_calls_total', help: 'Calls placed, by line and how they ended.', labelNames: ['line', 'status'] }),
  pages: new Counter({ name: 'faxnotify_transmitter_pages_confirmed_total', help: 'Pages the receivers confirmed, by line.', labelNames: ['line'] }),
  resting: new Gauge({ name: 'faxnotify_transmitter_line_resting', help: '1 while a line rests after failing on our side several calls in a row.', labelNames: ['line'] }),
};

/** What a document preparation gave: the pages with their count per file, or the failure. */
type Prepared =
  | { ok: true; document: FaxDocument; pagesPerFile: number[] }
  | { ok: false; status: PreparationFailureStatus; detail: string };

/** Reason code of a recipient that ended because its fax's documents could not be prepared. */
export const DOCUMENT_PREPARATION = 'DOCUMENT_PREPARATION';
/** Reason code of an attempt whose line failed with an exception rather than a result. */
export const LINE_FAILURE = 'LINE_FAILURE';

const DETAIL_LIMIT = 2000;

export interface SchedulerOptions {
  db: Kysely<TransmitterDatabase>;
  lines: readonly TransmitterLine[];
  /** Where the files of `fax_files` are kept on disk, by file id. */
  storedPath: (fileId: string) => Promise<string | null>;
  localId: string;
  dialPlan: DialPlan;
  retryDelays: RetryDelays;
  pollMs: number;
  stopGraceMs: number;
  logger: Logger;
  /** Called after each commit that wrote events. */
  eventsWritten: () => void;
  /** A line that fails on our side `faults` calls in a row rests `ms` before it dials again. */
  lineRest?: { faults: number; ms: number };
  /** How long a recipient an ATA line handed over waits for the port server's report before it fails. */
  ataReportWithinMs?: number;
  now?: () => Date;
}

/** Reasons that are the line's own fault, not the called number's. */
const LINE_FAULTS = new Set<string>([LineReason.MODEM_ERROR, LineReason.NO_DIALTONE, LineReason.FLOW_CONTROL_TIMEOUT, LINE_FAILURE]);
const DEFAULT_LINE_REST = { faults: 3, ms: 5 * 60_000 };

/** How often handed-over recipients are checked for an overdue report. */
const HANDOFF_EXPIRY_CHECK_MS = 10_000;
const DEFAULT_ATA_REPORT_WITHIN_MS = 24 * 3600_000;

interface Call {
  outboxId: string;
  position: number;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * How a call ended as the scheduler records it: the line's result and the status it means, or a
 * call that ended without a line result (the line failed, a restart cut it) with its own reason.
 */
type CallOutcome = Omit<LineResult, 'reason'> & { status: FinalStatus; reason: { code: string; detail: string } };

/** The attempts row of a call that ended with `result`, as `recorded` says it ended. */
const attemptRow = (
  recipient: RecipientRow,
  result: CallOutcome,
  recorded: Pick<AttemptRow, 'status' | 'reason_code' | 'reason_detail' | 'pages_confirmed' | 'remote_csid' | 'remote_csid_raw'>,
): AttemptRow => ({
  outbox_id: recipient.outbox_id,
  position: recipient.position,
  attempt: recipient.attempt,
  line_id: recipient.line_id,
  pages_total: result.pagesTotal,
  started_at: result.startedAt.toISOString(),
  connected_at: result.connectedAt?.toISOString() ?? null,
  ended_at: result.endedAt.toISOString(),
  signalling_rate: result.signallingRate,
  ...recorded,
});

const truncate = (text: string | null, max: number): string | null => (text === null ? null : text.length > max ? text.slice(0, max) : text);

export class Scheduler {
  private readonly db: Kysely<TransmitterDatabase>;
  private readonly now: () => Date;
  private readonly free: TransmitterLine[];
  /** Consecutive calls of a line that failed on our side (the modem, the port, no dial tone). */
  private readonly lineFaults = new Map<string, number>();
  /** Lines resting after repeated faults, until this time (ms). */
  private readonly restingUntil = new Map<string, number>();
  private readonly calls = new Map<string, Call>();
  /** Prepared documents by outbox id: made once per fax, kept while any recipient may still be dialled. */
  private readonly documents = new Map<string, { promise: Promise<Prepared>; value?: Prepared }>();
  private readonly releaser: CoalescedPasses;
  private readonly dispatcher: CoalescedPasses;
  /** Polls on its own: a handoff runs out with time, not with anything a kick reports. */
  private readonly expirer: CoalescedPasses;
  private stopped = true;
  /** Set when stopping cut calls: their ends are left for the next start to record. */
  private abandoning = false;

  constructor(private readonly options: SchedulerOptions) {
    this.db = options.db;
    this.now = options.now ?? (() => new Date());
    this.free = [...options.lines];
    const logError = (what: string) => (error: unknown) => options.logger.error({ err: errorMessage(error) }, `${what} failed; trying again on the next poll`);
    const { pollMs } = options;
    this.releaser = new CoalescedPasses({ pass: () => this.releaseDue(), onError: logError('releasing due outbox entries'), pollMs });
    this.dispatcher = new CoalescedPasses({ pass: () => this.dispatchDue(), onError: logError('dispatching due recipients'), pollMs });
    this.expirer = new CoalescedPasses({ pass: () => this.expireOverdueHandoffs(), onError: logError('ending handed-over recipients without a report'), pollMs: HANDOFF_EXPIRY_CHECK_MS });
  }

  /** Recovers what a previous run left in flight, then starts polling. */
  async start(): Promise<void> {
    await this.recover();
    this.stopped = false;
    this.releaser.start();
    this.dispatcher.start();
    if (this.options.lines.some((line) => line.handover !== undefined)) this.expirer.start();
  }

  kick(): void {
    if (this.stopped) return;
    this.releaser.kick();
    this.dispatcher.kick();
  }

  private async expireOverdueHandoffs(): Promise<void> {
    const ended = await expireHandoffs(this.db, this.now());
    if (ended > 0) {
      this.options.logger.warn({ recipients: ended }, 'handed-over recipients failed: the port server did not report them in time');
      this.options.eventsWritten();
    }
  }

  /** Free lines that are not resting. */
  private readyLines(): number {
    const now = Date.now();
    return this.free.filter((line) => (this.restingUntil.get(line.id) ?? 0) <= now).length;
  }

  /** Takes a free line that is not resting (the caller checked there is one). */
  private takeReadyLine(): TransmitterLine {
    const now = Date.now();
    for (let i = this.free.length - 1; i >= 0; i--) {
      const line = this.free[i]!;
      const until = this.restingUntil.get(line.id);
      if (until === undefined || until <= now) {
        this.free.splice(i, 1);
        // A rest that has run out ends when the line is taken again.
        if (until !== undefined) {
          this.restingUntil.delete(line.id);
          metrics.resting.set({ line: line.id }, 0);
        }
        return line;
      }
    }
    throw new Error('no ready line');
  }

  /**
   * A line whose calls keep failing on our side (the modem does not answer commands, its port
   * fails, there is no dial tone) rests for a while instead of burning every recipient's attempts;
   * any call that reached the network (even busy) shows the line works and clears the count.
   */
  private noteLineHealth(line: TransmitterLine, result: CallOutcome): void {
    const fault = LINE_FAULTS.has(result.reason.code);
    if (!fault) {
      this.lineFaults.delete(line.id);
      return;
    }
    const faults = (this.lineFaults.get(line.id) ?? 0) + 1;
    this.lineFaults.set(line.id, faults);
    const limit = this.options.lineRest?.faults ?? DEFAULT_LINE_REST.faults;
    if (faults < limit) return;
    const restMs = this.options.lineRest?.ms ?? DEFAULT_LINE_REST.ms;
    this.lineFaults.set(line.id, 0);
    this.restingUntil.set(line.id, Date.now() + restMs);
    metrics.resting.set({ line: line.id }, 1);
    this.options.logger.error(
      { line: line.id, faults, restSeconds: Math.round(restMs / 1000), reason: result.reason.code, detail: result.reason.detail.slice(0, 300) },
      'fax line failed on our side several times in a row: resting it (check the modem and its cable)',
    );
  }

  /** Lines resting now, for readiness and operators. */
  get restingLines(): string[] {
    const now = Date.now();
    return [...this.restingUntil].filter(([, until]) => until > now).map(([id]) => id);
  }

  /** Lines in use now, for readiness and tests. */
  get activeCalls(): number {
    return this.calls.size;
  }

  /**
   * Stops taking work; calls in progress get `stopGraceMs` to end (and are recorded), then the
   * rest are cut and left in flight for the next start to record as cut by the restart.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([this.releaser.stop(), this.dispatcher.stop(), this.expirer.stop()]);
    const running = () => Promise.allSettled([...this.calls.values()].map((call) => call.done));
    if (this.calls.size > 0 && this.options.stopGraceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running(), new Promise((resolve) => (timer = setTimeout(resolve, this.options.stopGraceMs)))]);
      clearTimeout(timer);
    }
    if (this.calls.size > 0) {
      this.abandoning = true;
      this.options.logger.warn({ calls: this.calls.size }, 'stopping with calls in progress: cutting them; they are redialled after the next start');
      for (const call of this.calls.values()) call.controller.abort(new Error('transmitter stopping'));
      await running();
    }
    await Promise.allSettled(this.options.lines.map((line) => line.close()));
  }

  // ---- recovery ----

  private async recover(): Promise<void> {
    const now = this.now();
    const reverted = await this.db.updateTable('faxes').set({ state: 'waiting', updated_at: now.toISOString() }).where('state', '=', 'preparing').executeTakeFirst();
    if (Number(reverted.numUpdatedRows) > 0) this.options.logger.warn({ entries: Number(reverted.numUpdatedRows) }, 'outbox entries caught mid-preparation wait again');
    const cut = await this.db.selectFrom('recipients').selectAll().where('state', '=', 'in_call').execute();
    for (const recipient of cut) {
      const fax = await this.faxOf(recipient.outbox_id);
      if (!fax) continue;
      const connected = recipient.connected_at !== null;
      const detail =
        `the transmitter restarted during attempt ${recipient.attempt} on line ${recipient.line_id ?? '?'}` +
        (connected ? `, connected to ${recipient.remote_csid ?? 'a fax machine without an id'} with ${recipient.pages_confirmed} of ${recipient.pages_total} pages confirmed` : ', before the call connected') +
        '; the call was cut';
      this.options.logger.warn({ faxId: fax.fax_id, recipientId: recipient.recipient_id, attempt: recipient.attempt }, 'a call was cut by a restart');
      await this.recordOutcome(fax, recipient, {
        status: 'failed_to_send',
        pagesConfirmed: recipient.pages_confirmed,
        pagesTotal: recipient.pages_total,
        remoteCsid: recipient.remote_csid,
        remoteCsidRaw: recipient.remote_csid_raw,
        reason: { code: TRANSMITTER_RESTART, detail },
        startedAt: recipient.call_started_at ? new Date(recipient.call_started_at) : now,
        connectedAt: recipient.connected_at ? new Date(recipient.connected_at) : null,
        endedAt: now,
        signallingRate: null,
      });
    }
  }

  // ---- outbox entries → faxes ----

  private async releaseDue(): Promise<void> {
    while (!this.stopped) {
      const nowIso = this.now().toISOString();
      const due = await this.db
        .selectFrom('faxes')
        .selectAll()
        .where('state', '=', 'waiting')
        .where((eb) => eb.or([eb('send_at', 'is', null), eb('send_at', '<=', nowIso)]))
        .orderBy('created_at')
        .limit(10)
        .execute();
      if (due.length === 0) return;
      for (const entry of due) {
        if (this.stopped) return;
        await this.release(entry);
      }
    }
  }

  private async release(entry: FaxRow): Promise<void> {
    const claimed = await this.db
      .updateTable('faxes')
      .set({ state: 'preparing', updated_at: this.now().toISOString() })
      .where('outbox_id', '=', entry.outbox_id)
      .where('state', '=', 'waiting')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return; // changed or cancelled meanwhile
    const prepared = await this.documentFor(entry.outbox_id);
    if (this.stopped) {
      // Not submitted yet: the next start prepares it again.
      await this.db.updateTable('faxes').set({ state: 'waiting' }).where('outbox_id', '=', entry.outbox_id).execute();
      return;
    }
    const now = this.now();
    const faxId = `fax-${randomUUID()}`;
    await this.db.transaction().execute(async (trx) => {
      const fax = await trx.selectFrom('faxes').selectAll().where('outbox_id', '=', entry.outbox_id).executeTakeFirstOrThrow();
      const files = await trx.selectFrom('fax_files').selectAll().where('outbox_id', '=', entry.outbox_id).orderBy('position').execute();
      const recipients = await trx.selectFrom('recipients').selectAll().where('outbox_id', '=', entry.outbox_id).orderBy('position').execute();
      const pages = prepared.ok ? prepared.document.pages.length : 0;
      await trx
        .updateTable('faxes')
        .set({ fax_id: faxId, state: prepared.ok ? 'sending' : 'done', pages, submitted_at: now.toISOString(), updated_at: now.toISOString() })
        .where('outbox_id', '=', entry.outbox_id)
        .execute();
      for (const file of files)
        await trx
          .updateTable('fax_files')
          .set({ pages: prepared.ok ? (prepared.pagesPerFile[file.position] ?? 0) : null })
          .where('outbox_id', '=', file.outbox_id)
          .where('position', '=', file.position)
          .execute();
      await appendEvent(
        trx,
        'fax.submitted',
        {
          faxId,
          outboxId: fax.outbox_id,
          ownerId: fax.owner_id,
          subject: fax.subject,
          recipients: recipients.map((r) => ({ recipientId: r.recipient_id, number: r.number })),
          files: files.map((f) => ({ name: f.name, pages: prepared.ok ? (prepared.pagesPerFile[f.position] ?? 0) : 0 })),
          pages,
          submittedAt: now.toISOString(),
          ...(fax.send_at ? { sendAt: fax.send_at } : {}),
          retry: { count: fax.retry_count, delayMinutes: fax.retry_delay_minutes },
        },
        { faxId, time: now },
      );
      if (prepared.ok) {
        await trx
          .updateTable('recipients')
          .set({ state: 'queued', status: 'queued', next_attempt_at: now.toISOString(), pages_total: pages, updated_at: now.toISOString() })
          .where('outbox_id', '=', entry.outbox_id)
          .execute();
      } else {
        const submitted = { ...fax, fax_id: faxId, pages, state: 'done' as const };
        for (const recipient of recipients) await this.endWithoutCall(trx, submitted, recipient, prepared, now);
      }
    });
    if (!prepared.ok) {
      this.documents.delete(entry.outbox_id);
      this.options.logger.warn({ faxId, status: prepared.status, detail: prepared.detail }, 'the fax documents could not be prepared');
    } else {
      this.options.logger.info({ faxId, outboxId: entry.outbox_id, pages: prepared.document.pages.length }, 'fax submitted');
    }
    this.options.eventsWritten();
    this.dispatcher.kick();
  }

  /** The fax's pages, prepared once; the files in order, the first failure deciding for all. */
  private documentFor(outboxId: string): Promise<Prepared> {
    let entry = this.documents.get(outboxId);
    if (!entry) {
      const slot: { promise: Promise<Prepared>; value?: Prepared } = { promise: this.prepare(outboxId) };
      slot.promise = slot.promise.then((value) => {
        slot.value = value;
        return value;
      });
      this.documents.set(outboxId, slot);
      entry = slot;
    }
    return entry.promise;
  }

  private async prepare(outboxId: string): Promise<Prepared> {
    try {
      const files = await this.db.selectFrom('fax_files').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute();
      if (files.length === 0) return { ok: false, status: 'failed_image_preparation', detail: 'the fax has no files' };
      const pages: FaxPage[] = [];
      const pagesPerFile: number[] = [];
      for (const [index, file] of files.entries()) {
        const path = await this.options.storedPath(file.file_id);
        if (!path) return { ok: false, status: 'failed_internal_process_error', detail: `file ${index + 1} of ${files.length} (${file.name}) is no longer stored` };
        const result = await prepareDocument(path);
        if (!result.ok) return { ok: false, status: result.status, detail: `file ${index + 1} of ${files.length} (${file.name}): ${result.detail}` };
        pages.push(...result.document.pages);
        pagesPerFile.push(result.document.pages.length);
      }
      return { ok: true, document: { pages }, pagesPerFile };
    } catch (error) {
      return { ok: false, status: 'failed_internal_process_error', detail: `document preparation failed: ${errorMessage(error)}` };
    }
  }

  // ---- recipients → calls ----

  private async dispatchDue(): Promise<void> {
    while (!this.stopped && this.readyLines() > 0) {
      const nowIso = this.now().toISOString();
      const busy = new Set(this.calls.keys());
      const due = await this.db
        .selectFrom('recipients')
        .selectAll()
        .where('state', '=', 'queued')
        .where('next_attempt_at', '<=', nowIso)
        .orderBy('next_attempt_at')
        .orderBy('outbox_id')
        .orderBy('position')
        .limit(this.readyLines() + 50)
        .execute();
      let started = 0;
      for (const recipient of due) {
        if (this.stopped || this.readyLines() === 0) break;
        if (busy.has(callKey(recipient))) continue;
        const slot = this.documents.get(recipient.outbox_id);
        if (!slot) {
          // First call of this fax since a start: prepare its documents, then come back.
          void this.documentFor(recipient.outbox_id).then(() => this.dispatcher.kick());
          continue;
        }
        if (!slot.value) continue; // still preparing
        if (!slot.value.ok) {
          await this.failPreparedLater(recipient.outbox_id, slot.value);
          continue;
        }
        if (await this.startCall(recipient, slot.value.document)) started++;
      }
      if (started === 0) return;
    }
  }

  /** The documents of a fax already under way can no longer be prepared (after a restart): its waiting recipients end. */
  private async failPreparedLater(outboxId: string, failure: Extract<Prepared, { ok: false }>): Promise<void> {
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      const fax = await trx.selectFrom('faxes').selectAll().where('outbox_id', '=', outboxId).executeTakeFirst();
      if (!fax) return;
      const waiting = await trx.selectFrom('recipients').selectAll().where('outbox_id', '=', outboxId).where('state', '=', 'queued').execute();
      for (const recipient of waiting) await this.endWithoutCall(trx, fax, recipient, failure, now);
      await this.markDoneIfFinal(trx, outboxId, now);
    });
    this.documents.delete(outboxId);
    this.options.logger.warn({ outboxId, status: failure.status, detail: failure.detail }, 'the fax documents could not be prepared again');
    this.options.eventsWritten();
  }

  private async startCall(recipient: RecipientRow, document: FaxDocument): Promise<boolean> {
    const line = this.takeReadyLine();
    const now = this.now().toISOString();
    const attempt = recipient.attempt + 1;
    const claimed = await this.db
      .updateTable('recipients')
      .set({
        state: 'in_call',
        // What the API shows from now on; the dialing event follows when the line starts to dial.
        status: 'dialing',
        attempt,
        sequence: 0,
        line_id: line.id,
        call_started_at: now,
        connected_at: null,
        remote_csid: null,
        remote_csid_raw: null,
        pages_confirmed: 0,
        updated_at: now,
      })
      .where('outbox_id', '=', recipient.outbox_id)
      .where('position', '=', recipient.position)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) {
      this.free.push(line);
      return false;
    }
    const fax = await this.faxOf(recipient.outbox_id);
    if (!fax?.fax_id) {
      this.free.push(line);
      return false;
    }
    const claimedRecipient: RecipientRow = { ...recipient, state: 'in_call', attempt, sequence: 0, line_id: line.id, call_started_at: now };
    const controller = new AbortController();
    const key = callKey(recipient);
    const call: Call = {
      outboxId: recipient.outbox_id,
      position: recipient.position,
      controller,
      done: Promise.resolve(),
    };
    this.calls.set(key, call);
    if (line.handover)
      await openHandoff(this.db, { recipient: claimedRecipient, faxId: fax.fax_id, account: line.handover.account, lineId: line.id, region: this.options.dialPlan.region, now: this.now() });
    call.done = this.runCall(fax, claimedRecipient, line, document, controller.signal)
      .catch((error) => this.options.logger.error({ err: errorMessage(error), faxId: fax.fax_id, recipientId: recipient.recipient_id }, 'recording a call failed'))
      .finally(() => {
        this.calls.delete(key);
        this.free.push(line);
        this.dispatcher.kick();
      });
    return true;
  }

  private async runCall(fax: FaxRow, recipient: RecipientRow, line: TransmitterLine, document: FaxDocument, signal: AbortSignal): Promise<void> {
    const logger = this.options.logger.child({ faxId: fax.fax_id, recipientId: recipient.recipient_id, attempt: recipient.attempt, line: line.id });
    // Observer callbacks come synchronously from the driver; their writes run in order behind it.
    let writes = Promise.resolve();
    const progress = (status: ProgressStatus, extra: ProgressExtra = {}) => {
      writes = writes
        .then(() => (this.abandoning ? undefined : this.recordProgress(fax, recipient, status, extra)))
        .catch((error) => logger.error({ err: errorMessage(error), status }, 'recording progress failed'));
    };
    let result: CallOutcome;
    const startedAt = this.now();
    try {
      const dialString = dialStringFor(recipient.number, this.options.dialPlan);
      logger.info({ number: recipient.number, dialString }, 'dialling');
      const ended = await line.send(
        { dialString, localId: this.options.localId, document },
        {
          dialing: () => progress('dialing'),
          connected: (remote) => progress('connected', { csid: remote.csid, csidRaw: remote.csidRaw }),
          pageConfirmed: (page, of) => progress('sending', { page: { n: page, of } }),
          trace: (text) => logger.trace({ line: text }, 'line'),
        },
        signal,
      );
      result = { ...ended, status: statusFor(ended.reason.code, ended.pagesConfirmed, ended.pagesTotal) };
    } catch (error) {
      const endedAt = this.now();
      result = {
        status: 'failed_internal_process_error',
        pagesConfirmed: 0,
        pagesTotal: document.pages.length,
        remoteCsid: null,
        remoteCsidRaw: null,
        reason: { code: LINE_FAILURE, detail: `line ${line.id} failed: ${errorMessage(error)}` },
        startedAt,
        connectedAt: null,
        endedAt,
        signallingRate: null,
      };
    }
    await writes;
    if (this.abandoning) {
      logger.warn({ status: result.status }, 'call cut by the stop; the next start records it');
      return;
    }
    logger.info({ status: result.status, reason: result.reason.code, pages: `${result.pagesConfirmed}/${result.pagesTotal}`, csid: result.remoteCsid }, 'call ended');
    metrics.calls.inc({ line: line.id, status: result.status });
    this.noteLineHealth(line, result);
    metrics.pages.inc({ line: line.id }, result.pagesConfirmed);
    await this.recordOutcome(fax, recipient, result);
  }

  // ---- recording ----

  private async recordProgress(fax: FaxRow, recipient: RecipientRow, status: ProgressStatus, extra: ProgressExtra): Promise<void> {
    const now = this.now();
    const written = await this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('recipients')
        .selectAll()
        .where('outbox_id', '=', recipient.outbox_id)
        .where('position', '=', recipient.position)
        .executeTakeFirst();
      if (!current || current.state !== 'in_call' || current.attempt !== recipient.attempt) return false;
      const csid = truncate(extra.csid ?? null, MAX_CSID_LENGTH);
      await trx
        .updateTable('recipients')
        .set({
          status,
          sequence: current.sequence + 1,
          updated_at: now.toISOString(),
          ...(status === 'connected' ? { connected_at: now.toISOString(), remote_csid: csid, remote_csid_raw: truncate(extra.csidRaw ?? null, MAX_CSID_LENGTH) } : {}),
          ...(extra.page ? { pages_confirmed: extra.page.n, pages_total: extra.page.of } : {}),
        })
        .where('outbox_id', '=', recipient.outbox_id)
        .where('position', '=', recipient.position)
        .execute();
      await appendEvent(
        trx,
        'fax.recipient.progress',
        {
          faxId: fax.fax_id!,
          recipientId: recipient.recipient_id,
          number: recipient.number,
          attempt: current.attempt,
          sequence: current.sequence,
          status,
          at: now.toISOString(),
          ...(csid !== null ? { remoteCsid: csid } : {}),
          ...(extra.page ? { page: extra.page } : {}),
        },
        { faxId: fax.fax_id!, recipientId: recipient.recipient_id, time: now },
      );
      return true;
    });
    if (written) this.options.eventsWritten();
  }

  /**
   * Records how an attempt ended: the attempt row, then either a redial (retry_scheduled, with
   * when and why) or the recipient's final result naming every attempt.
   */
  private async recordOutcome(fax: FaxRow, recipient: RecipientRow, result: CallOutcome): Promise<void> {
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('recipients')
        .selectAll()
        .where('outbox_id', '=', recipient.outbox_id)
        .where('position', '=', recipient.position)
        .executeTakeFirst();
      if (!current || current.state !== 'in_call' || current.attempt !== recipient.attempt) return;
      const attempt = current.attempt;
      const handoff = await handoffOf(trx, current.outbox_id, current.position);
      if (handoff && handoff.attempt === attempt && handoff.state === 'calling') {
        // An ATA line: a fax the ATA took (or the port server already reports) waits for its report.
        if (result.status === 'success' || handoff.session_id) {
          await this.recordHandedOver(trx, fax, current, result, handoff, now);
          // Nobody left to dial: the prepared pages are not needed while the port server delivers.
          const toDial = await trx.selectFrom('recipients').select('position').where('outbox_id', '=', current.outbox_id).where('state', 'in', ['waiting', 'queued', 'in_call']).limit(1).execute();
          if (toDial.length === 0) this.documents.delete(current.outbox_id);
          return;
        }
        // Cut by a restart, the ATA may or may not have taken the fax: the redial waits its delay,
        // and a port-server session that reports the fax meanwhile takes the recipient back.
        if (result.reason.code === TRANSMITTER_RESTART) await orphanHandoff(trx, handoff);
        else await dropHandoff(trx, handoff);
      }
      const csid = truncate(result.remoteCsid, MAX_CSID_LENGTH);
      const csidRaw = truncate(result.remoteCsidRaw, MAX_CSID_LENGTH);
      const detail = truncate(result.reason.detail, DETAIL_LIMIT)!;
      await trx
        .insertInto('attempts')
        .values(attemptRow(current, result, { status: result.status, reason_code: result.reason.code, reason_detail: detail, pages_confirmed: result.pagesConfirmed, remote_csid: csid, remote_csid_raw: csidRaw }))
        .execute();
      // A fax machine answered this number (T.30 engaged): call-ahead of fax ATAs need not probe it.
      const handsOver = this.options.lines.find((line) => line.id === current.line_id)?.handover;
      if (result.connectedAt && !handsOver) {
        const key = calledNumberKey(current.number, this.options.dialPlan.region);
        if (key) await recordCalledNumber(trx, key, 'fax', result.endedAt);
      }
      const decision = decideRetry(
        { status: result.status, reasonCode: result.reason.code, endedAt: result.endedAt },
        attempt,
        { count: fax.retry_count, delayMinutes: fax.retry_delay_minutes },
        this.options.retryDelays,
      );
      const common = {
        pages_confirmed: result.pagesConfirmed,
        pages_total: result.pagesTotal,
        remote_csid: csid,
        remote_csid_raw: csidRaw,
        connected_at: result.connectedAt?.toISOString() ?? null,
        reason_code: result.reason.code,
        reason_detail: detail,
        ended_at: result.endedAt.toISOString(),
        sequence: current.sequence + 1,
        updated_at: now.toISOString(),
      };
      const ref = { faxId: fax.fax_id!, recipientId: current.recipient_id, number: current.number, attempt, sequence: current.sequence };
      if (decision.retry) {
        await trx
          .updateTable('recipients')
          .set({ ...common, state: 'queued', status: 'retry_scheduled', next_attempt_at: decision.at.toISOString() })
          .where('outbox_id', '=', current.outbox_id)
          .where('position', '=', current.position)
          .execute();
        await appendEvent(
          trx,
          'fax.recipient.progress',
          {
            ...ref,
            status: 'retry_scheduled',
            at: now.toISOString(),
            retry: { at: decision.at.toISOString(), reason: { code: result.reason.code, detail } },
          },
          { faxId: fax.fax_id!, recipientId: current.recipient_id, time: now },
        );
        return;
      }
      const history = await trx
        .selectFrom('attempts')
        .selectAll()
        .where('outbox_id', '=', current.outbox_id)
        .where('position', '=', current.position)
        .orderBy('attempt')
        .execute();
      const finalDetail = withAttempts(detail, history, 1 + fax.retry_count, decision.why);
      await trx
        .updateTable('recipients')
        .set({ ...common, reason_detail: finalDetail, state: 'final', status: result.status, next_attempt_at: null })
        .where('outbox_id', '=', current.outbox_id)
        .where('position', '=', current.position)
        .execute();
      await appendEvent(
        trx,
        'fax.recipient.result',
        {
          ...ref,
          status: result.status,
          reason: { code: result.reason.code, detail: finalDetail },
          pagesSent: result.pagesConfirmed,
          pagesTotal: result.pagesTotal,
          remoteCsid: csid,
          remoteCsidRaw: csidRaw,
          startedAt: result.connectedAt?.toISOString() ?? null,
          endedAt: result.endedAt.toISOString(),
          attempts: attempt,
        },
        { faxId: fax.fax_id!, recipientId: current.recipient_id, time: now },
      );
      await this.markDoneIfFinal(trx, current.outbox_id, now);
    });
    this.options.eventsWritten();
  }

  /** The ATA took the fax: the attempt and the recipient wait, handed over, for the port server's report. */
  private async recordHandedOver(
    trx: Kysely<TransmitterDatabase>,
    fax: FaxRow,
    current: RecipientRow,
    result: CallOutcome,
    handoff: AtaHandoffRow,
    now: Date,
  ): Promise<void> {
    const detail = truncate(
      `the ATA on line ${handoff.line_id}${result.remoteCsid ? ` ("${result.remoteCsid}")` : ''} took ${result.pagesConfirmed} of ${result.pagesTotal} pages; ` +
        'the port server delivers them and reports the result',
      DETAIL_LIMIT,
    )!;
    await trx
      .insertInto('attempts')
      .values(attemptRow(current, result, { status: 'queued', reason_code: 'ATA_HANDED_OVER', reason_detail: detail, pages_confirmed: 0, remote_csid: null, remote_csid_raw: null }))
      .execute();
    await trx
      .updateTable('recipients')
      .set({ state: 'handed_over', status: 'queued', pages_total: result.pagesTotal, sequence: current.sequence + 1, next_attempt_at: null, updated_at: now.toISOString() })
      .where('outbox_id', '=', current.outbox_id)
      .where('position', '=', current.position)
      .execute();
    await appendEvent(
      trx,
      'fax.recipient.progress',
      { faxId: fax.fax_id!, recipientId: current.recipient_id, number: current.number, attempt: current.attempt, sequence: current.sequence, status: 'queued', at: now.toISOString() },
      { faxId: fax.fax_id!, recipientId: current.recipient_id, time: now },
    );
    await markHandedOver(trx, { ...handoff, pages_total: result.pagesTotal }, now, this.options.ataReportWithinMs ?? DEFAULT_ATA_REPORT_WITHIN_MS);
  }

  /** Ends a recipient that will never be dialled for this fax (its documents failed): one attempt, no call. */
  private async endWithoutCall(
    trx: Kysely<TransmitterDatabase>,
    fax: FaxRow,
    recipient: RecipientRow,
    failure: { status: FinalStatus; detail: string },
    now: Date,
  ): Promise<void> {
    const attempt = recipient.attempt + 1;
    const detail = truncate(failure.detail, DETAIL_LIMIT)!;
    await trx
      .insertInto('attempts')
      .values({
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
        ended_at: now.toISOString(),
        signalling_rate: null,
      })
      .execute();
    await trx
      .updateTable('recipients')
      .set({
        state: 'final',
        status: failure.status,
        attempt,
        sequence: 1,
        next_attempt_at: null,
        reason_code: DOCUMENT_PREPARATION,
        reason_detail: detail,
        ended_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .where('outbox_id', '=', recipient.outbox_id)
      .where('position', '=', recipient.position)
      .execute();
    await appendEvent(
      trx,
      'fax.recipient.result',
      {
        faxId: fax.fax_id!,
        recipientId: recipient.recipient_id,
        number: recipient.number,
        attempt,
        sequence: 0,
        status: failure.status,
        reason: { code: DOCUMENT_PREPARATION, detail },
        pagesSent: 0,
        pagesTotal: recipient.pages_total,
        remoteCsid: null,
        startedAt: null,
        endedAt: now.toISOString(),
        attempts: attempt,
      },
      { faxId: fax.fax_id!, recipientId: recipient.recipient_id, time: now },
    );
  }

  private async markDoneIfFinal(trx: Kysely<TransmitterDatabase>, outboxId: string, now: Date): Promise<void> {
    if (await markFaxDoneIfFinal(trx, outboxId, now)) this.documents.delete(outboxId);
  }

  private faxOf(outboxId: string): Promise<FaxRow | undefined> {
    return this.db.selectFrom('faxes').selectAll().where('outbox_id', '=', outboxId).executeTakeFirst();
  }
}

interface ProgressExtra {
  csid?: string | null;
  csidRaw?: string | null;
  page?: { n: number; of: number };
}

const callKey = (recipient: { outbox_id: string; position: number }): string => `${recipient.outbox_id}/${recipient.position}`;

/**
 * The final result's detail: the last attempt's raw line detail, then one line per attempt, so
 * the notice can say what was tried. The attempt list is kept whole; the raw detail gives way.
 */
export function withAttempts(
  detail: string,
  history: ReadonlyArray<{ attempt: number; status: string; reason_code: string; line_id: string | null; ended_at: string; pages_confirmed: number; pages_total: number }>,
  maxAttempts: number,
  why: string,
): string {
  const lines = history.map(
    (a) => `attempt ${a.attempt} of ${maxAttempts}${a.line_id ? ` on ${a.line_id}` : ''} ended ${a.ended_at}: ${a.status} (${a.reason_code}), ${a.pages_confirmed}/${a.pages_total} pages`,
  );
  const summary = `\n${lines.join('\n')}\n${why}`;
  const room = Math.max(0, DETAIL_LIMIT - summary.length);
  const head = detail.length > room ? `${detail.slice(0, Math.max(0, room - 1))}…` : detail;
  return `${head}${summary}`.slice(0, DETAIL_LIMIT);
}
