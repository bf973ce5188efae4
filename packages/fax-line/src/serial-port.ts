/**
 * The byte pipe to a modem. Drivers talk to `SerialLink`, so the same driver code runs on a real
 * serial port, a USB modem or a pseudo-terminal (iaxmodem, the scripted test modem).
 */
import { SerialPort } from 'serialport';

export interface SerialLink {
  readonly path: string;
  /** Resolves once the bytes are handed to the operating system. */
  write(data: Uint8Array): Promise<void>;
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
      resolve(new SerialPortLink(path, port));
    });
  });
}

class SerialPortLink implements SerialLink {
  private errorListeners: Array<(error: Error) => void> = [];
  private failed = false;

  constructor(
    readonly path: string,
    private readonly port: SerialPort,
  ) {
    port.on('error', (error: Error) => this.fail(error));
    port.on('close', (error: Error | null) => {
      if (error) this.fail(error);
    });
  }

  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.port.isOpen) {
        reject(new Error(`${this.path} is closed`));
        return;
      }
      this.port.write(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), (error) => {
        if (error) {
          reject(error);
          return;
        }
        this.port.drain((drainError) => (drainError ? reject(drainError) : resolve()));
      });
    });
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.port.on('data', listener);
  }

  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  close(): Promise<void> {
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
