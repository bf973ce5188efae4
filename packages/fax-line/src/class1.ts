/**
 * A Class 1 fax modem (T.31) driven by our own T.30 transmitter: the modem only modulates; phase
 * A–E, the frames, the timers, training and fall-back, flow control and page data are all ours
 * (here, and in class1-frames.ts for how frames and carriers go through the modem).
 *
 * The session is an explicit state machine (see modem-session.ts): each named state does its modem
 * I/O and returns the next state. Every command, result and frame goes to the observer's trace.
 */
import { Class1Io, DEFAULT_CLASS1_TIMERS, type Class1LineOptions, type Class1Timers } from './class1-frames';
import { Class1ReceiveSession } from './class1-receive';
import { type AtResult, DLE, ETX, sleep } from './modem-channel';
import { ModemFaxLine } from './modem-fax-line';
import { ModemSession, pageLineData, type SessionState } from './modem-session';
import {
  buildDcs,
  buildFrame,
  decodeIdentity,
  describeCapabilities,
  describeSession,
  encodeIdentity,
  Fcf,
  FCF_X_BIT,
  fcfName,
  type HdlcFrame,
  isFcf,
  parseDis,
  type ReceiverCapabilities,
  type SessionParameters,
  type SignallingRate,
  CONTROL_FINAL,
} from './t30';
import { LineReason } from './types';

export { DEFAULT_CLASS1_TIMERS, type Class1LineOptions, type Class1Timers } from './class1-frames';

/** A Class 1 modem as a FaxLine. */
export class Class1Line extends ModemFaxLine<Class1Timers, Class1LineOptions> {
  readonly kind = 'class1' as const;

  constructor(options: Class1LineOptions) {
    super(options, DEFAULT_CLASS1_TIMERS, Class1Session, Class1ReceiveSession);
  }
}

/** The T.30 states between the dial and the hang-up. */
type Class1Protocol =
  'receive_phase_b' | 'send_dcs' | 'send_tcf' | 'await_training_response' | 'send_page' | 'send_post_page' | 'await_post_page_response' | 'disconnect';
type Class1State = SessionState<Class1Protocol>;

/** One call: dial, T.30 phases B–E, hang up. */
class Class1Session extends ModemSession<Class1Protocol, Class1Timers, Class1LineOptions> {
  private readonly io = new Class1Io(this.modemAccess());
  protected readonly recentLabel = 'frames';
  private capabilities: ReceiverCapabilities | null = null;
  private rates: SignallingRate[] = [];
  private rateIndex = 0;
  private parameters: SessionParameters | null = null;
  private modemCodes: Set<number> | null = null;
  /** Post-page command tries for the current page, DCS tries, DIS repeats. */
  private ppmTries = 0;
  private dcsTries = 0;
  private disRepeats = 0;
  /** Whether T.30 is alive, so DCN makes sense before hanging up. */
  private sessionUp = false;
  private retrainBeforeNextPage = false;
  private readonly preparedPages = new Map<string, Buffer>();

  protected successDetail(): string {
    return 'MCF after EOP';
  }

  protected sendStates(): Record<Class1Protocol, () => Promise<Class1State>> {
    return {
      receive_phase_b: () => this.receivePhaseB(),
      send_dcs: () => this.sendDcs(),
      send_tcf: () => this.sendTcf(),
      await_training_response: () => this.awaitTrainingResponse(),
      send_page: () => this.sendPage(),
      send_post_page: () => this.sendPostPage(),
      await_post_page_response: () => this.awaitPostPageResponse(),
      disconnect: () => this.disconnect(),
    };
  }

  /** DCN, like the hang-up, is said even after an abort. */
  protected override isClosing(state: Class1State): boolean {
    return state === 'disconnect' || super.isClosing(state);
  }

  /** Ends with DCN when T.30 is up, so the receiver is told goodbye. */
  protected override closingState(): Class1State {
    return this.sessionUp ? 'disconnect' : 'hangup';
  }

