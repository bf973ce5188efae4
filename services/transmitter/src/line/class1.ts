/**
 * A Class 1 fax modem (T.31) driven by our own T.30 transmitter: the modem only modulates; phase
 * A–E, the frames, the timers, training and fall-back, flow control and page data are all here.
 *
 * The session is an explicit state machine: each named state does its modem I/O and returns the
 * next state. Every command, result and frame goes to the observer's trace.
 */
import { bitmapForResolution, FAX_WIDTH, type FaxPage } from '../documents/fax-document';
import { encodeMh, reverseBitOrder } from '../documents/t4-mh';
import { type AtResult, DLE, ETX, CAN, LineAbortedError, ModemChannel, ModemLinkError, escapeDle, printable } from './modem-channel';
import { statusFor } from './outcome';
import { openSerialPort, type SerialLink } from './serial-port';
import {
  buildDcs,
  buildFrame,
  decodeIdentity,
  describeCapabilities,
  describeFrame,
  describeSession,
  encodeIdentity,
  Fcf,
  FCF_X_BIT,
  fcfName,
  type HdlcFrame,
  isFcf,
  parseDis,
  parseFrame,
  type ReceiverCapabilities,
  type SessionParameters,
  type SignallingRate,
  CONTROL_FINAL,
} from './t30';
import { type FaxLine, type LineObserver, LineReason, type LineReasonCode, type LineResult, type LineSendRequest } from './types';

/** T.30 timers and the modem-side time limits, in milliseconds. */
export interface Class1Timers {
  /** T1: from the call's answer to a valid DIS. T.30: 35 s ± 5. */
  t1: number;
  /** T2: waiting for the rest of a frame once its flags were detected. T.30: 6 s ± 1. */
  t2: number;
  /** T4: waiting for a response to a command. T.30: 3 s ± 15 %. */
  t4: number;
  /** A plain AT command's result. */
  command: number;
  /** ATD to a result: longer than the modem's own no-answer time (iaxmodem: 45 s). */
  dial: number;
  /** After the last page byte, until the modem reports the data sent. */
  pageCompletion: number;
  /** Longest XOFF we wait out before giving up on the modem. */
  xoff: number;
  /** Pause after our hang-up before the next dial: iaxmodem refuses calls for 5 s after ATH. */
  hangupGuard: number;
}

export const DEFAULT_CLASS1_TIMERS: Class1Timers = {
  t1: 35_000,
  t2: 6_000,
  t4: 3_000,
  command: 5_000,
  dial: 90_000,
  pageCompletion: 60_000,
  xoff: 15_000,
  hangupGuard: 6_000,
};

export interface Class1LineOptions {
  id: string;
  /** Device path of the modem (e.g. /dev/ttyS0, an iaxmodem pty), or a factory for the link. */
  device: string | (() => Promise<SerialLink>);
  timers?: Partial<Class1Timers>;
  /** Put before the dial string, e.g. "T" for tone dialling. Default none. */
  dialPrefix?: string;
  /** Highest signalling rate to offer, bit/s. Default 14400. */
  maxRate?: number;
  /** T.30's retry limit for commands and page transmissions. Default 3. */
  retries?: number;
}

/** A generous guess at how much page data a modem buffers ahead of the line. */
const MODEM_BUFFER_BYTES = 32 * 1024;

