/**
 * A Class 2.0 fax modem (ITU-T T.32): the modem runs T.30 itself and reports through +F
 * responses; we dial, hand it each page and read the post-page response and hang-up code.
 * Tested against the scripted modem only (iaxmodem has no Class 2).
 */
import { bitmapForResolution, FAX_WIDTH, type FaxPage } from '../documents/fax-document';
import { encodeMh, reverseBitOrder } from '../documents/t4-mh';
import { type AtResult, CAN, DLE, LineAbortedError, ModemChannel, ModemLinkError, escapeDle } from './modem-channel';
import { describeFhs, reasonForFhs, statusFor } from './outcome';
import { openSerialPort, type SerialLink } from './serial-port';
import { type FaxLine, type LineObserver, LineReason, type LineReasonCode, type LineResult, type LineSendRequest } from './types';

export interface Class2Timers {
  command: number;
  /** ATD until +FCO or a failure: covers ringing and the modem's own phase B. */
  dial: number;
  /** AT+FDT until CONNECT (the modem trains first). */
  pageStart: number;
  /** After the post-page message until the modem reports the receiver's answer. */
  pageDone: number;
  xoff: number;
  hangupGuard: number;
}

export const DEFAULT_CLASS2_TIMERS: Class2Timers = {
  command: 5_000,
  dial: 120_000,
  pageStart: 60_000,
  pageDone: 120_000,
  xoff: 60_000,
  hangupGuard: 2_000,
};

export interface Class2LineOptions {
  id: string;
  device: string | (() => Promise<SerialLink>);
  timers?: Partial<Class2Timers>;
  dialPrefix?: string;
  /** T.30 retries of a page the receiver rejected (RTN). Default 3 transmissions. */
  retries?: number;
}

