/**
 * The Class 1 modem's side of T.30 (T.31): HDLC frames on the V.21 carrier, the high-speed
 * carrier for training and page data, and the silences between them, for sending and receiving alike.
 */
import { type AtResult, CAN, DLE, ETX, escapeDle, type ModemChannel, printable, sleep } from './modem-channel';
import type { ModemAccess, ModemLineOptions } from './modem-call';
import { describeFrame, fcfName, type HdlcFrame, parseFrame, type SignallingRate } from './t30';

/** A generous guess at how much page data a modem buffers ahead of the line. */
const MODEM_BUFFER_BYTES = 32 * 1024;

/** T.30 timers and the modem-side time limits, in milliseconds. */
export interface Class1Timers {
  /** T1: from the call's answer to a valid DIS (sending) or DCS (receiving). T.30: 35 s ± 5. */
  t1: number;
  /**
   * T2: waiting for the rest of a frame once its flags were detected, and (receiving) for the page
   * carrier after CFR or a post-page command after the page. T.30: 6 s ± 1.
   */
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

export interface Class1LineOptions extends ModemLineOptions<Class1Timers> {
  /** Highest signalling rate to offer, bit/s. Default 14400. */
  maxRate?: number;
}

/** What listening for a frame brought: a frame, a frame with a bad FCS, or a result instead. */
export type Received = { kind: 'frame'; frame: HdlcFrame } | { kind: 'bad-frame'; detail: string } | { kind: 'nothing'; result: AtResult };

/**
 * The frame and carrier I/O every Class 1 T.30 state uses, sending or receiving: a call's states
 * (class1.ts, class1-receive.ts) say what to send and what an answer means; this says how it goes
 * through the modem.
 */
export class Class1Io {
  constructor(private readonly call: ModemAccess<Class1Timers>) {}

  private get ch(): ModemChannel {
    return this.call.channel();
  }

  private get timers(): Class1Timers {
    return this.call.timers;
  }

  /**
   * Puts the modem on hook. A modem still receiving takes the first byte as "stop" and ignores the
   * rest of the command (iaxmodem answers <DLE><ETX> OK and stays off-hook): say ATH0 until it is
   * plainly obeyed.
   */
  async hangUp(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const result = await this.ch.command('ATH0', this.timers.command);
      if (result.code === 'OK' && result.info.length === 0) break;
    }
  }

  /** T.30 asks for 75 ms ± 20 of silence before we transmit after receiving. */
  async switchToTransmit(): Promise<void> {
    const result = await this.call.command('AT+FRS=7');
    if (result.code !== 'OK') await sleep(80, this.call.signal());
  }

  /** Silence, then the high-speed carrier `modulationCode` for TCF or page data. Null once the modem says CONNECT, else the failing result and what it broke. */
  async startCarrier(modulationCode: number): Promise<{ result: AtResult; before: boolean } | null> {
    const silence = await this.call.command('AT+FTS=8');
    if (silence.code !== 'OK') return { result: silence, before: true };
    const carrier = await this.call.command(`AT+FTM=${modulationCode}`);
    if (carrier.code !== 'CONNECT') return { result: carrier, before: false };
    return null;
  }

  /**
   * Sends HDLC frames in one V.21 carrier: CONNECT after each non-final frame, OK after the final
   * one. Returns null on success, or the result that broke it. `connected`: the modem already said
   * CONNECT for this carrier (as after ATA), so no AT+FTH=3.
   */
  async sendFrames(frames: Buffer[], connected = false): Promise<AtResult | null> {
    if (!connected) {
      const start = await this.call.command('AT+FTH=3');
      if (start.code !== 'CONNECT') return start;
    }
    for (const [i, bytes] of frames.entries()) {
      const frame = parseFrame(bytes)!;
      this.noteFrame('>>', frame);
      await this.ch.write(Buffer.concat([escapeDle(bytes), Buffer.from([DLE, ETX])]));
      const last = i === frames.length - 1;
      // A frame of 25 bytes takes under a second at 300 bit/s, after a 1 s preamble for the first;
      // after ATA the modem plays its answer tone (up to 4 s) before the preamble.
      const result = await this.ch.readResult(this.timers.command + (connected && i === 0 ? 5000 : 0), this.call.signal());
      this.call.noteResult(result);
      if (result.code !== (last ? 'OK' : 'CONNECT')) return result;
    }
    return null;
  }

  /** AT+FRH=3 and one frame. `timeoutMs` (T4, T2, or what is left of T1) bounds the wait for its flags. */
  async receiveFrame(timeoutMs: number): Promise<Received> {
    this.ch.trace('>> AT+FRH=3');
    await this.ch.write(Buffer.from('AT+FRH=3\r', 'latin1'));
    const result = await this.ch.readResult(timeoutMs, this.call.signal());
    this.call.noteResult(result);
    if (result.code === 'TIMEOUT') {
      // Timer expired with the modem still listening: any byte stops it, then it says OK.
      await this.stopReceiving('timer expired: stop receiving');
      return { kind: 'nothing', result };
    }
    if (result.code !== 'CONNECT') return { kind: 'nothing', result };
    return this.readFrameAfterConnect();
  }

  /** <CAN> to a modem still receiving: it stops and answers with a result of its own. */
  async stopReceiving(why: string): Promise<AtResult> {
    this.ch.trace(`>> <CAN> (${why})`);
    await this.ch.write(Buffer.from([CAN]));
    return this.ch.readResult(this.timers.command, this.call.signal());
  }

  /** The frame the modem delivers after CONNECT, and its verdict on the FCS. */
  async readFrameAfterConnect(): Promise<Received> {
    const bytes = await this.ch.readDleData(this.timers.t2, this.call.signal());
    if (bytes === null) return { kind: 'nothing', result: await this.stopReceiving('frame did not end within T2') };
    const verdict = await this.ch.readResult(this.timers.command, this.call.signal());
    this.call.noteResult(verdict);
    const frame = parseFrame(bytes);
    if (verdict.code !== 'OK' || !frame) {
      const detail = `bad frame (${verdict.line || verdict.code}): ${printable(bytes)}`;
      this.ch.trace(`<< ${detail}`);
      this.call.remember(`<< bad frame`);
      return { kind: 'bad-frame', detail };
    }
    this.noteFrame('<<', frame);
    return { kind: 'frame', frame };
  }

  /**
   * A modem buffers many seconds of data (iaxmodem holds XOFF for 8 s at 14400 bit/s): the waits
   * for XON and for the end of data grow as the rate falls.
   */
  dataTimeouts(rate: SignallingRate): { xoffTimeoutMs: number; completionTimeoutMs: number } {
    const bufferDrainMs = (MODEM_BUFFER_BYTES * 8 * 1000) / rate.bitsPerSecond;
    return {
      xoffTimeoutMs: Math.max(this.timers.xoff, 2 * bufferDrainMs),
      completionTimeoutMs: Math.max(this.timers.pageCompletion, 2 * bufferDrainMs),
    };
  }

  noteFrame(direction: '<<' | '>>', frame: HdlcFrame): void {
    this.ch.trace(`${direction} ${describeFrame(frame)}`);
    this.call.remember(`${direction} ${fcfName(frame.fcf)}`);
  }
}
