/**
 * Receiving a fax on a serial fax modem, whichever service class drives it: the call
 * (modem-call.ts) with the wait for the ring, the caller's and the called number, each page
 * received checked for its copy quality, and the result. Class 1 (class1-receive.ts) and Class 2.0
 * (class2-receive.ts) add only their protocol.
 */
import { createBitmap } from './documents/bitmap';
import type { FaxResolution } from './documents/fax-document';
import { decodeMh, encodeMh } from './documents/t4-mh';
import { type CallState, ModemCall, type ModemLineOptions, type ModemTimers } from './modem-call';
import { LineAbortedError } from './modem-channel';
import { LineReason, type LineReceiveRequest, type LineReceiveResult, type ReceivedPage, type ReceiveObserver } from './types';

/** How a line starts the receive session of its service class. */
export type ReceiveSessionClass<Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> = new (
  request: LineReceiveRequest,
  observer: ReceiveObserver,
  timers: Timers,
  options: Options,
  signal: AbortSignal | undefined,
  /** Ends the wait for a ring (not a call in progress): the line is wanted for a send, or closed. Its reason (a string) says which. */
  waitSignal: AbortSignal | undefined,
) => { run(): Promise<LineReceiveResult> };

/** One page's data as it came off the line, judged. */
export interface PageCheck {
  page: ReceivedPage;
  /** The data ended with RTC: the sender finished the page. */
  sawRtc: boolean;
  /** Good enough to confirm (MCF); otherwise we ask for it again (RTN). */
  good: boolean;
}

/** A page is rejected (RTN) when more than this share of its rows (or of its data) is damaged (spandsp's bad-copy limit). */
const BAD_ROW_SHARE = 1 / 20;

/**
 * Decodes page data as it went on the line (first bit in the least significant bit, fill before
 * EOLs, RTC at the end), counts rows and damaged rows, and keeps the page re-encoded clean.
 */
export function checkPage(lineData: Uint8Array, width: number, resolution: FaxResolution): PageCheck {
  const decoded =
    lineData.length > 0 ? decodeMh(lineData, width, { lsbFirst: true }) : { bitmap: createBitmap(width, 0), badLines: 0, sawRtc: false, damagedBits: 0 };
  const rows = decoded.bitmap.height;
  const page: ReceivedPage = { width, height: rows, resolution, data: encodeMh(decoded.bitmap), badRows: decoded.badLines };
  // Damage counts by rows and by data: a burst that wipes out EOLs takes many rows as one bad row.
  const damaged = Math.max(decoded.badLines / Math.max(rows, 1), decoded.damagedBits / Math.max(lineData.length * 8, 1));
  return { page, sawRtc: decoded.sawRtc, good: rows > 0 && damaged <= BAD_ROW_SHARE };
}

/** Call information lines a modem shows before RING (V.253 +VCID style: NAME=VALUE). */
const CALL_INFO = /^([A-Z]{3,4})\s*=\s*(.*)$/;

/** Longest single wait while the line idles: waits are cut into pieces so no timer overflows. */
const IDLE_SLICE_MS = 60_000;

/**
 * One receive: open the port, wake the modem, wait for a ring, answer, the service class's
 * states, hang up.
 */
export abstract class ReceiveSession<State extends string, Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> extends ModemCall<
  State,
  Timers,
  Options
