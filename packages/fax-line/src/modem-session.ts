/**
 * What a call on a serial fax modem is, whichever service class drives the modem: one call at a
 * time per line with a pause after each hang-up, and the call as an explicit state machine — open
 * the port, wake the modem, dial, the service class's own states, hang up — with abort handling,
 * the trace and the result. Class 1 (class1.ts) and Class 2.0 (class2.ts) add only their protocol.
 */
import { bitmapForResolution, FAX_WIDTH, type FaxPage } from './documents/fax-document';
import { encodeMh, reverseBitOrder } from './documents/t4-mh';
import { type AtResult, CAN, LineAbortedError, ModemChannel, ModemLinkError, escapeDle, sleep } from './modem-channel';
import { openSerialPort, type SerialLink } from './serial-port';
import { type FaxLine, type LineObserver, LineReason, type LineReasonCode, type LineResult, type LineSendRequest } from './types';

/** The time limits every modem session has, in milliseconds. */
export interface ModemTimers {
  /** A plain AT command's result. */
  command: number;
  /** ATD until the call is up or has failed. */
  dial: number;
  /** Pause after our hang-up before the next dial. */
  hangupGuard: number;
}

/** What every modem line is configured with; a service class may add its own. */
export interface ModemLineOptions<Timers extends ModemTimers> {
  id: string;
  /** Device path of the modem (e.g. /dev/ttyS0, an iaxmodem pty), or a factory for the link. */
  device: string | (() => Promise<SerialLink>);
  timers?: Partial<Timers>;
  /** Put before the dial string, e.g. "T" for tone dialling. Default none. */
  dialPrefix?: string;
  /**
   * T.30's retry limit: transmissions of a page the receiver rejected (RTN) and, in Class 1, tries
   * of each command. Default 3.
   */
  retries?: number;
}

