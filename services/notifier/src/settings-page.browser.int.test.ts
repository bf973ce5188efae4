import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_LAUNCH, collectCspViolations, freePort, startOidcProvider, type CspViolation, type RunningOidcProvider } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunningNotifier } from './index';
import { settingsApi, startMailNotifier, type MailNotifier } from './testing/notices';

/**
 * The notification settings page in headless Chromium (Debian's, installed by
 * deploy/peers/chromium.sh) under its content security policy: sign-in at the identity provider
 * (oidc-provider in this process), the settings saved, sign-out there and here, and nothing refused
 * by the policy (its styles come from the site's stylesheet, not inline).
 */
jest.setTimeout(60_000);

const SECRET = 'notifier-browser-secret-0123456789';
let notifier: RunningNotifier;
let provider: RunningOidcProvider;
let stack: MailNotifier;
let profile: string;
let context: BrowserContext;
let page: Page;
const violations: CspViolation[] = [];
const consoleErrors: string[] = [];
const api = settingsApi(() => notifier.url, SECRET);

beforeAll(async () => {
  const port = await freePort();
  provider = await startOidcProvider({
    users: [{ username: 'nina', password: 'nina-password', locale: 'en-GB' }],
    clients: [
      {
        clientId: 'notifier-settings',
        clientSecret: 'notifier-settings-secret-0123',
        redirectUris: [`http://127.0.0.1:${port}/auth/callback`],
        postLogoutRedirectUris: [`http://127.0.0.1:${port}/auth/signed-out`],
      },
    ],
  });
  stack = await startMailNotifier('notifier-browser', SECRET, {
    'http.port': port,
    'auth.oidc.issuer': provider.issuer,
    'auth.oidc.clientId': 'notifier-settings',
    'auth.oidc.clientSecret': 'notifier-settings-secret-0123',
  });
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
  await provider?.close();
});

it('signs in at the identity provider and saves the settings, with nothing refused by the content security policy', async () => {
  await page.goto(`${notifier.url}/settings`);
  await page.waitForURL(`${provider.issuer}/interaction/**`);
  await page.getByLabel('User name').fill('nina');
  await page.getByLabel('Password').fill('nina-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${notifier.url}/settings`);
  const response = await page.reload();
  expect(response!.headers()['content-security-policy']).toContain("style-src 'self'");
  expect(response!.headers()['content-security-policy']).not.toContain('unsafe-inline');
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Notification settings');
  // The page's look comes from the stylesheet (it used to be an inline style block).
  expect(await page.evaluate("getComputedStyle(document.querySelector('.settings fieldset')).borderTopLeftRadius")).toBe('6px');

  await page.getByLabel('Send notices by email').check();
  await page.getByLabel('Email address').fill('nina@example.test');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForURL(`${notifier.url}/settings?saved=1`);
  expect(await page.getByRole('status').textContent()).toBe('Your settings have been saved.');
  expect((await api('GET', '/v1/settings', 'nina')).body).toMatchObject({ email: { enabled: true, address: 'nina@example.test' }, notifyInbound: 'on' });
  // Notices of received faxes are chosen apart from the results of faxes sent: on until turned off.
  expect(await page.getByLabel('Tell me of each fax received (with the PDF by email)').isChecked()).toBe(true);
  await page.getByLabel('No notices of received faxes').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForURL(`${notifier.url}/settings?saved=1`);
  expect(await page.getByLabel('No notices of received faxes').isChecked()).toBe(true);
  expect((await api('GET', '/v1/settings', 'nina')).body).toMatchObject({ notifyOn: 'all', notifyInbound: 'off' });

  // Signing out ends the session here and at the provider: the page asks for a sign-in again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${provider.issuer}/session/end**`);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${notifier.url}/auth/signed-out`);
  expect(await page.getByRole('status').textContent()).toBe('You are signed out.');
  await page.goto(`${notifier.url}/settings`);
  await page.waitForURL(`${provider.issuer}/interaction/**`);
  expect(await page.getByLabel('User name').isVisible()).toBe(true);

  expect(violations).toEqual([]);
  expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
});
