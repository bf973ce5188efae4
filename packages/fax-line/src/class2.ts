/**
 * A Class 2.0 fax modem (ITU-T T.32): the modem runs T.30 itself and reports through +F
 * responses; we dial, hand it each page and read the post-page response and hang-up code.
 * Tested against the scripted modem only (iaxmodem has no Class 2).
 */
import { type AtResult, CAN, DLE } from './modem-channel';
import { Class2ReceiveSession } from './class2-receive';
import { ModemFaxLine } from './modem-fax-line';
import { type ModemLineOptions, ModemSession, pageLineData, type SessionState } from './modem-session';
import { describeFhs, reasonForFhs } from './fhs';
import { LineReason } from './types';

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

export type Class2LineOptions = ModemLineOptions<Class2Timers>;

/** Post-page message characters after <DLE>: MPS, EOP. */
const PPM = { MPS: 0x2c, EOP: 0x2e } as const;
/** +FPS post-page response codes. */
const PPR = { MCF: 1, RTN: 2, RTP: 3, PIN: 4, PIP: 5 } as const;
/** +FCS/+FIS bit-rate codes (BR) in bit/s. */
const BIT_RATES = [2400, 4800, 7200, 9600, 12000, 14400];
/** +FCS scan time codes (ST): ms at standard and fine resolution. */
const SCAN_TIMES: ReadonlyArray<[number, number]> = [
  [0, 0],
  [5, 5],
  [10, 5],
  [10, 10],
  [20, 10],
  [20, 20],
  [40, 20],
  [40, 40],
];

/** A Class 2.0 modem as a FaxLine. */
export class Class20Line extends ModemFaxLine<Class2Timers, Class2LineOptions> {
  readonly kind = 'class2.0' as const;

  constructor(options: Class2LineOptions) {
    super(options, DEFAULT_CLASS2_TIMERS, Class2Session, Class2ReceiveSession);
  }
}

/** The states between the dial and the hang-up: the modem runs T.30, we hand it pages. */
type Class2Protocol = 'send_page' | 'finish';
type Class2State = SessionState<Class2Protocol>;

class Class2Session extends ModemSession<Class2Protocol, Class2Timers, Class2LineOptions> {
  protected readonly recentLabel = 'reports';
  private announcedFine: boolean | null = null;
  private hangupCode: string | null = null;

  protected successDetail(): string {
    return describeFhs(this.hangupCode ?? '00');
  }

  protected sendStates(): Record<Class2Protocol, () => Promise<Class2State>> {
    return {
      send_page: () => this.sendPage(),
      finish: () => this.finish(),
    };
  }

  /** Also notes +F reports that can come with any result: hang-up codes, the remote id. */
  protected override noteResult(result: AtResult): void {
    super.noteResult(result);
    for (const line of result.info) {
      const text = line.trim();
      const fhs = /^\+FHS:\s*([0-9A-Fa-f]{1,2})/.exec(text);
      if (fhs) {
        this.hangupCode = fhs[1].toUpperCase().padStart(2, '0');
        this.remember(describeFhs(this.hangupCode));
      }
      const fci = /^\+FCI:\s*"?(.*?)"?\s*$/.exec(text);
      if (fci) {
        const raw = fci[1];
        const clean = raw.replace(/[^\x20-\x7e]/g, '?').trim();
        this.remote = { csid: clean.length > 0 ? clean : null, csidRaw: raw };
      }
      if (/^\+F(CO|CS|IS|PS)/.test(text)) this.remember(text);
    }
  }

  protected async configureModem(): Promise<Class2State> {
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
    // Only these two are essential; a modem may lack the others and still send.
    return (await this.applySettings(setup, (command) => command === 'AT+FCLASS=2.0' || command === 'ATE0')) ?? 'dial';
  }

  protected afterDial(result: AtResult): Class2State | null {
    if (this.hungUp) return this.failFhs();
    if (result.code === 'OK' && result.info.some((line) => line.trim().startsWith('+FCO'))) {
      const next = this.answered('send_page');
      this.notify(() => this.observer.connected?.({ ...this.remote }));
      return next;
    }
    return null;
  }

