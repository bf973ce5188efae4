/**
 * Releasing outbox entries as faxes, on the transmitter's own SQLite database with real documents
 * (G3 TIFF files, which the transmitter prepares without any outside program) and nothing else
 * running.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FaxSubmitted } from '@faxnotify/contracts';
import { pageThumbnail, writeG3Tiff } from '@faxnotify/fax-line';
import { patternDocument } from '@faxnotify/fax-line/testing';
import { createLogger } from '@faxnotify/kit';
import { Outbox } from '../outbox';
import { DOCUMENT_PREPARATION, RecipientLedger } from '../ledger/recipient-ledger';
import { openTestDatabase, TEST_RETRY_DELAYS, type TestDatabase } from '../testing/database';
import { DocumentCache, storedDocuments, type Prepared } from './document-cache';
import { EntryReleaser } from './release';

const DELAYS = TEST_RETRY_DELAYS;
const logger = createLogger('transmitter-test', 'silent');

let t: TestDatabase;
let stored: Map<string, string>;
let documents: DocumentCache;
let stopped: boolean;
let released: number;
let releaser: EntryReleaser;
const now = new Date('2026-12-01T10:00:00.000Z');

beforeEach(async () => {
  t = await openTestDatabase();
  stored = new Map();
  stopped = false;
  released = 0;
  documents = new DocumentCache(storedDocuments(t.db, async (fileId) => stored.get(fileId) ?? null));
  releaser = new EntryReleaser({
    db: t.db,
    ledger: new RecipientLedger(DELAYS),
    documents,
    logger,
    now: () => now,
    stopped: () => stopped,
    released: () => released++,
  });
});
afterEach(() => t.close());

/** An uploaded file: a G3 TIFF of `pages` pages, or these bytes. */
async function upload(name: string, content: number | Buffer): Promise<{ fileId: string; path: string; name: string; bytes: number }> {
  const bytes =
    typeof content === 'number'
      ? writeG3Tiff(
          patternDocument(content).document.pages.map((p) => ({ width: p.width, height: p.height, xResolution: 204, yResolution: 196, data: p.data })),
        )
      : content;
  const fileId = randomUUID();
  const disk = join(t.dir, `${fileId}.tiff`);
  writeFileSync(disk, bytes);
  stored.set(fileId, disk);
  await t.db
    .insertInto('files')
    .values({ id: fileId, owner_id: 'owner-1', name, format: 'tiff', bytes: bytes.length, stored_path: disk, created_at: now.toISOString() })
    .execute();
  return { fileId, path: `/storage/${fileId}.tiff`, name, bytes: bytes.length };
}

async function entry(files: Array<Awaited<ReturnType<typeof upload>>>, to: string[], sendAt: Date | null = null): Promise<string> {
  return new Outbox(t.db, new RecipientLedger(DELAYS)).createEntry('owner-1', {
    from: null,
    to,
    files,
    subject: 'quarterly report',
    sendAt,
    retry: { count: 1, delayMinutes: 0 },
  });
}

const faxOf = (outboxId: string) => t.db.selectFrom('faxes').selectAll().where('outbox_id', '=', outboxId).executeTakeFirstOrThrow();
const recipientsOf = (outboxId: string) => t.db.selectFrom('recipients').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute();

