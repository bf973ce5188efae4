import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, type CspViolation, eventually, startOidcProvider, type RunningOidcProvider } from '@faxnotify/peers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { outcome, progress, result, submitted } from '../testing/events';

/**
 * The owner's pages in headless Chromium (Debian's, installed by deploy/peers/chromium.sh): the
 * deep link a notice carries, opened signed out, leads through sign-in at the identity provider
 * (oidc-provider in this process) to that fax; another user
 * gets "not found"; an in-progress fax updates live; everything reads without JavaScript too.
 */
jest.setTimeout(60_000);

let service: TestApp;
let deepLink: string;
let receiver: Server;
let provider: RunningOidcProvider;
const opened: Array<{ context: BrowserContext; dir: string }> = [];
/** Every content security policy violation any page reported (the policy blocking a script, style, stream or form). */
const violations: CspViolation[] = [];
/** Every console error, with the page it came from. */
const consoleErrors: Array<{ text: string; url: string }> = [];

/** A browser of its own (a fresh profile each: no cookies carried from one user to the next). */
async function browser(options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    ...CHROMIUM_LAUNCH,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    ...options,
  });
  opened.push({ context, dir });
  // Chromium reports each thing the page's policy blocks as a securitypolicyviolation event (and a console error).
  if (options.javaScriptEnabled !== false) {
    await collectCspViolations(context, violations);
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: page.url() });
  });
  return page;
}

