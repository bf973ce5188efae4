/**
 * The byte pipe to a modem. Drivers talk to `SerialLink`, so the same driver code runs on a real
 * serial port, a USB modem or a pseudo-terminal (iaxmodem, the scripted test modem).
 */
import { closeSync, constants, openSync, realpathSync, writeSync } from 'node:fs';
import { isatty, ReadStream } from 'node:tty';
import { SerialPort } from 'serialport';

export interface SerialLink {
  readonly path: string;
  /** Resolves once the bytes are handed to the operating system. */
  write(data: Uint8Array): Promise<void>;
  /**
   * Resolves once what was written has left the port (tcdrain): on a real serial port the UART sent
   * it; a pseudo-terminal returns at once. Links without an output queue of their own may omit it.
   */
  drain?(): Promise<void>;
  /**
   * Hands the operating system what it takes of `data[offset, offset + length)` at once, without
   * waiting, and returns how many bytes that was (0 when the device is full). Only on links whose
   * writes need no drain (a pseudo-terminal): there, a byte taken is a byte handed to the modem's
   * side. Links without it are written with write() and drain().
   */
  writeNow?(data: Buffer, offset: number, length: number): number;
  /** Every chunk read from the port, in order. */
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once if the port fails or goes away (e.g. the pty's other side closed). */
  onError(listener: (error: Error) => void): void;
  close(): Promise<void>;
}

export interface SerialPortOptions {
  /** Ignored by pseudo-terminals; real modems need their DTE rate. Default 115200. */
  baudRate?: number;
}

/**
 * Opens a serial device by path. Flow control is off at the driver level on purpose: in Class 1,
 * HDLC frames contain 0x11/0x13 bytes, so XON/XOFF is handled in our code during page data only.
 * (Listing ports needs udev; opening a known path does not.)
 *
 * `serialport` opens the device and sets its line (rate, 8N1, raw, no flow control). The bytes go
 * through descriptors of our own on the same device: what the modem says is read by Node's own
 * event loop (a tty stream), and writes are non-blocking write(2) calls. `serialport` does both
 * through the thread pool, with a failed non-blocking read (an Error object) between every two
 * chunks read; that cost more CPU than anything else while a page is sent (the modem's XON/XOFF
 * bytes arrive one by one, a hundred or so per page, and page data goes in hundreds of writes).
 * serialport still writes what the device cannot take at once, and drains.
 */
export function openSerialPort(path: string, options: SerialPortOptions = {}): Promise<SerialLink> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path,
      baudRate: options.baudRate ?? 115200,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: false,
      autoOpen: false,
    });
    port.open((error) => {
      if (error) {
        reject(error);
        return;
      }
      resolve(new SerialPortLink(path, port, ownDescriptors(path)));
    });
  });
}

/** Our own descriptors of the device, beside serialport's (see openSerialPort). */
interface OwnDescriptors {
  reader: ReadStream;
  /** Non-blocking: a write(2) straight from the event loop, no thread pool. */
  writeFd: number;
  /** A pseudo-terminal (iaxmodem, socat) has no output queue: tcdrain returns at once there. */
  pseudoTerminal: boolean;
}

/** Undefined when the device is not a terminal or cannot be opened again: serialport then does it all. */
function ownDescriptors(path: string): OwnDescriptors | undefined {
  const opened: number[] = [];
  try {
    const flags = constants.O_NOCTTY | constants.O_NONBLOCK;
    const readFd = openSync(path, constants.O_RDONLY | flags);
    opened.push(readFd);
    const writeFd = openSync(path, constants.O_WRONLY | flags);
    opened.push(writeFd);
    if (!isatty(readFd)) throw new Error('not a terminal');
    return { reader: new ReadStream(readFd), writeFd, pseudoTerminal: realpathSync(path).startsWith('/dev/pts/') };
  } catch {
    for (const fd of opened) closeQuietly(fd);
    return undefined;
  }
}

class SerialPortLink implements SerialLink {
  private errorListeners: Array<(error: Error) => void> = [];
  private failed = false;
  private readonly reader: ReadStream | undefined;

  constructor(
    readonly path: string,
    private readonly port: SerialPort,
    private readonly own: OwnDescriptors | undefined,
  ) {
    this.reader = own?.reader;
    port.on('error', (error: Error) => this.fail(error));
    port.on('close', (error: Error | null) => {
      if (error) this.fail(error);
    });
    // The far side of a pseudo-terminal closing reads as EIO: the port is gone.
    this.reader?.on('error', (error: Error) => this.fail(error));
    if (own?.pseudoTerminal) this.writeNow = (data, offset, length) => this.takeNow(own.writeFd, data, offset, length);
  }

  /** One non-blocking write(2) from `offset`, no view of the data made; EAGAIN (full) is 0 taken. */
  private takeNow(fd: number, data: Buffer, offset: number, length: number): number {
    if (!this.port.isOpen) throw new Error(`${this.path} is closed`);
    try {
      return writeSync(fd, data, offset, length);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      throw error;
    }
  }

  writeNow?: (data: Buffer, offset: number, length: number) => number;

  write(data: Uint8Array): Promise<void> {
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (!this.own || !this.port.isOpen) return this.portWrite(buffer);
    let written: number;
    try {
      written = this.takeNow(this.own.writeFd, buffer, 0, buffer.length);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // What the device could not take now goes when it can: serialport waits for that.
    return written === buffer.length ? Promise.resolve() : this.portWrite(buffer.subarray(written));
  }

  private portWrite(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.port.isOpen) {
        reject(new Error(`${this.path} is closed`));
        return;
      }
      this.port.write(data, (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  drain(): Promise<void> {
    if (this.own?.pseudoTerminal) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (!this.port.isOpen) {
        reject(new Error(`${this.path} is closed`));
        return;
      }
      this.port.drain((error) => (error ? reject(error) : resolve()));
    });
  }

  onData(listener: (chunk: Buffer) => void): void {
    if (this.reader) this.reader.on('data', listener);
    else this.port.on('data', listener);
  }

  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  close(): Promise<void> {
    if (this.reader && !this.reader.destroyed) {
      this.reader.removeAllListeners('data');
      this.reader.on('error', () => undefined);
      this.reader.destroy();
    }
    if (this.own) closeQuietly(this.own.writeFd);
    return new Promise((resolve) => {
      if (!this.port.isOpen) {
        resolve();
        return;
      }
      this.port.close(() => resolve());
    });
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    for (const listener of this.errorListeners) listener(error);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing to do: it was ours and is gone either way.
  }
}
