import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageThumbnail } from '@faxnotify/fax-line';
import { letterDocument } from '@faxnotify/fax-line/testing';
import { issueToken } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, type CspViolation } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { numberOf, result, submitted } from '../testing/events';

/**
 * The confirmation report from the fax page in headless Chromium (Debian's): a notice's link opens
 * a three-recipient fax with one failure and a stranger's markup in its subject and a CSID; the
 * page's "Confirmation report (PDF)" link gives the PDF (read back with poppler's pdftotext) with
 * one row per recipient, in the page's language and time zone. The report is the fax page's:
 * another user, or no one, gets nothing.
 */
jest.setTimeout(90_000);

const FAX = 'fax-report-browser';
const SUBJECT = 'Invoice <script>alert(1)</script> (x) Tj /JavaScript';
const HOSTILE_CSID = '<b>"&\'</b>';

let service: TestApp;
const opened: Array<{ context: BrowserContext; dir: string }> = [];
const violations: CspViolation[] = [];

async function browser(): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-chromium-report-'));
  const context = await chromium.launchPersistentContext(dir, { ...CHROMIUM_LAUNCH, locale: 'en-GB' });
  opened.push({ context, dir });
  await collectCspViolations(context, violations);
  return context.pages()[0] ?? (await context.newPage());
}

const folded = (text: string) => text.replace(/\s+/g, ' ').replace(/ ?\/ ?/g, '/');

/** The PDF's text, as pdftotext (poppler-utils, installed by deploy/setup.sh) reads it, white space folded ("3 / 3" reads as 3/3). */
function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-report-text-'));
  try {
    writeFileSync(join(dir, 'report.pdf'), pdf);
    return folded(execFileSync('pdftotext', ['-enc', 'UTF-8', join(dir, 'report.pdf'), '-'], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bearer = async (user: string) => ({
  authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user, 600, { locale: 'it', tz: 'Europe/Rome' })}`,
});

beforeAll(async () => {
  service = await startTestApp('report-browser', { links: {} });
  const picture = pageThumbnail(letterDocument(1, 'fine').document.pages[0], { width: 200 });
  const { tracker } = service;
  await tracker.handle(
    submitted(FAX, 'alice', ['r1', 'r2', 'r3'], {
      subject: SUBJECT,
      submittedAt: '2026-11-22T09:00:00Z',
      firstPage: { png: picture.png.toString('base64'), width: picture.width, height: picture.height },
    }),
  );
  await tracker.handle(result(FAX, 'r1', 1, 5, 'success', 3, { remoteCsid: 'ACME SALES FAX' }));
  await tracker.handle(result(FAX, 'r2', 2, 1, 'failed_user_busy', 0, { attempts: 2 }));
  await tracker.handle(result(FAX, 'r3', 1, 4, 'success', 3, { remoteCsid: HOSTILE_CSID }));
});

afterAll(async () => {
  for (const { context, dir } of opened) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await service?.close();
});

it('opens from the fax page with a row per recipient, the failure, the hostile text as text and the first page', async () => {
  const row = await service.database.db.selectFrom('outbox').select('event_json').where('fax_id', '=', FAX).executeTakeFirstOrThrow();
  const link = (JSON.parse(row.event_json) as { data: { links: { fax: string } } }).data.links.fax;

  const page = await browser();
  await page.goto(link);
  expect(page.url()).toBe(`${service.url}/faxes/${FAX}`);
  const reportLink = page.getByRole('link', { name: 'Confirmation report (PDF)' });
  const href = await reportLink.getAttribute('href');
  expect(href).toBe(`/v1/faxes/${FAX}/report.pdf?lang=en&tz=Europe%2FMoscow`);
  expect(await reportLink.getAttribute('type')).toBe('application/pdf');

  // What following the link gets, with this browser's cookies (the notice link's grant): the PDF.
  const response = await page.context().request.get(new URL(href!, service.url).toString());
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toBe('application/pdf');
  expect(response.headers()['content-disposition']).toBe(`inline; filename="fax-report-${FAX}.pdf"`);
  expect(response.headers()['x-faxnotify-fax-state']).toBe('partial');
  const pdf = await response.body();
  const text = pdfText(pdf);
  for (const expected of [
    'Fax confirmation report',
    folded(SUBJECT),
    'Times in Europe/Moscow',
    '22/11/2026, 12:00:00',
    'Partially delivered',
    `${numberOf('r1')} ACME SALES FAX 3/3`,
    `${numberOf('r2')} — 0/3`,
    // The status cell's lines come out beside the next cells' in reading order.
    "Line busy The recipient's number was",
    'busy on every attempt.',
    `${numberOf('r3')} ${HOSTILE_CSID} 3/3`,
    'Page 1 of 1',
  ])
    expect(text).toContain(expected);
  expect(text.match(/\+1202555\d{4}/g)).toEqual([numberOf('r1'), numberOf('r2'), numberOf('r3')]);
  expect(pdf.includes(Buffer.from('/JavaScript'))).toBe(false);
  expect(pdf.includes(Buffer.from('/Subtype /Image'))).toBe(true);
  expect(violations).toEqual([]);
});

it('is the fax page’s: its owner with a token (in the token’s language and zone), not another user, not a stranger', async () => {
  const url = `${service.url}/v1/faxes/${FAX}/report.pdf`;
  const own = await fetch(url, { headers: await bearer('alice') });
  expect(own.status).toBe(200);
  const text = pdfText(Buffer.from(await own.arrayBuffer()));
  expect(text).toContain('Rapporto di conferma del fax');
  expect(text).toContain('Orari nel fuso Europe/Rome');
  expect(text).toContain('Linea occupata');

  const other = await fetch(url, { headers: await bearer('bob') });
  expect(other.status).toBe(404);
  const missing = await fetch(`${service.url}/v1/faxes/no-such-fax/report.pdf`, { headers: await bearer('bob') });
  expect(await other.json()).toEqual(await missing.json());
  expect((await fetch(url)).status).toBe(401);
});
