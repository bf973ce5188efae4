/**
 * The header line setting on the way from an outbox entry to the pages dialled: the transmitter's
 * own SQLite database, a real G3 TIFF upload, Ghostscript drawing the header.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { blackPixelCount, createBitmap, pageBitmap, pageFromBitmap, setPixel, writeG3Tiff } from '@faxnotify/fax-line';
import { Outbox } from '../outbox';
import { RecipientLedger } from '../ledger/recipient-ledger';
import { openTestDatabase, TEST_RETRY_DELAYS, type TestDatabase } from '../testing/database';
import { DEFAULT_HEADER_FORMAT } from '../documents';
import { storedDocuments } from './document-cache';

let t: TestDatabase;
const stored = new Map<string, string>();
beforeEach(async () => (t = await openTestDatabase()));
afterEach(() => t.close());

/** A two-page fax from a G3 TIFF whose pages have a white top margin and a line of ink at row 300. */
async function entry(from: string | null): Promise<string> {
  const bitmap = createBitmap(1728, 2200);
  for (let x = 100; x < 1600; x++) setPixel(bitmap, x, 300, true);
  const page = pageFromBitmap(bitmap, 'fine');
  const bytes = writeG3Tiff([page, page].map((p) => ({ width: p.width, height: p.height, xResolution: 204, yResolution: 196, data: p.data })));
  const fileId = randomUUID();
  const disk = join(t.dir, `${fileId}.tiff`);
  writeFileSync(disk, bytes);
  stored.set(fileId, disk);
  await t.db
    .insertInto('files')
    .values({ id: fileId, owner_id: 'owner-1', name: 'a.tiff', format: 'tiff', bytes: bytes.length, stored_path: disk, created_at: new Date().toISOString() })
    .execute();
  return new Outbox(t.db, new RecipientLedger(TEST_RETRY_DELAYS)).createEntry('owner-1', {
    from,
    to: ['+12025550101'],
    files: [{ fileId, path: `/storage/${fileId}.tiff`, name: 'a.tiff', bytes: bytes.length }],
    subject: 'report',
    sendAt: null,
    retry: { count: 1, delayMinutes: 0 },
  });
}

const topInk = (page: Parameters<typeof pageBitmap>[0]): number => {
  const bitmap = pageBitmap(page);
  return blackPixelCount({ ...bitmap, height: 39, data: bitmap.data.subarray(0, 39 * bitmap.rowBytes) });
};

describe('header line on the pages sent', () => {
  it('is off unless configured: the pages are the document’s', async () => {
    const prepared = await storedDocuments(t.db, async (id) => stored.get(id) ?? null)(await entry(null));
    if (!prepared.ok) throw new Error(prepared.detail);
    expect(prepared.document.pages.map(topInk)).toEqual([0, 0]);
  });

  it('when configured, every page carries it in its top rows, the page count unchanged', async () => {
    const setting = { format: DEFAULT_HEADER_FORMAT, locale: 'en', timeZone: 'UTC', localId: '+1 202 555 0100' };
    const prepare = storedDocuments(t.db, async (id) => stored.get(id) ?? null, setting);
    const withFrom = await prepare(await entry('+12025550199'));
    const withoutFrom = await prepare(await entry(null));
    if (!withFrom.ok || !withoutFrom.ok) throw new Error('preparation failed');
    expect(withFrom.pagesPerFile).toEqual([2]);
    expect(withFrom.document.pages.map((page) => page.height)).toEqual([2200, 2200]);
    for (const page of withFrom.document.pages) expect(topInk(page)).toBeGreaterThan(300);
    // The sender's own number, else the station's identity: different text, different ink.
    expect(topInk(withFrom.document.pages[0])).not.toBe(topInk(withoutFrom.document.pages[0]));
  });
});
