import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_LAUNCH, collectCspViolations, type CspViolation } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../testing/app';
import { progress, result, submitted } from '../testing/events';

/**
 * A notice's link in headless Chromium: the fax of a first recipient's notice, still in progress
 * for the second, opens without a sign-in and follows the rest live over the grant alone.
 */
jest.setTimeout(60_000);

let service: TestApp;
const opened: Array<{ context: BrowserContext; dir: string }> = [];
const violations: CspViolation[] = [];

async function browser(): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-chromium-link-'));
  const context = await chromium.launchPersistentContext(dir, { ...CHROMIUM_LAUNCH, locale: 'en-GB' });
  opened.push({ context, dir });
  await collectCspViolations(context, violations);
  return context.pages()[0] ?? (await context.newPage());
}

beforeAll(async () => {
  service = await startTestApp('links-browser', { links: {}, live: { pollMs: 100, tailMs: 5000 } });
});

afterAll(async () => {
  for (const { context, dir } of opened) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await service?.close();
});

it("follows the link's fax live without a sign-in, with nothing refused by the content security policy", async () => {
  const { tracker, database } = service;
  await tracker.handle(submitted('fax-link-live', 'nina', ['r1', 'r2'], { subject: 'Live by link' }));
  await tracker.handle(result('fax-link-live', 'r1', 1, 5, 'success', 3, { remoteCsid: 'FIRST ONE' }));
  await tracker.handle(progress('fax-link-live', 'r2', 1, 2, 'sending', { page: { n: 1, of: 3 } }));
  // The link the first recipient's notice carries.
  const row = await database.db.selectFrom('outbox').select('event_json').where('fax_id', '=', 'fax-link-live').executeTakeFirstOrThrow();
  const link = (JSON.parse(row.event_json) as { data: { links: { fax: string } } }).data.links.fax;
  expect(link).toMatch(/\/l\/[A-Za-z0-9_-]{24}$/);

  const page = await browser();
  await page.goto(link);
  expect(page.url()).toBe(`${service.url}/faxes/fax-link-live`);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Live by link');
  expect(await page.getByRole('note').textContent()).toContain('You opened this fax from a link in a notice');
  expect(await page.locator('.summary').getByRole('img', { name: 'In progress' }).isVisible()).toBe(true);
  await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));

  // The second recipient's result reaches the open page through its live stream, on the grant alone.
  await tracker.handle(result('fax-link-live', 'r2', 1, 3, 'failed_no_answer', 0));
  await page.locator('.summary').getByRole('img', { name: 'Partially delivered' }).waitFor({ timeout: 10_000 });
  await page.getByRole('row').filter({ hasText: '+12025550102' }).filter({ hasText: 'No answer' }).waitFor({ timeout: 10_000 });
  expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true);
  expect(violations).toEqual([]);
});
