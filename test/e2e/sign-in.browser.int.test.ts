import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageBus, createLogger } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, eventually, freePort, startOidcProvider, type CspViolation, type RunningOidcProvider } from '@faxnotify/peers';
import { sampleFax, scriptFaxEvents } from '@faxnotify/transmitter';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startStack, type Stack } from '../support/stack';

/**
 * Sign-in end to end, as an operator runs it: the status tracker and the notifier as separate
 * processes on one host, configured with an OpenID Connect provider (oidc-provider, a certified
 * implementation, in this process) through the environment. A signed-out owner opens a fax's deep
 * link in Chromium, signs in at the provider, lands on that fax, and finds her virtual office's
 * Sent folder (a colleague's fax with who sent it); the notifier's settings page is then open with
 * the same session; signing out ends it at both services and at the provider.
 */
jest.setTimeout(180_000);

const CLIENT_SECRET = 'faxnotify-e2e-client-secret-0123456789';
let provider: RunningOidcProvider;
let stack: Stack;
let bus: MessageBus;
let context: BrowserContext;
let profile: string;
let page: Page;
const violations: CspViolation[] = [];

beforeAll(async () => {
  const ports = { tracker: await freePort(), notifier: await freePort() };
  const urls = [`http://127.0.0.1:${ports.tracker}`, `http://127.0.0.1:${ports.notifier}`];
  provider = await startOidcProvider({
    users: [{ username: 'olga', password: 'olga-password', sub: 'olga', email: 'olga@example.test', locale: 'en-GB', zoneinfo: 'Europe/Rome' }],
    clients: [
      {
        clientId: 'faxnotify',
        clientSecret: CLIENT_SECRET,
        redirectUris: urls.map((url) => `${url}/auth/callback`),
        postLogoutRedirectUris: urls.map((url) => `${url}/auth/signed-out`),
      },
    ],
  });
  stack = await startStack('e2e-sign-in', {
    ports,
    extraEnv: {
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: 'faxnotify',
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      AUTH_SESSION_HOURS: '2',
      STATUS_TRACKER_OFFICES_ADMIN_USERS: 'operator',
    },
  });
  bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('e2e', 'silent') });
  await bus.start();
  profile = mkdtempSync(join(tmpdir(), 'faxnotify-sign-in-'));
  context = await chromium.launchPersistentContext(profile, { ...CHROMIUM_LAUNCH, locale: 'en-GB' });
  await collectCspViolations(context, violations);
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (profile) rmSync(profile, { recursive: true, force: true });
  await bus?.close();
  await stack?.stop();
  await provider?.close();
});

/** A fax of `owner`'s as the transmitter reports it, once the tracker has it. */
async function faxOf(owner: string, subject: string): Promise<string> {
  const { faxId, events } = scriptFaxEvents(sampleFax(owner, subject));
  for (const e of events) await bus.publish(e.key, e.data, { subject: e.subject, time: e.time });
  const token = await stack.token(owner);
  await eventually(async () => (await fetch(`${stack.tracker.url}/v1/faxes/${faxId}`, { headers: { authorization: `Bearer ${token}` } })).ok, 60_000);
  return faxId;
}

/** The operator (offices.adminUsers) makes Olga the admin of an office with Piero in it. */
async function officeOfOlgaAndPiero(): Promise<void> {
  const operator = await stack.token('operator');
  const call = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${stack.tracker.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.ok).toBe(true);
    return (await response.json()) as { id: string };
  };
  const office = await call('POST', '/v1/offices', { name: 'Rome office' });
  await call('PUT', `/v1/offices/${office.id}/members/olga`, { role: 'admin', displayName: 'Olga Bianchi' });
  await call('PUT', `/v1/offices/${office.id}/members/piero`, { displayName: 'Piero Neri' });
}

