/**
 * The Class 1 receiver on a real fax line: efax calls from one iaxmodem and sends PBM pages, our
 * driver answers on the other. Each case runs on its own modem pair, both at once. The pages are
 * A4 at fine resolution, laid out like a letter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Class1Line } from './class1';
import { type Bitmap, createBitmap } from './documents/bitmap';
import { pageBitmap } from './documents/fax-document';
import { EFAX_HEADER_ROWS, type EfaxSender, type ModemPair, type ModemPairs, startEfaxSender, startModemPairs } from './testing/fax-line-peer';
import { letterBitmap, letterDocument, pbmFromBitmap } from './testing/sample-pages';
import type { LineReceiveResult, ReceiveObserver } from './types';

jest.setTimeout(180_000);

const SENDER_ID = 'EFAX SENDER 1001';
const OUR_ID = 'FAXNOTIFY RX';

let line: ModemPairs;
let dir: string;
let pages: Bitmap[];
let files: string[];
const measured: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'class1-receive-line-'));
  line = await startModemPairs(3);
  pages = [letterBitmap(1), letterBitmap(2)];
  files = pages.map((bitmap, i) => {
    const file = join(dir, `page-${i + 1}.pbm`);
    writeFileSync(file, pbmFromBitmap(bitmap));
    return file;
  });
});

afterAll(async () => {
  await line?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (measured.length > 0) process.stdout.write(`answer-to-hangup on the real line:\n${measured.join('\n')}\n`);
});

/** What efax puts on the line for a page: its header rows (blank, as we give it no header text), then the page. */
function asSent(bitmap: Bitmap): Bitmap {
  const out = createBitmap(bitmap.width, bitmap.height + EFAX_HEADER_ROWS);
  out.data.set(bitmap.data, EFAX_HEADER_ROWS * bitmap.rowBytes);
  return out;
}

function rowsDiffering(a: Bitmap, b: Bitmap): number {
  let differing = Math.abs(a.height - b.height);
  for (let y = 0; y < Math.min(a.height, b.height); y++) {
    const rowA = Buffer.from(a.data.subarray(y * a.rowBytes, (y + 1) * a.rowBytes));
    const rowB = Buffer.from(b.data.subarray(y * b.rowBytes, (y + 1) * b.rowBytes));
    if (!rowA.equals(rowB)) differing++;
  }
  return differing;
}

async function receiveOn(pair: ModemPair, observer: ReceiveObserver = {}): Promise<{ result: LineReceiveResult; trace: string[] }> {
  const faxLine = new Class1Line({ id: `pair-${pair.index}`, device: pair.receiverDevice, mode: 'receive', answerId: OUR_ID });
  const trace: string[] = [];
  const result = await faxLine.receive(
    { waitMs: 60_000 },
    {
      ...observer,
      trace: (text) => {
        trace.push(text);
        observer.trace?.(text);
      },
    },
  );
  await faxLine.close();
  if (process.env.DEBUG_LINE) process.stdout.write(`pair ${pair.index}:\n${trace.join('\n')}\n`);
  return { result, trace };
}

/** Starts our receiver, then efax calling once the receiver listens. */
async function call(pair: ModemPair, pageFiles: string[], observer: ReceiveObserver = {}, onSender?: (sender: EfaxSender) => void) {
  const listening = new Promise<void>((resolve) => {
    const wrapped = observer;
    observer = {
      ...wrapped,
      trace: (text) => {
        if (/-- await_ring/.test(text)) resolve();
        wrapped.trace?.(text);
      },
    };
  });
  const received = receiveOn(pair, observer);
  await listening;
  const sender = startEfaxSender(pair.senderDevice, { localId: SENDER_ID, dialString: pair.dialString, files: pageFiles });
  onSender?.(sender);
  try {
    const { result, trace } = await received;
    return { result, trace, sender };
  } finally {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([sender.exited, new Promise((resolve) => (timer = setTimeout(resolve, 20_000)))]);
    clearTimeout(timer);
    sender.kill();
  }
}

