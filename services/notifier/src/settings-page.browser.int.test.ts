import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, type CspViolation } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunningNotifier } from './index';
import { settingsApi, startMailNotifier, type MailNotifier } from './testing/notices';

/**
 * The notification settings page in headless Chromium (Debian's, installed by
 * deploy/peers/chromium.sh) under its content security policy: sign-in by the form, the settings
 * saved, and nothing refused by the policy (its styles come from the site's stylesheet, not inline).
 */
jest.setTimeout(60_000);

const SECRET = 'notifier-browser-secret-0123456789';
let notifier: RunningNotifier;
let stack: MailNotifier;
let profile: string;
let context: BrowserContext;
let page: Page;
const violations: CspViolation[] = [];
const consoleErrors: string[] = [];
const api = settingsApi(() => notifier.url, SECRET);

beforeAll(async () => {
  stack = await startMailNotifier('notifier-browser', SECRET);
  ({ notifier } = stack);
  profile = mkdtempSync(join(tmpdir(), 'faxnotify-chromium-'));
  context = await chromium.launchPersistentContext(profile, { ...CHROMIUM_LAUNCH, locale: 'en-GB' });
  await collectCspViolations(context, violations);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (profile) rmSync(profile, { recursive: true, force: true });
  await stack?.close();
});

it('signs in by the form and saves the settings, with nothing refused by the content security policy', async () => {
  const response = await page.goto(`${notifier.url}/settings`);
  expect(response!.status()).toBe(401);
  expect(response!.headers()['content-security-policy']).toContain("style-src 'self'");
  expect(response!.headers()['content-security-policy']).not.toContain('unsafe-inline');
  await page.getByLabel('Access token').fill(await issueToken({ secret: SECRET }, 'nina'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${notifier.url}/settings`);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Notification settings');
  // The page's look comes from the stylesheet (it used to be an inline style block).
  expect(await page.evaluate("getComputedStyle(document.querySelector('.settings fieldset')).borderTopLeftRadius")).toBe('6px');

  await page.getByLabel('Send notices by email').check();
  await page.getByLabel('Email address').fill('nina@example.test');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForURL(`${notifier.url}/settings?saved=1`);
  expect(await page.getByRole('status').textContent()).toBe('Your settings have been saved.');
  expect((await api('GET', '/v1/settings', 'nina')).body).toMatchObject({ email: { enabled: true, address: 'nina@example.test' } });

  expect(violations).toEqual([]);
  expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
});
