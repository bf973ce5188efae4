/**
 * A Class 1 fax modem (T.31) answering a call with our own T.30 receiver: we answer, announce
 * ourselves (CSI, DIS), take the sender's choice (TSI, DCS), judge its training check (TCF: CFR or
 * FTT), take each page on the high-speed carrier, judge it (MCF or RTN), and follow the sender's
 * post-page commands (MPS, EOP, EOM) to its DCN. The order of states and their edge cases follow
 * spandsp's t30.c: a command repeated because our response was lost gets the same response again,
 * a page cut off by a hang-up is reported but not kept.
 */
import { Class1Io, type Class1LineOptions, type Class1Timers } from './class1-frames';
import { FAX_WIDTH } from './documents/fax-document';
import type { CallState } from './modem-call';
import { checkPage, type PageCheck, ReceiveSession } from './modem-receive';
import {
  buildDis,
  buildFrame,
  CONTROL_FINAL,
  decodeIdentity,
  describeSession,
  encodeIdentity,
  Fcf,
  FCF_X_BIT,
  fcfName,
  type HdlcFrame,
  parseDcs,
  type SessionParameters,
} from './t30';
import { LineReason } from './types';

type Class1ReceiveProtocol =
  | 'await_ring'
  | 'answer'
  | 'send_dis'
  | 'await_dcs'
  | 'receive_tcf'
  | 'send_training_response'
  | 'receive_page'
  | 'await_post_page'
  | 'send_post_page_response'
  | 'await_dcn';
type State = Class1ReceiveProtocol | CallState;

/** Post-page commands, with and without procedure interrupt, by FCF (X bit clear). */
const POST_PAGE: ReadonlyMap<number, 'MPS' | 'EOP' | 'EOM'> = new Map([
  [Fcf.MPS, 'MPS'],
  [Fcf.PRI_MPS, 'MPS'],
  [Fcf.EOP, 'EOP'],
  [Fcf.PRI_EOP, 'EOP'],
  [Fcf.EOM, 'EOM'],
  [Fcf.PRI_EOM, 'EOM'],
]);

/**
 * TCF is 1.5 s of zeros; the check passes when the longest run of zero bytes lasts at least one
 * second at the trained rate (spandsp's rule, which allows for a ragged start and end).
 */