it("signs a deep link in at the provider, shows the office's Sent folder, opens the settings with the same session, and signs out everywhere", async () => {
  await officeOfOlgaAndPiero();
  const faxId = await faxOf('olga', 'Quarterly figures');
  await faxOf('piero', 'Purchase order 88');
  const deepLink = `${stack.tracker.url}/faxes/${faxId}`;

  // Signed out, the deep link leads to the provider's sign-in page.
  await page.goto(deepLink);
  await page.waitForURL(`${provider.issuer}/interaction/**`);
  await page.getByLabel('User name').fill('olga');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  expect(await page.getByRole('alert').textContent()).toBe('Wrong user name or password.');
  await page.getByLabel('User name').fill('olga');
  await page.getByLabel('Password').fill('olga-password');
  await page.getByRole('button', { name: 'Sign in' }).click();

  // Back on the same fax page, signed in, times in the zone the provider gave.
  await page.waitForURL(deepLink);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Quarterly figures');
  expect(await page.content()).toContain('Europe/Rome');
  const session = (await context.cookies(stack.tracker.url)).find((cookie) => cookie.name === 'faxnotify_session')!;
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
  expect(session.expires - Date.now() / 1000).toBeGreaterThan(2 * 3600 - 120);
  expect(session.expires - Date.now() / 1000).toBeLessThan(2 * 3600 + 60);

  // The Sent folder is the office's: her own fax and her colleague's, with who sent each.
  await page.goto(`${stack.tracker.url}/faxes`);
  const rows = page.locator('table tbody tr');
  await eventually(async () => (await rows.count()) === 2, 30_000);
  const piero = rows.filter({ hasText: 'Purchase order 88' });
  expect(await piero.textContent()).toContain('Piero Neri');
  expect(await rows.filter({ hasText: 'Quarterly figures' }).count()).toBe(1);

  // The notifier on the same host takes the same session: no second sign-in.
  await page.goto(`${stack.notifier.url}/settings`);
  expect(page.url()).toBe(`${stack.notifier.url}/settings`);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Notification settings');
  expect(await page.locator('header').textContent()).toContain('olga');
  expect(provider.signIns).toEqual(['olga']);

  // Sign out from the fax page: the provider confirms, and both services have forgotten the session.
  await page.goto(deepLink);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${provider.issuer}/session/end**`);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${stack.tracker.url}/auth/signed-out`);
  expect(await page.getByRole('status').textContent()).toBe('You are signed out.');
  expect((await context.cookies(stack.tracker.url)).some((cookie) => cookie.name === 'faxnotify_session')).toBe(false);

  await page.goto(deepLink);
  await page.waitForURL(`${provider.issuer}/interaction/**`);
  expect(await page.getByLabel('User name').isVisible()).toBe(true);
  await page.goto(`${stack.notifier.url}/settings`);
  await page.waitForURL(`${provider.issuer}/interaction/**`);

  // Every page on the way, the provider's included, kept to its content security policy.
  expect(violations).toEqual([]);
});

it('refuses a bearer token without an audience or an expiry at both services (401)', async () => {
  const { SignJWT } = await import('jose');
  const key = new TextEncoder().encode(stack.env.JWT_SECRET);
  const make = (claims: { aud?: string; exp?: string }) => {
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('olga').setIssuer('faxnotify').setIssuedAt();
    if (claims.aud) jwt.setAudience(claims.aud);
    if (claims.exp) jwt.setExpirationTime(claims.exp);
    return jwt.sign(key);
  };
  for (const token of [await make({ exp: '10m' }), await make({ aud: 'faxnotify' }), await make({ exp: '10m', aud: 'elsewhere' })]) {
    for (const url of [`${stack.tracker.url}/v1/faxes`, `${stack.notifier.url}/v1/settings`]) {
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    }
  }
  const good = await make({ exp: '10m', aud: 'faxnotify' });
  expect((await fetch(`${stack.tracker.url}/v1/faxes`, { headers: { authorization: `Bearer ${good}` } })).status).toBe(200);
});
