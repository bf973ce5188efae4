import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_COOKIE, issueToken, signedCookieValue } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, eventually, type CspViolation } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { codeIn } from '../testing/channels';
import { settingsApi, startMailNotifier, type MailNotifier } from '../testing/notices';

/**
 * Confirming an email address on the settings page in headless Chromium under its content
 * security policy: shown unconfirmed, a code asked for (and a second one refused for now), a wrong
 * code and then the code from the SMTP server typed in, shown confirmed.
 */
jest.setTimeout(60_000);

const SECRET = 'notifier-confirm-browser-secret-0123456789';
let stack: MailNotifier;
let profile: string;
let context: BrowserContext;
let page: Page;
const violations: CspViolation[] = [];
const api = settingsApi(() => stack.notifier.url, SECRET);

beforeAll(async () => {
  stack = await startMailNotifier('notifier-confirm-browser', SECRET);
  profile = mkdtempSync(join(tmpdir(), 'faxnotify-chromium-'));
  context = await chromium.launchPersistentContext(profile, { ...CHROMIUM_LAUNCH, locale: 'en-GB' });
  await collectCspViolations(context, violations);
  // Signed in as the sign-in leaves a browser: the kit's signed session cookie.
  const token = await issueToken({ secret: SECRET }, 'nina');
  await context.addCookies([{ name: SESSION_COOKIE, value: signedCookieValue(SECRET, token), url: stack.notifier.url, httpOnly: true, sameSite: 'Lax' }]);
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (profile) rmSync(profile, { recursive: true, force: true });
  await stack?.close();
});

it('shows the address unconfirmed, sends a code, takes the code and shows it confirmed', async () => {
  const settings = { email: { enabled: true, address: 'nina@example.test' }, locale: 'en', timeZone: 'Europe/Rome', notifyOn: 'all' };
  expect((await api('PUT', '/v1/settings', 'nina', settings)).status).toBe(200);
  const section = page.locator('#confirm-email');

  await page.goto(`${stack.notifier.url}/settings`);
  expect(await page.getByRole('heading', { name: 'Confirm your addresses' }).isVisible()).toBe(true);
  expect(await section.locator('h3').textContent()).toBe('Email: nina@example.test');
  expect(await section.locator('.confirm-state').textContent()).toBe('Not confirmed: no notices are sent to this address yet.');

  await page.getByRole('button', { name: 'Send a code by email' }).click();
  await page.waitForURL(/\/settings\?code_sent=email/);
  expect(await section.getByRole('status').textContent()).toBe('A code has been sent to nina@example.test. It is valid for 15 minutes.');
  expect(await section.locator('.confirm-state').textContent()).toMatch(/^Not confirmed yet: a code was sent, valid until \d\d:\d\d\.$/);
  const mail = await eventually(() => stack.smtp.mails.find((m) => codeIn(m.subject)), 10_000);
  const code = codeIn(mail.subject)!;

  // A second code at once is refused for now, with the reason on the page.
  const refused = page.waitForResponse((response) => response.url().endsWith('/settings/channels/email/code'));
  await page.getByRole('button', { name: 'Send a new code by email' }).click();
  expect((await refused).status()).toBe(429);
  expect((await refused).headers()['retry-after']).toMatch(/^\d+$/);
  expect(await section.getByRole('alert').textContent()).toMatch(/^Too many codes asked for\. Please wait \d+ seconds before asking again\.$/);

  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await page.getByLabel('Code received by email').fill(wrong);
  await page.getByRole('button', { name: 'Confirm email' }).click();
  await page.waitForLoadState();
  expect(await section.getByRole('alert').textContent()).toBe('That code is not right. 4 tries left.');
  expect(await page.getByLabel('Code received by email').getAttribute('aria-invalid')).toBe('true');

  await page.getByLabel('Code received by email').fill(code);
  await page.getByRole('button', { name: 'Confirm email' }).click();
  await page.waitForURL(/\/settings\?confirmed=email/);
  expect(await section.getByRole('status').textContent()).toBe('nina@example.test is confirmed: notices will be sent to it.');
  expect(await section.locator('.confirm-state').textContent()).toBe('Confirmed');
  expect(await section.locator('form').count()).toBe(0);
  expect((await api('GET', '/v1/settings/channels', 'nina')).body).toMatchObject({ channels: { email: { confirmed: true } } });

  expect(violations).toEqual([]);
});

it('shows the section in the page language, and an expired form as expired', async () => {
  await page.goto(`${stack.notifier.url}/settings?lang=ru`);
  expect(await page.getByRole('heading', { name: 'Подтвердите адреса' }).isVisible()).toBe(true);
  expect(await page.locator('#confirm-email .confirm-state').textContent()).toBe('Подтверждён');
  // A post without the form's CSRF token is refused and shows the page, nothing changed.
  const response = await page.request.post(`${stack.notifier.url}/settings/channels/email/code`, { form: { csrf: 'forged' } });
  expect(response.status()).toBe(403);
  const html = await response.text();
  expect(html).toContain('The form had expired.');
  expect(html).toContain('<section class="confirmations"');
  expect(violations).toEqual([]);
});
