/**
 * The scheduler: outbox entries are released as faxes when their send time comes, and each
 * recipient is dialled on any free line when its time comes, redialled by cause as its fax's retry
 * policy allows. Every state change and the event that reports it are committed together by the
 * recipient ledger; the relay publishes the events. A restart loses nothing (see recovery.ts).
 */
import { CoalescedPasses, errorMessage, type Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { TransmitterDatabase } from '../db/schema';
import type { RecipientLedger } from '../ledger/recipient-ledger';
import type { CallListener, TransmitterLine } from '../lines/types';
import type { DialPlan } from '../numbers';
import { CallRecorder } from './call-end';
import { Dispatcher } from './dispatch';
import { DocumentCache, type PageHeaderSetting, storedDocuments } from './document-cache';
import { LinePool, type LineRest } from './line-pool';
import { recoverInFlight } from './recovery';
import { EntryReleaser } from './release';

export interface SchedulerOptions {
  db: Kysely<TransmitterDatabase>;
  ledger: RecipientLedger;
  lines: readonly TransmitterLine[];
  /** Where the files of `fax_files` are kept on disk, by file id. */
  storedPath: (fileId: string) => Promise<string | null>;
  /** The header line on every page sent; absent: none. */
  headerLine?: PageHeaderSetting;
  localId: string;
  dialPlan: DialPlan;
  pollMs: number;
  stopGraceMs: number;
  logger: Logger;
  /** Called after each commit that wrote events. */
  eventsWritten: () => void;
  /** A line that fails on our side `faults` calls in a row rests `ms` before it dials again. */
  lineRest?: LineRest;
  /** Learn from every call's end, in the transaction that records it. */
  callListeners?: readonly CallListener[];
  now?: () => Date;
}

export class Scheduler {
  private readonly pool: LinePool;
  private readonly recorder: CallRecorder;
  private readonly releaser: CoalescedPasses;
  private readonly dispatcher: CoalescedPasses;
  private readonly dispatch: Dispatcher;
  private stopped = true;

  constructor(private readonly options: SchedulerOptions) {
    const { db, ledger, logger } = options;
    const now = options.now ?? (() => new Date());
    const stopped = () => this.stopped;
    this.pool = new LinePool(options.lines, { logger, ...(options.lineRest ? { rest: options.lineRest } : {}) });
    this.recorder = new CallRecorder({ db, ledger, listeners: options.callListeners ?? [], now });
    const documents = new DocumentCache(storedDocuments(db, options.storedPath, options.headerLine, now));
    const release = new EntryReleaser({ db, ledger, documents, logger, now, stopped, released: () => this.kickAfterWrite() });
    this.dispatch = new Dispatcher({ ...options, pool: this.pool, documents, recorder: this.recorder, now, stopped, again: () => this.dispatcher.kick() });
    const logError = (what: string) => (error: unknown) => logger.error({ err: errorMessage(error) }, `${what} failed; trying again on the next poll`);
    this.releaser = new CoalescedPasses({ pass: () => release.releaseDue(), onError: logError('releasing due outbox entries'), pollMs: options.pollMs });
    this.dispatcher = new CoalescedPasses({ pass: () => this.dispatch.dispatchDue(), onError: logError('dispatching due recipients'), pollMs: options.pollMs });
  }

  /** Recovers what a previous run left in flight, then starts polling. */
  async start(): Promise<void> {
    await recoverInFlight({
      db: this.options.db,
      recorder: this.recorder,
      pool: this.pool,
      logger: this.options.logger,
      now: this.options.now ?? (() => new Date()),
    });
    this.options.eventsWritten();
    this.stopped = false;
    this.releaser.start();
    this.dispatcher.start();
  }

  /** Something changed (an entry created, changed or cancelled): look again now. */
  kick(): void {
    if (this.stopped) return;
    this.releaser.kick();
    this.dispatcher.kick();
  }

  /** Lines resting now, for readiness and operators. */
  get restingLines(): string[] {
    return this.pool.resting;
  }

  /** Lines in use now, for readiness and tests. */
  get activeCalls(): number {
    return this.dispatch.active;
  }

  /**
   * Stops taking work; calls in progress get `stopGraceMs` to end (and are recorded), then the
   * rest are cut and left in flight for the next start to record as cut by the restart.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([this.releaser.stop(), this.dispatcher.stop()]);
    await this.dispatch.stop(this.options.stopGraceMs);
    await this.pool.close();
  }

  private kickAfterWrite(): void {
    this.options.eventsWritten();
    this.dispatcher.kick();
  }
}
