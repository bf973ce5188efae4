import { createEvent, type CloudEvent, type FaxReceived } from '@faxnotify/contracts';
import { createBitmap, encodeMh, setPixel, type Bitmap } from '@faxnotify/fax-line';

const TRANSMITTER = '/faxnotify/transmitter';

/** A page with something on every part of it: a frame, bars of different widths, a diagonal and a block that differs per page. */
export function testBitmap(rows: number, seed = 1, width = 1728): Bitmap {
  const bitmap = createBitmap(width, rows);
  const fill = (x0: number, y0: number, x1: number, y1: number) => {
    for (let y = Math.max(0, y0); y < Math.min(rows, y1); y += 1) for (let x = Math.max(0, x0); x < Math.min(width, x1); x += 1) setPixel(bitmap, x, y, true);
  };
  fill(0, 0, width, 4);
  fill(0, rows - 4, width, rows);
  fill(0, 0, 4, rows);
  fill(width - 4, 0, width, rows);
  for (let bar = 0; bar < 20; bar += 1) fill(100 + bar * 70, 100, 100 + bar * 70 + 1 + bar * 2, rows / 2);
  for (let y = 0; y < rows; y += 1) setPixel(bitmap, Math.floor((y * (width - 1)) / rows), y, true);
  fill(200 * seed, rows - 300, 200 * seed + 150, rows - 150);
  return bitmap;
}

export const testPage = (rows: number, resolution: 'standard' | 'fine', seed = 1) => {
  const bitmap = testBitmap(rows, seed);
  return { bitmap, page: { width: bitmap.width, rows, resolution, badRows: 0, data: encodeMh(bitmap).toString('base64') } };
};

/** A fax.received as the transmitter publishes it: two A4 pages (one fine, one standard) from a line. */
export function received(receivedId: string, ownerId: string, overrides: Partial<FaxReceived> = {}): CloudEvent<'fax.received'> {
  return createEvent(
    'fax.received',
    {
      receivedId,
      source: 'line',
      lineId: 'line-1',
      ownerId,
      callerNumber: '+390612345678',
      calledNumber: '+390698765432',
      remoteCsid: 'ACME <SALES> FAX',
      status: 'success',
      reason: { code: 'ok', detail: 'the sender ended the call normally' },
      pagesReceived: 2,
      startedAt: '2026-12-07T08:00:00.000Z',
      endedAt: '2026-12-07T08:01:30.000Z',
      pages: [testPage(2200, 'fine', 1).page, testPage(1100, 'standard', 2).page],
      ...overrides,
    },
    { source: TRANSMITTER, subject: `received/${receivedId}` },
  );
}