  // ---- states ----

  protected async configureModem(): Promise<Class1State> {
    // No ATZ: on many modems (iaxmodem among them) it makes the next dial fail for seconds.
    const rejected = await this.applySettings(['ATE0', 'ATV1', 'AT+FCLASS=1']);
    if (rejected) return rejected;
    const codes = await this.command('AT+FTM=?');
    if (codes.code === 'OK') {
      const numbers = codes.info.join(',').match(/\d+/g)?.map(Number) ?? [];
      if (numbers.length > 0) this.modemCodes = new Set(numbers);
    }
    return 'dial';
  }

  protected afterDial(result: AtResult): Class1State | null {
    return result.code === 'CONNECT' ? this.answered('receive_phase_b') : null;
  }

  /** The modem answers the cancel with a result of its own. */
  protected override async cancelDial(): Promise<void> {
    await super.cancelDial();
    await this.ch.readResult(this.timers.command, this.signal);
  }

  /** Phase B, called side speaks: NSF/CSI until the final frame, which must be DIS. */
  private async receivePhaseB(): Promise<Class1State> {
    const deadline = (this.connectedAt?.getTime() ?? Date.now()) + this.timers.t1;
    let afterConnect = true;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return this.fail(LineReason.T30_T1_TIMEOUT, `no DIS from the called station within T1 (${this.timers.t1} ms)`);
      const received = afterConnect ? await this.io.readFrameAfterConnect() : await this.io.receiveFrame(remaining);
      afterConnect = false;
      if (received.kind === 'nothing') {
        if (received.result.code === 'ERROR' || received.result.code === 'NO CARRIER') {
          // Carrier gone between frames; the called station repeats DIS until T1, so keep listening.
          await sleep(200, this.signal);
        }
        continue;
      }
      if (received.kind === 'bad-frame') continue;
      const frame = received.frame;
      if (isFcf(frame.fcf, Fcf.CSI)) {
        this.remote = decodeIdentity(frame.fif);
      } else if (isFcf(frame.fcf, Fcf.DCN)) {
        this.sessionUp = false;
        return this.fail(LineReason.T30_REMOTE_DCN, 'the called station sent DCN in phase B');
      } else if (frame.fcf === Fcf.DIS) {
        return this.acceptDis(frame);
      }
      if (frame.control === CONTROL_FINAL && frame.fcf !== Fcf.DIS) {
        // A final frame that is not DIS (e.g. DTC: the station wants to send to us). Keep waiting for DIS.
        this.trace(`!! unexpected ${fcfName(frame.fcf)} as the final frame of phase B`);
      }
    }
  }

  private acceptDis(frame: HdlcFrame): Class1State {
    const capabilities = parseDis(frame.fif);
    this.capabilities = capabilities;
    // From here on the called station knows us as a fax session: end it with DCN.
    this.sessionUp = true;
    this.notify(() => this.observer.connected?.({ ...this.remote }));
    if (!capabilities.readyToReceive) return this.fail(LineReason.T30_INCOMPATIBLE, 'the called station cannot receive faxes (DIS bit 10 clear)');
    const maxRate = this.options.maxRate ?? 14400;
    this.rates = capabilities.rates.filter(
      (rate) => rate.bitsPerSecond <= maxRate && (!this.modemCodes || (this.modemCodes.has(rate.trainingCode) && this.modemCodes.has(rate.pageCode))),
    );
    if (this.rates.length === 0) return this.fail(LineReason.T30_INCOMPATIBLE, `no signalling rate in common: ${describeCapabilities(capabilities)}`);
    this.rateIndex = 0;
    this.dcsTries = 0;
    return 'send_dcs';
  }

  private get rate(): SignallingRate {
    return this.rates[this.rateIndex];
  }

  /** Phase B, our side: TSI and DCS in one carrier. */
  private async sendDcs(): Promise<Class1State> {
    const capabilities = this.capabilities!;
    const page = this.pages[this.pageIndex];
    const fine = page.resolution === 'fine' && capabilities.fine;
    const a4Rows = fine ? 2292 : 1146;
    this.parameters = {
      rate: this.rate,
      fine,
      minScanMs: fine ? capabilities.minScanMs.fine : capabilities.minScanMs.standard,
      unlimitedLength: capabilities.length === 'unlimited' && page.height > a4Rows * 1.03,
    };
    this.dcsTries++;
    this.trace(`.. DCS ${this.dcsTries}: ${describeSession(this.parameters)}`);
    await this.io.switchToTransmit();
    const tsi = buildFrame(Fcf.TSI | FCF_X_BIT, encodeIdentity(this.request.localId), false);
    const dcs = buildFrame(Fcf.DCS | FCF_X_BIT, buildDcs(this.parameters), true);
    const failed = await this.io.sendFrames([tsi, dcs]);
    if (failed) return this.callLost(failed, 'sending TSI/DCS');
    return 'send_tcf';
  }

  /** Training check: 1.5 s of zeros at the chosen rate. */
  private async sendTcf(): Promise<Class1State> {
    const rate = this.rate;
    const lost = await this.carrier(rate.trainingCode, 'before TCF', `starting TCF at ${rate.bitsPerSecond}`);
    if (lost) return lost;
    const zeros = Buffer.alloc(Math.ceil((rate.bitsPerSecond * 1.5) / 8));
    this.trace(`>> TCF ${zeros.length} zero bytes at ${rate.modulation} ${rate.bitsPerSecond}`);
    const sent = await this.ch.sendData(Buffer.concat([zeros, Buffer.from([DLE, ETX])]), {
      ...this.io.dataTimeouts(rate),
      signal: this.signal,
      abortTerminator: Buffer.from([DLE, ETX]),
    });
    this.noteResult(sent.result);
    if (sent.result.code !== 'OK') return this.callLost(sent.result, 'sending TCF');
    return 'await_training_response';
  }

  private async awaitTrainingResponse(): Promise<Class1State> {
    const received = await this.io.receiveFrame(this.timers.t4);
    if (received.kind !== 'frame') {
      if (received.kind === 'nothing' && received.result.code === 'ERROR') return this.callLost(received.result, 'waiting for CFR');
      if (this.dcsTries >= this.retries) return this.fail(LineReason.T30_DCS_NO_RESPONSE, `no response to DCS after ${this.dcsTries} tries`);
      return 'send_dcs';
    }
    const frame = received.frame;
    if (isFcf(frame.fcf, Fcf.CFR)) {
      this.dcsTries = 0;
      this.disRepeats = 0;
      return 'send_page';
    }
    if (isFcf(frame.fcf, Fcf.FTT)) {
      this.dcsTries = 0;
      if (this.rateIndex + 1 >= this.rates.length) {
        return this.fail(LineReason.T30_TRAINING_FAILED, `FTT at ${this.rate.bitsPerSecond} bit/s, the lowest rate in common`);
      }
      this.rateIndex++;
      this.trace(`.. FTT: falling back to ${this.rate.modulation} ${this.rate.bitsPerSecond}`);
      return 'send_dcs';
    }
    if (frame.fcf === Fcf.DIS || isFcf(frame.fcf, Fcf.CSI) || isFcf(frame.fcf, Fcf.NSF)) {
      // The receiver did not get our DCS and is still announcing itself.
      if (frame.control !== CONTROL_FINAL) return 'await_training_response';
      this.disRepeats++;
      this.dcsTries = 0;
      if (this.disRepeats >= this.retries) return this.fail(LineReason.T30_DIS_REPEATED, `DIS received ${this.disRepeats} times after our DCS`);
      return 'send_dcs';
    }
    if (isFcf(frame.fcf, Fcf.CRP)) {
      if (this.dcsTries >= this.retries) return this.fail(LineReason.T30_DCS_NO_RESPONSE, `CRP after DCS ${this.dcsTries} times`);
      return 'send_dcs';
    }
    if (isFcf(frame.fcf, Fcf.DCN)) {
      this.sessionUp = false;
      return this.fail(LineReason.T30_REMOTE_DCN, 'the receiver sent DCN after training');
    }
    return this.fail(LineReason.T30_INVALID_RESPONSE, `${fcfName(frame.fcf)} in answer to DCS/TCF`);
  }

  /** Phase C: one page of T.4 data at the trained rate. */
  private async sendPage(): Promise<Class1State> {
    const rate = this.rate;
    const parameters = this.parameters!;
    const pageNumber = this.pageIndex + 1;
    const data = this.pageData(this.pageIndex, parameters);
    this.pageTransmissions++;
    // The receiver switches to the high-speed carrier after its CFR/MCF: give it the silence T.30 asks for.
    const lost = await this.carrier(rate.pageCode, `before page ${pageNumber}`, `starting page ${pageNumber}`);
    if (lost) return lost;
    this.pageRate = rate.bitsPerSecond;
    this.trace(`>> page ${pageNumber}/${this.pages.length}: ${data.length} bytes at ${rate.modulation} ${rate.bitsPerSecond}`);
    const sent = await this.ch.sendData(data, { ...this.io.dataTimeouts(rate), signal: this.signal, abortTerminator: Buffer.from([DLE, ETX]) });
    this.trace(`.. page ${pageNumber} data ${sent.written ? 'written' : 'cut short'}; XOFF ${sent.xoffCount} times, longest ${sent.longestXoffMs} ms`);
    this.noteResult(sent.result);
    if (sent.result.code === 'TIMEOUT' && sent.result.line === 'XOFF') {
      return this.fail(LineReason.FLOW_CONTROL_TIMEOUT, `the modem held page ${pageNumber} with XOFF for over ${this.timers.xoff} ms`);
    }
    if (sent.result.code === 'TIMEOUT') {
      this.sessionUp = false;
      return this.fail(LineReason.MODEM_ERROR, `no end of data from the modem during page ${pageNumber} of ${this.pages.length}`);
    }
    if (!sent.written || sent.result.code !== 'OK') return this.callLost(sent.result, `during page ${pageNumber} of ${this.pages.length}`);
    this.ppmTries = 0;
    return 'send_post_page';
  }

  private get postPageCommand(): number {
    return this.pageIndex + 1 < this.pages.length ? Fcf.MPS : Fcf.EOP;
  }

  /** Phase D: MPS (more pages) or EOP (last page). */
  private async sendPostPage(): Promise<Class1State> {
    this.ppmTries++;
    const silence = await this.command('AT+FTS=8');
    if (silence.code !== 'OK') return this.callLost(silence, 'before the post-page command');
    const failed = await this.io.sendFrames([buildFrame(this.postPageCommand | FCF_X_BIT)]);
    if (failed) return this.callLost(failed, `sending ${fcfName(this.postPageCommand)}`);
    return 'await_post_page_response';
  }

  private async awaitPostPageResponse(): Promise<Class1State> {
    const command = fcfName(this.postPageCommand);
    const pageNumber = this.pageIndex + 1;
    const received = await this.io.receiveFrame(this.timers.t4);
    if (received.kind !== 'frame') {
      if (this.ppmTries >= this.retries) {
        return this.fail(LineReason.T30_POST_PAGE_NO_RESPONSE, `no response to ${command} after page ${pageNumber}, repeated ${this.ppmTries} times`);
      }
      return 'send_post_page';
    }
    const frame = received.frame;
    const fcf = frame.fcf & ~FCF_X_BIT;
    if (fcf === Fcf.MCF || fcf === Fcf.RTP || fcf === Fcf.PIP) {
      this.confirmPage();
      if (fcf === Fcf.PIP) return this.fail(LineReason.T30_PROCEDURE_INTERRUPT, `PIP after page ${pageNumber}: the receiver asks for an operator`);
      if (this.pageIndex >= this.pages.length) return 'disconnect';
      if (fcf === Fcf.RTP || this.retrainBeforeNextPage || this.needsNewDcs()) {
        this.retrainBeforeNextPage = false;
        this.dcsTries = 0;
        return 'send_dcs';
      }
      return 'send_page';
    }
    if (fcf === Fcf.RTN) {
      const limit = this.rtnLimitReached();
      if (limit) return limit;
      // Retrain at the next lower rate and send the same page again.
      if (this.rateIndex + 1 < this.rates.length) this.rateIndex++;
      this.trace(`.. RTN: page ${pageNumber} again at ${this.rate.modulation} ${this.rate.bitsPerSecond}`);
      this.dcsTries = 0;
      return 'send_dcs';
    }
    if (fcf === Fcf.PIN) return this.fail(LineReason.T30_PROCEDURE_INTERRUPT, `PIN after page ${pageNumber}: page rejected, operator requested`);
    if (fcf === Fcf.CRP) {
      if (this.ppmTries >= this.retries) return this.fail(LineReason.T30_POST_PAGE_NO_RESPONSE, `CRP to ${command} ${this.ppmTries} times`);
      return 'send_post_page';
    }
    if (fcf === Fcf.DCN) {
      this.sessionUp = false;
      return this.fail(LineReason.T30_REMOTE_DCN, `the receiver sent DCN in answer to ${command} after page ${pageNumber}`);
    }
    return this.fail(LineReason.T30_INVALID_RESPONSE, `${fcfName(frame.fcf)} in answer to ${command} after page ${pageNumber}`);
  }

  /** A page whose resolution differs from the last DCS needs a new DCS (and training). */
  private needsNewDcs(): boolean {
    const next = this.pages[this.pageIndex];
    if (!next || !this.parameters || !this.capabilities) return false;
    return (next.resolution === 'fine' && this.capabilities.fine) !== this.parameters.fine;
  }

  /** Phase E: DCN. */
  private async disconnect(): Promise<Class1State> {
    if (!this.sessionUp) return 'hangup';
    this.sessionUp = false;
    await this.io.switchToTransmit();
    await this.io.sendFrames([buildFrame(Fcf.DCN | FCF_X_BIT)]);
    return 'hangup';
  }

  protected async hangup(): Promise<Class1State> {
    if (this.channel) await this.io.hangUp();
    return 'done';
  }

  // ---- helpers ----

  /** Silence, then the high-speed carrier; null once it is up, else the failure's state. */
  private async carrier(modulationCode: number, beforeIt: string, startingIt: string): Promise<Class1State | null> {
    const failed = await this.io.startCarrier(modulationCode);
    return failed ? this.callLost(failed.result, failed.before ? beforeIt : startingIt) : null;
  }

  /** The page's line data for these parameters: resolution, fill, RTC, bit order, DLE. Cached. */
  private pageData(index: number, parameters: SessionParameters): Buffer {
    const minBits = Math.ceil((parameters.rate.bitsPerSecond * parameters.minScanMs) / 1000);
    const key = `${index}/${parameters.fine}/${minBits}`;
    let data = this.preparedPages.get(key);
    if (!data) {
      const session = { fine: parameters.fine, bitsPerSecond: parameters.rate.bitsPerSecond, minScanMs: parameters.minScanMs };
      data = pageLineData(this.pages[index], session, Buffer.from([DLE, ETX]));
      this.preparedPages.set(key, data);
    }
    return data;
  }

  /** A command failed the way a dropped call makes everything fail. */
  protected override callLost(result: AtResult, during: string): Class1State {
    this.sessionUp = false;
    return super.callLost(result, during);
  }
}
