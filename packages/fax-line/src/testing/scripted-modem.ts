/**
 * A scripted fax modem on a pseudo-terminal, for the faults a real peer will not produce on
 * demand: BUSY, FTT, RTN, a lost MCF, silence until T1, Class 2.0 hang-up codes. The driver
 * under test opens the pty path like any modem; this side speaks the modem's half of Class 1
 * (T.31) or Class 2.0 (T.32), playing the far fax machine as the script says, and records what
 * the driver sent.
 *
 * The pty comes from socat (`pty,raw,echo=0` ↔ stdio); all modem logic is here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdentity, buildDis, buildFrame, Fcf, fcs, parseDcs, parseFrame, type HdlcFrame, type SessionParameters, CONTROL_FINAL } from '../t30';

const DLE = 0x10;
const ETX = 0x03;
const XON = 0x11;
const XOFF = 0x13;
const CAN = 0x18;

export type TrainingResponse = 'CFR' | 'FTT' | 'DIS' | 'DCN' | 'none';
export type PostPageResponse = 'MCF' | 'RTN' | 'RTP' | 'PIN' | 'PIP' | 'CRP' | 'DCN' | 'none';

export interface Class1Script {
  kind: 'class1';
  /** What ATD answers. Default CONNECT. */
  dialResult?: 'CONNECT' | 'BUSY' | 'NO ANSWER' | 'NO CARRIER' | 'NO DIALTONE' | 'ERROR';
  /** The far machine's CSI as it would print it; null for none. Default "SCRIPTED FAX". */
  csi?: string | null;
  /** Raw CSI FIF bytes (line order), overriding `csi`. */
  csiRaw?: Buffer;
  /** DIS FIF. Default: V.17, fine, 0 ms scan time. */
  dis?: Buffer;
  /** Answer the call but never send a frame (T1 runs out). */
  silentAfterConnect?: boolean;
  /** Answers to each TCF in turn; CFR once the list is used up. */
  trainingResponses?: TrainingResponse[];
  /** Answers to each MPS/EOP in turn; MCF once the list is used up. */
  postPageResponses?: PostPageResponse[];
  /** Drop the carrier during the n-th page transmission (1-based) after this many bytes. */
  noCarrierDuringPage?: { transmission: number; afterBytes: number };
  /** Send XOFF after every this many page bytes, XON after `xoffHoldMs`. Default 3000 / 60 ms. */
  xoffEveryBytes?: number;
  xoffHoldMs?: number;
}

export type Class2PageResponse = 'MCF' | 'RTN' | 'RTP' | { hangup: string };

export interface Class2Script {
  kind: 'class2.0';
  /** What ATD answers: +FCO and OK, a hang-up code, or a plain result. Default connect. */
  dialResult?: 'connect' | 'BUSY' | 'NO ANSWER' | 'NO CARRIER' | 'NO DIALTONE' | { hangup: string };
  /** The far machine's id as +FCI reports it. Default "SCRIPTED 2.0". */
  csi?: string;
  /** The negotiated session (+FCS) reported before each page. Default 1,5,0,2,0,0,0,0. */
  fcs?: string;
  /** Answers after each page transmission in turn; MCF once the list is used up. */
  pageResponses?: Class2PageResponse[];
  /** Whether +FPS is reported unsolicited after a page (else the driver must ask +FPS?). Default true. */
  reportFps?: boolean;
}

export type ModemScript = Class1Script | Class2Script;

export interface ReceivedPage {
  /** +FTM code (Class 1) or 0 (Class 2.0). */
  modulation: number;
  /** Page data as it went on the line (LSB first), DLE-unstuffed, without the terminator. */
  data: Buffer;
  /** Class 2.0: the post-page message character (',' MPS, ';' EOM, '.' EOP). */
  postPage?: string;
}

export interface ScriptedRecord {
  commands: string[];
  framesFromDriver: HdlcFrame[];
  dcs: SessionParameters[];
  tcf: Array<{ modulation: number; bytes: number; allZero: boolean }>;
  pages: ReceivedPage[];
  hungUp: boolean;
}

type Mode = 'command' | 'frame-tx' | 'data-rx' | 'listening' | 'class2-data';

/** A fresh pty from socat (`pty,raw,echo=0` ↔ stdio), once its path exists: the modem side of a scripted peer. */
export async function startPty(prefix: string): Promise<{ device: string; dir: string; socat: ChildProcess }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const device = join(dir, 'tty');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${device}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let errors = '';
  socat.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const spawnFailure = new Promise<never>((_, reject) => socat.once('error', reject));
  const deadline = Date.now() + 5000;
  while (!existsSync(device)) {
    if (Date.now() > deadline || socat.exitCode !== null) throw new Error(`socat did not create a pty: ${errors}`);
    await Promise.race([new Promise((resolve) => setTimeout(resolve, 20)), spawnFailure]);
  }
  return { device, dir, socat };
}

