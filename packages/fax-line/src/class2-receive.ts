/**
 * A Class 2.0 fax modem (ITU-T T.32) answering a call: the modem runs T.30 and reports through +F
 * responses; we answer (ATA: +FCO, the caller's +FTI, the session's +FCS), take each page with
 * +FDR (its data, then +FPS and the post-page message +FET), judge it ourselves and tell the
 * modem MCF or RTN (+FPS=) before the next +FDR, until the hang-up report +FHS.
 */
import type { Class2LineOptions, Class2Timers } from './class2';
import { FAX_WIDTH } from './documents/fax-document';
import { describeFhs, reasonForFhs } from './fhs';
import type { CallState } from './modem-call';
import type { AtResult } from './modem-channel';
import { checkPage, ReceiveSession } from './modem-receive';
import { LineReason } from './types';

type Class2ReceiveProtocol = 'await_ring' | 'answer' | 'receive_page';
type State = Class2ReceiveProtocol | CallState;

/** +FCS bit-rate codes (BR) in bit/s. */
const BIT_RATES = [2400, 4800, 7200, 9600, 12000, 14400];
/** +FET post-page messages. */
const POST_PAGE = ['MPS', 'EOM', 'EOP', 'PRI-MPS', 'PRI-EOM', 'PRI-EOP'] as const;
/** +FPS= values: the response the modem sends for the page. */
const PPR = { MCF: 1, RTN: 2 } as const;
/** <DC2>: the DTE is ready for the page data. */
const DC2 = 0x12;

/** One answered call on a Class 2.0 modem. */
export class Class2ReceiveSession extends ReceiveSession<Class2ReceiveProtocol, Class2Timers, Class2LineOptions> {
  protected readonly recentLabel = 'reports';
  private hangupCode: string | null = null;
  private fine = true;
  private postPage: (typeof POST_PAGE)[number] | null = null;
  /** The response we set for the next +FDR (MCF by default). */
  private pendingResponse: number = PPR.MCF;

  protected successDetail(): string {
    return describeFhs(this.hangupCode ?? '00');
  }

  protected protocolStates(): Record<Class2ReceiveProtocol, () => Promise<State>> {
    return {
      await_ring: () => this.awaitRing('answer'),
      answer: () => this.answer(),
      receive_page: () => this.receivePage(),
    };
  }

  /** Notes the +F reports that come with any result: hang-up code, the caller's id, the session, the post-page message. */
  protected override noteResult(result: AtResult): void {
    super.noteResult(result);
    for (const line of result.info) {
      const text = line.trim();
      const fhs = /^\+FHS:\s*([0-9A-Fa-f]{1,2})/.exec(text);
      if (fhs) {
        this.hangupCode = fhs[1].toUpperCase().padStart(2, '0');
        this.remember(describeFhs(this.hangupCode));
      }
      const fti = /^\+FTI:\s*"?(.*?)"?\s*$/.exec(text);
      if (fti) {
        const clean = fti[1].replace(/[^\x20-\x7e]/g, '?').trim();
        this.remote = { csid: clean.length > 0 ? clean : null, csidRaw: fti[1] };
      }
      const fcs = /^\+FCS:\s*(\d+)\s*,\s*(\d+)/.exec(text);
      if (fcs) {
        this.fine = Number(fcs[1]) > 0;
        this.pageRate = BIT_RATES[Number(fcs[2])] ?? this.pageRate;
      }
      const fet = /^\+FET:\s*(\d+)/.exec(text);
      if (fet) this.postPage = POST_PAGE[Number(fet[1])] ?? null;
      if (/^\+F(CO|CS|PS|ET)/.test(text)) this.remember(text);
    }
  }

