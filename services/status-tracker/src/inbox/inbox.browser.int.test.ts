import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_COOKIE, issueToken, signedCookieValue } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, type CspViolation } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { received } from '../testing/received';

/**
 * The Inbox and a received fax's page in headless Chromium: the list shows the sender's number with
 * its CSID in brackets and unread faxes, the fax page shows each received page as an image drawn
 * from the MH data, links to the PDF and TIFF, and opening it marks it read; another user gets
 * "not found"; the content security policy refuses nothing.
 */
jest.setTimeout(60_000);

let service: TestApp;
const opened: Array<{ context: BrowserContext; dir: string }> = [];
const violations: CspViolation[] = [];
const consoleErrors: string[] = [];

async function browser(user: string): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-chromium-inbox-'));
  const context = await chromium.launchPersistentContext(dir, { ...CHROMIUM_LAUNCH, locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  opened.push({ context, dir });
  await collectCspViolations(context, violations);
  // Signed in as the sign-in page leaves a browser: the session cookie.
  const token = await issueToken({ secret: TEST_SECRET }, user, 3600);
  await context.addCookies([{ name: SESSION_COOKIE, value: signedCookieValue(TEST_SECRET, token), url: service.url }]);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  return page;
}

beforeAll(async () => {
  service = await startTestApp('inbox-browser', {});
  await service.tracker.handle(received('rx-page-1', 'irene', { endedAt: '2026-12-07T08:00:00.000Z' }));
  await service.tracker.handle(
    received('rx-page-2', 'irene', {
      endedAt: '2026-12-07T09:00:00.000Z',
      callerNumber: null,
      remoteCsid: 'NO NUMBER',
      status: 'partially_received',
      pagesReceived: 1,
    }),
  );
});

afterAll(async () => {
  for (const { context, dir } of opened) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await service?.close();
});

it('lists received faxes and shows one with its pages, PDF and TIFF, marking it read', async () => {
  const page = await browser('irene');
  await page.goto(`${service.url}/inbox`);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Inbox');
  expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).getAttribute('aria-current')).toBe('page');
  const rows = page.locator('table.inbox tbody tr');
  expect(await rows.count()).toBe(2);
  expect((await rows.nth(0).locator('th').innerText()).replace(/\s+/g, ' ')).toBe('Unknown number [NO NUMBER] unread');
  expect((await rows.nth(0).innerText()).replace(/\s+/g, ' ')).toContain('Partly received');
  // The CSID is the sender's text, shown as text.
  expect((await rows.nth(1).locator('th').innerText()).replace(/\s+/g, ' ')).toBe('+390612345678 [ACME <SALES> FAX] unread');

  await rows.nth(1).getByRole('link').click();
  await page.waitForURL(`${service.url}/inbox/rx-page-1`);
  expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('+390612345678 [ACME <SALES> FAX]');
  const images = page.getByRole('img', { name: /^Page \d of 2$/ });
  expect(await images.count()).toBe(2);
  // Each page image loaded and decoded: its natural size is the page's pixels.
  await page.waitForFunction("[...document.querySelectorAll('.received-pages img')].every((img) => img.complete && img.naturalWidth > 0)", undefined, {
    timeout: 10_000,
  });
  const sizes = await page.evaluate("[...document.querySelectorAll('.received-pages img')].map((img) => [img.naturalWidth, img.naturalHeight])");
  expect(sizes).toEqual([
    [1728, 2200],
    [1728, 1100],
  ]);
  const pdf = await page.request.get(`${service.url}${await page.getByRole('link', { name: 'Download PDF' }).getAttribute('href')}`);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect((await pdf.body()).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  const tiff = await page.request.get(`${service.url}${await page.getByRole('link', { name: 'Download TIFF' }).getAttribute('href')}`);
  expect(tiff.headers()['content-type']).toBe('image/tiff');

  await page.goto(`${service.url}/inbox`);
  expect((await page.locator('table.inbox tbody tr').nth(1).locator('th').innerText()).replace(/\s+/g, ' ')).toBe('+390612345678 [ACME <SALES> FAX] read');

  // Another user: the same page as a fax that does not exist, and no page image.
  const other = await browser('oleg');
  const response = await other.goto(`${service.url}/inbox/rx-page-1`);
  expect(response?.status()).toBe(404);
  expect((await other.request.get(`${service.url}/inbox/rx-page-1/pages/1.png`)).status()).toBe(404);
  await other.goto(`${service.url}/inbox`);
  expect(await other.locator('table.inbox tbody tr').count()).toBe(0);

  expect(violations).toEqual([]);
  expect(consoleErrors.filter((e) => !e.includes('404'))).toEqual([]);
});
