/**
 * A cover page per fax and the fax's file by its id, through the API of a running transmitter
 * whose line is a scripted modem (SQLite, and PostgreSQL unless TEST_POSTGRES_URL is none): the
 * cover's language and time zone come from the token's claims or the body, the cover counts in
 * the pages of fax.submitted, and GET …/faxes/:faxId/file gives the pages as sent — a PDF that
 * Ghostscript opens with that many pages, a G3 TIFF whose first page is the cover drawn for that
 * fax — 404 to anyone else and 410 once retention deleted the documents.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blackPixelCount, pageBitmap, readTiff } from '@faxnotify/fax-line';
import { ScriptedModem } from '@faxnotify/fax-line/testing';
import { issueToken } from '@faxnotify/kit';
import type { CreatedView, ErrorView } from './api';
import { renderCoverPage } from './documents';
import { makeSamplePdf } from './documents/testing/sample-documents';
import type { FaxView, OutboxEntryView } from './outbox';
import { FileRetention } from './retention';
import { api, FAST_RETRIES, faxIdOf, finalFax, startTestTransmitter, TEST_POSTGRES_URL, TEST_SECRET, upload, type TestTransmitter } from './testing/harness';

jest.setTimeout(120_000);

const DAY_MS = 24 * 3600_000;
const FAST_LINE = { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 };

async function download(url: string, token: string, path: string): Promise<{ status: number; type: string | null; body: Buffer }> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, type: response.headers.get('content-type'), body: Buffer.from(await response.arrayBuffer()) };
}

/** How many pages Ghostscript draws from a PDF (each drawn page is announced on stdout). */
function ghostscriptPages(pdf: string): number {
  const out = execFileSync('gs', ['-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=nullpage', pdf], { encoding: 'utf8' });
  return out.split('\n').filter((line) => /^Page \d+$/.test(line.trim())).length;
}

const storages = TEST_POSTGRES_URL === 'none' ? [false] : [false, true];

