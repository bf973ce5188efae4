import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken, SESSION_COOKIE, signedCookieValue } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, type CspViolation } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TEST_OFFICES_ADMIN, TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { numberOf, outcome, progress, result, submitted } from '../testing/events';

/**
 * Virtual offices in headless Chromium (Debian's): an office admin's Sent folder lists every
 * member's faxes with who sent each, and a member's fax opens for them; a user of another office
 * following a deep link to that fax gets "not found", with neither its subject nor its number
 * anywhere in the title or the body.
 */
jest.setTimeout(60_000);

let service: TestApp;
const opened: Array<{ context: BrowserContext; dir: string }> = [];
const violations: CspViolation[] = [];

/** A browser of its own, signed in as the user by the session cookie sign-in would set. */
async function browserAs(user: string): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { ...CHROMIUM_LAUNCH, viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  opened.push({ context, dir });
  await collectCspViolations(context, violations);
  const token = await issueToken({ secret: TEST_SECRET }, user, 3600);
  await context.addCookies([{ name: SESSION_COOKIE, value: encodeURIComponent(signedCookieValue(TEST_SECRET, token)), url: service.url, httpOnly: true }]);
  return context.pages()[0] ?? (await context.newPage());
}

const api = async (method: string, path: string, body: unknown) => {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, TEST_OFFICES_ADMIN)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.ok).toBe(true);
  return (await response.json()) as { id: string };
};

beforeAll(async () => {
  service = await startTestApp('offices-browser', { live: { pollMs: 100, tailMs: 1500 } });
  const { tracker } = service;
  await tracker.handle(submitted('fax-anna-1', 'anna', ['r1'], { subject: 'Rent for December', submittedAt: '2026-11-20T09:00:00Z' }));
  await tracker.handle(result('fax-anna-1', 'r1', 1, 1, 'success', 3));
  await tracker.handle(submitted('fax-alex-1', 'alex', ['r7'], { subject: 'Contract 42 signed', submittedAt: '2026-11-21T09:00:00Z' }));
  await tracker.handle(progress('fax-alex-1', 'r7', 1, 1, 'connected', { remoteCsid: 'ACME LEGAL' }));
  await tracker.handle(result('fax-alex-1', 'r7', 1, 3, 'success', 3, { remoteCsid: 'ACME LEGAL' }));
  await tracker.handle(outcome('fax-alex-1', 'r7', 'alex', 'email', { outcome: 'sent', address: 'alex.home@example.test' }));
  await tracker.handle(submitted('fax-bea-1', 'bea', ['r2'], { subject: 'Bravo order', submittedAt: '2026-11-22T09:00:00Z' }));
  const acme = await api('POST', '/v1/offices', { name: 'Acme' });
  await api('PUT', `/v1/offices/${acme.id}/members/anna`, { role: 'admin', displayName: 'Anna Ivanova' });
  await api('PUT', `/v1/offices/${acme.id}/members/alex`, { displayName: 'Alex Petrov' });
  const bravo = await api('POST', '/v1/offices', { name: 'Bravo', shareSent: true });
  await api('PUT', `/v1/offices/${bravo.id}/members/bea`, { role: 'admin' });
});

afterEach(() => {
  expect(violations).toEqual([]);
});

afterAll(async () => {
  for (const { context, dir } of opened) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await service?.close();
});

it("shows an office admin every member's faxes with who sent each, and opens a member's fax", async () => {
  const page = await browserAs('anna');
  await page.goto(`${service.url}/faxes`);
  const folder = page.getByRole('table', { name: 'Sent faxes, newest first' });
  expect(await folder.getByRole('columnheader').allTextContents()).toEqual(['Status', 'Subject', 'Sent', 'Sent by', 'Recipients', 'Pages']);
  const rows = folder.locator('tbody tr');
  expect(await rows.count()).toBe(2);
  const row = (n: number) => rows.nth(n).getByRole('cell');
  expect(await rows.nth(0).getByRole('rowheader').textContent()).toBe('Contract 42 signed');
  expect(await row(0).nth(2).textContent()).toBe('Alex Petrov');
  expect(await rows.nth(1).getByRole('rowheader').textContent()).toBe('Rent for December');
  expect(await row(1).nth(2).textContent()).toBe('You');
  expect(await page.content()).not.toContain('Bravo order');
  await page.screenshot({ path: '/tmp/faxnotify-office-folder.png', fullPage: true });

  await rows.nth(0).getByRole('link', { name: 'Contract 42 signed' }).click();
  await page.waitForURL(`${service.url}/faxes/fax-alex-1`);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Contract 42 signed');
  expect(await page.locator('.facts').textContent()).toContain('Sent byAlex Petrov');
  expect(
    await page
      .getByRole('row')
      .filter({ hasText: numberOf('r7') })
      .getByRole('img', { name: 'Delivered' })
      .isVisible(),
  ).toBe(true);
  // Where Alex's own notices went stays his.
  expect(await page.content()).not.toContain('alex.home@example.test');
});

it('answers "not found" to a user of another office following a deep link, naming neither the subject nor the number', async () => {
  const page = await browserAs('bea');
  const deepLink = `${service.url}/faxes/fax-alex-1`;
  const landing = page.waitForResponse((r) => r.url() === deepLink);
  await page.goto(deepLink);
  expect((await landing).status()).toBe(404);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Fax not found');
  const title = await page.title();
  const body = (await page.locator('body').innerHTML()) + (await page.locator('body').innerText());
  for (const secret of ['Contract 42 signed', numberOf('r7'), 'ACME LEGAL', 'Alex Petrov']) {
    expect({ secret, inTitle: title.includes(secret), inBody: body.includes(secret) }).toEqual({ secret, inTitle: false, inBody: false });
  }
  // The same page as for a fax that does not exist.
  const missing = await browserAs('bea');
  await missing.goto(`${service.url}/faxes/fax-none`);
  expect(await missing.title()).toBe(title);
  expect(await missing.locator('main').innerText()).toBe(await page.locator('main').innerText());
  // Her own office's folder has her fax only (Bravo shares, but she is its only member).
  await page.goto(`${service.url}/faxes`);
  expect(await page.getByRole('table', { name: 'Sent faxes, newest first' }).locator('tbody tr').count()).toBe(1);
});