/** Signs in on the identity provider's page, where a signed-out visitor of a page is sent. */
async function signIn(page: Page, user: string): Promise<void> {
  await page.waitForURL(`${provider.issuer}/interaction/**`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(`${user}-password`);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  // Alice's webhook receiver listens on 127.0.0.1, allowed as an operator would allow an internal receiver.
  service = await startTestApp('browser', {
    live: { pollMs: 100, tailMs: 1500 },
    allowedPrivateRanges: ['127.0.0.0/8'],
    signIn: async (port) => {
      provider = await startOidcProvider({
        users: ['alice', 'bob'].map((username) => ({ username, password: `${username}-password` })),
        clients: [{ clientId: 'tracker-pages', redirectUris: [`http://127.0.0.1:${port}/auth/callback`] }],
      });
      return {
        publicUrl: () => `http://127.0.0.1:${port}`,
        settings: {
          jwtSecret: TEST_SECRET,
          allowDevelopmentSecret: false,
          audience: 'faxnotify',
          sessionHours: 8,
          oidc: { issuer: provider.issuer, clientId: 'tracker-pages', clientSecret: '', scopes: 'openid profile', userClaim: 'sub' },
        },
      };
    },
  });
  const { tracker, database } = service;
  const faxId = 'fax-sample-browser';
  // Alice has a webhook, so the fax page has a delivery log to show.
  receiver = createServer((request, response) => request.resume().on('end', () => response.writeHead(200).end('ok')));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await fetch(`${service.url}/v1/webhooks`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, 'alice')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/fax-events` }),
  });
  service.webhooks.start();
  await tracker.handle(submitted(faxId, 'alice', ['r1', 'r2', 'r3'], { subject: 'Q3 report', submittedAt: '2026-11-22T09:00:00Z' }));
  await tracker.handle(progress(faxId, 'r1', 1, 1, 'connected', { remoteCsid: 'ACME SALES FAX' }));
  await tracker.handle(result(faxId, 'r1', 1, 5, 'success', 3, { remoteCsid: 'ACME SALES FAX' }));
  await tracker.handle(result(faxId, 'r2', 2, 1, 'failed_user_busy', 0, { attempts: 2 }));
  await tracker.handle(result(faxId, 'r3', 1, 4, 'partially_sent', 2, { remoteCsid: 'BRANCH OFFICE 7' }));
  for (const [r, channel] of [
    ['r1', 'email'],
    ['r2', 'email'],
    ['r3', 'email'],
    ['r2', 'sms'],
  ] as const) {
    await tracker.handle(outcome(faxId, r, 'alice', channel, { outcome: 'sent', address: channel === 'email' ? 'alice@example.test' : '+12025550199' }));
  }
  await tracker.handle(submitted('fax-older', 'alice', ['r1'], { subject: '', submittedAt: '2026-11-21T15:30:00Z' }));
  await tracker.handle(result('fax-older', 'r1', 1, 1, 'success', 3));
  await tracker.handle(submitted('fax-failed', 'alice', ['r1', 'r2'], { subject: 'Purchase order 1187', submittedAt: '2026-11-20T11:05:00Z' }));
  await tracker.handle(result('fax-failed', 'r1', 1, 1, 'failed_no_answer', 0));
  await tracker.handle(result('fax-failed', 'r2', 1, 1, 'failed_unallocated_number', 0));
  // The deep link exactly as the notices carry it: from the delivery event the notifier renders its email from.
  const final = await database.db
    .selectFrom('outbox')
    .select('event_json')
    .where('fax_id', '=', faxId)
    .where('routing_key', '=', 'delivery.recipient.final')
    .executeTakeFirstOrThrow();
  deepLink = (JSON.parse(final.event_json) as { data: { links: { fax: string } } }).data.links.fax;
  await eventually(
    async () =>
      (await database.db.selectFrom('webhook_deliveries').select('id').where('fax_id', '=', faxId).where('status', '=', 'delivered').execute()).length === 3,
  );
});

afterEach(() => {
  // No page was refused anything by its content security policy, with or without JavaScript.
  expect(violations).toEqual([]);
  expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e.text))).toEqual([]);
});

afterAll(async () => {
  for (const { context, dir } of opened) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await service?.close();
  await provider?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

it('takes a signed-out deep link through sign-in to the fax, with its icon and a row per recipient', async () => {
  expect(deepLink).toBe(`${service.url}/faxes/fax-sample-browser`);
  const page = await browser();
  await page.goto(deepLink);
  expect(page.url()).toMatch(new RegExp(`^${provider.issuer}/interaction/`));
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in to the test identity provider');

  await signIn(page, 'alice');
  await page.waitForURL(deepLink);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Q3 report');
  expect(await page.locator('.summary').getByRole('img', { name: 'Partially delivered' }).isVisible()).toBe(true);

  const recipients = page.getByRole('table', { name: 'Delivery to each recipient' });
  const rows = recipients.locator('tbody tr');
  expect(await rows.count()).toBe(3);
  const rowOf = (number: string) => recipients.getByRole('row').filter({ has: page.getByRole('rowheader', { name: number }) });
  expect(await rowOf('+12025550101').getByRole('img', { name: 'Delivered' }).isVisible()).toBe(true);
  expect(await rowOf('+12025550101').getByRole('cell').nth(2).textContent()).toBe('ACME SALES FAX');
  expect(await rowOf('+12025550102').getByRole('img', { name: 'Line busy' }).isVisible()).toBe(true);
  expect(await rowOf('+12025550102').textContent()).toContain('Wait and try again later, or check the number with the recipient.');
  expect(await rowOf('+12025550103').getByRole('img', { name: 'Partially sent' }).isVisible()).toBe(true);
  expect(await rowOf('+12025550103').getByRole('cell').nth(1).textContent()).toBe('2 of 3');

  const notices = page.getByRole('table', { name: 'Notices sent to you about each recipient' });
  expect(await notices.locator('tbody tr').count()).toBe(4);
  const hooks = page.getByRole('table', { name: 'POSTs to your webhook about each recipient' });
  expect(await hooks.locator('tbody tr').count()).toBe(3);
  expect(await hooks.locator('tbody tr').first().textContent()).toContain('HTTP 200');
  expect(await page.getByRole('main').isVisible()).toBe(true);
  await page.screenshot({ path: '/tmp/faxnotify-fax-page.png', fullPage: true });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sent' }).click();
  await page.waitForURL(`${service.url}/faxes`);
  const folder = page.getByRole('table', { name: 'Sent faxes, newest first' });
  const folderRows = folder.locator('tbody tr');
  expect(await folderRows.count()).toBe(3);
  expect(await folderRows.nth(0).getByRole('rowheader').textContent()).toBe('Q3 report');
  expect(await folderRows.nth(0).getByRole('img', { name: 'Partially delivered' }).isVisible()).toBe(true);
  expect(await folderRows.nth(1).getByRole('rowheader').textContent()).toBe('no subject');
  expect(await folderRows.nth(1).getByRole('img', { name: 'Delivered' }).isVisible()).toBe(true);
  expect(await folderRows.nth(2).getByRole('img', { name: 'Not delivered' }).isVisible()).toBe(true);
  await page.screenshot({ path: '/tmp/faxnotify-sent-folder.png', fullPage: true });

  await folderRows.nth(0).getByRole('link', { name: 'Q3 report' }).click();
  await page.waitForURL(deepLink);
});

it('answers "not found" to another user opening the same link', async () => {
  const page = await browser();
  await page.goto(deepLink);
  expect(page.url()).toContain(`${provider.issuer}/interaction/`);
  const landing = page.waitForResponse((r) => r.url() === deepLink);
  await signIn(page, 'bob');
  expect((await landing).status()).toBe(404);
  await page.waitForURL(deepLink);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Fax not found');
  expect(await page.content()).not.toContain('Q3 report');
});

it('updates an in-progress fax live, without reloading the page', async () => {
  const { tracker } = service;
  await tracker.handle(submitted('fax-live-browser', 'alice', ['r1', 'r2'], { subject: 'Live one' }));
  await tracker.handle(progress('fax-live-browser', 'r1', 1, 2, 'sending', { page: { n: 1, of: 3 } }));
  const page = await browser();
  await page.goto(`${service.url}/faxes/fax-live-browser`);
  await signIn(page, 'alice');
  await page.waitForURL(`${service.url}/faxes/fax-live-browser`);
  expect(await page.locator('.summary').getByRole('img', { name: 'In progress' }).isVisible()).toBe(true);
  await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));

  await tracker.handle(result('fax-live-browser', 'r1', 1, 5, 'success', 3));
  await page.getByRole('row').filter({ hasText: '+12025550101' }).getByRole('img', { name: 'Delivered' }).waitFor({ timeout: 10_000 });
  await tracker.handle(result('fax-live-browser', 'r2', 1, 3, 'failed_no_answer', 0));
  await page.locator('.summary').getByRole('img', { name: 'Partially delivered' }).waitFor({ timeout: 10_000 });
  expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true);
});

it('says so when the visitor cancels at the identity provider, and signs in from there on a second try', async () => {
  const page = await browser();
  await page.goto(deepLink);
  await page.waitForURL(`${provider.issuer}/interaction/**`);
  const answer = page.waitForResponse((r) => r.url().startsWith(`${service.url}/auth/callback`));
  await page.getByRole('button', { name: 'Cancel' }).click();
  expect((await answer).status()).toBe(400);
  expect(await page.getByRole('alert').textContent()).toBe('The sign-in was cancelled. You can try again.');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await signIn(page, 'alice');
  await page.waitForURL(deepLink);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Q3 report');
});

it('reads completely without JavaScript', async () => {
  const page = await browser({ javaScriptEnabled: false });
  await page.goto(deepLink);
  await signIn(page, 'alice');
  await page.waitForURL(deepLink);
  expect(await page.getByRole('table', { name: 'Delivery to each recipient' }).locator('tbody tr').count()).toBe(3);
  expect(await page.locator('.summary').getByRole('img', { name: 'Partially delivered' }).isVisible()).toBe(true);
  await page.getByRole('link', { name: 'Русский' }).click();
  expect(await page.getByRole('table', { name: 'Доставка каждому получателю' }).locator('tbody tr').count()).toBe(3);
  expect(await page.locator('.summary').getByRole('img', { name: 'Доставлен частично' }).isVisible()).toBe(true);
});

it('loads the live fax page under its content security policy with nothing blocked, and the policy does block an inline script', async () => {
  const { tracker } = service;
  await tracker.handle(submitted('fax-csp-browser', 'alice', ['r1'], { subject: 'Policy check' }));
  await tracker.handle(progress('fax-csp-browser', 'r1', 1, 2, 'sending', { page: { n: 1, of: 2 } }));
  const page = await browser();
  await page.goto(`${service.url}/faxes/fax-csp-browser`);
  await signIn(page, 'alice');
  await page.waitForURL(`${service.url}/faxes/fax-csp-browser`);
  const response = await page.reload();
  expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
  // The live script (an external file) ran: it opened the page's event stream and swaps in the update.
  await tracker.handle(result('fax-csp-browser', 'r1', 1, 5, 'success', 2));
  await page.locator('.summary').getByRole('img', { name: 'Delivered' }).waitFor({ timeout: 10_000 });
  // The page's one stylesheet loaded (no style was blocked).
  expect(await page.evaluate('document.styleSheets.length')).toBe(1);
  expect(violations).toEqual([]);
  expect(consoleErrors.filter((e) => e.url.includes('fax-csp-browser'))).toEqual([]);

  // An inline script is what the policy exists to stop: Chromium refuses it and reports the violation.
  await page.evaluate(`{
    const script = document.createElement('script');
    script.textContent = 'document.title = "injected"';
    document.body.append(script);
  }`);
  await eventually(() => violations.length > 0);
  expect(await page.title()).not.toBe('injected');
  expect(violations).toEqual([expect.objectContaining({ directive: 'script-src-elem', blocked: 'inline' })]);
  // Seen and checked here; the after-each check is for the pages as served.
  violations.length = 0;
  consoleErrors.length = 0;
});
