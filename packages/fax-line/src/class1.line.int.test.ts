/**
 * The Class 1 driver on a real fax line: two iaxmodems calling each other over loopback, efax as
 * the fax machine at the far end. Each case runs on its own modem pair, all at once. The pages are
 * A4 at fine resolution, laid out like a letter, as a prepared document would be.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { Class1Line } from './class1';
import { type Bitmap } from './documents/bitmap';
import { type FaxDocument, pageBitmap } from './documents/fax-document';
import { decodeMh } from './documents/t4-mh';
import { readTiff } from './documents/tiff';
import { type ModemPair, type ModemPairs, startEfaxReceiver, startModemPairs } from './testing/fax-line-peer';
import { letterDocument } from './testing/sample-pages';
import type { LineObserver, LineResult } from './types';

jest.setTimeout(150_000);

const RECEIVER_ID = 'RECEIVER CSID';
/** efax stamps a header line over the top of each page it receives: compare below it. */
const HEADER_ROWS = 20;

let line: ModemPairs;
let dir: string;
let twoPages: FaxDocument;
const measured: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'class1-line-'));
  line = await startModemPairs(5);
  twoPages = letterDocument(2).document;
});

afterAll(async () => {
  await line?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (measured.length > 0) process.stdout.write(`dial-to-hangup on the real line:\n${measured.join('\n')}\n`);
});

interface Sent {
  result: LineResult;
  trace: string[];
  confirmed: number[];
  /** Seconds from ATD to the end of ATH0. */
  dialToHangup: number;
}

async function sendOn(pair: ModemPair, document: FaxDocument, observer: LineObserver = {}): Promise<Sent> {
  const faxLine = new Class1Line({ id: `pair-${pair.index}`, device: pair.senderDevice });
  const trace: string[] = [];
  const confirmed: number[] = [];
  let dialedAt = 0;
  const result = await faxLine.send(
    { dialString: pair.dialString, localId: 'FAXNOTIFY TX', document },
    {
      dialing: () => {
        dialedAt = Date.now();
        observer.dialing?.();
      },
      connected: (remote) => observer.connected?.(remote),
      pageConfirmed: (page, of) => {
        confirmed.push(page);
        observer.pageConfirmed?.(page, of);
      },
      trace: (text) => {
        trace.push(text);
        observer.trace?.(text);
      },
    },
  );
  await faxLine.close();
  if (process.env.DEBUG_LINE) process.stdout.write(`pair ${pair.index}:\n${trace.join('\n')}\n${JSON.stringify(result)}\n`);
  return { result, trace, confirmed, dialToHangup: (result.endedAt.getTime() - dialedAt) / 1000 };
}

function receivedBitmaps(files: string[]): Array<{ bitmap: Bitmap; badLines: number }> {
  return files.map((file) => {
    const [page] = readTiff(readFileSync(file));
    const decoded = decodeMh(page.stripData, page.width, { lsbFirst: page.fillOrder === 2, maxRows: page.height });
    return { bitmap: decoded.bitmap, badLines: decoded.badLines };
  });
}

function rowsDiffering(a: Bitmap, b: Bitmap, fromRow: number): number {
  let differing = Math.abs(a.height - b.height);
  const rows = Math.min(a.height, b.height);
  for (let y = fromRow; y < rows; y++) {
    const rowA = Buffer.from(a.data.subarray(y * a.rowBytes, (y + 1) * a.rowBytes));
    const rowB = Buffer.from(b.data.subarray(y * b.rowBytes, (y + 1) * b.rowBytes));
    if (!rowA.equals(rowB)) differing++;
  }
  return differing;
}

