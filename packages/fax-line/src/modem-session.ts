/**
 * Sending a fax on a serial fax modem, whichever service class drives it: the call (modem-call.ts)
 * with the dial, the pages to send and what the receiver confirmed. Class 1 (class1.ts) and
 * Class 2.0 (class2.ts) add only their protocol.
 */
import { bitmapForResolution, type FaxPage } from './documents/fax-document';
import { encodeMh } from './documents/t4-mh';
import { lineOrderData, storedMhLineData } from './documents/t4-mh-line';
import { type CallState, ModemCall, type ModemLineOptions, type ModemTimers } from './modem-call';
import { type AtResult } from './modem-channel';
import { type LineObserver, LineReason, type LineResult, type LineSendRequest } from './types';

export type { ModemLineOptions, ModemTimers } from './modem-call';

export interface PageSession {
  fine: boolean;
  bitsPerSecond: number;
  minScanMs: number;
}

/**
 * A page as the modem takes it: T.4 MH at the session's resolution, each line filled to the
 * receiver's minimum scan time, RTC, first bit on the line first, DLE doubled, then `terminator`.
 * The stored code is sent as it is when the receiver takes the page's resolution and the code is
 * clean; a fine page to a standard-only receiver, or stored data with errors, is coded again.
 */
export function pageLineData(page: FaxPage, session: PageSession, terminator: Uint8Array): Buffer {
  if (page.resolution !== 'fine' || session.fine) {
    const stored = storedMhLineData(page, minBitsPerLine(session), terminator);
    if (stored) return stored;
  }
  return codedPageLineData(page, session, terminator);
}

/** The page decoded, brought to the session's resolution and coded again: what `pageLineData` falls back to. */
export function codedPageLineData(page: FaxPage, session: PageSession, terminator: Uint8Array): Buffer {
  const { bitmap } = bitmapForResolution(page, session.fine);
  return lineOrderData(encodeMh(bitmap, { minBitsPerLine: minBitsPerLine(session), appendRtc: true }), terminator);
}

/** The receiver's minimum scan line time in bits at the session's rate. */
function minBitsPerLine(session: PageSession): number {
  return Math.ceil((session.bitsPerSecond * session.minScanMs) / 1000);
}

/** How a line starts the session of one call: a ModemSession subclass of its service class. */
export type SessionClass<Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> = new (
  request: LineSendRequest,
  observer: LineObserver,
  timers: Timers,
  options: Options,
  signal: AbortSignal | undefined,
) => { run(): Promise<LineResult> };

/** The states every send has; a service class adds its own between `dial` and `hangup`. */
export type SessionState<Protocol extends string> = CallState | 'dial' | Protocol;

/**
 * One send: open the port, wake the modem, dial, the service class's states, hang up.
 */
export abstract class ModemSession<Protocol extends string, Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> extends ModemCall<
  'dial' | Protocol,
  Timers,
  Options
> {
  protected pageIndex = 0;
  protected pagesConfirmed = 0;
  /** Transmissions of the current page: one the receiver rejects (RTN) is sent again, up to the retry limit. */
  protected pageTransmissions = 0;
  /** Bits per second of the last page data sent. */
  protected pageRate: number | null = null;
  protected readonly abortedDetail = 'send aborted by the caller';

  constructor(
    protected readonly request: LineSendRequest,
    protected override readonly observer: LineObserver,
    timers: Timers,
    options: Options,
    signal: AbortSignal | undefined,
  ) {
    super(observer, timers, options, signal);
  }

  /** The result's detail when nothing failed. */
  protected abstract successDetail(): string;

  /** The service class's own states. */
  protected abstract sendStates(): Record<Protocol, () => Promise<SessionState<Protocol>>>;

  /**
   * The state after the dial command when it put the call up (see `answered`) or the service class
   * already knows why it failed; null leaves the result to the common dial failures.
   */
  protected abstract afterDial(result: AtResult): SessionState<Protocol> | null;

  protected protocolStates(): Record<'dial' | Protocol, () => Promise<SessionState<Protocol>>> {
    return { ...this.sendStates(), dial: () => this.dial() };
  }

  protected get pages(): readonly FaxPage[] {
    return this.request.document.pages;
  }

  async run(): Promise<LineResult> {
    if (this.pages.length === 0) {
      this.reason = { code: LineReason.EMPTY_DOCUMENT, detail: 'the document has no pages' };
      return this.result();
    }
    await this.runStates();
    return this.result();
  }

  private async dial(): Promise<SessionState<Protocol>> {
    this.notify(() => this.observer.dialing?.());
    const dial = `ATD${this.options.dialPrefix ?? ''}${this.request.dialString}`;
    const result = await this.command(dial, this.timers.dial);
    const next = this.afterDial(result);
    if (next) return next;
    switch (result.code) {
      case 'TIMEOUT':
        await this.cancelDial();
        return this.fail(LineReason.NO_ANSWER, `no result to ${dial} within ${this.timers.dial} ms`);
      case 'BUSY':
        return this.fail(LineReason.BUSY, 'the line is busy');
      case 'NO ANSWER':
        return this.fail(LineReason.NO_ANSWER, 'nobody answered');
      case 'NO DIALTONE':
        return this.fail(LineReason.NO_DIALTONE, 'no dial tone: the call could not be placed');
      case 'NO CARRIER':
        return this.fail(LineReason.NO_CARRIER_ON_DIAL, 'the call ended without a fax answer');
      default:
        return this.fail(LineReason.MODEM_ERROR, `unexpected answer to ${dial}`);
    }
  }

  /** The receiver rejected the current page (RTN): once it was sent as often as allowed, the failure's state; else null. */
  protected rtnLimitReached(): SessionState<Protocol> | null {
    if (this.pageTransmissions < this.retries) return null;
    return this.fail(LineReason.T30_RTN_LIMIT, `RTN for page ${this.pageIndex + 1}, sent ${this.pageTransmissions} times`);
  }

  /** The receiver confirmed the current page. */
  protected confirmPage(): void {
    this.pagesConfirmed++;
    this.pageIndex++;
    this.pageTransmissions = 0;
    const confirmed = this.pagesConfirmed;
    this.notify(() => this.observer.pageConfirmed?.(confirmed, this.pages.length));
  }

  private result(): LineResult {
    return {
      pagesConfirmed: this.pagesConfirmed,
      pagesTotal: this.pages.length,
      remoteCsid: this.remote.csid,
      remoteCsidRaw: this.remote.csidRaw,
      reason: this.finalReason(this.successDetail()),
      startedAt: this.startedAt,
      connectedAt: this.connectedAt,
      endedAt: new Date(),
      signallingRate: this.pageRate,
    };
  }
}