const DIAL_STRING = /^[0-9*#+,ABCDPTWabcdptw!@;]{1,64}$/;

/** Post-page message characters after <DLE>: MPS, EOP. */
const PPM = { MPS: 0x2c, EOP: 0x2e } as const;
/** +FPS post-page response codes. */
const PPR = { MCF: 1, RTN: 2, RTP: 3, PIN: 4, PIP: 5 } as const;
/** +FCS/+FIS bit-rate codes (BR) in bit/s. */
const BIT_RATES = [2400, 4800, 7200, 9600, 12000, 14400];
/** +FCS scan time codes (ST): ms at standard and fine resolution. */
const SCAN_TIMES: ReadonlyArray<[number, number]> = [[0, 0], [5, 5], [10, 5], [10, 10], [20, 10], [20, 20], [40, 20], [40, 40]];

export class Class20Line implements FaxLine {
  readonly kind = 'class2.0' as const;
  readonly id: string;
  private readonly timers: Class2Timers;
  private sending = false;
  private lastHangupAt = 0;
  private closed = false;

  constructor(private readonly options: Class2LineOptions) {
    this.id = options.id;
    this.timers = { ...DEFAULT_CLASS2_TIMERS, ...options.timers };
  }

  async send(request: LineSendRequest, observer: LineObserver, signal?: AbortSignal): Promise<LineResult> {
    if (this.closed) throw new Error(`line ${this.id} is closed`);
    if (this.sending) throw new Error(`line ${this.id} is already sending`);
    if (!DIAL_STRING.test(request.dialString)) throw new TypeError(`not a dial string: ${JSON.stringify(request.dialString)}`);
    const odd = request.document.pages.find((page) => page.width !== FAX_WIDTH);
    if (odd) throw new TypeError(`pages must be prepared at ${FAX_WIDTH} pixels, got ${odd.width}`);
    this.sending = true;
    try {
      const wait = this.lastHangupAt + this.timers.hangupGuard - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return await new Class2Session(request, observer, this.timers, this.options, signal).run();
    } finally {
      this.lastHangupAt = Date.now();
      this.sending = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

type Class2State = 'open_port' | 'init_modem' | 'dial' | 'send_page' | 'finish' | 'hangup' | 'done';

class Class2Session {
  private state: Class2State = 'open_port';
  private channel: ModemChannel | null = null;
  private readonly startedAt = new Date();
  private connectedAt: Date | null = null;
  private remote: { csid: string | null; csidRaw: string | null } = { csid: null, csidRaw: null };
  private pageIndex = 0;
  private pagesConfirmed = 0;
  private transmissions = 0;
  private rate: number | null = null;
  private announcedFine: boolean | null = null;
  private hangupCode: string | null = null;
  private reason: { code: LineReasonCode; detail: string } | null = null;
  private lastResultLine = '';
  private readonly recent: string[] = [];

  constructor(
    private readonly request: LineSendRequest,
    private readonly observer: LineObserver,
    private readonly timers: Class2Timers,
    private readonly options: Class2LineOptions,
    private readonly callerSignal: AbortSignal | undefined,
  ) {}

  /** The caller's signal, until the session is ending: the clean-up (ATH0) must run regardless. */
  private get signal(): AbortSignal | undefined {
    return this.reason || this.state === 'hangup' ? undefined : this.callerSignal;
  }

  private get pages(): readonly FaxPage[] {
    return this.request.document.pages;
  }

  async run(): Promise<LineResult> {
    if (this.pages.length === 0) {
      this.reason = { code: LineReason.EMPTY_DOCUMENT, detail: 'the document has no pages' };
      return this.result();
    }
    const handlers: Record<Exclude<Class2State, 'done'>, () => Promise<Class2State>> = {
      open_port: () => this.openPort(),
      init_modem: () => this.initModem(),
      dial: () => this.dial(),
      send_page: () => this.sendPage(),
      finish: () => this.finish(),
      hangup: () => this.hangup(),
    };
    try {
      while (this.state !== 'done') {
        if (this.callerSignal?.aborted && !this.reason && this.state !== 'hangup') {
          this.state = this.fail(LineReason.ABORTED, 'send aborted by the caller');
          continue;
        }
        const state = this.state;
        this.trace(`-- ${state}`);
        try {
          this.state = await handlers[state]();
        } catch (error) {
          if (error instanceof LineAbortedError) {
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

  private get ch(): ModemChannel {
    if (!this.channel) throw new Error('modem channel not open');
    return this.channel;
  }

  private async openPort(): Promise<Class2State> {
    const device = this.options.device;
    try {
      const link = typeof device === 'string' ? await openSerialPort(device) : await device();
      this.channel = new ModemChannel(link, (line) => this.emit(line));
      return 'init_modem';
    } catch (error) {
      this.reason = { code: LineReason.MODEM_ERROR, detail: `cannot open modem: ${(error as Error).message}` };
      return 'done';
    }
  }

  private async command(command: string, timeoutMs = this.timers.command): Promise<AtResult> {
    const result = await this.ch.command(command, timeoutMs, this.signal);
    this.absorb(result);
    return result;
  }

  /** Notes +F reports that can come with any result: hang-up codes, the remote id. */
  private absorb(result: AtResult): void {
    this.lastResultLine = result.line || result.code;
    for (const line of result.info) {
      const text = line.trim();
      const fhs = /^\+FHS:\s*([0-9A-Fa-f]{1,2})/.exec(text);
      if (fhs) {
        this.hangupCode = fhs[1]!.toUpperCase().padStart(2, '0');
        this.remember(describeFhs(this.hangupCode));
      }
      const fci = /^\+FCI:\s*"?(.*?)"?\s*$/.exec(text);
      if (fci) {
        const raw = fci[1]!;
        const clean = raw.replace(/[^\x20-\x7e]/g, '?').trim();
        this.remote = { csid: clean.length > 0 ? clean : null, csidRaw: raw };
      }
      if (/^\+F(CO|CS|IS|PS)/.test(text)) this.remember(text);
    }
  }

  private async initModem(): Promise<Class2State> {
    let alive = false;
    for (let i = 0; i < 3 && !alive; i++) {
      this.ch.discardInput();
      alive = (await this.command('AT', 1500)).code === 'OK';
    }
    if (!alive) return this.fail(LineReason.MODEM_ERROR, 'the modem does not answer AT');
    const localId = this.request.localId.replace(/[^\x20-\x7e]|"/g, ' ').slice(0, 20);
    const setup = [
      'ATE0',
      'ATV1',
      'AT+FCLASS=2.0',
      // XON/XOFF between us and the modem during page data; handled in our code.
      'AT+FLO=1',
      // Direct bit order: the first bit of each byte we write is the first bit on the line.
      'AT+FBO=0',
      // Report everything: +FCS, +FCI, +FPS, +FHS.
      'AT+FNR=1,1,1,0',
      // We can send: fine, up to 14400, 1728 px, unlimited length, 1-D, no ECM.
      'AT+FCC=1,5,0,2,0,0,0,0',
      `AT+FLI="${localId}"`,
    ];
    for (const command of setup) {
      const result = await this.command(command);
      if (result.code !== 'OK' && (command === 'AT+FCLASS=2.0' || command === 'ATE0')) {
        return this.fail(LineReason.MODEM_ERROR, `the modem rejected ${command} (${result.line || result.code})`);
      }
    }
    return 'dial';
  }

  private async dial(): Promise<Class2State> {
    this.notify(() => this.observer.dialing?.());
    const dial = `ATD${this.options.dialPrefix ?? ''}${this.request.dialString}`;
    const result = await this.command(dial, this.timers.dial);
    const connected = result.info.some((line) => line.trim().startsWith('+FCO'));
    if (this.hangupCode && this.hangupCode !== '00') return this.failFhs();
    if (connected && result.code === 'OK') {
      this.connectedAt = new Date();
      this.notify(() => this.observer.connected?.({ ...this.remote }));
      return 'send_page';
    }
    switch (result.code) {
      case 'BUSY':
        return this.fail(LineReason.BUSY, 'the line is busy');
      case 'NO ANSWER':
        return this.fail(LineReason.NO_ANSWER, 'nobody answered');
      case 'NO DIALTONE':
        return this.fail(LineReason.NO_DIALTONE, 'no dial tone: the call could not be placed');
      case 'NO CARRIER':
        return this.fail(LineReason.NO_CARRIER_ON_DIAL, 'the call ended without a fax answer');
      case 'TIMEOUT':
        await this.ch.write(Buffer.from([CAN]));
        return this.fail(LineReason.NO_ANSWER, `no result to ${dial} within ${this.timers.dial} ms`);
      default:
        return this.fail(LineReason.MODEM_ERROR, `unexpected answer to ${dial}`);
    }
  }

  private async sendPage(): Promise<Class2State> {
    const page = this.pages[this.pageIndex]!;
    const pageNumber = this.pageIndex + 1;
    const last = this.pageIndex + 1 >= this.pages.length;
    const fine = page.resolution === 'fine';
    if (this.announcedFine !== fine) {
      // Tell the modem this page's resolution; it renegotiates with the receiver if needed.
      await this.command(`AT+FIS=${fine ? 1 : 0}`);
      this.announcedFine = fine;
    }
    this.transmissions++;
    const start = await this.command('AT+FDT', this.timers.pageStart);
    if (this.hangupCode && this.hangupCode !== '00') return this.failFhs();
    if (start.code !== 'CONNECT') return this.fail(LineReason.NO_CARRIER, `${start.line || start.code} to AT+FDT for page ${pageNumber}`);
    const session = this.sessionFrom(start);
    this.rate = session.rate;
    // Some modems want to see XON before the first byte; others send none. Wait briefly for it.
    await this.ch.awaitByte(0x11, 2000, this.signal);
    const { bitmap } = bitmapForResolution(page, session.fine ?? fine);
    const minBits = Math.ceil((session.rate * session.minScanMs) / 1000);
    const coded = reverseBitOrder(encodeMh(bitmap, { minBitsPerLine: minBits, appendRtc: true }));
    const data = Buffer.concat([escapeDle(coded), Buffer.from([DLE, last ? PPM.EOP : PPM.MPS])]);
    this.trace(`>> page ${pageNumber}/${this.pages.length}: ${data.length} bytes, then ${last ? 'EOP' : 'MPS'}`);
    const sent = await this.ch.sendData(data, {
      xoffTimeoutMs: this.timers.xoff,
      completionTimeoutMs: this.timers.pageDone,
      signal: this.signal,
      // <CAN> cancels a Class 2.0 page transfer.
      abortTerminator: Buffer.from([CAN]),
    });
    this.absorb(sent.result);
    if (this.hangupCode && this.hangupCode !== '00') return this.failFhs();
    if (!sent.written || sent.result.code === 'NO CARRIER' || sent.result.code === 'TIMEOUT') {
      return this.fail(
        sent.result.code === 'TIMEOUT' ? LineReason.MODEM_ERROR : LineReason.NO_CARRIER,
        `${sent.result.line || sent.result.code} during page ${pageNumber} of ${this.pages.length}`,
      );
    }
    let ppr = this.postPageResponse(sent.result);
    // After EOP a normal hang-up report means the receiver confirmed the page.
    if (ppr === null && last && this.hangupCode === '00') ppr = PPR.MCF;
    if (ppr === null) {
      // No +FPS report: ask, as T.32 allows; OK alone means the page was taken.
      const query = await this.command('AT+FPS?');
      ppr = this.postPageResponse(query) ?? (sent.result.code === 'OK' ? PPR.MCF : PPR.RTN);
    }
    this.trace(`.. page ${pageNumber}: ${Object.entries(PPR).find(([, code]) => code === ppr)?.[0] ?? `PPR ${ppr}`}`);
    if (ppr === PPR.MCF || ppr === PPR.RTP || ppr === PPR.PIP) {
      this.pagesConfirmed++;
      this.pageIndex++;
      this.transmissions = 0;
      const confirmed = this.pagesConfirmed;
      this.notify(() => this.observer.pageConfirmed?.(confirmed, this.pages.length));
      if (ppr === PPR.PIP) return this.fail(LineReason.T30_PROCEDURE_INTERRUPT, `PIP after page ${pageNumber}`);
      return this.pageIndex >= this.pages.length ? 'finish' : 'send_page';
    }
    if (ppr === PPR.PIN) return this.fail(LineReason.T30_PROCEDURE_INTERRUPT, `PIN after page ${pageNumber}`);
    if (this.transmissions >= (this.options.retries ?? 3)) {
      return this.fail(LineReason.T30_RTN_LIMIT, `RTN for page ${pageNumber}, sent ${this.transmissions} times`);
    }
    return 'send_page';
  }

  private postPageResponse(result: AtResult): number | null {
    for (const line of result.info) {
      const fps = /^\+FPS:\s*(\d+)/.exec(line.trim());
      if (fps) return Number(fps[1]);
    }
    return null;
  }

  /** The negotiated session from +FCS (vr, br, wd, ln, df, ec, bf, st). */
  private sessionFrom(result: AtResult): { rate: number; fine: boolean | null; minScanMs: number } {
    const line = result.info.find((text) => text.trim().startsWith('+FCS:'));
    const fields = line?.trim().slice(5).split(',').map((field) => Number(field.trim())) ?? [];
    const fine = fields[0] === undefined || Number.isNaN(fields[0]) ? null : fields[0] > 0;
    const rate = BIT_RATES[fields[1] ?? 5] ?? 14400;
    const scan = SCAN_TIMES[fields[7] ?? 0] ?? [0, 0];
    return { rate, fine, minScanMs: fine ? scan[1] : scan[0] };
  }

  /** After the last page: the modem sends DCN and reports +FHS:00. */
  private async finish(): Promise<Class2State> {
    if (this.hangupCode === null) {
      const result = await this.ch.readResult(this.timers.command, this.signal);
      this.absorb(result);
    }
    if (this.hangupCode && this.hangupCode !== '00') return this.failFhs();
    return 'hangup';
  }

  private async hangup(): Promise<Class2State> {
    if (this.channel) {
      if (this.connectedAt && this.hangupCode === null) await this.command('AT+FKS');
      await this.command('ATH0');
    }
    return 'done';
  }

  private failFhs(): Class2State {
    const code = this.hangupCode!;
    return this.fail(reasonForFhs(code), describeFhs(code));
  }

  private fail(code: LineReasonCode, detail: string): Class2State {
    this.reason ??= { code, detail };
    this.trace(`!! ${code}: ${detail}`);
    return 'hangup';
  }

  private remember(text: string): void {
    this.recent.push(text);
    if (this.recent.length > 8) this.recent.shift();
  }

  private trace(text: string): void {
    if (this.channel) this.channel.trace(text);
    else this.emit(text);
  }

  private emit(line: string): void {
    this.notify(() => this.observer.trace?.(line));
  }

  private notify(callback: () => void): void {
    try {
      callback();
    } catch {
      // An observer's failure is its own business.
    }
  }

  private result(): LineResult {
    const reason = this.reason ?? { code: LineReason.OK, detail: describeFhs(this.hangupCode ?? '00') };
    const parts = [reason.detail];
    if (this.lastResultLine) parts.push(`modem: "${this.lastResultLine}"`);
    if (this.recent.length > 0) parts.push(`reports: ${this.recent.join(', ')}`);
    return {
      status: statusFor(reason.code, this.pagesConfirmed, this.pages.length),
      pagesConfirmed: this.pagesConfirmed,
      pagesTotal: this.pages.length,
      remoteCsid: this.remote.csid,
      remoteCsidRaw: this.remote.csidRaw,
      reason: { code: reason.code, detail: parts.join('; ') },
      startedAt: this.startedAt,
      connectedAt: this.connectedAt,
      endedAt: new Date(),
      signallingRate: this.rate,
    };
  }
}
