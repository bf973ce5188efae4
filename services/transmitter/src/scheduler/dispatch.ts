/**
 * Recipients become calls: each due recipient is dialled on a free line when its time comes, one
 * call per line. The call's steps are recorded as the line reports them, in order, and its end by
 * the call recorder; a call cut by a stop is left in flight for the next start to record.
 */
import type { FaxDocument, LineResult } from '@faxnotify/fax-line';
import type { ProgressStatus } from '@faxnotify/contracts';
import { errorMessage, type Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { Counter } from 'prom-client';
import type { FaxRow, RecipientRow, TransmitterDatabase } from '../db/schema';
import type { AttemptEnd, CallProgress, RecipientLedger } from '../ledger/recipient-ledger';
import { statusFor } from '../lines/status';
import type { TransmitterLine } from '../lines/types';
import { dialStringFor, tsiFor, type DialPlan } from '../numbers';
import { documentFor } from '../resend';
import type { CallRecorder } from './call-end';
import type { DocumentCache, PreparationFailure } from './document-cache';
import { LINE_FAILURE, type LinePool } from './line-pool';

const metrics = {
  calls: new Counter({ name: 'faxnotify_transmitter_calls_total', help: 'Calls placed, by line and how they ended.', labelNames: ['line', 'status'] }),
  pages: new Counter({ name: 'faxnotify_transmitter_pages_confirmed_total', help: 'Pages the receivers confirmed, by line.', labelNames: ['line'] }),
};

export interface DispatchOptions {
  db: Kysely<TransmitterDatabase>;
  ledger: RecipientLedger;
  pool: LinePool;
  documents: DocumentCache;
  recorder: CallRecorder;
  /** The TSI of faxes without a sender number of their own. */
  localId: string;
  dialPlan: DialPlan;
  logger: Logger;
  now: () => Date;
  stopped: () => boolean;
  /** After a commit that wrote events. */
  eventsWritten: () => void;
  /** Asks for another dispatch pass (a line came free, a fax's pages are ready). */
  again: () => void;
}

/** How a line's result reads as an attempt's end. */
const attemptEnd = (result: LineResult): AttemptEnd => ({ ...result, status: statusFor(result.reason.code, result.pagesConfirmed, result.pagesTotal) });

const callKey = (recipient: { outbox_id: string; position: number }): string => `${recipient.outbox_id}/${recipient.position}`;

export class Dispatcher {
  private readonly calls = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Set when stopping cut calls: their ends are left for the next start to record. */
  private abandoning = false;

  constructor(private readonly options: DispatchOptions) {}

  /** Calls in progress. */
  get active(): number {
    return this.calls.size;
  }

  /** Dials due recipients while lines are free. */
  async dispatchDue(): Promise<void> {
    const { db, pool, documents, stopped } = this.options;
    while (!stopped() && pool.ready > 0) {
      const due = await db
        .selectFrom('recipients')
        .selectAll()
        .where('state', '=', 'queued')
        .where('next_attempt_at', '<=', this.options.now().toISOString())
        .orderBy('next_attempt_at')
        .orderBy('outbox_id')
        .orderBy('position')
        .limit(pool.ready + 50)
        .execute();
      let started = 0;
      for (const recipient of due) {
        if (stopped() || pool.ready === 0) break;
        if (this.calls.has(callKey(recipient))) continue;
        const known = documents.peek(recipient.outbox_id);
        if (known.state === 'absent') {
          // First call of this fax since a start: prepare its documents, then come back.
          void documents.get(recipient.outbox_id).then(() => this.options.again());
          continue;
        }
        if (known.state === 'preparing') continue;
        if (!known.prepared.ok) {
          await this.failPreparedLater(recipient.outbox_id, known.prepared);
          continue;
        }
        // A recipient given only some pages (a resend's missing pages) is sent those.
        if (await this.startCall(recipient, documentFor(known.prepared.document, recipient))) started++;
      }
      if (started === 0) return;
    }
  }

  /**
   * Lets the calls in progress end within `graceMs` (and be recorded), then cuts the rest and
   * leaves them in flight for the next start to record as cut by the restart.
   */
  async stop(graceMs: number): Promise<void> {
    const running = () => Promise.allSettled([...this.calls.values()].map((call) => call.done));
    if (this.calls.size > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    if (this.calls.size === 0) return;
    this.abandoning = true;
    this.options.logger.warn({ calls: this.calls.size }, 'stopping with calls in progress: cutting them; they are redialled after the next start');
    for (const call of this.calls.values()) call.controller.abort(new Error('transmitter stopping'));
    await running();
  }

  /** The documents of a fax already under way can no longer be prepared (after a restart): its waiting recipients end. */
  private async failPreparedLater(outboxId: string, failure: PreparationFailure): Promise<void> {
    const { db, ledger } = this.options;
    const now = this.options.now();
    await db.transaction().execute(async (trx) => {
      const fax = await trx.selectFrom('faxes').selectAll().where('outbox_id', '=', outboxId).executeTakeFirst();
      if (!fax?.fax_id) return;
      const waiting = await trx.selectFrom('recipients').selectAll().where('outbox_id', '=', outboxId).where('state', '=', 'queued').execute();
      for (const recipient of waiting) await ledger.endWithoutCall(trx, fax.fax_id, recipient, failure, now);
    });
    this.options.documents.forget(outboxId);
    this.options.logger.warn({ outboxId, status: failure.status, detail: failure.detail }, 'the fax documents could not be prepared again');
    this.options.eventsWritten();
  }

  private async startCall(recipient: RecipientRow, document: FaxDocument): Promise<boolean> {
    const { db, pool, ledger } = this.options;
    const line = pool.take();
    if (!line) return false;
    const call = await ledger.startAttempt(db, recipient, line.id, this.options.now());
    const fax = call ? await db.selectFrom('faxes').selectAll().where('outbox_id', '=', recipient.outbox_id).executeTakeFirst() : undefined;
    if (!call || !fax?.fax_id) {
      pool.give(line);
      return false;
    }
    const controller = new AbortController();
    const key = callKey(recipient);
    const entry = { controller, done: Promise.resolve() };
    this.calls.set(key, entry);
    entry.done = this.runCall(fax, call, line, document, controller.signal)
      .catch((error: unknown) =>
        this.options.logger.error({ err: errorMessage(error), faxId: fax.fax_id, recipientId: recipient.recipient_id }, 'recording a call failed'),
      )
      .finally(() => {
        this.calls.delete(key);
        pool.give(line);
        this.options.again();
      });
    return true;
  }

  private async runCall(fax: FaxRow, call: RecipientRow, line: TransmitterLine, document: FaxDocument, signal: AbortSignal): Promise<void> {
    const { ledger, db } = this.options;
    const faxId = fax.fax_id!;
    const logger = this.options.logger.child({ faxId, recipientId: call.recipient_id, attempt: call.attempt, line: line.id });
    // Observer callbacks come synchronously from the driver; their writes run in order behind it.
    let writes = Promise.resolve();
    const progress = (status: ProgressStatus, extra: CallProgress = {}) => {
      writes = writes
        .then(async () => {
          if (this.abandoning) return;
          const now = this.options.now();
          if (await db.transaction().execute((trx) => ledger.progress(trx, faxId, call, status, extra, now))) this.options.eventsWritten();
        })
        .catch((error: unknown) => logger.error({ err: errorMessage(error), status }, 'recording progress failed'));
    };
    let end: AttemptEnd;
    const startedAt = this.options.now();
    try {
      // A line that hands its faxes over says so before it dials, so an early report finds the attempt.
      await line.handover?.open(db, { recipient: call, faxId, lineId: line.id, now: startedAt });
      const dialString = dialStringFor(call.number, this.options.dialPlan);
      logger.info({ number: call.number, dialString }, 'dialling');
      const result = await line.send(
        // The fax's own number is its TSI where it has one; otherwise the transmitter's identity.
        { dialString, localId: tsiFor(fax.from_number, this.options.localId), document },
        {
          dialing: () => progress('dialing'),
          connected: (remote) => progress('connected', { csid: remote.csid, csidRaw: remote.csidRaw }),
          pageConfirmed: (page, of) => progress('sending', { page: { n: page, of } }),
          trace: (text) => logger.trace({ line: text }, 'line'),
        },
        signal,
      );
      end = attemptEnd(result);
    } catch (error) {
      end = {
        status: 'failed_internal_process_error',
        pagesConfirmed: 0,
        pagesTotal: document.pages.length,
        remoteCsid: null,
        remoteCsidRaw: null,
        reason: { code: LINE_FAILURE, detail: `line ${line.id} failed: ${errorMessage(error)}` },
        startedAt,
        connectedAt: null,
        endedAt: this.options.now(),
        signallingRate: null,
      };
    }
    await writes;
    if (this.abandoning) {
      logger.warn({ status: end.status }, 'call cut by the stop; the next start records it');
      return;
    }
    logger.info({ status: end.status, reason: end.reason.code, pages: `${end.pagesConfirmed}/${end.pagesTotal}`, csid: end.remoteCsid }, 'call ended');
    metrics.calls.inc({ line: line.id, status: end.status });
    metrics.pages.inc({ line: line.id }, end.pagesConfirmed);
    this.options.pool.noteCall(line, end.reason);
    const ending = await this.options.recorder.record(fax, call, line, end);
    if (ending.recorded) {
      if (!ending.dialsLeft) this.options.documents.forget(fax.outbox_id);
      this.options.eventsWritten();
    }
  }
}