  private async sendPage(): Promise<Class2State> {
    const page = this.pages[this.pageIndex];
    const pageNumber = this.pageIndex + 1;
    const last = this.pageIndex + 1 >= this.pages.length;
    const fine = page.resolution === 'fine';
    if (this.announcedFine !== fine) {
      // Tell the modem this page's resolution; it renegotiates with the receiver if needed.
      await this.command(`AT+FIS=${fine ? 1 : 0}`);
      this.announcedFine = fine;
    }
    this.pageTransmissions++;
    const start = await this.command('AT+FDT', this.timers.pageStart);
    if (this.hungUp) return this.failFhs();
    if (start.code !== 'CONNECT') return this.fail(LineReason.NO_CARRIER, `${start.line || start.code} to AT+FDT for page ${pageNumber}`);
    const session = this.sessionFrom(start);
    this.pageRate = session.rate;
    // Some modems want to see XON before the first byte; others send none. Wait briefly for it.
    await this.ch.awaitByte(0x11, 2000, this.signal);
    const lineSession = { fine: session.fine ?? fine, bitsPerSecond: session.rate, minScanMs: session.minScanMs };
    const data = pageLineData(page, lineSession, Buffer.from([DLE, last ? PPM.EOP : PPM.MPS]));
    this.trace(`>> page ${pageNumber}/${this.pages.length}: ${data.length} bytes, then ${last ? 'EOP' : 'MPS'}`);
    const sent = await this.ch.sendData(data, {
      xoffTimeoutMs: this.timers.xoff,
      completionTimeoutMs: this.timers.pageDone,
      signal: this.signal,
      // <CAN> cancels a Class 2.0 page transfer.
      abortTerminator: Buffer.from([CAN]),
    });
    this.noteResult(sent.result);
    if (this.hungUp) return this.failFhs();
    if (!sent.written || sent.result.code === 'NO CARRIER' || sent.result.code === 'TIMEOUT') {
      return this.callLost(sent.result, `during page ${pageNumber} of ${this.pages.length}`);
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
      this.confirmPage();
      if (ppr === PPR.PIP) return this.fail(LineReason.T30_PROCEDURE_INTERRUPT, `PIP after page ${pageNumber}`);
      return this.pageIndex >= this.pages.length ? 'finish' : 'send_page';
    }
    if (ppr === PPR.PIN) return this.fail(LineReason.T30_PROCEDURE_INTERRUPT, `PIN after page ${pageNumber}`);
    return this.rtnLimitReached() ?? 'send_page';
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
    const fields =
      line
        ?.trim()
        .slice(5)
        .split(',')
        .map((field) => Number(field.trim())) ?? [];
    const fine = fields[0] === undefined || Number.isNaN(fields[0]) ? null : fields[0] > 0;
    const rate = BIT_RATES[fields[1] ?? 5] ?? 14400;
    const scan = SCAN_TIMES[fields[7] ?? 0] ?? [0, 0];
    return { rate, fine, minScanMs: fine ? scan[1] : scan[0] };
  }

  /** After the last page: the modem sends DCN and reports +FHS:00. */
  private async finish(): Promise<Class2State> {
    if (this.hangupCode === null) this.noteResult(await this.ch.readResult(this.timers.command, this.signal));
    if (this.hungUp) return this.failFhs();
    return 'hangup';
  }

  protected async hangup(): Promise<Class2State> {
    if (this.channel) {
      if (this.connectedAt && this.hangupCode === null) await this.command('AT+FKS');
      await this.command('ATH0');
    }
    return 'done';
  }

  /** Whether the modem reported the call ended other than normally. */
  private get hungUp(): boolean {
    return this.hangupCode !== null && this.hangupCode !== '00';
  }

  private failFhs(): Class2State {
    const code = this.hangupCode!;
    return this.fail(reasonForFhs(code), describeFhs(code));
  }
}
