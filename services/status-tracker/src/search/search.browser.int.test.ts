import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_COOKIE, issueToken, signedCookieValue } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, type CspViolation } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { result, submitted } from '../testing/events';
import { received, testPage } from '../testing/received';

/**
 * Searching in headless Chromium: a search by CSID on the Sent folder finds its fax (and not a
 * stranger's with the same CSID), the search is a link kept by the page, and the CSV of what is
 * shown downloads with a row per recipient, a hostile subject kept as text; the Inbox is searched
 * the same way. The content security policy refuses nothing.
 */
jest.setTimeout(90_000);

const HOSTILE = '=HYPERLINK("http://evil.example","x")';
let service: TestApp;
const opened: Array<{ context: BrowserContext; dir: string }> = [];
const violations: CspViolation[] = [];

async function browser(user: string, locale = 'en-GB', claims: Record<string, unknown> = {}): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-chromium-search-'));
  const context = await chromium.launchPersistentContext(dir, { ...CHROMIUM_LAUNCH, locale, acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  opened.push({ context, dir });
  await collectCspViolations(context, violations);
  const token = await issueToken({ secret: TEST_SECRET }, user, 3600, claims);
  await context.addCookies([{ name: SESSION_COOKIE, value: signedCookieValue(TEST_SECRET, token), url: service.url }]);
  return context.pages()[0] ?? (await context.newPage());
}

/** The CSV a click on "Download CSV" (or its translation) saves: its name and text. */
async function downloadCsv(page: Page, name: string | RegExp): Promise<{ fileName: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
  return { fileName: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') };
}

beforeAll(async () => {
  service = await startTestApp('search-browser');
  const { tracker } = service;
  await tracker.handle(submitted('fax-contract', 'sara', ['r1', 'r2'], { subject: 'Contract', submittedAt: '2026-12-05T09:00:00.000Z' }));
  await tracker.handle(result('fax-contract', 'r1', 1, 1, 'success', 3, { remoteCsid: 'NORTHWIND' }));
  await tracker.handle(result('fax-contract', 'r2', 1, 2, 'success', 3, { remoteCsid: 'ACME LEGAL' }));
  await tracker.handle(submitted('fax-hostile', 'sara', ['r3'], { subject: HOSTILE, submittedAt: '2026-12-06T09:00:00.000Z' }));
  await tracker.handle(result('fax-hostile', 'r3', 1, 1, 'failed_user_busy', 0));
  await tracker.handle(submitted('fax-other', 'sara', ['r4'], { subject: 'Price list', submittedAt: '2026-12-04T09:00:00.000Z' }));
  // A stranger's fax to the same CSID: never found by sara.
  await tracker.handle(submitted('fax-stranger', 'tom', ['r5'], { subject: 'Contract too', submittedAt: '2026-12-05T10:00:00.000Z' }));
  await tracker.handle(result('fax-stranger', 'r5', 1, 1, 'success', 3, { remoteCsid: 'ACME LEGAL' }));
  const page = testPage(40, 'standard').page;
  await tracker.handle(received('rx-acme', 'sara', { remoteCsid: 'ACME SALES', pagesReceived: 1, pages: [page], endedAt: '2026-12-07T08:00:00.000Z' }));
  await tracker.handle(received('rx-other', 'sara', { remoteCsid: '@BRAVO', callerNumber: '+12025550199', pagesReceived: 1, pages: [page] }));
});

afterAll(async () => {
  for (const { context, dir } of opened) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await service?.close();
});

it('finds a fax by the CSID of one of its recipients, and downloads what it shows as CSV', async () => {
  const page = await browser('sara');
  await page.goto(`${service.url}/faxes`);
  const rows = page.locator('table.folder tbody tr');
  expect(await rows.count()).toBe(3);
  // The hostile subject is shown as text.
  expect(await rows.nth(0).locator('th').innerText()).toBe(HOSTILE);

  const form = page.getByRole('search', { name: 'Search the Sent folder' });
  await form.getByLabel('CSID').fill('acme legal');
  await form.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/[?&]csid=acme\+legal/);
  expect(await rows.count()).toBe(1);
  expect(await rows.nth(0).locator('th').innerText()).toBe('Contract');
  // The search is a link: opened again, the form shows it and the list is the same.
  await page.goto(page.url());
  expect(await form.getByLabel('CSID').inputValue()).toBe('acme legal');
  expect(await rows.count()).toBe(1);

  const found = await downloadCsv(page, 'Download CSV');
  expect(found.fileName).toMatch(/^faxes-\d{4}-\d{2}-\d{2}\.csv$/);
  expect(found.text.startsWith('\uFEFF')).toBe(true);
  const lines = found.text.slice(1).split('\r\n');
  // A row per recipient of the one fax found; times in the viewer's zone (the app's default, Moscow).
  expect(lines[0]).toBe(
    '"Fax ID","Submitted (Europe/Moscow)","Subject","Sent by","Number","CSID","Status","Pages sent","Pages in total","Started (Europe/Moscow)","Ended (Europe/Moscow)","Attempts"',
  );
  expect(lines.slice(1, -1).map((line) => line.split('","').slice(0, 6))).toEqual([
    ['"fax-contract', '2026-12-05 12:00:00', 'Contract', 'sara', "'+12025550101", 'NORTHWIND'],
    ['"fax-contract', '2026-12-05 12:00:00', 'Contract', 'sara', "'+12025550102", 'ACME LEGAL'],
  ]);
  expect(lines.at(-1)).toBe('');

  // By state: the failed fax, whose subject a spreadsheet would run; in the CSV it stays text.
  await form.getByRole('link', { name: 'Clear' }).click();
  await page.waitForURL(`${service.url}/faxes`);
  await form.getByLabel('State').selectOption('failed');
  await form.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/[?&]state=failed/);
  expect(await rows.count()).toBe(1);
  const failed = await downloadCsv(page, 'Download CSV');
  const row = failed.text.split('\r\n')[1];
  expect(row.startsWith(`"fax-hostile","2026-12-06 12:00:00","'=HYPERLINK(""http://evil.example"",""x"")","sara","'+12025550103","","Line busy"`)).toBe(true);

  // Nothing matches: the page says so.
  await page.goto(`${service.url}/faxes?subject=${encodeURIComponent('no such fax')}`);
  expect(await page.locator('p.empty').innerText()).toBe('No fax matches this search.');
  expect(violations).toEqual([]);
});