const DIAL_STRING = /^[0-9*#+,ABCDPTWabcdptw!@;]{1,64}$/;

/**
 * A page as the modem takes it: T.4 MH at the session's resolution, each line filled to the
 * receiver's minimum scan time, RTC, first bit on the line first, DLE doubled, then `terminator`.
 */
export function pageLineData(page: FaxPage, session: { fine: boolean; bitsPerSecond: number; minScanMs: number }, terminator: Buffer): Buffer {
  const minBits = Math.ceil((session.bitsPerSecond * session.minScanMs) / 1000);
  const { bitmap } = bitmapForResolution(page, session.fine);
  const coded = encodeMh(bitmap, { minBitsPerLine: minBits, appendRtc: true });
  return Buffer.concat([escapeDle(reverseBitOrder(coded)), terminator]);
}

/** How a line starts the session of one call: a ModemSession subclass of its service class. */
export type SessionClass<Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> = new (
  request: LineSendRequest,
  observer: LineObserver,
  timers: Timers,
  options: Options,
  signal: AbortSignal | undefined,
) => { run(): Promise<LineResult> };

/**
 * A fax modem as a FaxLine. The device is opened for each call and closed after it, so a modem
 * that was unplugged or restarted between calls is simply found again.
 */
export abstract class ModemFaxLine<Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> implements FaxLine {
  abstract readonly kind: FaxLine['kind'];
  readonly id: string;
  protected readonly timers: Timers;
  private sending = false;
  private lastHangupAt = 0;
  private closed = false;

  /** `defaults` are the service class's timers, which `options.timers` may override one by one. */
  protected constructor(
    private readonly options: Options,
    defaults: Timers,
    private readonly Session: SessionClass<Timers, Options>,
  ) {
    this.id = options.id;
    this.timers = { ...defaults, ...options.timers };
  }

  async send(request: LineSendRequest, observer: LineObserver, signal?: AbortSignal): Promise<LineResult> {
    if (this.closed) throw new Error(`line ${this.id} is closed`);
    if (this.sending) throw new Error(`line ${this.id} is already sending`);
    if (!DIAL_STRING.test(request.dialString)) throw new TypeError(`not a dial string: ${JSON.stringify(request.dialString)}`);
    const odd = request.document.pages.find((page) => page.width !== FAX_WIDTH);
    if (odd) throw new TypeError(`pages must be prepared at ${FAX_WIDTH} pixels, got ${odd.width}`);
    this.sending = true;
    try {
      await sleep(this.lastHangupAt + this.timers.hangupGuard - Date.now(), signal);
      return await new this.Session(request, observer, this.timers, this.options, signal).run();
    } finally {
      this.lastHangupAt = Date.now();
      this.sending = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The states every session has; a service class adds its own between `dial` and `hangup`. */
export type CommonState = 'open_port' | 'init_modem' | 'dial' | 'hangup' | 'done';
export type SessionState<Protocol extends string> = CommonState | Protocol;

type Handlers<Protocol extends string> = Record<Exclude<SessionState<Protocol>, 'done'>, () => Promise<SessionState<Protocol>>>;

/**
 * One call: open the port, wake the modem, dial, the service class's states, hang up. Each named
 * state does its modem I/O and returns the next state; every state change, command and result
 * goes to the observer's trace.
 */
export abstract class ModemSession<Protocol extends string, Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> {
  protected state: SessionState<Protocol> = 'open_port';
  protected channel: ModemChannel | null = null;
  private readonly startedAt = new Date();
  protected connectedAt: Date | null = null;
  protected remote: { csid: string | null; csidRaw: string | null } = { csid: null, csidRaw: null };
  protected pageIndex = 0;
  protected pagesConfirmed = 0;
  /** Transmissions of the current page: one the receiver rejects (RTN) is sent again, up to the retry limit. */
  protected pageTransmissions = 0;
  /** Bits per second of the last page data sent. */
  protected pageRate: number | null = null;
  protected reason: { code: LineReasonCode; detail: string } | null = null;
  protected lastResultLine = '';
  /** The last frames or modem reports, for the result's detail. */
  private readonly recent: string[] = [];

  constructor(
    protected readonly request: LineSendRequest,
    protected readonly observer: LineObserver,
    protected readonly timers: Timers,
    protected readonly options: Options,
    private readonly callerSignal: AbortSignal | undefined,
  ) {}

  /** What `recent` holds, as the result's detail names it: "frames" or "reports". */
  protected abstract readonly recentLabel: string;

  /** The result's detail when nothing failed. */
  protected abstract successDetail(): string;

  /** The service class's own states. */
  protected abstract protocolStates(): Record<Protocol, () => Promise<SessionState<Protocol>>>;

  /** After the modem answers AT: put it in the service class. Returns `dial` or a failure's state. */
  protected abstract configureModem(): Promise<SessionState<Protocol>>;

  /**
   * The state after the dial command when it put the call up (see `answered`) or the service class
   * already knows why it failed; null leaves the result to the common dial failures.
   */
  protected abstract afterDial(result: AtResult): SessionState<Protocol> | null;

  /** Put the modem on-hook; returns `done`. */
  protected abstract hangup(): Promise<SessionState<Protocol>>;

  /** States that run even after an abort or a failure: the goodbye to the far end and going on-hook. */
  protected isClosing(state: SessionState<Protocol>): boolean {
    return state === 'hangup';
  }

  /** Where a failure leads: on-hook, unless the service class has a goodbye to say first. */
  protected closingState(): SessionState<Protocol> {
    return 'hangup';
  }

  /** The caller's signal, until the session is ending: the clean-up must run regardless. */
  protected get signal(): AbortSignal | undefined {
    return this.reason || this.isClosing(this.state) ? undefined : this.callerSignal;
  }

  protected get pages(): readonly FaxPage[] {
    return this.request.document.pages;
  }

  protected get retries(): number {
    return this.options.retries ?? 3;
  }

  async run(): Promise<LineResult> {
    if (this.pages.length === 0) {
      this.reason = { code: LineReason.EMPTY_DOCUMENT, detail: 'the document has no pages' };
      return this.result();
    }
    const handlers = {
      ...this.protocolStates(),
      open_port: () => this.openPort(),
      init_modem: () => this.initModem(),
      dial: () => this.dial(),
      hangup: () => this.hangup(),
    } as Handlers<Protocol>;
    try {
      while (this.state !== 'done') {
        if (this.callerSignal?.aborted && !this.reason && !this.isClosing(this.state)) {
          this.state = this.fail(LineReason.ABORTED, 'send aborted by the caller');
          continue;
        }
        const state = this.state as Exclude<SessionState<Protocol>, 'done'>;
        this.trace(`-- ${state}`);
        try {
          this.state = await handlers[state]();
        } catch (error) {
          if (error instanceof LineAbortedError) {
            // The failure's state says goodbye to the far end where the service class has one.
            this.state = this.fail(LineReason.ABORTED, `send aborted by the caller during ${state}`);
          } else if (error instanceof ModemLinkError) {
            this.reason ??= { code: LineReason.MODEM_ERROR, detail: error.message };
            this.state = 'done';
          } else {
            // A bug of ours: leave the line on-hook before reporting it.
            await this.channel?.command('ATH0', this.timers.command).catch(() => undefined);
            throw error;
          }
        }
      }
    } finally {
      await this.channel?.close().catch(() => undefined);
    }
    return this.result();
  }

  // ---- common states ----

  private async openPort(): Promise<SessionState<Protocol>> {
    const device = this.options.device;
    let link: SerialLink;
    try {
      link = typeof device === 'string' ? await openSerialPort(device) : await device();
    } catch (error) {
      const where = typeof device === 'string' ? ` ${device}` : '';
      this.reason = { code: LineReason.MODEM_ERROR, detail: `cannot open modem${where}: ${(error as Error).message}` };
      return 'done';
    }
    this.channel = new ModemChannel(link, (line) => this.emitTrace(line));
    return 'init_modem';
  }

  private async initModem(): Promise<SessionState<Protocol>> {
    // A modem may hold junk from before us; a bare AT resynchronises it.
    let alive = false;
    for (let i = 0; i < 3 && !alive; i++) {
      this.ch.discardInput();
      alive = (await this.command('AT', 1500)).code === 'OK';
    }
    if (!alive) return this.fail(LineReason.MODEM_ERROR, 'the modem does not answer AT');
    return this.configureModem();
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

  // ---- for the service classes ----

  /** The call is up: note when, and go on to `next`. */
  protected answered(next: SessionState<Protocol>): SessionState<Protocol> {
    this.connectedAt = new Date();
    return next;
  }

  /** Any character cancels dialling. */
  protected async cancelDial(): Promise<void> {
    await this.ch.write(Buffer.from([CAN]));
  }

  /**
   * Setup commands in order. A rejected essential one ends the session: its failure state is
   * returned. Null when the modem took them all, or rejected only ones it may lack.
   */
  protected async applySettings(commands: readonly string[], essential: (command: string) => boolean = () => true): Promise<SessionState<Protocol> | null> {
    for (const command of commands) {
      const result = await this.command(command);
      if (result.code !== 'OK' && essential(command)) {
        return this.fail(LineReason.MODEM_ERROR, `the modem rejected ${command} (${result.line || result.code})`);
      }
    }
    return null;
  }

  protected get ch(): ModemChannel {
    if (!this.channel) throw new Error('modem channel not open');
    return this.channel;
  }

  protected async command(command: string, timeoutMs = this.timers.command): Promise<AtResult> {
    const result = await this.ch.command(command, timeoutMs, this.signal);
    this.noteResult(result);
    return result;
  }

  /** Keeps the modem's last word for the result's detail. */
  protected noteResult(result: AtResult): void {
    this.lastResultLine = result.line || result.code;
  }

  /** A command failed the way a dropped call makes everything fail. */
  protected callLost(result: AtResult, during: string): SessionState<Protocol> {
    const code = result.code === 'TIMEOUT' ? LineReason.MODEM_ERROR : LineReason.NO_CARRIER;
    return this.fail(code, `${result.line || result.code} ${during}`);
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

  protected fail(code: LineReasonCode, detail: string): SessionState<Protocol> {
    this.reason ??= { code, detail };
    this.trace(`!! ${code}: ${detail}`);
    return this.closingState();
  }

  protected remember(text: string): void {
    this.recent.push(text);
    if (this.recent.length > 8) this.recent.shift();
  }

  protected trace(text: string): void {
    if (this.channel) this.channel.trace(text);
    else this.emitTrace(text);
  }

  private emitTrace(line: string): void {
    this.notify(() => this.observer.trace?.(line));
  }

  /** Observer callbacks must not break the call. */
  protected notify(callback: () => void): void {
    try {
      callback();
    } catch {
      // An observer's failure is its own business.
    }
  }

  private result(): LineResult {
    const reason = this.reason ?? { code: LineReason.OK, detail: this.successDetail() };
    const detailParts = [reason.detail];
    if (this.lastResultLine) detailParts.push(`modem: "${this.lastResultLine}"`);
    if (this.recent.length > 0) detailParts.push(`${this.recentLabel}: ${this.recent.join(', ')}`);
    return {
      pagesConfirmed: this.pagesConfirmed,
      pagesTotal: this.pages.length,
      remoteCsid: this.remote.csid,
      remoteCsidRaw: this.remote.csidRaw,
      reason: { code: reason.code, detail: detailParts.join('; ') },
      startedAt: this.startedAt,
      connectedAt: this.connectedAt,
      endedAt: new Date(),
      signallingRate: this.pageRate,
    };
  }
}