describe('Class 1 receive on a real line (iaxmodem pair, efax sending)', () => {
  test.concurrent("efax's 2-page fax arrives: both pages confirmed, efax's TSI, the same pixels", async () => {
    const pair = line.pairs[0];
    const rings: Array<{ callerNumber: string | null; calledNumber: string | null }> = [];
    const received: number[] = [];
    const { result, sender } = await call(pair, files, { ringing: (c) => rings.push(c), pageReceived: (page) => received.push(page) });
    measured.push(`  2 pages (fine) from efax: ${((result.endedAt.getTime() - result.connectedAt!.getTime()) / 1000).toFixed(1)} s`);
    expect(result).toMatchObject({
      status: 'success',
      reason: { code: 'OK' },
      remoteCsid: SENDER_ID,
      partialPage: null,
      pagesRejected: 0,
      signallingRate: 14400,
    });
    expect(result.remoteCsidRaw).toBe(SENDER_ID.split('').reverse().join('').padEnd(20, ' '));
    expect(rings).toEqual([{ callerNumber: '1001', calledNumber: '2002' }]);
    expect([result.callerNumber, result.calledNumber]).toEqual(['1001', '2002']);
    expect(received).toEqual([1, 2]);
    expect(await sender.exited).toEqual({ code: 0, signal: null });
    expect(sender.log()).toMatch(/received MCF/);
    expect(result.pages).toHaveLength(2);
    result.pages.forEach((page, i) => {
      expect(page).toMatchObject({ width: 1728, resolution: 'fine', badRows: 0 });
      // Every row, efax's blank header rows included: MH is lossless.
      expect(rowsDiffering(pageBitmap(page), asSent(pages[i]))).toBe(0);
    });
  });

  test.concurrent('our sender to our receiver, both lines able to send and receive: the pages arrive as prepared', async () => {
    const pair = line.pairs[2];
    const { document, bitmaps } = letterDocument(2);
    const answering = new Class1Line({ id: 'b', device: pair.receiverDevice, mode: 'both', answerId: OUR_ID });
    const calling = new Class1Line({ id: 'a', device: pair.senderDevice, mode: 'both' });
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const receiving = answering.receive({ waitMs: 60_000 }, { trace: (text) => text.includes('-- await_ring') && listening() });
    await ready;
    const [received, sent] = await Promise.all([receiving, calling.send({ dialString: pair.dialString, localId: 'FAXNOTIFY TX', document }, {})]);
    await Promise.all([answering.close(), calling.close()]);
    expect(sent).toMatchObject({ pagesConfirmed: 2, reason: { code: 'OK' }, remoteCsid: OUR_ID });
    expect(received).toMatchObject({ status: 'success', remoteCsid: 'FAXNOTIFY TX', callerNumber: '1001', calledNumber: '2002' });
    expect(received.pages.map((page, i) => rowsDiffering(pageBitmap(page), bitmaps[i]))).toEqual([0, 0]);
  });

  test.concurrent('efax is killed during page 2: partially_received, page 1 kept, page 2 reported cut', async () => {
    const pair = line.pairs[1];
    let killer: ReturnType<typeof setTimeout> | undefined;
    let sender: EfaxSender | undefined;
    const { result } = await call(
      pair,
      files,
      {
        // A fax machine switched off mid-page: efax stopped by a signal drops its line.
        pageReceived: (page) => {
          if (page === 1) killer = setTimeout(() => sender?.kill('SIGTERM'), 3000);
        },
      },
      (started) => (sender = started),
    );
    clearTimeout(killer);
    expect(result.status).toBe('partially_received');
    expect(result.pages).toHaveLength(1);
    expect(rowsDiffering(pageBitmap(result.pages[0]), asSent(pages[0]))).toBe(0);
    expect(result.partialPage).not.toBeNull();
    expect(result.partialPage!.height).toBeLessThan(asSent(pages[1]).height);
    expect(['NO_CARRIER', 'T30_T2_TIMEOUT']).toContain(result.reason.code);
    expect(result.reason.detail).toMatch(/page 2/);
    expect(result.remoteCsid).toBe(SENDER_ID);
  });
});
