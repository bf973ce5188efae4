import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MessageBus, createLogger } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, eventually, type CspViolation } from '@faxnotify/peers';
import { sampleFax, scriptFaxEvents } from '@faxnotify/transmitter';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startStack, type Stack } from '../support/stack';

/**
 * A notice's link end to end, as separate processes: a fax result goes from the transmitter's
 * events through RabbitMQ, the status tracker and the notifier to a real SMTP server; the link is
 * taken out of the email it received and opened in Chromium by someone who never signed in.
 */
jest.setTimeout(180_000);

const LINK = /http:\/\/127\.0\.0\.1:\d+\/l\/([A-Za-z0-9_-]{24})/;
const opened: Array<{ context: BrowserContext; dir: string }> = [];
const violations: CspViolation[] = [];
const stacks: Stack[] = [];
const buses: MessageBus[] = [];

/** A browser of its own: a fresh profile, no cookies, no sign-in. */
async function browser(): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-link-'));
  const context = await chromium.launchPersistentContext(dir, { ...CHROMIUM_LAUNCH, locale: 'en-GB' });
  opened.push({ context, dir });
  await collectCspViolations(context, violations);
  return context.pages()[0] ?? (await context.newPage());
}

/** The stack plus a transmitter's side of the bus to publish scripted faxes with. */
async function start(
  label: string,
  extraEnv: Record<string, string> = {},
): Promise<{ stack: Stack; send: (owner: string, subject: string) => Promise<string> }> {
  const stack = await startStack(label, { extraEnv });
  stacks.push(stack);
  const bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('e2e', 'silent') });
  buses.push(bus);
  await bus.start();
  const send = async (owner: string, subject: string) => {
    const { faxId, events } = scriptFaxEvents(sampleFax(owner, subject));
    for (const e of events) await bus.publish(e.key, e.data, { subject: e.subject, time: e.time });
    return faxId;
  };
  return { stack, send };
}

const textOf = (mail: { text?: string | false }) => (typeof mail.text === 'string' ? mail.text : '');

/** The link in the email about `subject` to +12025550101 (delivered), once it arrived. */
async function linkIn(stack: Stack, subject: string): Promise<string> {
  const mail = await eventually(() => stack.smtp.mails.find((m) => m.subject === `Delivered: ${subject}`), 60_000);
  const text = textOf(mail);
  const link = LINK.exec(text)?.[0];
  expect(link).toBeDefined();
  // The HTML part links to the same place.
  expect(mail.html).toContain(`href="${link}"`);
  return link!;
}

/** Opens `url` and checks the page asked for a sign-in (a redirect to it, or, with sign-in not set up here, the page saying how) and showed nothing of `hidden`. */
async function expectSignInAsked(page: Page, url: string, hidden: string): Promise<void> {
  const response = await page.goto(url);
  expect(response?.status() === 401 || /\/(auth\/)?login\?next=/.test(page.url())).toBe(true);
  expect(await page.content()).not.toContain(hidden);
}

afterEach(() => {
  expect(violations).toEqual([]);
});

afterAll(async () => {
  for (const { context, dir } of opened) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await Promise.allSettled(buses.map((b) => b.close()));
  await Promise.allSettled(stacks.map((s) => s.stop()));
});

it("opens the email's fax without a sign-in, and nothing else; a changed link or a signed-out one does not", async () => {
  const { stack, send } = await start('link');
  await stack.saveSettings('alice', { email: { enabled: true, address: 'alice@example.test' }, locale: 'en', timeZone: 'Europe/Rome', notifyOn: 'all' });
  const faxId = await send('alice', 'Q3 report');
  const otherFaxId = await send('alice', 'Private memo');
  const link = await linkIn(stack, 'Q3 report');
  await linkIn(stack, 'Private memo');
  const tracker = stack.tracker.url;

  const page = await browser();
  await page.goto(link);
  // The token leaves the address bar: the browser is on the fax page itself.
  expect(page.url()).toBe(`${tracker}/faxes/${faxId}`);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Q3 report');
  const body = await page.locator('main').innerText();
  expect(body).toContain('+12025550101');
  expect(body).toContain('+12025550103');
  expect(body).toContain('Partially delivered');
  expect(body).toContain('You opened this fax from a link in a notice');

  // The same owner's other fax, the Sent folder and the settings page ask for a sign-in.
  await expectSignInAsked(page, `${tracker}/faxes/${otherFaxId}`, 'Private memo');
  await expectSignInAsked(page, `${tracker}/faxes`, 'Q3 report');
  await page.goto(`${stack.notifier.url}/settings`);
  expect(await page.content()).not.toContain('alice@example.test');
  const api = await page.goto(`${tracker}/v1/faxes/${faxId}`);
  expect(api?.status()).toBe(401);

  // A link with one character changed is refused, with nothing of the fax.
  const token = LINK.exec(link)![1];
  const changed = `${link.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  const refused = await (await browser()).goto(changed);
  expect(refused?.status()).toBe(404);
  const refusedPage = refused!.frame().page();
  await expect(refusedPage.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link no longer works');
  expect(await refusedPage.content()).not.toContain('Q3 report');

  // The owner signs out all links: the link and the grant it gave stop working.
  const revoke = await fetch(`${tracker}/v1/links/revoke`, { method: 'POST', headers: { authorization: `Bearer ${await stack.token('alice')}` } });
  expect(revoke.status).toBe(200);
  expect(((await revoke.json()) as { revoked: number }).revoked).toBeGreaterThanOrEqual(1);
  await expectSignInAsked(page, `${tracker}/faxes/${faxId}`, 'Q3 report');
  const gone = await (await browser()).goto(link);
  expect(gone?.status()).toBe(410);
  await expect(gone!.frame().page().getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link no longer works');
});

it('stops working once it expires (links.tokenDays)', async () => {
  // Links that last 30 seconds.
  const { stack, send } = await start('link-expiry', { STATUS_TRACKER_LINK_TOKEN_DAYS: String(30 / 86_400) });
  await stack.saveSettings('bob', { email: { enabled: true, address: 'bob@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' });
  const faxId = await send('bob', 'Short-lived');
  const link = await linkIn(stack, 'Short-lived');
  const page = await browser();
  await page.goto(link);
  expect(page.url()).toBe(`${stack.tracker.url}/faxes/${faxId}`);

  // When the tracker says this link ends, then a moment more.
  const db = new Database(join(stack.dataDir, 'status-tracker.sqlite'), { readonly: true });
  const { expires_at: expiresAt } = db.prepare('SELECT expires_at FROM link_tokens WHERE id = ?').get(LINK.exec(link)![1].slice(0, 12)) as {
    expires_at: string;
  };
  db.close();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now()) + 1000));

  const expired = await page.goto(link);
  expect(expired?.status()).toBe(410);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link no longer works');
  await expectSignInAsked(page, `${stack.tracker.url}/faxes/${faxId}`, 'Short-lived');
});