> {
  protected readonly abortedDetail = 'receive aborted by the caller';
  protected callerNumber: string | null = null;
  protected calledNumber: string | null = null;
  protected readonly received: ReceivedPage[] = [];
  protected partialPage: ReceivedPage | null = null;
  protected pagesRejected = 0;
  /** Bits per second of the last page data received. */
  protected pageRate: number | null = null;
  /** The sender said its last word (EOP confirmed): what follows cannot spoil the receive. */
  protected complete = false;
  private readonly waitUntil: number;

  constructor(
    request: LineReceiveRequest,
    protected override readonly observer: ReceiveObserver,
    timers: Timers,
    options: Options,
    signal: AbortSignal | undefined,
    private readonly waitSignal: AbortSignal | undefined = undefined,
  ) {
    super(observer, timers, options, signal);
    this.waitUntil = request.waitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + request.waitMs;
  }

  /** The result's detail when nothing failed. */
  protected abstract successDetail(): string;

  async run(): Promise<LineReceiveResult> {
    await this.runStates();
    return this.result();
  }

  /**
   * Waits for RING, noting the call information the modem shows before it (NMBR: the caller,
   * NDID: the number called), and goes on to `next`. NO_CALL when the wait ends first.
   */
  protected async awaitRing(next: State): Promise<State | CallState> {
    this.callerNumber = null;
    this.calledNumber = null;
    const callerSignal = this.signal;
    const stop = callerSignal && this.waitSignal ? AbortSignal.any([callerSignal, this.waitSignal]) : (callerSignal ?? this.waitSignal);
    for (;;) {
      const now = Date.now();
      if (now >= this.waitUntil) return this.noCall('no call within the wait');
      let line: string | null;
      try {
        if (this.waitSignal?.aborted && !callerSignal?.aborted) throw new LineAbortedError('the wait for a call was ended');
        line = await this.ch.readLine(Math.min(this.waitUntil, now + IDLE_SLICE_MS), stop);
      } catch (error) {
        if (error instanceof LineAbortedError && this.waitSignal?.aborted && !callerSignal?.aborted) {
          return this.noCall(typeof this.waitSignal.reason === 'string' ? this.waitSignal.reason : 'the wait for a call was ended');
        }
        throw error;
      }
      if (line === null) continue;
      this.trace(`<< ${line}`);
      const info = CALL_INFO.exec(line.trim());
      if (info) {
        const value = info[2].trim();
        const known = value.length > 0 && value !== '<NONE>' && value !== 'NULL' ? value : null;
        if (info[1] === 'NMBR') this.callerNumber = known;
        else if (info[1] === 'NDID' || (info[1] === 'CDID' && known)) this.calledNumber = known ?? this.calledNumber;
        continue;
      }
      if (line.trim().toUpperCase() === 'RING') {
        const call = { callerNumber: this.callerNumber, calledNumber: this.calledNumber ?? this.options.number ?? null };
        this.notify(() => this.observer.ringing?.(call));
        return next;
      }
    }
  }

  /** No call came: the line idles on, nothing failed. */
  private noCall(detail: string): State | CallState {
    this.reason ??= { code: LineReason.NO_CALL, detail };
    this.trace(`.. ${detail}`);
    return 'hangup';
  }

  /** Our CSI: the line's answer id, else its number. */
  protected get localId(): string {
    return this.options.answerId ?? this.options.number ?? '';
  }

  /** A page the sender finished and we confirm. */
  protected keepPage(check: PageCheck): void {
    this.received.push(check.page);
    this.partialPage = null;
    const number = this.received.length;
    this.notify(() => this.observer.pageReceived?.(number, { rows: check.page.height, badRows: check.page.badRows }));
  }

  /** A page too damaged to keep: we ask for it again. */
  protected rejectPage(check: PageCheck): void {
    this.pagesRejected++;
    this.partialPage = null;
    const number = this.received.length + 1;
    this.notify(() => this.observer.pageRejected?.(number, { rows: check.page.height, badRows: check.page.badRows }));
  }

  private result(): LineReceiveResult {
    let reason = this.finalReason(this.successDetail());
    // An abort before anyone called is the end of a wait, not a failed fax.
    if (reason.code === LineReason.ABORTED && this.connectedAt === null)
      reason = { code: LineReason.NO_CALL, detail: `no call before the wait ended; ${reason.detail}` };
    const ok = reason.code === LineReason.OK || this.complete;
    return {
      status: ok && this.received.length > 0 ? 'success' : this.received.length > 0 ? 'partially_received' : 'failed',
      pages: [...this.received],
      partialPage: this.partialPage,
      pagesRejected: this.pagesRejected,
      remoteCsid: this.remote.csid,
      remoteCsidRaw: this.remote.csidRaw,
      callerNumber: this.callerNumber,
      calledNumber: this.calledNumber ?? this.options.number ?? null,
      reason,
      startedAt: this.startedAt,
      connectedAt: this.connectedAt,
      endedAt: new Date(),
      signallingRate: this.pageRate,
    };
  }
}