export class ScriptedModem {
  readonly record: ScriptedRecord = { commands: [], framesFromDriver: [], dcs: [], tcf: [], pages: [], hungUp: false };
  private mode: Mode = 'command';
  private line = '';
  private buffer: number[] = [];
  private dleSeen = false;
  private pendingFrames: Buffer[] = [];
  private trainings = 0;
  private postPages = 0;
  private pageTransmissions = 0;
  private expectingTcf = false;
  private callUp = false;
  private ftmCode = 0;
  private held = false;
  private sinceXoff = 0;
  private lastPpr = 1;
  private closed = false;

  private constructor(
    readonly device: string,
    private readonly dir: string,
    private readonly socat: ChildProcess,
    private readonly script: ModemScript,
  ) {
    socat.stdout!.on('data', (chunk: Buffer) => {
      for (const byte of chunk) this.receiveByte(byte);
    });
  }

  /** Starts socat with a fresh pty and waits for its path to appear. */
  static async start(script: ModemScript): Promise<ScriptedModem> {
    const { device, dir, socat } = await startPty('scripted-modem-');
    return new ScriptedModem(device, dir, socat, script);
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise((resolve) => this.socat.once('exit', resolve));
    this.socat.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000))]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Frames from the driver with the given FCF (X bit ignored). */
  framesOf(fcf: number): HdlcFrame[] {
    return this.record.framesFromDriver.filter((frame) => (frame.fcf & 0xfe) === (fcf & 0xfe));
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

  private frameBytes(frame: Buffer): Buffer {
    const withFcs = Buffer.concat([frame, fcs(frame)]);
    const out: number[] = [];
    for (const byte of withFcs) {
      out.push(byte);
      if (byte === DLE) out.push(DLE);
    }
    out.push(DLE, ETX);
    return Buffer.from(out);
  }

  /** CONNECT, the frame with FCS, <DLE><ETX>, OK: what a T.31 modem delivers for one frame. */
  private deliverFrame(frame: Buffer): void {
    this.result('CONNECT');
    this.later(20, () => {
      this.send(this.frameBytes(frame));
      this.result('OK');
      this.mode = 'command';
    });
  }

  // ---- input ----

  private receiveByte(byte: number): void {
    switch (this.mode) {
      case 'command':
        if (byte === 0x0d) {
          const text = this.line;
          this.line = '';
          this.command(text);
        } else if (byte !== 0x0a) {
          this.line += String.fromCharCode(byte);
        }
        return;
      case 'listening':
        // Any character stops a +FRH (or a dial): the modem answers OK.
        this.mode = 'command';
        this.line = '';
        this.result('OK');
        return;
      case 'frame-tx':
        this.collect(byte, () => this.frameFromDriver(Buffer.from(this.buffer)));
        return;
      case 'data-rx':
        this.countFlow();
        if (this.mode !== 'data-rx') return;
        this.collect(byte, () => this.dataFromDriver(Buffer.from(this.buffer)));
        return;
      case 'class2-data':
        this.countFlow();
        if (this.dleSeen) {
          this.dleSeen = false;
          if (byte === DLE) this.buffer.push(DLE);
          else if (byte === 0x2c || byte === 0x3b || byte === 0x2e) this.class2PageEnd(Buffer.from(this.buffer), String.fromCharCode(byte));
          return;
        }
        if (byte === DLE) this.dleSeen = true;
        else if (byte === CAN) this.class2Cancelled();
        else this.buffer.push(byte);
        return;
    }
  }

  /** DLE-unstuffing until <DLE><ETX>. */
  private collect(byte: number, done: () => void): void {
    if (this.dleSeen) {
      this.dleSeen = false;
      if (byte === ETX) {
        done();
        this.buffer = [];
      } else if (byte === DLE) {
        this.buffer.push(DLE);
      }
      return;
    }
    if (byte === DLE) this.dleSeen = true;
    else this.buffer.push(byte);
  }

  private countFlow(): void {
    const script = this.script;
    if (script.kind === 'class1') {
      const noCarrier = script.noCarrierDuringPage;
      if (!this.expectingTcf && noCarrier && noCarrier.transmission === this.pageTransmissions && this.buffer.length >= noCarrier.afterBytes) {
        this.record.pages.push({ modulation: this.ftmCode, data: Buffer.from(this.buffer) });
        this.callUp = false;
        this.mode = 'command';
        this.line = '';
        this.buffer = [];
        this.result('NO CARRIER');
        return;
      }
    }
    const every = script.kind === 'class1' ? (script.xoffEveryBytes ?? 3000) : 3000;
    const hold = script.kind === 'class1' ? (script.xoffHoldMs ?? 60) : 60;
    if (!this.held && ++this.sinceXoff >= every) {
      this.sinceXoff = 0;
      this.held = true;
      this.send([XOFF]);
      this.later(hold, () => {
        this.held = false;
        this.send([XON]);
      });
    }
  }

  private command(raw: string): void {
    // Junk before the command (page bytes after a dropped carrier) is ignored, as modems do.
    const at = raw.toUpperCase().lastIndexOf('AT');
    if (at < 0) return;
    const text = raw.slice(at).trim();
    const upper = text.toUpperCase();
    this.record.commands.push(text);
    if (this.script.kind === 'class1') this.class1Command(upper, text);
    else this.class2Command(upper, text);
  }

  // ---- Class 1 ----

  private class1Command(upper: string, text: string): void {
    const script = this.script as Class1Script;
    if (upper === 'AT' || upper === 'ATE0' || upper === 'ATV1' || upper === 'ATQ0' || upper === 'AT+FCLASS=1') return this.result('OK');
    if (upper === 'AT+FCLASS=?') return this.result('0,1\r\n\r\nOK');
    if (upper === 'AT+FTM=?') return this.result('24,48,72,73,74,96,97,98,121,122,145,146\r\n\r\nOK');
    if (upper.startsWith('AT+FCLASS=')) return this.result('ERROR');
    if (upper.startsWith('ATH')) {
      this.callUp = false;
      this.record.hungUp = true;
      return this.result('OK');
    }
    if (upper.startsWith('ATD')) return this.dial(script);
    if (upper === 'AT+FRS=7' || upper === 'AT+FTS=8') {
      if (!this.callUp) return this.result('ERROR');
      return this.later(80, () => this.result('OK'));
    }
    if (upper === 'AT+FTH=3') {
      if (!this.callUp) return this.result('NO CARRIER');
      this.mode = 'frame-tx';
      this.buffer = [];
      return this.later(30, () => this.result('CONNECT'));
    }
    if (upper === 'AT+FRH=3') {
      if (!this.callUp) return this.result('NO CARRIER');
      const next = this.pendingFrames.shift();
      if (next) return this.later(40, () => this.deliverFrame(next));
      this.mode = 'listening';
      return;
    }
    const ftm = /^AT\+FTM=(\d+)$/.exec(upper);
    if (ftm) {
      if (!this.callUp) return this.result('NO CARRIER');
      this.ftmCode = Number(ftm[1]);
      this.mode = 'data-rx';
      this.buffer = [];
      this.held = false;
      this.sinceXoff = 0;
      if (!this.expectingTcf) this.pageTransmissions++;
      return this.later(20, () => this.result('CONNECT'));
    }
    this.result(text.length > 0 ? 'ERROR' : 'OK');
  }

  private dial(script: Class1Script): void {
    const result = script.dialResult ?? 'CONNECT';
    if (result !== 'CONNECT') return this.later(50, () => this.result(result));
    this.callUp = true;
    this.later(50, () => {
      if (script.silentAfterConnect) {
        this.result('CONNECT');
        this.mode = 'listening';
        return;
      }
      const csi = script.csiRaw ?? (script.csi === null ? null : encodeIdentity(script.csi ?? 'SCRIPTED FAX'));
      const dis = buildFrame(Fcf.DIS, script.dis ?? buildDis({ modulations: 'V.17', fine: true }), true);
      if (csi) {
        this.deliverFrame(buildFrame(Fcf.CSI, csi, false));
        this.pendingFrames.push(dis);
      } else {
        this.deliverFrame(dis);
      }
    });
  }

  private frameFromDriver(bytes: Buffer): void {
    const frame = parseFrame(bytes);
    if (!frame) {
      this.mode = 'command';
      return this.result('ERROR');
    }
    this.record.framesFromDriver.push(frame);
    if (frame.control !== CONTROL_FINAL) {
      // More frames follow in the same carrier.
      return this.later(30, () => this.result('CONNECT'));
    }
    this.mode = 'command';
    this.later(30, () => this.result('OK'));
    const script = this.script as Class1Script;
    const fcf = frame.fcf & 0xfe;
    if (fcf === Fcf.DCS) {
      const dcs = parseDcs(frame.fif);
      if (dcs) this.record.dcs.push(dcs);
      this.expectingTcf = true;
    } else if (fcf === Fcf.MPS || fcf === Fcf.EOP || fcf === Fcf.EOM) {
      const answer = script.postPageResponses?.[this.postPages] ?? 'MCF';
      this.postPages++;
      if (answer !== 'none') this.pendingFrames.push(buildFrame(Fcf[answer], Buffer.alloc(0), true));
    } else if (fcf === (Fcf.DCN & 0xfe)) {
      this.callUp = false;
    }
  }

  private dataFromDriver(data: Buffer): void {
    this.mode = 'command';
    const script = this.script as Class1Script;
    if (this.expectingTcf) {
      this.expectingTcf = false;
      this.record.tcf.push({ modulation: this.ftmCode, bytes: data.length, allZero: data.every((b) => b === 0) });
      const answer = script.trainingResponses?.[this.trainings] ?? 'CFR';
      this.trainings++;
      if (answer === 'DIS') this.pendingFrames.push(buildFrame(Fcf.DIS, script.dis ?? buildDis({ modulations: 'V.17', fine: true }), true));
      else if (answer !== 'none') this.pendingFrames.push(buildFrame(Fcf[answer], Buffer.alloc(0), true));
    } else {
      this.record.pages.push({ modulation: this.ftmCode, data });
    }
    this.later(20, () => this.result('OK'));
  }

  // ---- Class 2.0 ----

  private class2Command(upper: string, text: string): void {
    const script = this.script as Class2Script;
    if (upper === 'AT' || upper === 'ATE0' || upper === 'ATV1' || upper === 'ATQ0') return this.result('OK');
    if (upper === 'AT+FCLASS=2.0' || upper.startsWith('AT+FLI=') || upper.startsWith('AT+FCC=') || upper.startsWith('AT+FLO=')) return this.result('OK');
    if (upper.startsWith('AT+FNR=') || upper.startsWith('AT+FBO=') || upper.startsWith('AT+FIS=') || upper.startsWith('AT+FIE=') || upper.startsWith('AT+FCT='))
      return this.result('OK');
    if (upper === 'AT+FCLASS=1') return this.result('ERROR');
    if (upper === 'AT+FPS?') return this.result(`+FPS:${this.lastPpr},0,0,0,0\r\n\r\nOK`);
    if (upper.startsWith('ATH') || upper === 'AT+FKS' || upper === 'AT+FK') {
      this.callUp = false;
      this.record.hungUp = true;
      return this.result('OK');
    }
    if (upper.startsWith('ATD')) {
      const result = script.dialResult ?? 'connect';
      return this.later(50, () => {
        if (result === 'connect') {
          this.callUp = true;
          this.result(`+FCO\r\n\r\n+FCI:"${script.csi ?? 'SCRIPTED 2.0'}"\r\n\r\n+FIS:1,5,0,2,0,0,0,0\r\n\r\nOK`);
        } else if (typeof result === 'object') {
          this.result(`+FHS:${result.hangup}\r\n\r\nOK`);
        } else {
          this.result(result);
        }
      });
    }
    if (upper === 'AT+FDT') {
      if (!this.callUp) return this.result('ERROR');
      this.pageTransmissions++;
      this.mode = 'class2-data';
      this.buffer = [];
      this.dleSeen = false;
      this.held = false;
      this.sinceXoff = 0;
      return this.later(40, () => {
        this.result(`+FCS:${script.fcs ?? '1,5,0,2,0,0,0,0'}\r\n\r\nCONNECT`);
        this.send([XON]);
      });
    }
    this.result(text.length > 0 ? 'ERROR' : 'OK');
  }

  /** <CAN> in page data: the transfer is abandoned and the call cleared (T.32 hang-up code 02). */
  private class2Cancelled(): void {
    this.mode = 'command';
    this.callUp = false;
    this.later(20, () => this.result('+FHS:02\r\n\r\nOK'));
  }

  private class2PageEnd(data: Buffer, postPage: string): void {
    const script = this.script as Class2Script;
    this.mode = 'command';
    this.record.pages.push({ modulation: 0, data, postPage });
    const answer = script.pageResponses?.[this.pageTransmissions - 1] ?? 'MCF';
    const reportFps = script.reportFps ?? true;
    this.later(60, () => {
      if (typeof answer === 'object') {
        this.callUp = false;
        this.result(`+FHS:${answer.hangup}\r\n\r\nOK`);
        return;
      }
      this.lastPpr = answer === 'MCF' ? 1 : answer === 'RTN' ? 2 : 3;
      const fps = reportFps ? `+FPS:${this.lastPpr},0,0,0,0\r\n\r\n` : '';
      if (postPage === '.' && answer !== 'RTN') {
        this.callUp = false;
        this.result(`${fps}+FHS:00\r\n\r\nOK`);
      } else {
        this.result(`${fps}OK`);
      }
    });
  }
}
