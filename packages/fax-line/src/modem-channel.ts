/**
 * The AT conversation with a modem over a SerialLink: commands and result codes, DLE-framed
 * HDLC data, and page data under XON/XOFF flow control that our code (not the tty) obeys while it
 * keeps reading result codes. Every byte exchange is written to the trace.
 */
import { DLE, ETX, printable, sleep, SUB, XOFF, XON } from './modem-bytes';
import { type AtResult, finalCode, LineAbortedError, ModemLinkError } from './modem-results';
import type { SerialLink } from './serial-port';

export { CAN, DLE, ETX, escapeDle, printable, sleep, SUB, XOFF, XON } from './modem-bytes';

export { type AtResult, LineAbortedError, ModemLinkError, type ResultCode } from './modem-results';

/**
 * Page data bytes per write. Larger writes cost less CPU (each is a system call and a drain through
 * the thread pool), but what the modem may be handed after its XOFF grows with them (see sendData).
 */
export const DATA_CHUNK_BYTES = 512;

const EMPTY = Buffer.alloc(0);

export interface SendDataOutcome {
  /** All data, including the closing <DLE><ETX>, was handed to the modem. */
  written: boolean;
  /** The result that ended the data phase: OK after the modem sent everything, or what cut it short. */
  result: AtResult;
  xoffCount: number;
  /** Longest time we were held by XOFF, in ms. */
  longestXoffMs: number;
}

export class ModemChannel {
  private input: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private flowControl = false;
  private held = false;
  private xoffCount = 0;
  private linkError: Error | null = null;
  private readonly epoch = Date.now();

  constructor(
    private readonly link: SerialLink,
    private readonly traceLine: (line: string) => void,
  ) {
    link.onData((chunk) => this.receive(chunk));
    link.onError((error) => {
      this.linkError = error;
      this.notify();
    });
  }

  get path(): string {
    return this.link.path;
  }

  trace(text: string): void {
    const seconds = ((Date.now() - this.epoch) / 1000).toFixed(2).padStart(7, ' ');
    this.traceLine(`${seconds} ${text}`);
  }

  /** Drops whatever the modem said that nobody read (stale results from an earlier exchange). */
  discardInput(): void {
    if (this.input.length > 0) this.trace(`<< (discarded) ${printable(this.input)}`);
    this.input = Buffer.alloc(0);
  }

  /** `drain`: also wait until the bytes have left the port (see SerialLink.drain). */
  async write(data: Uint8Array, drain = false): Promise<void> {
    if (this.linkError) throw new ModemLinkError(`modem port failed: ${this.linkError.message}`);
    try {
      await this.link.write(data);
      if (drain) await this.link.drain?.();
    } catch (error) {
      throw new ModemLinkError(`cannot write to ${this.link.path}: ${(error as Error).message}`);
    }
  }

  /** Sends an AT command and waits for its final result code. */
  async command(command: string, timeoutMs: number, signal?: AbortSignal): Promise<AtResult> {
    this.trace(`>> ${command}`);
    await this.write(Buffer.from(`${command}\r`, 'latin1'));
    return this.readResult(timeoutMs, signal);
  }

  /** Reads lines until a final result code; TIMEOUT if none comes in time. */
  async readResult(timeoutMs: number, signal?: AbortSignal): Promise<AtResult> {
    const deadline = Date.now() + timeoutMs;
    const info: string[] = [];
    for (;;) {
      const line = await this.readLine(deadline, signal);
      if (line === null) {
        this.trace(`<< (no result in ${timeoutMs} ms)`);
        return { code: 'TIMEOUT', line: '', info };
      }
      this.trace(`<< ${line}`);
      const code = finalCode(line);
      if (code) return { code, line: line.trim(), info };
      info.push(line);
    }
  }

  /** The next non-empty line, or null at the deadline. Binary junk before a line stays in it. */
  async readLine(deadline: number, signal?: AbortSignal): Promise<string | null> {
    return this.until(() => this.takeLine(), deadline, signal);
  }

  private takeLine(): string | undefined {
    let start = 0;
    while (start < this.input.length && (this.input[start] === 0x0d || this.input[start] === 0x0a)) start++;
    for (let i = start; i < this.input.length; i++) {
      const byte = this.input[i];
      if (byte === 0x0d || byte === 0x0a) {
        const line = printable(this.input.subarray(start, i));
        let end = i + 1;
        if (byte === 0x0d && this.input[end] === 0x0a) end++;
        this.input = this.input.subarray(end);
        return line;
      }
    }
    if (start > 0) this.input = this.input.subarray(start);
    return undefined;
  }

