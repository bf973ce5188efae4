/**
 * ModemChannel's byte handling, against an in-memory serial link whose "modem" side the test
 * drives byte by byte, so flow control can be checked exactly.
 */
import { DLE, ETX, ModemChannel, XOFF, XON, escapeDle } from './modem-channel';
import type { SerialLink } from './serial-port';

class MemoryLink implements SerialLink {
  readonly path = 'memory';
  readonly written: Buffer[] = [];
  private listener: (chunk: Buffer) => void = () => undefined;
  onWrite: (data: Buffer) => void = () => undefined;
  writeNow?: (data: Buffer, offset: number, length: number) => number;

  async write(data: Uint8Array): Promise<void> {
    const chunk = Buffer.from(data);
    this.written.push(chunk);
    this.onWrite(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  onData(listener: (chunk: Buffer) => void): void {
    this.listener = listener;
  }
  onError(): void {}
  async close(): Promise<void> {}
  /** The modem speaks. */
  say(data: string | number[]): void {
    this.listener(typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data));
  }
  writtenText(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
}

function channel(): { link: MemoryLink; ch: ModemChannel; trace: string[] } {
  const link = new MemoryLink();
  const trace: string[] = [];
  return { link, ch: new ModemChannel(link, (line) => trace.push(line)), trace };
}

describe('ModemChannel', () => {
  it('reads result codes split across chunks and keeps information lines', async () => {
    const { link, ch } = channel();
    link.onWrite = () => {
      link.say('\r\n24,48,96');
      setTimeout(() => link.say(',145\r\n\r\nO'), 5);
      setTimeout(() => link.say('K\r\n'), 10);
    };
    const result = await ch.command('AT+FTM=?', 1000);
    expect(result).toEqual({ code: 'OK', line: 'OK', info: ['24,48,96,145'] });
    expect(link.writtenText()).toBe('AT+FTM=?\r');
  });

  it('times out with TIMEOUT when the modem says nothing', async () => {
    const { ch } = channel();
    expect((await ch.command('AT', 50)).code).toBe('TIMEOUT');
  });

  it('takes an HDLC frame after CONNECT: DLE unstuffing, then the verdict', async () => {
    const { link, ch } = channel();
    link.say('\r\nCONNECT\r\n');
    expect((await ch.readResult(100)).code).toBe('CONNECT');
    link.say([0xff, 0x13, DLE, DLE, 0x80, DLE, ETX]);
    link.say('\r\nOK\r\n');
    expect(await ch.readDleData(100)).toEqual(Buffer.from([0xff, 0x13, DLE, 0x80]));
    expect((await ch.readResult(100)).code).toBe('OK');
  });

  it('doubles DLE in outgoing data', () => {
    expect(escapeDle(Buffer.from([1, DLE, 2]))).toEqual(Buffer.from([1, DLE, DLE, 2]));
  });

  it('stops writing page data on XOFF until XON, while XON/XOFF never reach the result parser', async () => {
    const { link, ch } = channel();
    const data = Buffer.concat([Buffer.alloc(4096, 0x55), Buffer.from([DLE, ETX])]);
    let heldSince: number | null = null;
    const writesWhileHeld: number[] = [];
    let written = 0;
    link.onWrite = (chunk) => {
      if (heldSince !== null) writesWhileHeld.push(chunk.length);
      written += chunk.length;
      if (written === 1024) {
        link.say([XOFF]);
        heldSince = Date.now();
        setTimeout(() => {
          heldSince = null;
          link.say([XON]);
        }, 100);
      }
      if (written === data.length) setTimeout(() => link.say('\r\nOK\r\n'), 5);
    };
    const started = Date.now();
    const outcome = await ch.sendData(data, { chunkSize: 256, xoffTimeoutMs: 1000, completionTimeoutMs: 1000 });
    expect(outcome).toMatchObject({ written: true, result: { code: 'OK' }, xoffCount: 1 });
    expect(writesWhileHeld).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(Buffer.concat(link.written)).toEqual(data);
  });

  it('writes page data with writeNow where the link has it, and what the device did not take with write(), in order and never while held', async () => {
    const { link, ch } = channel();
    const data = Buffer.alloc(4096 + 2);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    let held = false;
    let heldWrites = 0;
    let total = 0;
    const taken: string[] = [];
    const take = (chunk: Buffer, how: string): void => {
      if (held) heldWrites++;
      link.written.push(chunk);
      taken.push(how);
      total += chunk.length;
      if (total >= 1024 && total - chunk.length < 1024) {
        held = true;
        link.say([XOFF]);
        setTimeout(() => {
          held = false;
          link.say([XON]);
        }, 50);
      }
      if (total === data.length) setTimeout(() => link.say('\r\nOK\r\n'), 5);
    };
    // The device takes a whole chunk, then part of one, then nothing, and so on.
    let calls = 0;
    link.writeNow = (buffer, offset, length) => {
      const room = [length, 100, 0][calls++ % 3];
      if (room > 0) take(Buffer.from(buffer.subarray(offset, offset + room)), 'now');
      return room;
    };
    link.onWrite = (chunk) => {
      link.written.pop();
      take(chunk, 'write');
    };
    const outcome = await ch.sendData(data, { chunkSize: 256, xoffTimeoutMs: 1000, completionTimeoutMs: 1000 });
    expect(outcome).toMatchObject({ written: true, result: { code: 'OK' }, xoffCount: 1 });
    expect(heldWrites).toBe(0);
    expect(taken).toContain('now');
    expect(taken).toContain('write');
    expect(Buffer.concat(link.written)).toEqual(data);
  });

  it('stops at NO CARRIER mixed into the flow-control stream', async () => {
    const { link, ch } = channel();
    const data = Buffer.alloc(8192, 0x55);
    let written = 0;
    link.onWrite = (chunk) => {
      written += chunk.length;
      if (written === 2048) link.say([XOFF, XON, 0x0d, 0x0a, ...Buffer.from('NO CAR'), XOFF, ...Buffer.from('RIER\r\n'), XON]);
    };
    const outcome = await ch.sendData(data, { chunkSize: 512, xoffTimeoutMs: 1000, completionTimeoutMs: 1000 });
    expect(outcome).toMatchObject({ written: false, result: { code: 'NO CARRIER' } });
    expect(written).toBeLessThanOrEqual(2560);
  });

  it('gives up when XOFF is never lifted', async () => {
    const { link, ch } = channel();
    link.onWrite = () => link.say([XOFF]);
    const outcome = await ch.sendData(Buffer.alloc(1024), { chunkSize: 256, xoffTimeoutMs: 100, completionTimeoutMs: 1000 });
    expect(outcome).toMatchObject({ written: false, result: { code: 'TIMEOUT', line: 'XOFF' } });
    expect(link.written).toHaveLength(1);
  });

  it('ends the data with the terminator when aborted, then waits for the modem', async () => {
    const { link, ch } = channel();
    const controller = new AbortController();
    link.onWrite = (chunk) => {
      if (chunk.length === 2 && chunk[0] === DLE && chunk[1] === ETX) setTimeout(() => link.say('\r\nOK\r\n'), 5);
      else {
        link.say([XOFF]);
        setTimeout(() => controller.abort(), 10);
      }
    };
    await expect(
      ch.sendData(Buffer.alloc(4096), {
        chunkSize: 256,
        xoffTimeoutMs: 5000,
        completionTimeoutMs: 1000,
        signal: controller.signal,
        abortTerminator: Buffer.from([DLE, ETX]),
      }),
    ).rejects.toThrow('aborted');
    expect(link.written.at(-1)).toEqual(Buffer.from([DLE, ETX]));
    // After the abort the channel reads commands normally again.
    link.onWrite = () => link.say('\r\nOK\r\n');
    expect((await ch.command('ATH0', 100)).code).toBe('OK');
  });
});