export function trainingCheckPasses(tcf: Uint8Array, bitsPerSecond: number): boolean {
  let longest = 0;
  let run = 0;
  for (const byte of tcf) {
    run = byte === 0 ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest * 8 >= bitsPerSecond;
}

/** One answered call on a Class 1 modem. */
export class Class1ReceiveSession extends ReceiveSession<Class1ReceiveProtocol, Class1Timers, Class1LineOptions> {
  protected readonly recentLabel = 'frames';
  private readonly io = new Class1Io(this.modemAccess());
  private modemCodes: Set<number> | null = null;
  /** The modem said CONNECT to ATA: it is transmitting V.21 already, no AT+FTH=3 for the first DIS. */
  private transmitting = false;
  /** Phase B ends by this time (T1 from the answer, or from a return to phase B). */
  private phaseBDeadline = 0;
  private parameters: SessionParameters | null = null;
  private trainingPassed = false;
  /** The page just received, until it is answered. */
  private page: PageCheck | null = null;
  /** Our last post-page response and where it leads, for a command repeated because it was lost. */
  private response: { fcf: number; command: 'MPS' | 'EOP' | 'EOM' } | null = null;
  private ppmWaits = 0;

  protected successDetail(): string {
    return `${this.received.length} page(s) received, DCN after EOP`;
  }

  protected protocolStates(): Record<Class1ReceiveProtocol, () => Promise<State>> {
    return {
      await_ring: () => this.awaitRing('answer'),
      answer: () => this.answer(),
      send_dis: () => this.sendDis(),
      await_dcs: () => this.awaitDcs(),
      receive_tcf: () => this.receiveTcf(),
      send_training_response: () => this.sendTrainingResponse(),
      receive_page: () => this.receivePage(),
      await_post_page: () => this.awaitPostPage(),
      send_post_page_response: () => this.sendPostPageResponse(),
      await_dcn: () => this.awaitDcn(),
    };
  }

  protected async configureModem(): Promise<State> {
    // S0=0: we answer, not the modem (an auto-answer setting outlives the program that set it).
    // +VCID: call information before RING, where the modem has it.
    const rejected = await this.applySettings(
      ['ATE0', 'ATV1', 'AT+FCLASS=1', 'ATS0=0', 'AT+VCID=1'],
      (command) => command === 'AT+FCLASS=1' || command === 'ATE0',
    );
    if (rejected) return rejected;
    const codes = await this.command('AT+FRM=?');
    if (codes.code === 'OK') {
      const numbers = codes.info.join(',').match(/\d+/g)?.map(Number) ?? [];
      if (numbers.length > 0) this.modemCodes = new Set(numbers);
    }
    return 'await_ring';
  }

  private async answer(): Promise<State> {
    const result = await this.command('ATA', this.timers.dial);
    if (result.code !== 'CONNECT') return this.callLost(result, 'answering the call');
    this.transmitting = true;
    this.phaseBDeadline = Date.now() + this.timers.t1;
    return this.answered('send_dis');
  }

  /** Our DIS: what this modem can receive. 1-D, 1728 px, fine, unlimited length, no minimum scan time. */
  private ourDis(): Buffer {
    const has = (...codes: number[]): boolean => !this.modemCodes || codes.every((code) => this.modemCodes!.has(code));
    const modulations = has(145, 146, 121, 122) ? 'V.17' : has(96, 72) ? 'V.29' : 'V.27ter';
    return buildDis({ modulations, fine: true, minScanIndex: 7, unlimitedLength: true });
  }

  /** Phase B, our side: CSI and DIS in one carrier. */
  private async sendDis(): Promise<State> {
    if (Date.now() > this.phaseBDeadline) return this.fail(LineReason.T30_T1_TIMEOUT, `no DCS from the caller within T1 (${this.timers.t1} ms)`);
    const connected = this.transmitting;
    this.transmitting = false;
    if (!connected) await this.io.switchToTransmit();
    const csi = buildFrame(Fcf.CSI, encodeIdentity(this.localId), false);
    const dis = buildFrame(Fcf.DIS, this.ourDis(), true);
    const failed = await this.io.sendFrames([csi, dis], connected);
    if (failed) return this.callLost(failed, 'sending CSI/DIS');
    return 'await_dcs';
  }

  /** The caller's commands in phase B: TSI and the like, then DCS (or DCN). */
  private async awaitDcs(): Promise<State> {
    for (;;) {
      const remaining = Math.min(this.timers.t4, this.phaseBDeadline - Date.now());
      if (remaining <= 0) return this.fail(LineReason.T30_T1_TIMEOUT, `no DCS from the caller within T1 (${this.timers.t1} ms)`);
      const received = await this.io.receiveFrame(remaining);
      if (received.kind === 'bad-frame') continue;
      if (received.kind === 'nothing') {
        const gone = this.callGone(received.result.code);
        if (gone) return gone;
        // Silence for T4: the caller did not hear our DIS; say it again (until T1).
        return 'send_dis';
      }
      const frame = received.frame;
      const fcf = frame.fcf & ~FCF_X_BIT;
      if (fcf === Fcf.TSI) {
        this.remote = decodeIdentity(frame.fif);
        continue;
      }
      if (fcf === Fcf.DCS) return this.acceptDcs(frame);
      if (fcf === Fcf.DCN) return this.remoteDcn('in phase B');
      if (fcf === Fcf.CRP) return 'send_dis';
      const repeated = this.repeatedCommand(frame);
      if (repeated) return repeated;
      // NSS, SUB, PWD, SEP and the rest: nothing we act on; DCS follows in the same carrier.
      if (frame.control === CONTROL_FINAL) return this.fail(LineReason.T30_INVALID_COMMAND, `${fcfName(frame.fcf)} where DCS was due`);
    }
  }

  private acceptDcs(frame: HdlcFrame): State {
    const parameters = parseDcs(frame.fif);
    if (!parameters) return this.fail(LineReason.T30_INCOMPATIBLE, `DCS we cannot read: ${frame.raw.toString('hex')}`);
    const bit = (n: number): boolean => (((frame.fif[(n - 1) >> 3] ?? 0) >> ((n - 1) & 7)) & 1 ? true : false);
    // We offered 1-D coding at 1728 px without ECM: a DCS asking for more is not a session we can hold.
    if (bit(16) || bit(17) || bit(18) || bit(27))
      return this.fail(LineReason.T30_INCOMPATIBLE, `DCS asks for what our DIS did not offer: ${describeSession(parameters)}`);
    if (this.modemCodes && !(this.modemCodes.has(parameters.rate.trainingCode) && this.modemCodes.has(parameters.rate.pageCode))) {
      return this.fail(LineReason.T30_INCOMPATIBLE, `DCS asks for ${parameters.rate.bitsPerSecond} bit/s, which this modem cannot receive`);
    }
    const first = this.parameters === null;
    this.parameters = parameters;
    this.trace(`.. DCS: ${describeSession(parameters)}`);
    // The caller is known from its first DCS on; a retrain (after FTT, RTN or EOM) is the same caller.
    if (first) this.notify(() => this.observer.connected?.({ ...this.remote }));
    return 'receive_tcf';
  }

  /** The training check: TCF on the high-speed carrier the DCS named. */
  private async receiveTcf(): Promise<State> {
    const rate = this.parameters!.rate;
    const carrier = await this.command(`AT+FRM=${rate.trainingCode}`, this.timers.t2);
    if (carrier.code === '+FCERROR') return 'await_dcs'; // V.21 instead: the caller repeats its DCS.
    if (carrier.code === 'TIMEOUT') await this.io.stopReceiving('no training within T2');
    if (carrier.code !== 'CONNECT') {
      const gone = this.callGone(carrier.code);
      if (gone) return gone;
      this.trainingPassed = false;
      return 'send_training_response';
    }
    const { data, ended } = await this.ch.receiveData(this.timers.t2, this.signal);
    if (!ended) await this.io.stopReceiving('training did not end');
    else this.noteResult(await this.ch.readResult(this.timers.command, this.signal));
    this.trainingPassed = trainingCheckPasses(data, rate.bitsPerSecond);
    this.trace(`<< TCF ${data.length} bytes at ${rate.modulation} ${rate.bitsPerSecond}: ${this.trainingPassed ? 'good' : 'failed'}`);
    return 'send_training_response';
  }

  private async sendTrainingResponse(): Promise<State> {
    await this.io.switchToTransmit();
    const failed = await this.io.sendFrames([buildFrame(this.trainingPassed ? Fcf.CFR : Fcf.FTT)]);
    if (failed) return this.callLost(failed, `sending ${this.trainingPassed ? 'CFR' : 'FTT'}`);
    if (!this.trainingPassed) {
      // The caller retrains, usually at a lower rate: a new DCS and TCF.
      this.phaseBDeadline = Date.now() + this.timers.t1;
      return 'await_dcs';
    }
    return 'receive_page';
  }

  /** Phase C: one page on the high-speed carrier, up to the carrier's end. */
  private async receivePage(): Promise<State> {
    const parameters = this.parameters!;
    const pageNumber = this.received.length + 1;
    const carrier = await this.command(`AT+FRM=${parameters.rate.pageCode}`, this.timers.t2);
    if (carrier.code === '+FCERROR') {
      // V.21 instead of a page: the caller did not hear our CFR or MCF and repeats its command.
      this.phaseBDeadline = Date.now() + this.timers.t1;
      return 'await_dcs';
    }
    if (carrier.code === 'TIMEOUT') {
      await this.io.stopReceiving('no page within T2');
      return this.fail(LineReason.T30_T2_TIMEOUT, `no page ${pageNumber} within T2 (${this.timers.t2} ms)`);
    }
    if (carrier.code !== 'CONNECT') return this.callGone(carrier.code) ?? this.callLost(carrier, `before page ${pageNumber}`);
    this.pageRate = parameters.rate.bitsPerSecond;
    const { data, ended } = await this.ch.receiveData(this.timers.t2, this.signal);
    const end = ended ? await this.ch.readResult(this.timers.command, this.signal) : await this.io.stopReceiving(`page ${pageNumber} data stopped`);
    this.noteResult(end);
    this.page = checkPage(data, FAX_WIDTH, parameters.fine ? 'fine' : 'standard');
    this.partialPage = this.page.page;
    const { height, badRows } = this.page.page;
    this.trace(`<< page ${pageNumber}: ${data.length} bytes, ${height} rows, ${badRows} bad, ${this.page.sawRtc ? 'RTC' : 'no RTC'}`);
    this.ppmWaits = 0;
    return 'await_post_page';
  }

  /** Phase D: the caller's post-page command. */
  private async awaitPostPage(): Promise<State> {
    const pageNumber = this.received.length + 1;
    for (;;) {
      const received = await this.io.receiveFrame(this.timers.t2);
      if (received.kind === 'bad-frame') continue;
      if (received.kind === 'nothing') {
        const cut = this.page !== null && !this.page.sawRtc;
        const gone = this.callGone(received.result.code, ` ${cut ? 'during' : 'after'} page ${pageNumber}`);
        if (gone) return gone;
        if (++this.ppmWaits < this.retries) continue;
        return this.fail(LineReason.T30_T2_TIMEOUT, `no post-page command after page ${pageNumber}`);
      }
      const frame = received.frame;
      const command = POST_PAGE.get(frame.fcf & ~FCF_X_BIT);
      if (command) return this.answerPage(command);
      if ((frame.fcf & ~FCF_X_BIT) === Fcf.DCN) return this.remoteDcn(`after page ${pageNumber} without a post-page command`);
      if (frame.control === CONTROL_FINAL) return this.fail(LineReason.T30_INVALID_COMMAND, `${fcfName(frame.fcf)} after page ${pageNumber}`);
    }
  }

  /** MCF for a page good enough to keep, RTN for one to send again. */
  private answerPage(command: 'MPS' | 'EOP' | 'EOM'): State {
    const page = this.page!;
    this.page = null;
    if (page.good) this.keepPage(page);
    else this.rejectPage(page);
    this.response = { fcf: page.good ? Fcf.MCF : Fcf.RTN, command };
    this.trace(`.. page ${page.good ? this.received.length : this.received.length + 1} ${command}: ${page.good ? 'MCF' : 'RTN'}`);
    return 'send_post_page_response';
  }

  private async sendPostPageResponse(): Promise<State> {
    const { fcf, command } = this.response!;
    await this.io.switchToTransmit();
    const failed = await this.io.sendFrames([buildFrame(fcf)]);
    if (failed) return this.callLost(failed, `sending ${fcfName(fcf)}`);
    if (fcf === Fcf.RTN || command === 'EOM') {
      // RTN: the caller retrains and sends the page again. EOM: back to phase B, our DIS first.
      this.phaseBDeadline = Date.now() + this.timers.t1;
      return command === 'EOM' && fcf === Fcf.MCF ? 'send_dis' : 'await_dcs';
    }
    if (command === 'MPS') return 'receive_page';
    this.complete = true;
    return 'await_dcn';
  }

  /** Phase E: the caller's DCN. Without it the fax is complete all the same. */
  private async awaitDcn(): Promise<State> {
    const received = await this.io.receiveFrame(this.timers.t4);
    if (received.kind === 'frame') {
      if ((received.frame.fcf & ~FCF_X_BIT) === Fcf.DCN) {
        return 'hangup';
      }
      const repeated = this.repeatedCommand(received.frame);
      if (repeated) return repeated;
    }
    return 'hangup';
  }

  /** A post-page command the caller repeats because our response was lost: the same response again. */
  private repeatedCommand(frame: HdlcFrame): State | null {
    const command = POST_PAGE.get(frame.fcf & ~FCF_X_BIT);
    if (!command || !this.response || this.response.command !== command) return null;
    this.trace(`.. ${command} repeated: ${fcfName(this.response.fcf)} again`);
    return 'send_post_page_response';
  }

  /** The modem's answer says the call is gone: the failure's state; null if it is a plain timeout. */
  private callGone(code: string, where = ''): State | null {
    if (code !== 'NO CARRIER' && code !== 'ERROR') return null;
    return this.fail(LineReason.NO_CARRIER, `the caller hung up${where} (${code})`);
  }

  private remoteDcn(where: string): State {
    return this.fail(LineReason.T30_REMOTE_DCN, `the caller sent DCN ${where}`);
  }

  protected async hangup(): Promise<State> {
    if (this.channel) await this.io.hangUp();
    return 'done';
  }
}
