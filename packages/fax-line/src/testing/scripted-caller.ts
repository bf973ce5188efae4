/**
 * A scripted modem on a pty with a fax machine calling it, for testing the receive side against
 * the faults a real sender will not produce on demand: a failed training check, a damaged page, a
 * hang-up in the middle of a page. It rings (with caller and called number), and once answered
 * speaks the modem's half of Class 1 (T.31) or Class 2.0 (T.32) while playing the calling machine
 * as the script says, recording what the driver answered.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Bitmap } from '../documents/bitmap';
import { encodeMh, reverseBitOrder } from '../documents/t4-mh';
import { buildDcs, buildFrame, encodeIdentity, Fcf, FCF_X_BIT, fcs, parseFrame, SIGNALLING_RATES, type HdlcFrame, CONTROL_FINAL } from '../t30';
import { startPty } from './scripted-modem';

const DLE = 0x10;
const ETX = 0x03;
const DC2 = 0x12;

export interface CallerScript {
  kind: 'class1' | 'class2.0';
  /** The caller's TSI. Default "SCRIPTED CALLER". */
  tsi?: string;
  /** Shown before RING as NMBR= and NDID=; null for none. Defaults 1001 and 2002. */
  callerNumber?: string | null;
  calledNumber?: string | null;
  pages: Bitmap[];
  /** Never ring (nobody calls). */
  silent?: boolean;
  /** Class 1: TCF for each training in turn, good once the list is used up; each bad one makes the caller fall back a rate. */
  trainings?: Array<'good' | 'bad'>;
  /** Page transmissions (1-based, counting repeats) sent damaged. */
  damagedTransmissions?: number[];
  /** Send EOM (back to phase B: our DIS again, a new DCS) after this page (1-based) instead of MPS. */
  eomAfterPage?: number;
  /** Hang up after this share of a page transmission's data (1-based, counting repeats). */
  hangUpIn?: { transmission: number; fraction: number };
}

export interface CallerRecord {
  commands: string[];
  /** Frames the driver sent (CSI, DIS, CFR, FTT, MCF, RTN...). */
  framesFromDriver: HdlcFrame[];
  /** Class 1: rate of each training, bit/s. */
  trainingRates: number[];
  /** Class 2.0: the +FPS= values the driver set. */
  responsesSet: number[];
  answered: boolean;
  hungUp: boolean;
}

type Mode = 'command' | 'frame-tx' | 'listening' | 'await-dc2';

export class ScriptedCaller {
  readonly record: CallerRecord = { commands: [], framesFromDriver: [], trainingRates: [], responsesSet: [], answered: false, hungUp: false };
  private mode: Mode = 'command';
  private line = '';
  private buffer: number[] = [];
  private dleSeen = false;
  private readonly pending: Buffer[] = [];
  private ringTimer: ReturnType<typeof setInterval> | null = null;
  private callUp = false;
  private closed = false;
  private rateIndex = 0;
  private trainings = 0;
  /** What the caller's next high-speed carrier carries. */
  private next: 'tcf' | 'page' | 'none' = 'none';
  private pageIndex = 0;
  private transmissions = 0;
  private lastPpm: 'MPS' | 'EOM' | 'EOP' = 'MPS';
  private nextResponse = 1;

  private constructor(
    readonly device: string,
    private readonly dir: string,
    private readonly socat: ChildProcess,
    private readonly script: CallerScript,
  ) {
    socat.stdout!.on('data', (chunk: Buffer) => {
      for (const byte of chunk) this.receiveByte(byte);
    });
  }