  /**
   * After CONNECT for +FRH: the frame bytes up to <DLE><ETX>, DLE-unstuffed, or null at the
   * deadline. The final result (OK, or ERROR for a bad FCS) is read separately.
   */
  async readDleData(timeoutMs: number, signal?: AbortSignal): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    return this.until(
      () => {
        let start = 0;
        while (start < this.input.length && (this.input[start] === 0x0d || this.input[start] === 0x0a)) start++;
        const out: number[] = [];
        for (let i = start; i < this.input.length; i++) {
          const byte = this.input[i];
          if (byte !== DLE) {
            out.push(byte);
            continue;
          }
          if (i + 1 >= this.input.length) return undefined;
          const next = this.input[i + 1];
          i++;
          if (next === ETX) {
            this.input = this.input.subarray(i + 1);
            return Buffer.from(out);
          }
          if (next === DLE) out.push(DLE);
          else if (next === SUB) out.push(DLE, DLE);
          // Any other <DLE><x> is a modem escape we do not use: dropped.
        }
        return undefined;
      },
      deadline,
      signal,
    );
  }

  /**
   * After CONNECT for +FRM (Class 1) or +FDR (Class 2.0): page data up to <DLE><ETX>,
   * DLE-unstuffed. Ends at the terminator (`ended`), or with the data so far when nothing arrives
   * for `idleMs` (a modem that went silent).
   */
  async receiveData(idleMs: number, signal?: AbortSignal): Promise<{ data: Buffer; ended: boolean }> {
    let out = Buffer.allocUnsafe(64 * 1024);
    let length = 0;
    const push = (byte: number): void => {
      if (length === out.length) out = Buffer.concat([out, Buffer.allocUnsafe(out.length)]);
      out[length++] = byte;
    };
    for (;;) {
      const input = this.input;
      let i = 0;
      while (i < input.length) {
        const byte = input[i];
        if (byte !== DLE) {
          push(byte);
          i++;
          continue;
        }
        if (i + 1 >= input.length) break;
        const next = input[i + 1];
        i += 2;
        if (next === ETX) {
          this.input = input.subarray(i);
          return { data: Buffer.from(out.subarray(0, length)), ended: true };
        }
        if (next === DLE) push(DLE);
        else if (next === SUB) {
          push(DLE);
          push(DLE);
        }
      }
      this.input = input.subarray(i);
      const more = await this.until(() => (this.input.length > (this.input[0] === DLE ? 1 : 0) ? true : undefined), Date.now() + idleMs, signal);
      if (more === null) return { data: Buffer.from(out.subarray(0, length)), ended: false };
    }
  }

  /** Waits for one byte (e.g. XON) and drops everything up to and including it; false at the deadline. */
  async awaitByte(byte: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const found = await this.until(
      () => {
        const at = this.input.indexOf(byte);
        if (at < 0) return undefined;
        this.input = this.input.subarray(at + 1);
        return true;
      },
      Date.now() + timeoutMs,
      signal,
    );
    return found === true;
  }

  /** True if a full final result line is already waiting (used while writing page data). */
  private pendingResult(): AtResult | null {
    const text = this.input;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === 0x0d || text[i] === 0x0a) {
        const line = printable(text.subarray(start, i));
        const code = finalCode(line);
        if (code) {
          this.trace(`<< ${line}`);
          this.input = text.subarray(i + 1);
          return { code, line: line.trim(), info: [] };
        }
        start = i + 1;
      }
    }
    return null;
  }

  /**
   * Sends page data (already bit-reversed and DLE-escaped, ending with <DLE><ETX>) while obeying
   * XON/XOFF from the modem and watching for a result code that ends the phase early (NO CARRIER
   * when the far end goes away). Resolves when the modem reports the end of transmission.
   *
   * Each chunk (DATA_CHUNK_BYTES unless told) is drained before the XOFF state is looked at and the
   * next one written. Once the modem sends XOFF it can still be handed the rest of the chunk it is
   * taking and, when the XOFF reaches us only after that chunk's drain, one chunk more: under twice
   * the chunk, within the 1,024 bytes a T.31 modem keeps free after XOFF (spandsp's, which
   * iaxmodem is built on, raises XOFF with 1,024 bytes of its buffer left).
   */
  async sendData(
    data: Buffer,
    options: {
      chunkSize?: number;
      xoffTimeoutMs: number;
      completionTimeoutMs: number;
      signal?: AbortSignal;
      /** Written if the signal aborts mid-data, so the modem leaves data mode (Class 1: <DLE><ETX>). */
      abortTerminator?: Uint8Array;
    },
  ): Promise<SendDataOutcome> {
    const chunkSize = options.chunkSize ?? DATA_CHUNK_BYTES;
    this.flowControl = true;
    this.held = false;
    this.xoffCount = 0;
    let longestXoffMs = 0;
    // XON/XOFF bytes already waiting from before the data phase belong to it.
    this.filterFlowControl();
    let allWritten = false;
    try {
      for (let offset = 0; offset < data.length; offset += chunkSize) {
        if (options.signal?.aborted) throw new LineAbortedError('aborted');
        const early = this.pendingResult();
        if (early) return { written: false, result: early, xoffCount: this.xoffCount, longestXoffMs };
        if (this.held) {
          const heldAt = Date.now();
          const released = await this.until(() => (!this.held ? true : this.hasFinalLine() ? true : undefined), heldAt + options.xoffTimeoutMs, options.signal);
          longestXoffMs = Math.max(longestXoffMs, Date.now() - heldAt);
          const cut = this.pendingResult();
          if (cut) return { written: false, result: cut, xoffCount: this.xoffCount, longestXoffMs };
          if (released === null) {
            this.trace(`!! held by XOFF for more than ${options.xoffTimeoutMs} ms`);
            return { written: false, result: { code: 'TIMEOUT', line: 'XOFF', info: [] }, xoffCount: this.xoffCount, longestXoffMs };
          }
        }
        const rest = this.writeChunk(data, offset, Math.min(data.length, offset + chunkSize));
        if (rest) await rest;
        // A write the device took at once never leaves the event loop: let the modem's XON/XOFF (and
        // an abort) come in before the next chunk, or a pseudo-terminal would be handed the whole page.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      allWritten = true;
      const result = await this.readResult(options.completionTimeoutMs, options.signal);
      return { written: true, result, xoffCount: this.xoffCount, longestXoffMs };
    } catch (error) {
      if (error instanceof LineAbortedError && options.abortTerminator) {
        // Leave data mode so the modem listens to commands again (unless the data's own end was
        // written already: a second one would reach the modem as the start of a command), then let it finish.
        if (!allWritten) {
          this.trace(`>> ${printable(options.abortTerminator)} (aborted: end the data)`);
          await this.write(options.abortTerminator).catch(() => undefined);
        }
        this.held = false;
        await this.readResult(options.completionTimeoutMs).catch(() => undefined);
      }
      throw error;
    } finally {
      this.flowControl = false;
      this.held = false;
    }
  }

  /**
   * One chunk of page data, drained. Where the link needs no drain, the chunk goes in one
   * non-blocking write straight from the data (no view, no promise); only what the device could not
   * take then waits in write().
   */
  private writeChunk(data: Buffer, start: number, end: number): Promise<void> | undefined {
    if (!this.link.writeNow) return this.write(data.subarray(start, end), true);
    if (this.linkError) throw new ModemLinkError(`modem port failed: ${this.linkError.message}`);
    let taken: number;
    try {
      taken = this.link.writeNow(data, start, end - start);
    } catch (error) {
      throw new ModemLinkError(`cannot write to ${this.link.path}: ${(error as Error).message}`);
    }
    return start + taken < end ? this.write(data.subarray(start + taken, end)) : undefined;
  }

  private hasFinalLine(): boolean {
    const text = this.input;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === 0x0d || text[i] === 0x0a) {
        if (finalCode(printable(text.subarray(start, i)))) return true;
        start = i + 1;
      }
    }
    return false;
  }

  private receive(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    if (this.flowControl) this.filterFlowControl();
    this.notify();
  }

  private filterFlowControl(): void {
    const input = this.input;
    // During page data the modem sends little but XON/XOFF, mostly one byte per read.
    if (input.length === 1 && (input[0] === XON || input[0] === XOFF)) {
      if (input[0] === XOFF) {
        this.held = true;
        this.xoffCount++;
      } else this.held = false;
      this.input = EMPTY;
      return;
    }
    if (!input.includes(XON) && !input.includes(XOFF)) return;
    // A fresh buffer: the input may be a view of the port's own chunk.
    const kept = Buffer.allocUnsafe(input.length);
    let length = 0;
    for (let i = 0; i < input.length; i++) {
      const byte = input[i];
      if (byte === XOFF) {
        this.held = true;
        this.xoffCount++;
      } else if (byte === XON) {
        this.held = false;
      } else {
        kept[length++] = byte;
      }
    }
    this.input = kept.subarray(0, length);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Runs `scan` on every arrival of data until it returns a value; null at the deadline. */
  private async until<T>(scan: () => T | undefined, deadline: number, signal?: AbortSignal): Promise<T | null> {
    for (;;) {
      if (signal?.aborted) throw new LineAbortedError('aborted');
      const value = scan();
      if (value !== undefined) return value;
      if (this.linkError) throw new ModemLinkError(`modem port failed: ${this.linkError.message}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      await sleep(remaining, signal, (wake) => {
        this.wake = wake;
      });
    }
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