describe('releasing outbox entries', () => {
  it('turns a due entry into a fax: pages counted per file, fax.submitted, recipients queued; a later one waits', async () => {
    const due = await entry([await upload('a.tiff', 2), await upload('b.tiff', 1)], ['+12025550101', '+12025550102']);
    const later = await entry([await upload('c.tiff', 1)], ['+12025550103'], new Date(now.getTime() + 3600_000));
    await releaser.releaseDue();

    const fax = await faxOf(due);
    expect(fax).toMatchObject({ state: 'sending', pages: 3, submitted_at: now.toISOString() });
    expect(fax.fax_id).toMatch(/^fax-[0-9a-f-]{36}$/);
    expect((await t.db.selectFrom('fax_files').select('pages').where('outbox_id', '=', due).orderBy('position').execute()).map((f) => f.pages)).toEqual([2, 1]);
    expect((await recipientsOf(due)).map((r) => [r.state, r.status, r.pages_total, r.next_attempt_at])).toEqual([
      ['queued', 'queued', 3, now.toISOString()],
      ['queued', 'queued', 3, now.toISOString()],
    ]);
    const events = await t.events();
    expect(events.map((e) => e.type)).toEqual(['faxnotify.fax.submitted.v2']);
    expect(events[0].data).toMatchObject({
      faxId: fax.fax_id,
      outboxId: due,
      ownerId: 'owner-1',
      subject: 'quarterly report',
      recipients: [
        { recipientId: 'r1', number: '+12025550101' },
        { recipientId: 'r2', number: '+12025550102' },
      ],
      files: [
        { name: 'a.tiff', pages: 2 },
        { name: 'b.tiff', pages: 1 },
      ],
      pages: 3,
      retry: { count: 1, delayMinutes: 0 },
    });
    // The first page as the recipients get it, small and grey, for the confirmation report.
    const prepared = documents.peek(due) as { prepared: Extract<Prepared, { ok: true }> };
    const picture = pageThumbnail(prepared.prepared.document.pages[0], { width: 200, depth: 4 });
    expect((events[0].data as FaxSubmitted).firstPage).toEqual({ png: picture.png.toString('base64'), width: 200, height: picture.height });
    expect(await faxOf(later)).toMatchObject({ state: 'waiting', fax_id: null });
    expect(released).toBe(1);
    // The pages are kept for the calls to come.
    expect(documents.peek(due)).toMatchObject({ state: 'ready', prepared: { ok: true } });
  });

  it('ends every recipient at once when a file cannot be prepared, naming the file', async () => {
    const outboxId = await entry(
      [await upload('a.tiff', 1), await upload('broken.tiff', Buffer.from('II*\0 not really a TIFF'))],
      ['+12025550101', '+12025550102'],
    );
    await releaser.releaseDue();

    expect(await faxOf(outboxId)).toMatchObject({ state: 'done', pages: 0 });
    const recipients = await recipientsOf(outboxId);
    expect(recipients.map((r) => [r.state, r.reason_code, r.attempt])).toEqual([
      ['final', DOCUMENT_PREPARATION, 1],
      ['final', DOCUMENT_PREPARATION, 1],
    ]);
    const all = await t.events();
    // No pages, no picture of the first.
    expect(all.find((e) => e.type.includes('fax.submitted'))!.data).not.toHaveProperty('firstPage');
    const results = all.filter((e) => e.type.includes('recipient.result'));
    expect(results).toHaveLength(2);
    expect(results[0].data).toMatchObject({
      status: recipients[0].status,
      reason: { code: DOCUMENT_PREPARATION, detail: expect.stringContaining('file 2 of 2 (broken.tiff)') },
    });
    expect(documents.peek(outboxId)).toEqual({ state: 'absent' });
  });

  it('leaves an entry waiting when the scheduler stops while its documents are prepared', async () => {
    const outboxId = await entry([await upload('a.tiff', 1)], ['+12025550101']);
    const fromStore = storedDocuments(t.db, async (fileId) => stored.get(fileId) ?? null);
    const stopping = new DocumentCache(async (id) => {
      stopped = true;
      return fromStore(id);
    });
    await new EntryReleaser({
      db: t.db,
      ledger: new RecipientLedger(DELAYS),
      documents: stopping,
      logger,
      now: () => now,
      stopped: () => stopped,
      released: () => released++,
    }).releaseDue();
    expect(await faxOf(outboxId)).toMatchObject({ state: 'waiting', fax_id: null });
    expect(await t.events()).toEqual([]);
  });
});

describe('the prepared-document cache', () => {
  it('prepares a fax once however many ask, until it is forgotten', async () => {
    let runs = 0;
    const ready: Prepared = { ok: true, document: { pages: [] }, pagesPerFile: [] };
    const cache = new DocumentCache(async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return ready;
    });
    expect(cache.peek('e1')).toEqual({ state: 'absent' });
    const asked = [cache.get('e1'), cache.get('e1')];
    expect(cache.peek('e1')).toEqual({ state: 'preparing' });
    expect(await Promise.all(asked)).toEqual([ready, ready]);
    expect(await cache.get('e1')).toBe(ready);
    expect(runs).toBe(1);
    cache.forget('e1');
    await cache.get('e1');
    expect(runs).toBe(2);
  });

  it('says which stored file is gone', async () => {
    const outboxId = await entry([await upload('a.tiff', 1)], ['+12025550101']);
    stored.clear();
    expect(await documents.get(outboxId)).toEqual({ ok: false, status: 'failed_internal_process_error', detail: 'file 1 of 1 (a.tiff) is no longer stored' });
  });
});