  static async start(script: CallerScript): Promise<ScriptedCaller> {
    const { device, dir, socat } = await startPty('scripted-caller-');
    return new ScriptedCaller(device, dir, socat, script);
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ringTimer) clearInterval(this.ringTimer);
    const exited = new Promise((resolve) => this.socat.once('exit', resolve));
    this.socat.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000))]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Driver frames with this FCF (X bit ignored). */
  framesOf(fcf: number): HdlcFrame[] {
    return this.record.framesFromDriver.filter((frame) => (frame.fcf & ~FCF_X_BIT) === (fcf & ~FCF_X_BIT));
  }

  /** Rings once a second (call information first, as a modem with +VCID=1 shows it) until answered. */
  ring(): void {
    if (this.ringTimer || this.script.silent) return;
    const once = (): void => {
      if (this.record.answered) return;
      const info: string[] = [];
      if (this.script.callerNumber !== null) info.push(`NMBR=${this.script.callerNumber ?? '1001'}`);
      if (this.script.calledNumber !== null) info.push(`NDID=${this.script.calledNumber ?? '2002'}`);
      this.send(`${info.map((line) => `\r\n${line}\r\n`).join('')}\r\nRING\r\n`);
    };
    this.ringTimer = setInterval(once, 1000);
    once();
  }

  // ---- output ----

  private send(data: string | Buffer | number[]): void {
    if (this.closed) return;
    this.socat.stdin!.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data));
  }

  private result(text: string): void {
    this.send(`\r\n${text}\r\n`);
  }

  private later(ms: number, action: () => void): void {
    setTimeout(() => {
      if (!this.closed) action();
    }, ms);
  }

  private stuffed(data: Uint8Array): Buffer {
    const out: number[] = [];
    for (const byte of data) {
      out.push(byte);
      if (byte === DLE) out.push(DLE);
    }
    return Buffer.from(out);
  }

  private deliverFrame(frame: Buffer): void {
    this.result('CONNECT');
    this.later(20, () => {
      this.send(Buffer.concat([this.stuffed(Buffer.concat([frame, fcs(frame)])), Buffer.from([DLE, ETX])]));
      this.result('OK');
      this.mode = 'command';
    });
  }

  /** The current page as it goes on the line: MH with RTC, first bit in the least significant bit; damaged if the script says so. */
  private pageData(): { data: Buffer; cutAt: number | null } {
    this.transmissions++;
    const coded = reverseBitOrder(encodeMh(this.script.pages[this.pageIndex], { appendRtc: true }));
    if (this.script.damagedTransmissions?.includes(this.transmissions)) {
      // Line noise over the middle third: every row there decodes wrong.
      for (let i = Math.floor(coded.length / 3); i < Math.floor((2 * coded.length) / 3); i++) coded[i] ^= 0x5a;
    }
    const cut = this.script.hangUpIn?.transmission === this.transmissions ? Math.floor(coded.length * this.script.hangUpIn.fraction) : null;
    return { data: cut === null ? coded : coded.subarray(0, cut), cutAt: cut };
  }

  // ---- input ----

  private receiveByte(byte: number): void {
    if (this.mode === 'command') {
      if (byte === 0x0d) {
        const text = this.line;
        this.line = '';
        this.command(text);
      } else if (byte !== 0x0a) {
        this.line += String.fromCharCode(byte);
      }
    } else if (this.mode === 'listening') {
      this.mode = 'command';
      this.line = '';
      this.result('OK');
    } else if (this.mode === 'await-dc2') {
      if (byte === DC2) this.class2Page();
    } else if (this.dleSeen) {
      this.dleSeen = false;
      if (byte === ETX) {
        this.frameFromDriver(Buffer.from(this.buffer));
        this.buffer = [];
      } else if (byte === DLE) this.buffer.push(DLE);
    } else if (byte === DLE) this.dleSeen = true;
    else this.buffer.push(byte);
  }

  private command(raw: string): void {
    const at = raw.toUpperCase().lastIndexOf('AT');
    if (at < 0) return;
    const text = raw.slice(at).trim();
    const upper = text.toUpperCase();
    this.record.commands.push(text);
    if (upper.startsWith('ATH') || upper === 'AT+FKS') {
      this.callUp = false;
      this.record.hungUp = true;
      return this.result('OK');
    }
    if (upper === 'ATA') return this.answer();
    if (this.script.kind === 'class1') this.class1Command(upper);
    else this.class2Command(upper);
    // Setup done: the phone rings.
    if (upper === 'AT+FRM=?' || upper.startsWith('AT+FLI=')) this.later(100, () => this.ring());
  }

  private answer(): void {
    this.record.answered = true;
    this.callUp = true;
    if (this.script.kind === 'class1') {
      this.mode = 'frame-tx';
      this.buffer = [];
      return this.later(100, () => this.result('CONNECT'));
    }
    this.later(100, () => this.result(`+FCO\r\n\r\n+FTI:"${this.script.tsi ?? 'SCRIPTED CALLER'}"\r\n\r\n+FCS:1,5,0,2,0,0,0,0\r\n\r\nOK`));
  }

  // ---- Class 1 ----

  private class1Command(upper: string): void {
    if (upper === 'AT+FRM=?') return this.result('24,48,72,73,74,96,97,98,121,122,145,146\r\n\r\nOK');
    if (!upper.startsWith('AT+F')) return this.result('OK');
    if (upper === 'AT+FCLASS=1') return this.result('OK');
    if (!this.callUp) return this.result(upper.startsWith('AT+FR') || upper.startsWith('AT+FT') ? 'NO CARRIER' : 'ERROR');
    if (upper === 'AT+FRS=7' || upper === 'AT+FTS=8') return this.later(80, () => this.result('OK'));
    if (upper === 'AT+FTH=3') {
      this.mode = 'frame-tx';
      this.buffer = [];
      return this.later(30, () => this.result('CONNECT'));
    }
    if (upper === 'AT+FRH=3') {
      const frame = this.pending.shift();
      if (frame) return this.later(40, () => this.deliverFrame(frame));
      this.mode = 'listening';
      return;
    }
    if (/^AT\+FRM=\d+$/.test(upper)) return this.highSpeed();
    this.result('ERROR');
  }

  /** The caller's TSI and DCS at the current rate, queued for the driver's next AT+FRH=3. */
  private queueDcs(): void {
    const rate = SIGNALLING_RATES[this.rateIndex];
    this.pending.push(buildFrame(Fcf.TSI | FCF_X_BIT, encodeIdentity(this.script.tsi ?? 'SCRIPTED CALLER'), false));
    this.pending.push(buildFrame(Fcf.DCS | FCF_X_BIT, buildDcs({ rate, fine: true, minScanMs: 0, unlimitedLength: true }), true));
    this.next = 'tcf';
  }

  private highSpeed(): void {
    if (this.next === 'tcf') {
      const rate = SIGNALLING_RATES[this.rateIndex];
      this.record.trainingRates.push(rate.bitsPerSecond);
      const good = (this.script.trainings?.[this.trainings++] ?? 'good') === 'good';
      const tcf = Buffer.alloc(Math.ceil((rate.bitsPerSecond * 1.5) / 8), 0);
      // A bad line: the zeros arrive with errors every few bytes.
      if (!good) for (let i = 0; i < tcf.length; i += 7) tcf[i] = 0x24;
      this.next = 'none';
      return this.later(60, () => this.carrier(tcf, 'tcf'));
    }
    if (this.next === 'page') {
      const { data, cutAt } = this.pageData();
      this.next = 'none';
      return this.later(60, () => this.carrier(data, cutAt !== null ? 'cut page' : 'page'));
    }
    // Nothing to send on this carrier: the modem waits (any byte stops it).
    this.mode = 'listening';
  }

  /** CONNECT, the data, the carrier's end (<DLE><ETX>, NO CARRIER); after a page its post-page command, after a cut page the call is gone. */
  private carrier(data: Buffer, kind: 'tcf' | 'page' | 'cut page'): void {
    this.result('CONNECT');
    this.later(20, () => {
      this.send(Buffer.concat([this.stuffed(data), Buffer.from([DLE, ETX])]));
      this.result('NO CARRIER');
      if (kind === 'cut page') this.callUp = false;
      if (kind !== 'page') return;
      const last = this.pageIndex + 1 >= this.script.pages.length;
      this.lastPpm = last ? 'EOP' : this.script.eomAfterPage === this.pageIndex + 1 ? 'EOM' : 'MPS';
      this.pending.push(buildFrame(Fcf[this.lastPpm] | FCF_X_BIT));
    });
  }

  private frameFromDriver(bytes: Buffer): void {
    const frame = parseFrame(bytes);
    if (!frame) {
      this.mode = 'command';
      return this.result('ERROR');
    }
    this.record.framesFromDriver.push(frame);
    if (frame.control !== CONTROL_FINAL) return this.later(30, () => this.result('CONNECT'));
    this.mode = 'command';
    this.later(30, () => this.result('OK'));
    const fcf = frame.fcf & ~FCF_X_BIT;
    if (fcf === Fcf.DIS) this.queueDcs();
    else if (fcf === Fcf.CFR) this.next = 'page';
    else if (fcf === Fcf.FTT) {
      if (this.rateIndex + 1 < SIGNALLING_RATES.length) this.rateIndex++;
      this.queueDcs();
    } else if (fcf === Fcf.RTN) this.queueDcs();
    else if (fcf === Fcf.MCF) {
      this.pageIndex++;
      // After EOP the caller says goodbye; after EOM it waits for our DIS; after MPS the next page follows.
      if (this.lastPpm === 'EOP') this.pending.push(buildFrame(Fcf.DCN | FCF_X_BIT));
      else if (this.lastPpm === 'MPS') this.next = 'page';
    }
  }

  // ---- Class 2.0 ----

  private class2Command(upper: string): void {
    if (upper === 'AT+FCLASS=1') return this.result('ERROR');
    const fps = /^AT\+FPS=(\d)/.exec(upper);
    if (fps) {
      this.nextResponse = Number(fps[1]);
      this.record.responsesSet.push(this.nextResponse);
      return this.result('OK');
    }
    if (upper !== 'AT+FDR') return this.result('OK');
    if (!this.callUp) return this.result('ERROR');
    const response = this.nextResponse;
    this.nextResponse = 1;
    if (response === 1 && this.transmissions > 0) this.pageIndex++;
    if (this.pageIndex >= this.script.pages.length) {
      this.callUp = false;
      return this.later(60, () => this.result('+FHS:00\r\n\r\nOK'));
    }
    this.later(60, () => {
      this.result('+FCS:1,5,0,2,0,0,0,0\r\n\r\nCONNECT');
      this.mode = 'await-dc2';
    });
  }

  private class2Page(): void {
    this.mode = 'command';
    const { data, cutAt } = this.pageData();
    const last = this.pageIndex + 1 >= this.script.pages.length;
    this.later(40, () => {
      this.send(Buffer.concat([this.stuffed(data), Buffer.from([DLE, ETX])]));
      if (cutAt !== null) {
        this.callUp = false;
        return this.result('+FHS:90\r\n\r\nOK');
      }
      this.result(`+FPS:1,${this.script.pages[this.pageIndex].height},0,0,0\r\n\r\n+FET:${last ? 2 : 0}\r\n\r\nOK`);
    });
  }
}