describe.each(storages)('cover page and fax file (PostgreSQL: %s)', (postgres) => {
  let t: TestTransmitter;
  let modem: ScriptedModem;
  let url: string;
  let anna: string;

  beforeAll(async () => {
    modem = await ScriptedModem.start({ kind: 'class1', dialResult: 'CONNECT' });
    t = await startTestTransmitter(
      `fax-file${postgres ? '-pg' : ''}`,
      { ...FAST_RETRIES, 'dial.region': 'US', 'files.keepDays': 7, lines: [{ id: 'scripted', kind: 'class1', device: modem.device, timers: FAST_LINE }] },
      {},
      { postgres },
    );
    url = t.service.url;
    // As sign-in issues it: the provider's locale and zoneinfo claims as locale and tz.
    anna = await issueToken({ secret: TEST_SECRET }, 'anna', 3600, { locale: 'ru-RU', tz: 'Europe/Moscow' });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await modem?.stop();
  });

  it('sends the cover first, in the token’s language and zone, counted in the pages; the file is the pages as sent', async () => {
    const pdf = makeSamplePdf(t.dir, 'contract', [
      ['Contract', 'page one'],
      ['Contract', 'page two'],
    ]);
    const { body: uploaded } = await upload(url, anna, pdf);
    const created = await api<CreatedView>(url, anna, 'POST', '/v3/accounts/self/outbox', {
      to: ['+12025550103'],
      files: [uploaded.path],
      comment: { text: 'Договор на подпись\nПодпишите, пожалуйста.' },
      cover_page: { enabled: true, to_name: 'Bob <Legal>', from_name: 'Анна' },
    });
    expect(created.status).toBe(201);
    const entry = await api<OutboxEntryView>(url, anna, 'GET', `/v3/accounts/self/outbox/${created.body.id}`);
    expect(entry.body.cover_page).toEqual({ enabled: true, to_name: 'Bob <Legal>', from_name: 'Анна', locale: 'ru-RU', time_zone: 'Europe/Moscow' });

    const faxId = await faxIdOf(url, anna, created.body.id, 60_000);
    const submitted = await t.events.waitFor((e) => e.type === 'faxnotify.fax.submitted.v2' && (e.data as { faxId: string }).faxId === faxId);
    expect(submitted.data).toMatchObject({ files: [{ name: 'contract.pdf', pages: 2 }], pages: 3 });
    const fax = await finalFax(url, anna, faxId, 60_000);
    expect(fax).toMatchObject({ status: 'delivered', page_count: 3, cover_page: { enabled: true } });
    // The recipient was sent the cover too: three pages of three.
    expect(fax.recipients[0].page).toEqual({ n: 3, of: 3 });

    const asPdf = await download(url, anna, `/v3/accounts/self/faxes/${faxId}/file`);
    expect(asPdf.status).toBe(200);
    expect(asPdf.type).toBe('application/pdf');
    const saved = join(t.dir, `${faxId}.pdf`);
    writeFileSync(saved, asPdf.body);
    expect(ghostscriptPages(saved)).toBe(3);

    const asTiff = await download(url, anna, `/v3/accounts/self/faxes/${faxId}/file?format=tiff`);
    expect(asTiff.status).toBe(200);
    expect(asTiff.type).toBe('image/tiff');
    const pages = readTiff(asTiff.body);
    expect(pages).toHaveLength(3);
    // The first page is the cover drawn for this fax: the names beside the numbers, the date it was sent in Moscow time, in Russian.
    const cover = await renderCoverPage(
      { from: 'Анна', to: 'Bob <Legal> (+12025550103)', subject: 'Договор на подпись', comment: 'Договор на подпись\nПодпишите, пожалуйста.' },
      { locale: 'ru-RU', timeZone: 'Europe/Moscow', documentPages: 2, date: new Date(fax.submit_time!), resolution: 'fine' },
    );
    const sentCover = pages[0].stripData;
    expect(pages[0].width).toBe(cover.width);
    expect(pages[0].height).toBe(cover.height);
    expect(sentCover.equals(cover.data)).toBe(true);
    expect(blackPixelCount(pageBitmap(cover))).toBeGreaterThan(5_000);
  });

  it('takes the body’s locale and time zone over the token’s, and refuses ones that are not', async () => {
    const pdf = makeSamplePdf(t.dir, 'note', [['Note']]);
    const { body: uploaded } = await upload(url, anna, pdf);
    const send_time = new Date(Date.now() + 3_600_000).toISOString();
    const submit = (cover_page: unknown) =>
      api<CreatedView>(url, anna, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550104'], files: [uploaded.path], send_time, cover_page });
    const rome = await submit({ enabled: true, locale: 'it', time_zone: 'Europe/Rome' });
    const entry = await api<OutboxEntryView>(url, anna, 'GET', `/v3/accounts/self/outbox/${rome.body.id}`);
    expect(entry.body.cover_page).toEqual({ enabled: true, locale: 'it', time_zone: 'Europe/Rome' });
    const none = await submit({ enabled: false });
    expect((await api<OutboxEntryView>(url, anna, 'GET', `/v3/accounts/self/outbox/${none.body.id}`)).body.cover_page).toEqual({ enabled: false });
    // A token without the claims: en and UTC.
    const plain = await t.token('anna');
    const created = await api<CreatedView>(url, plain, 'POST', '/v3/accounts/self/outbox', {
      to: ['+12025550104'],
      files: [uploaded.path],
      send_time,
      cover_page: true,
    });
    expect((await api<OutboxEntryView>(url, plain, 'GET', `/v3/accounts/self/outbox/${created.body.id}`)).body.cover_page).toEqual({
      enabled: true,
      locale: 'en',
      time_zone: 'UTC',
    });
    // Changed before it is sent: the cover goes.
    const changed = await api<OutboxEntryView>(url, plain, 'PUT', `/v3/accounts/self/outbox/${created.body.id}`, { cover_page: { enabled: false } });
    expect(changed.body.cover_page).toEqual({ enabled: false });

    const badZone = await submit({ enabled: true, time_zone: 'Mars/Olympus' });
    expect(badZone).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect((badZone.body as unknown as ErrorView).description).toContain('cover_page.time_zone');
    expect((await submit({ enabled: 'yes' })).status).toBe(400);
    expect((await submit({ enabled: true, to_name: 'x'.repeat(101) })).status).toBe(400);
  });

  it('gives the file to its owner only, and 410 once the documents are deleted', async () => {
    const pdf = makeSamplePdf(t.dir, 'short', [['Short']]);
    const { body: uploaded } = await upload(url, anna, pdf);
    const created = await api<CreatedView>(url, anna, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550105'], files: [uploaded.path] });
    const faxId = await faxIdOf(url, anna, created.body.id, 60_000);
    const fax: FaxView = await finalFax(url, anna, faxId, 60_000);
    expect(fax.cover_page).toEqual({ enabled: false });
    const own = await download(url, anna, `/v3/accounts/anna/faxes/${faxId}/file?format=pdf`);
    expect(own.status).toBe(200);
    const saved = join(t.dir, 'short-sent.pdf');
    writeFileSync(saved, own.body);
    expect(ghostscriptPages(saved)).toBe(1);

    const bob = await t.token('bob');
    expect((await download(url, bob, `/v3/accounts/self/faxes/${faxId}/file`)).status).toBe(404);
    expect((await download(url, anna, `/v3/accounts/self/faxes/fax-00000000-0000-0000-0000-000000000000/file`)).status).toBe(404);
    expect((await api(url, anna, 'GET', `/v3/accounts/self/faxes/${faxId}/file?format=docx`)).status).toBe(400);

    // Retention as it runs eight days on (files.keepDays 7).
    const at = new Date(Date.now() + 8 * DAY_MS);
    await new FileRetention({ db: t.service.db, keepDays: 7, unusedDays: 1, logger: t.service.logger, now: () => at }).sweep();
    const gone = await api(url, anna, 'GET', `/v3/accounts/self/faxes/${faxId}/file`);
    expect(gone.status).toBe(410);
    expect(gone.body.error).toBe('file_deleted');
    expect(gone.body.description).toContain('kept 7 days');
  });
});