  protected async configureModem(): Promise<State> {
    const localId = this.localId.replace(/[^\x20-\x7e]|"/g, ' ').slice(0, 20);
    const setup = [
      'ATE0',
      'ATV1',
      'AT+FCLASS=2.0',
      // We answer, not the modem.
      'ATS0=0',
      // Call information (NMBR, NDID) before RING.
      'AT+VCID=1',
      // Direct bit order: the first bit on the line is the first (least significant) bit of each byte.
      'AT+FBO=0',
      // Report everything: +FCS, +FTI, +FPS, +FET.
      'AT+FNR=1,1,1,0',
      // We can receive: fine, up to 14400, 1728 px, unlimited length, 1-D, no ECM.
      'AT+FCC=1,5,0,2,0,0,0,0',
      'AT+FCR=1',
      `AT+FLI="${localId}"`,
    ];
    const essential = (command: string): boolean => command === 'AT+FCLASS=2.0' || command === 'ATE0' || command === 'AT+FCR=1';
    return (await this.applySettings(setup, essential)) ?? 'await_ring';
  }

  private async answer(): Promise<State> {
    const result = await this.command('ATA', this.timers.dial);
    if (this.hangupCode !== null) return this.failFhs();
    if (result.code !== 'OK' || !result.info.some((line) => line.trim().startsWith('+FCO'))) return this.callLost(result, 'answering the call');
    this.notify(() => this.observer.connected?.({ ...this.remote }));
    return this.answered('receive_page');
  }

  /** +FDR: one page (or, after the last one, the modem's hang-up report). */
  private async receivePage(): Promise<State> {
    const pageNumber = this.received.length + 1;
    if (this.pendingResponse !== PPR.MCF) {
      await this.command(`AT+FPS=${this.pendingResponse}`);
      this.pendingResponse = PPR.MCF;
    }
    this.postPage = null;
    const start = await this.command('AT+FDR', this.timers.pageStart);
    if (this.hangupCode !== null) return this.ended(pageNumber);
    if (start.code !== 'CONNECT') return this.callLost(start, `to AT+FDR for page ${pageNumber}`);
    await this.ch.write(Buffer.from([DC2]));
    const { data, ended } = await this.ch.receiveData(this.timers.pageDone, this.signal);
    const check = checkPage(data, FAX_WIDTH, this.fine ? 'fine' : 'standard');
    this.partialPage = check.page;
    this.trace(`<< page ${pageNumber}: ${data.length} bytes, ${check.page.height} rows, ${check.page.badRows} bad`);
    if (!ended) return this.fail(LineReason.NO_CARRIER, `page ${pageNumber} data stopped`);
    this.noteResult(await this.ch.readResult(this.timers.command, this.signal));
    const postPage = this.reportedPostPage();
    if (postPage === null)
      return this.hangupCode !== null ? this.ended(pageNumber) : this.fail(LineReason.NO_CARRIER, `no post-page message after page ${pageNumber}`);
    if (check.good) this.keepPage(check);
    else {
      this.rejectPage(check);
      this.pendingResponse = PPR.RTN;
    }
    this.trace(`.. page ${pageNumber} ${postPage}: ${check.good ? 'MCF' : 'RTN'}`);
    if (check.good && postPage.endsWith('EOP')) this.complete = true;
    // After EOP the next +FDR lets the modem answer and report the end (+FHS:00).
    return 'receive_page';
  }

  /** The post-page message +FET reported since the last +FDR (noteResult keeps it). */
  private reportedPostPage(): (typeof POST_PAGE)[number] | null {
    return this.postPage;
  }

  /** The modem reported the hang-up: normal after the last page, a failure before it. */
  private ended(pageNumber: number): State {
    if (this.hangupCode === '00' && this.complete) return 'hangup';
    if (this.hangupCode === '00') return this.fail(LineReason.NO_CARRIER, `the caller ended the call before page ${pageNumber}`);
    return this.failFhs();
  }

  private failFhs(): State {
    const code = this.hangupCode!;
    return this.fail(reasonForFhs(code), describeFhs(code));
  }

  protected async hangup(): Promise<State> {
    if (this.channel) {
      if (this.connectedAt && this.hangupCode === null) await this.command('AT+FKS');
      await this.command('ATH0');
    }
    return 'done';
  }
}