it('searches the Inbox by CSID and downloads it as CSV, in the viewer’s language and zone', async () => {
  const page = await browser('sara', 'it-IT', { locale: 'it', tz: 'Europe/Rome' });
  await page.goto(`${service.url}/inbox`);
  const rows = page.locator('table.inbox tbody tr');
  expect(await rows.count()).toBe(2);
  const form = page.getByRole('search', { name: 'Cerca nella posta in arrivo' });
  await form.getByLabel('CSID').fill('acme');
  await form.getByRole('button', { name: 'Cerca' }).click();
  await page.waitForURL(/[?&]csid=acme/);
  expect(await rows.count()).toBe(1);
  const { fileName, text } = await downloadCsv(page, 'Scarica CSV');
  expect(fileName).toMatch(/^inbox-\d{4}-\d{2}-\d{2}\.csv$/);
  expect(text.slice(1).split('\r\n').slice(0, 2)).toEqual([
    '"ID fax ricevuto","Ricevuto (Europe/Rome)","Inizio (Europe/Rome)","Numero del mittente","Numero chiamato","CSID","Stato","Pagine","Letto"',
    `"rx-acme","2026-12-07 09:00:00","2026-12-07 09:00:00","'+390612345678","'+390698765432","ACME SALES","Ricevuto","1","no"`,
  ]);
  // Another user finds nothing of sara's, on the page and in the CSV alike.
  const other = await browser('tom');
  await other.goto(`${service.url}/inbox?csid=acme`);
  expect(await other.locator('table.inbox tbody tr').count()).toBe(0);
  const theirs = await other.request.get(`${service.url}/v1/received.csv?csid=acme`);
  expect((await theirs.text()).slice(1).split('\r\n').filter(Boolean)).toHaveLength(1);
  expect(violations).toEqual([]);
});