const DIAL_STRING = /^[0-9*#+,ABCDPTWabcdptw!@;]{1,64}$/;

/** Time from this instant; negative never. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    const onAbort = (): void => done();
    signal?.addEventListener('abort', onAbort, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
  });
}

/**
 * A Class 1 modem as a FaxLine. The device is opened for each call and closed after it, so a
 * modem that was unplugged or restarted between calls is simply found again.
 */
export class Class1Line implements FaxLine {
  readonly kind = 'class1' as const;
  readonly id: string;
  private readonly timers: Class1Timers;
  private sending = false;
  private lastHangupAt = 0;
  private closed = false;

  constructor(private readonly options: Class1LineOptions) {
    this.id = options.id;
    this.timers = { ...DEFAULT_CLASS1_TIMERS, ...options.timers };
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
      const session = new Class1Session(request, observer, this.timers, this.options, signal);
      return await session.run();
    } finally {
      this.lastHangupAt = Date.now();
      this.sending = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

type Class1State =
  | 'open_port'
  | 'init_modem'
  | 'dial'
  | 'receive_phase_b'
  | 'send_dcs'
  | 'send_tcf'
  | 'await_training_response'
  | 'send_page'
  | 'send_post_page'
  | 'await_post_page_response'
  | 'disconnect'
  | 'hangup'
  | 'done';

type Received =
  | { kind: 'frame'; frame: HdlcFrame }
  | { kind: 'bad-frame'; detail: string }
  | { kind: 'nothing'; result: AtResult };

/** One call: dial, T.30 phases B–E, hang up. */
class Class1Session {
  private state: Class1State = 'open_port';
  private channel: ModemChannel | null = null;
  private readonly startedAt = new Date();
  private connectedAt: Date | null = null;
  private remote: { csid: string | null; csidRaw: string | null } = { csid: null, csidRaw: null };
  private capabilities: ReceiverCapabilities | null = null;
  private rates: SignallingRate[] = [];
  private rateIndex = 0;
  private parameters: SessionParameters | null = null;
  private modemCodes: Set<number> | null = null;
  private pageIndex = 0;
  private pagesConfirmed = 0;
  private pageRate: number | null = null;
  /** Post-page command tries for the current page, DCS tries, DIS repeats, transmissions of the current page. */
  private ppmTries = 0;
  private dcsTries = 0;
  private disRepeats = 0;
  private pageTransmissions = 0;
  /** Whether T.30 is alive, so DCN makes sense before hanging up. */
  private sessionUp = false;
  private retrainBeforeNextPage = false;
  private reason: { code: LineReasonCode; detail: string } | null = null;
  private lastResultLine = '';
  private readonly recentFrames: string[] = [];
  private readonly preparedPages = new Map<string, Buffer>();

  constructor(
    private readonly request: LineSendRequest,
    private readonly observer: LineObserver,
    private readonly timers: Class1Timers,
    private readonly options: Class1LineOptions,
    private readonly callerSignal: AbortSignal | undefined,
  ) {}

  /** The caller's signal, until the session is ending: the clean-up (DCN, ATH0) must run regardless. */
  private get signal(): AbortSignal | undefined {
    return this.reason || this.state === 'disconnect' || this.state === 'hangup' ? undefined : this.callerSignal;
  }

  private get pages(): readonly FaxPage[] {
    return this.request.document.pages;
  }

  async run(): Promise<LineResult> {
    if (this.pages.length === 0) {
      this.reason = { code: LineReason.EMPTY_DOCUMENT, detail: 'the document has no pages' };
      return this.result();
    }
    const handlers: Record<Exclude<Class1State, 'done'>, () => Promise<Class1State>> = {
      open_port: () => this.openPort(),
      init_modem: () => this.initModem(),
      dial: () => this.dial(),
      receive_phase_b: () => this.receivePhaseB(),
      send_dcs: () => this.sendDcs(),
      send_tcf: () => this.sendTcf(),
      await_training_response: () => this.awaitTrainingResponse(),
      send_page: () => this.sendPage(),
      send_post_page: () => this.sendPostPage(),
      await_post_page_response: () => this.awaitPostPageResponse(),
      disconnect: () => this.disconnect(),
      hangup: () => this.hangup(),
    };
    try {
      while (this.state !== 'done') {
        if (this.callerSignal?.aborted && !this.reason && this.state !== 'hangup' && this.state !== 'disconnect') {
          this.state = this.fail(LineReason.ABORTED, 'send aborted by the caller');
          continue;
        }
        const state = this.state;
        this.traceLine(`-- ${state}`);
        try {
          this.state = await handlers[state]();
        } catch (error) {
          if (error instanceof LineAbortedError) {
            // fail() ends with DCN when T.30 is up, so the receiver is told goodbye.
            this.state = this.fail(LineReason.ABORTED, `send aborted by the caller during ${state}`);
          } else if (error instanceof ModemLinkError) {
            this.reason ??= { code: LineReason.MODEM_ERROR, detail: error.message };
            this.sessionUp = false;
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

  // ---- states ----

  private async openPort(): Promise<Class1State> {
    const device = this.options.device;
    let link: SerialLink;
    try {
      link = typeof device === 'string' ? await openSerialPort(device) : await device();
    } catch (error) {
      this.reason = { code: LineReason.MODEM_ERROR, detail: `cannot open modem ${typeof device === 'string' ? device : ''}: ${(error as Error).message}` };
      return 'done';
    }
    this.channel = new ModemChannel(link, (line) => this.emitTrace(line));
    return 'init_modem';
  }

  private async initModem(): Promise<Class1State> {
    const ch = this.ch;
    // A modem may hold junk from before us; a bare AT resynchronises it.
    let alive = false;
    for (let i = 0; i < 3 && !alive; i++) {
      ch.discardInput();
      alive = (await this.command('AT', 1500)).code === 'OK';
    }
    if (!alive) return this.fail(LineReason.MODEM_ERROR, 'the modem does not answer AT');
    // No ATZ: on many modems (iaxmodem among them) it makes the next dial fail for seconds.
    for (const command of ['ATE0', 'ATV1', 'AT+FCLASS=1']) {
      const result = await this.command(command, this.timers.command);
      if (result.code !== 'OK') return this.fail(LineReason.MODEM_ERROR, `the modem rejected ${command} (${result.line || result.code})`);
    }
    const codes = await this.command('AT+FTM=?', this.timers.command);
    if (codes.code === 'OK') {
      const numbers = codes.info.join(',').match(/\d+/g)?.map(Number) ?? [];
      if (numbers.length > 0) this.modemCodes = new Set(numbers);
    }
    return 'dial';
  }

  private async dial(): Promise<Class1State> {
    this.notify(() => this.observer.dialing?.());
    const dial = `ATD${this.options.dialPrefix ?? ''}${this.request.dialString}`;
    const result = await this.command(dial, this.timers.dial);
    if (result.code === 'TIMEOUT') {
      // Any character cancels dialling; the modem then answers with a result of its own.
      await this.ch.write(Buffer.from([CAN]));
      await this.ch.readResult(this.timers.command, this.signal);
      return this.fail(LineReason.NO_ANSWER, `no result to ${dial} within ${this.timers.dial} ms`);
    }
    switch (result.code) {
      case 'CONNECT':
        this.connectedAt = new Date();
        return 'receive_phase_b';
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

  /** Phase B, called side speaks: NSF/CSI until the final frame, which must be DIS. */
  private async receivePhaseB(): Promise<Class1State> {
    const deadline = (this.connectedAt?.getTime() ?? Date.now()) + this.timers.t1;
    let afterConnect = true;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return this.fail(LineReason.T30_T1_TIMEOUT, `no DIS from the called station within T1 (${this.timers.t1} ms)`);
      const received = afterConnect ? await this.readFrameAfterConnect() : await this.receiveFrame(remaining);
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
        this.traceLine(`!! unexpected ${fcfName(frame.fcf)} as the final frame of phase B`);
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
      (rate) =>
        rate.bitsPerSecond <= maxRate &&
        (!this.modemCodes || (this.modemCodes.has(rate.trainingCode) && this.modemCodes.has(rate.pageCode))),
    );
    if (this.rates.length === 0) return this.fail(LineReason.T30_INCOMPATIBLE, `no signalling rate in common: ${describeCapabilities(capabilities)}`);
    this.rateIndex = 0;
    this.dcsTries = 0;
    return 'send_dcs';
  }

  private get rate(): SignallingRate {
    return this.rates[this.rateIndex]!;
  }

  /** Phase B, our side: TSI and DCS in one carrier. */
  private async sendDcs(): Promise<Class1State> {
    const capabilities = this.capabilities!;
    const page = this.pages[this.pageIndex]!;
    const fine = page.resolution === 'fine' && capabilities.fine;
    const a4Rows = fine ? 2292 : 1146;
    this.parameters = {
      rate: this.rate,
      fine,
      minScanMs: fine ? capabilities.minScanMs.fine : capabilities.minScanMs.standard,
      unlimitedLength: capabilities.length === 'unlimited' && page.height > a4Rows * 1.03,
    };
    this.dcsTries++;
    this.traceLine(`.. DCS ${this.dcsTries}: ${describeSession(this.parameters)}`);
    await this.switchToTransmit();
    const tsi = buildFrame(Fcf.TSI | FCF_X_BIT, encodeIdentity(this.request.localId), false);
    const dcs = buildFrame(Fcf.DCS | FCF_X_BIT, buildDcs(this.parameters), true);
    const failed = await this.sendFrames([tsi, dcs]);
    if (failed) return this.callLost(failed, 'sending TSI/DCS');
    return 'send_tcf';
  }

  /** Training check: 1.5 s of zeros at the chosen rate. */
  private async sendTcf(): Promise<Class1State> {
    const rate = this.rate;
    const silence = await this.command('AT+FTS=8', this.timers.command);
    if (silence.code !== 'OK') return this.callLost(silence, 'before TCF');
    const carrier = await this.command(`AT+FTM=${rate.trainingCode}`, this.timers.command);
    if (carrier.code !== 'CONNECT') return this.callLost(carrier, `starting TCF at ${rate.bitsPerSecond}`);
    const zeros = Buffer.alloc(Math.ceil((rate.bitsPerSecond * 1.5) / 8));
    this.traceLine(`>> TCF ${zeros.length} zero bytes at ${rate.modulation} ${rate.bitsPerSecond}`);
    const sent = await this.ch.sendData(Buffer.concat([zeros, Buffer.from([DLE, ETX])]), {
      ...this.dataTimeouts(rate),
      signal: this.signal,
      abortTerminator: Buffer.from([DLE, ETX]),
    });
    this.lastResultLine = sent.result.line || sent.result.code;
    if (sent.result.code !== 'OK') return this.callLost(sent.result, 'sending TCF');
    return 'await_training_response';
  }

  private async awaitTrainingResponse(): Promise<Class1State> {
    const retries = this.options.retries ?? 3;
    const received = await this.receiveFrame(this.timers.t4);
    if (received.kind !== 'frame') {
      if (received.kind === 'nothing' && received.result.code === 'ERROR') return this.callLost(received.result, 'waiting for CFR');
      if (this.dcsTries >= retries) return this.fail(LineReason.T30_DCS_NO_RESPONSE, `no response to DCS after ${this.dcsTries} tries`);
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
      this.traceLine(`.. FTT: falling back to ${this.rate.modulation} ${this.rate.bitsPerSecond}`);
      return 'send_dcs';
    }
    if (frame.fcf === Fcf.DIS || isFcf(frame.fcf, Fcf.CSI) || isFcf(frame.fcf, Fcf.NSF)) {
      // The receiver did not get our DCS and is still announcing itself.
      if (frame.control !== CONTROL_FINAL) return 'await_training_response';
      this.disRepeats++;
      this.dcsTries = 0;
      if (this.disRepeats >= retries) return this.fail(LineReason.T30_DIS_REPEATED, `DIS received ${this.disRepeats} times after our DCS`);
      return 'send_dcs';
    }
    if (isFcf(frame.fcf, Fcf.CRP)) {
      if (this.dcsTries >= retries) return this.fail(LineReason.T30_DCS_NO_RESPONSE, `CRP after DCS ${this.dcsTries} times`);
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
    const silence = await this.command('AT+FTS=8', this.timers.command);
    if (silence.code !== 'OK') return this.callLost(silence, `before page ${pageNumber}`);
    const carrier = await this.command(`AT+FTM=${rate.pageCode}`, this.timers.command);
    if (carrier.code !== 'CONNECT') return this.callLost(carrier, `starting page ${pageNumber}`);
    this.pageRate = rate.bitsPerSecond;
    this.traceLine(`>> page ${pageNumber}/${this.pages.length}: ${data.length} bytes at ${rate.modulation} ${rate.bitsPerSecond}`);
    const sent = await this.ch.sendData(data, { ...this.dataTimeouts(rate), signal: this.signal, abortTerminator: Buffer.from([DLE, ETX]) });
    this.traceLine(`.. page ${pageNumber} data ${sent.written ? 'written' : 'cut short'}; XOFF ${sent.xoffCount} times, longest ${sent.longestXoffMs} ms`);
    this.lastResultLine = sent.result.line || sent.result.code;
    if (sent.result.code === 'TIMEOUT' && sent.result.line === 'XOFF') {
      return this.fail(LineReason.FLOW_CONTROL_TIMEOUT, `the modem held page ${pageNumber} with XOFF for over ${this.timers.xoff} ms`);
    }
    if (!sent.written || sent.result.code !== 'OK') {
      this.sessionUp = false;
      return this.fail(
        sent.result.code === 'TIMEOUT' ? LineReason.MODEM_ERROR : LineReason.NO_CARRIER,
        `${sent.result.code === 'TIMEOUT' ? 'no end of data from the modem' : sent.result.line || sent.result.code} during page ${pageNumber} of ${this.pages.length}`,
      );
    }
    this.ppmTries = 0;
    return 'send_post_page';
  }

  private get postPageCommand(): number {
    return this.pageIndex + 1 < this.pages.length ? Fcf.MPS : Fcf.EOP;
  }

  /** Phase D: MPS (more pages) or EOP (last page). */
  private async sendPostPage(): Promise<Class1State> {
    this.ppmTries++;
    const silence = await this.command('AT+FTS=8', this.timers.command);
    if (silence.code !== 'OK') return this.callLost(silence, 'before the post-page command');
    const failed = await this.sendFrames([buildFrame(this.postPageCommand | FCF_X_BIT)]);
    if (failed) return this.callLost(failed, `sending ${fcfName(this.postPageCommand)}`);
    return 'await_post_page_response';
  }

  private async awaitPostPageResponse(): Promise<Class1State> {
    const retries = this.options.retries ?? 3;
    const command = fcfName(this.postPageCommand);
    const pageNumber = this.pageIndex + 1;
    const received = await this.receiveFrame(this.timers.t4);
    if (received.kind !== 'frame') {
      if (this.ppmTries >= retries) {
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
      if (this.pageTransmissions >= retries) {
        return this.fail(LineReason.T30_RTN_LIMIT, `RTN for page ${pageNumber}, sent ${this.pageTransmissions} times`);
      }
      // Retrain at the next lower rate and send the same page again.
      if (this.rateIndex + 1 < this.rates.length) this.rateIndex++;
      this.traceLine(`.. RTN: page ${pageNumber} again at ${this.rate.modulation} ${this.rate.bitsPerSecond}`);
      this.dcsTries = 0;
      return 'send_dcs';
    }
    if (fcf === Fcf.PIN) return this.fail(LineReason.T30_PROCEDURE_INTERRUPT, `PIN after page ${pageNumber}: page rejected, operator requested`);
    if (fcf === Fcf.CRP) {
      if (this.ppmTries >= retries) return this.fail(LineReason.T30_POST_PAGE_NO_RESPONSE, `CRP to ${command} ${this.ppmTries} times`);
      return 'send_post_page';
    }
    if (fcf === Fcf.DCN) {
      this.sessionUp = false;
      return this.fail(LineReason.T30_REMOTE_DCN, `the receiver sent DCN in answer to ${command} after page ${pageNumber}`);
    }
    return this.fail(LineReason.T30_INVALID_RESPONSE, `${fcfName(frame.fcf)} in answer to ${command} after page ${pageNumber}`);
  }

  private confirmPage(): void {
    this.pagesConfirmed++;
    this.pageIndex++;
    this.pageTransmissions = 0;
    const confirmed = this.pagesConfirmed;
    this.notify(() => this.observer.pageConfirmed?.(confirmed, this.pages.length));
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
    await this.switchToTransmit();
    await this.sendFrames([buildFrame(Fcf.DCN | FCF_X_BIT)]);
    return 'hangup';
  }

  private async hangup(): Promise<Class1State> {
    if (!this.channel) return 'done';
    // A modem still receiving takes the first byte as "stop" and ignores the rest of the command
    // (iaxmodem answers <DLE><ETX> OK and stays off-hook): say ATH0 until it is plainly obeyed.
    for (let i = 0; i < 3; i++) {
      const result = await this.ch.command('ATH0', this.timers.command);
      if (result.code === 'OK' && result.info.length === 0) break;
    }
    return 'done';
  }

  // ---- helpers ----

  private get ch(): ModemChannel {
    if (!this.channel) throw new Error('modem channel not open');
    return this.channel;
  }

  private async command(command: string, timeoutMs: number): Promise<AtResult> {
    const result = await this.ch.command(command, timeoutMs, this.signal);
    this.lastResultLine = result.line || result.code;
    return result;
  }

  /** T.30 asks for 75 ms ± 20 of silence before we transmit after receiving. */
  private async switchToTransmit(): Promise<void> {
    const result = await this.command('AT+FRS=7', this.timers.command);
    if (result.code !== 'OK') await sleep(80, this.signal);
  }

  /**
   * Sends HDLC frames in one V.21 carrier: CONNECT after each non-final frame, OK after the final
   * one. Returns null on success, or the result that broke it.
   */
  private async sendFrames(frames: Buffer[]): Promise<AtResult | null> {
    const start = await this.command('AT+FTH=3', this.timers.command);
    if (start.code !== 'CONNECT') return start;
    for (const [i, bytes] of frames.entries()) {
      const frame = parseFrame(bytes)!;
      this.noteFrame('>>', frame);
      await this.ch.write(Buffer.concat([escapeDle(bytes), Buffer.from([DLE, ETX])]));
      const last = i === frames.length - 1;
      // A frame of 25 bytes takes under a second at 300 bit/s, after a 1 s preamble for the first.
      const result = await this.ch.readResult(this.timers.command, this.signal);
      this.lastResultLine = result.line || result.code;
      if (result.code !== (last ? 'OK' : 'CONNECT')) return result;
    }
    return null;
  }

  /** AT+FRH=3 and one frame. `timeoutMs` (T4, or what is left of T1) bounds the wait for its flags. */
  private async receiveFrame(timeoutMs: number): Promise<Received> {
    this.ch.trace('>> AT+FRH=3');
    await this.ch.write(Buffer.from('AT+FRH=3\r', 'latin1'));
    const result = await this.ch.readResult(timeoutMs, this.signal);
    this.lastResultLine = result.line || result.code;
    if (result.code === 'TIMEOUT') {
      // Timer expired with the modem still listening: any byte stops it, then it says OK.
      this.ch.trace('>> <CAN> (timer expired: stop receiving)');
      await this.ch.write(Buffer.from([CAN]));
      await this.ch.readResult(this.timers.command, this.signal);
      return { kind: 'nothing', result };
    }
    if (result.code !== 'CONNECT') return { kind: 'nothing', result };
    return this.readFrameAfterConnect();
  }

  /** The frame the modem delivers after CONNECT, and its verdict on the FCS. */
  private async readFrameAfterConnect(): Promise<Received> {
    const bytes = await this.ch.readDleData(this.timers.t2, this.signal);
    if (bytes === null) {
      this.ch.trace('>> <CAN> (frame did not end within T2)');
      await this.ch.write(Buffer.from([CAN]));
      const result = await this.ch.readResult(this.timers.command, this.signal);
      return { kind: 'nothing', result };
    }
    const verdict = await this.ch.readResult(this.timers.command, this.signal);
    this.lastResultLine = verdict.line || verdict.code;
    const frame = parseFrame(bytes);
    if (verdict.code !== 'OK' || !frame) {
      const detail = `bad frame (${verdict.line || verdict.code}): ${printable(bytes)}`;
      this.ch.trace(`<< ${detail}`);
      this.rememberFrame(`<< bad frame`);
      return { kind: 'bad-frame', detail };
    }
    this.noteFrame('<<', frame);
    return { kind: 'frame', frame };
  }

  /** The page's line data for these parameters: resolution, fill, RTC, bit order, DLE. Cached. */
  private pageData(index: number, parameters: SessionParameters): Buffer {
    const minBits = Math.ceil((parameters.rate.bitsPerSecond * parameters.minScanMs) / 1000);
    const key = `${index}/${parameters.fine}/${minBits}`;
    let data = this.preparedPages.get(key);
    if (!data) {
      const { bitmap } = bitmapForResolution(this.pages[index]!, parameters.fine);
      const coded = encodeMh(bitmap, { minBitsPerLine: minBits, appendRtc: true });
      data = Buffer.concat([escapeDle(reverseBitOrder(coded)), Buffer.from([DLE, ETX])]);
      this.preparedPages.set(key, data);
    }
    return data;
  }

  /**
   * A modem buffers many seconds of data (iaxmodem holds XOFF for 8 s at 14400 bit/s): the waits
   * for XON and for the end of data grow as the rate falls.
   */
  private dataTimeouts(rate: SignallingRate): { xoffTimeoutMs: number; completionTimeoutMs: number } {
    const bufferDrainMs = (MODEM_BUFFER_BYTES * 8 * 1000) / rate.bitsPerSecond;
    return {
      xoffTimeoutMs: Math.max(this.timers.xoff, 2 * bufferDrainMs),
      completionTimeoutMs: Math.max(this.timers.pageCompletion, 2 * bufferDrainMs),
    };
  }

  /** A command failed the way a dropped call makes everything fail. */
  private callLost(result: AtResult, during: string): Class1State {
    this.sessionUp = false;
    const code = result.code === 'TIMEOUT' ? LineReason.MODEM_ERROR : LineReason.NO_CARRIER;
    return this.fail(code, `${result.line || result.code} ${during}`);
  }

  private fail(code: LineReasonCode, detail: string): Class1State {
    this.reason ??= { code, detail };
    this.traceLine(`!! ${code}: ${detail}`);
    if (this.sessionUp) return 'disconnect';
    return 'hangup';
  }

  private noteFrame(direction: '<<' | '>>', frame: HdlcFrame): void {
    this.ch.trace(`${direction} ${describeFrame(frame)}`);
    this.rememberFrame(`${direction} ${fcfName(frame.fcf)}`);
  }

  private rememberFrame(text: string): void {
    this.recentFrames.push(text);
    if (this.recentFrames.length > 8) this.recentFrames.shift();
  }

  private traceLine(text: string): void {
    if (this.channel) this.channel.trace(text);
    else this.emitTrace(text);
  }

  private emitTrace(line: string): void {
    this.notify(() => this.observer.trace?.(line));
  }

  /** Observer callbacks must not break the call. */
  private notify(callback: () => void): void {
    try {
      callback();
    } catch {
      // An observer's failure is its own business.
    }
  }

  private result(): LineResult {
    const reason = this.reason ?? { code: LineReason.OK, detail: 'MCF after EOP' };
    const status = statusFor(reason.code, this.pagesConfirmed, this.pages.length);
    const detailParts = [reason.detail];
    if (this.lastResultLine) detailParts.push(`modem: "${this.lastResultLine}"`);
    if (this.recentFrames.length > 0) detailParts.push(`frames: ${this.recentFrames.join(', ')}`);
    return {
      status,
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
