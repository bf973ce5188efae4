/**
 * Receiving on a real fax line: the transmitter answers on one modem of an iaxmodem pair (a line
 * that both sends and receives), efax calls from the other and sends two A4 pages, and fax.received
 * arrives on RabbitMQ with the pages efax sent, row for row.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudEvent } from '@faxnotify/contracts';
import { createBitmap, pageBitmap, type Bitmap } from '@faxnotify/fax-line';
import { EFAX_HEADER_ROWS, letterBitmap, pbmFromBitmap, startEfaxSender, startModemPairs, type ModemPairs } from '@faxnotify/fax-line/testing';
import { eventually } from '@faxnotify/peers';
import { startTestTransmitter, type TestTransmitter } from '../testing/harness';

jest.setTimeout(90_000);

const SENDER_ID = 'EFAX SENDER 1001';

let pairs: ModemPairs;
let dir: string;
let t: TestTransmitter;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'transmitter-receive-line-'));
  pairs = await startModemPairs(1);
  t = await startTestTransmitter('receive-line', {
    'outbox.pollMs': 200,
    lines: [{ id: 'line-rx', kind: 'class1', device: pairs.pairs[0].receiverDevice, mode: 'both', number: '2002', owner: 'alice', answerId: 'FAXNOTIFY RX' }],
  });
});

afterAll(async () => {
  await t?.close();
  await pairs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What efax puts on the line for a page: its header rows (blank, as it gets no header text), then the page. */
function asSent(bitmap: Bitmap): Bitmap {
  const out = createBitmap(bitmap.width, bitmap.height + EFAX_HEADER_ROWS);
  out.data.set(bitmap.data, EFAX_HEADER_ROWS * bitmap.rowBytes);
  return out;
}

function rowsDiffering(a: Bitmap, b: Bitmap): number {
  let differing = Math.abs(a.height - b.height);
  for (let y = 0; y < Math.min(a.height, b.height); y++)
    if (!Buffer.from(a.data.subarray(y * a.rowBytes, (y + 1) * a.rowBytes)).equals(Buffer.from(b.data.subarray(y * b.rowBytes, (y + 1) * b.rowBytes))))
      differing++;
  return differing;
}

describe('the transmitter receiving on a real line (iaxmodem pair, efax calling)', () => {
  it("efax's two pages arrive as fax.received on RabbitMQ: success, efax's TSI, the rows efax sent", async () => {
    const pages = [letterBitmap(1), letterBitmap(2)];
    const files = pages.map((bitmap, i) => {
      const file = join(dir, `page-${i + 1}.pbm`);
      writeFileSync(file, pbmFromBitmap(bitmap));
      return file;
    });
    const [loop] = t.service.receivers;
    expect(loop.lineId).toBe('line-rx');
    await eventually(() => loop.listening, 20_000);
    const pair = pairs.pairs[0];
    const sender = startEfaxSender(pair.senderDevice, { localId: SENDER_ID, dialString: pair.dialString, files });
    try {
      const event = (await t.events.waitFor((e) => e.type === 'faxnotify.fax.received.v1', 75_000)) as CloudEvent<'fax.received'>;
      expect(event.data).toMatchObject({
        source: 'line',
        lineId: 'line-rx',
        ownerId: 'alice',
        status: 'success',
        reason: { code: 'OK' },
        remoteCsid: SENDER_ID,
        callerNumber: '1001',
        calledNumber: '2002',
        pagesReceived: 2,
      });
      expect(event.id).toBe(event.data.receivedId);
      const decoded = event.data.pages.map((page) =>
        pageBitmap({ width: page.width, height: page.rows, resolution: page.resolution, data: Buffer.from(page.data, 'base64') }),
      );
      expect(event.data.pages.map((page) => [page.width, page.resolution, page.badRows])).toEqual([
        [1728, 'fine', 0],
        [1728, 'fine', 0],
      ]);
      expect(decoded.map((bitmap, i) => rowsDiffering(bitmap, asSent(pages[i])))).toEqual([0, 0]);
      expect(await sender.exited).toEqual({ code: 0, signal: null });
      // The line answers again afterwards.
      await eventually(() => loop.listening, 20_000);
    } finally {
      sender.kill();
    }
  });
});