describe('Class 1 on a real line (iaxmodem pair, efax receiving)', () => {
  test.concurrent("a 2-page A4 fax arrives: 2 of 2 confirmed, the receiver's CSID, the same pixels", async () => {
    const pair = line.pairs[0];
    const receiver = await startEfaxReceiver(pair.receiverDevice, { localId: RECEIVER_ID, outputDir: join(dir, 'rx-1'), settleMs: 500 });
    try {
      const sent = await sendOn(pair, twoPages);
      measured.push(`  2 pages (fine): ${sent.dialToHangup.toFixed(1)} s`);
      expect(sent.result).toMatchObject({ pagesConfirmed: 2, pagesTotal: 2, reason: { code: 'OK' }, signallingRate: 14400 });
      expect(sent.result.remoteCsid).toBe(RECEIVER_ID);
      expect(sent.result.remoteCsidRaw).toBe(RECEIVER_ID.split('').reverse().join('').padEnd(20, ' '));
      expect(sent.confirmed).toEqual([1, 2]);
      await receiver.exited;
      expect(receiver.log()).toMatch(/remote ID -> *FAXNOTIFY TX/);
      const files = receiver.receivedFiles();
      expect(files).toHaveLength(2);
      const received = receivedBitmaps(files);
      received.forEach(({ bitmap, badLines }, i) => {
        const original = pageBitmap(twoPages.pages[i]);
        expect(badLines).toBe(0);
        expect(bitmap.width).toBe(original.width);
        expect(rowsDiffering(bitmap, original, HEADER_ROWS)).toBe(0);
      });
    } finally {
      receiver.kill();
    }
  });

  test.concurrent('a 1-page fax for the timing record', async () => {
    const pair = line.pairs[4];
    const receiver = await startEfaxReceiver(pair.receiverDevice, { localId: RECEIVER_ID, outputDir: join(dir, 'rx-5'), settleMs: 500 });
    try {
      const sent = await sendOn(pair, { pages: [twoPages.pages[0]] });
      measured.push(`  1 page (fine): ${sent.dialToHangup.toFixed(1)} s`);
      expect(sent.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 1, reason: { code: 'OK' } });
    } finally {
      receiver.kill();
    }
  });

  test.concurrent('the receiver goes away during page 2: page 1 counts, detail kept', async () => {
    const pair = line.pairs[1];
    const receiver = await startEfaxReceiver(pair.receiverDevice, { localId: RECEIVER_ID, outputDir: join(dir, 'rx-2'), settleMs: 500 });
    try {
      const sent = await sendOn(pair, twoPages, {
        // efax stopped by a signal hangs up its modem, as a fax machine losing power would drop the line.
        pageConfirmed: (page) => {
          if (page === 1) setTimeout(() => receiver.kill('SIGTERM'), 3000);
        },
      });
      expect(sent.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 2, remoteCsid: RECEIVER_ID });
      expect(['NO_CARRIER', 'T30_POST_PAGE_NO_RESPONSE']).toContain(sent.result.reason.code);
      expect(sent.result.reason.detail).toMatch(/page 2/);
      expect(sent.result.reason.detail).toMatch(/modem: "/);
    } finally {
      receiver.kill();
    }
  });

  test.concurrent('nobody answers: NO_ANSWER', async () => {
    const pair = line.pairs[2];
    const sent = await sendOn(pair, { pages: [twoPages.pages[0]] });
    expect(sent.result).toMatchObject({ pagesConfirmed: 0, connectedAt: null, remoteCsid: null });
    expect(sent.result.reason.code).toBe('NO_ANSWER');
    expect(sent.result.reason.detail).toContain('modem: "NO ANSWER"');
  });

  test.concurrent('the far modem does not accept calls: NO_DIALTONE', async () => {
    const pair = line.pairs[3];
    // Something else holds the far line off-hook.
    const far = new SerialPort({ path: pair.receiverDevice, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => far.open((error) => (error ? reject(error) : resolve())));
    try {
      const answered = new Promise<string>((resolve) => {
        let text = '';
        far.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          if (/OK|ERROR/.test(text)) resolve(text);
        });
      });
      far.write('ATH1\r');
      expect(await answered).toContain('OK');
      const sent = await sendOn(pair, { pages: [twoPages.pages[0]] });
      expect(sent.result).toMatchObject({ pagesConfirmed: 0, connectedAt: null });
      expect(sent.result.reason.code).toBe('NO_DIALTONE');
      expect(sent.result.reason.detail).toContain('modem: "NO DIALTONE"');
    } finally {
      await new Promise<void>((resolve) => far.close(() => resolve()));
    }
  });
});
