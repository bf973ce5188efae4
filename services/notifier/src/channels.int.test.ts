import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryRecipientFinal } from '@faxnotify/contracts';
import { issueToken, type MessageBus } from '@faxnotify/kit';
import { createTestVhost, eventually, freePort, startSmtpSink, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import { XmppAdapter } from './channels/xmpp/adapter';
import { startNotifier, type RunningNotifier } from './index';
import { connectXmppClient, startProsody, startTwilioEndpoint, twilioSignature, type ProsodyServer, type TwilioEndpoint, type XmppTestClient } from './testing';
import { bearer as bearerOf, collectOutcomes, finalResult, settingsApi, startTrackerBus, type OutcomeCollector } from './testing/notices';

/**
 * The notifier with all three channels against real peers: RabbitMQ, an SMTP server, Prosody
 * and a Twilio-compatible endpoint holding every request to Twilio's OpenAPI document.
 */

const SECRET = 'notifier-channels-secret-0123456789';
const USERS = ['olga', 'xena', 'fred', 'hank', 'ivan', 'rita', 'tom', 'uma'] as const;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\ufffe\uffff]/;

let vhost: TestVhost;
let smtp: SmtpSink;
let prosody: ProsodyServer;
let twilioEndpoint: TwilioEndpoint;
let notifier: RunningNotifier;
let bus: MessageBus;
let collector: OutcomeCollector;
let dir: string;
const xmppUsers = new Map<string, XmppTestClient>();

const final = (id: string, ownerId: string, overrides: Partial<DeliveryRecipientFinal> = {}) => finalResult(id, { ownerId, ...overrides });

const bearer = (user: string) => bearerOf(SECRET, user);
const api = settingsApi(() => notifier.url, SECRET);

interface Channels {
  email?: string;
  sms?: string;
  xmpp?: string;
  locale?: 'ru' | 'en' | 'it';
  notifyOn?: 'all' | 'failures';
}
const settingsFor = (channels: Channels) => ({
  email: { enabled: Boolean(channels.email), address: channels.email ?? null },
  sms: { enabled: Boolean(channels.sms), number: channels.sms ?? null },
  xmpp: { enabled: Boolean(channels.xmpp), jid: channels.xmpp ?? null },
  locale: channels.locale ?? 'en',
  timeZone: channels.locale === 'ru' ? 'Europe/Moscow' : 'Europe/Rome',
  notifyOn: channels.notifyOn ?? 'all',
});

const outcomeOf = (faxId: string, channel: string) => collector.outcomes.filter((o) => o.faxId === faxId && o.channel === channel).at(-1);
const smsTo = (number: string) => twilioEndpoint.messages.filter((m) => m.to === number);
const requestsTo = (number: string) => twilioEndpoint.requests.filter((r) => r.params.To === number);
const mailsTo = (address: string) => smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address));
const chatsFor = (user: string) => xmppUsers.get(user)!.messages;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'notifier-channels-'));
  [vhost, smtp, prosody, twilioEndpoint] = await Promise.all([
    createTestVhost('notifier-channels'),
    startSmtpSink(),
    startProsody({ users: [{ username: 'notifier', password: 'notifier-pw' }, ...USERS.map((username) => ({ username, password: `${username}-pw` }))] }),
    startTwilioEndpoint({ callbackDelayMs: 5 }),
  ]);
  const port = await freePort();
  notifier = await startNotifier(
    {
      'http.port': port,
      'db.sqlitePath': join(dir, 'notifier.sqlite'),
      'smtp.port': smtp.port,
      'amqp.url': vhost.amqpUrl,
      'auth.jwtSecret': SECRET,
      'log.level': 'silent',
      'links.settingsUrlTemplate': `http://127.0.0.1:${port}/settings`,
      'twilio.accountSid': twilioEndpoint.accountSid,
      'twilio.authToken': twilioEndpoint.authToken,
      'twilio.from': '+15005550006',
      'twilio.statusCallbackUrl': `http://127.0.0.1:${port}/twilio/status`,
      'twilio.baseUrl': twilioEndpoint.url,
      'twilio.timeoutMs': 5_000,
      'xmpp.service': prosody.service,
      'xmpp.domain': prosody.domain,
      'xmpp.username': 'notifier',
      'xmpp.password': 'notifier-pw',
      'xmpp.allowPlainWithoutTls': true,
      'xmpp.reconnectInitialMs': 100,
      'xmpp.reconnectMaxMs': 1_000,
      'xmpp.timeoutMs': 3_000,
    },
    {},
  );
  await (notifier.adapters.get('xmpp') as XmppAdapter).waitOnline();
  for (const username of USERS) {
    xmppUsers.set(username, await connectXmppClient({ service: prosody.service, domain: prosody.domain, username, password: `${username}-pw` }));
  }
  bus = await startTrackerBus(vhost.amqpUrl);
  collector = await collectOutcomes(vhost.amqpUrl);
}, 30_000);

afterAll(async () => {
  await collector?.close();
  await bus?.close();
  for (const client of xmppUsers.values()) await client.stop();
  await notifier?.stop();
  await Promise.all([smtp?.close(), twilioEndpoint?.close(), prosody?.stop()]);
  await vhost?.delete();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  twilioEndpoint.script(undefined);
  // The notifier's requests and the endpoint's answers held to Twilio's OpenAPI document throughout.
  expect(twilioEndpoint.violations).toEqual([]);
});

describe('settings for SMS and XMPP', () => {
  it('names the field of a bad phone number or JID', async () => {
    const bad = async (channels: Record<string, unknown>) => api('PUT', '/v1/settings', 'uma', { ...settingsFor({ email: 'uma@example.test' }), ...channels });
    for (const number of ['12025550101', '+1 555', '+99912345', 'call me', '+7 916 123 45 67 89']) {
      const response = await bad({ sms: { enabled: true, number } });
      expect(response).toMatchObject({ status: 400, body: { field: 'sms.number' } });
    }
    expect((await bad({ sms: { enabled: true, number: null } })).body).toMatchObject({ field: 'sms.number', message: expect.stringMatching(/required/) });
    expect((await bad({ sms: { enabled: 'yes', number: '+12025550101' } })).body).toMatchObject({ field: 'sms.enabled' });
    for (const jid of ['not a jid', 'uma@', '@localhost', 'uma@local host', 'uma@localhost/resource', 'u<m>a@localhost', 'uma@exa_mple.com']) {
      expect((await bad({ xmpp: { enabled: true, jid } })).body).toMatchObject({ field: 'xmpp.jid' });
    }
    expect((await bad({ xmpp: { enabled: true } })).body).toMatchObject({ field: 'xmpp.jid' });
    expect((await bad({ notifyOn: 'sometimes' })).body).toMatchObject({ field: 'notifyOn' });
  });

  it('stores numbers as E.164 and JIDs in their usual form, and keeps channels a client leaves out', async () => {
    const saved = await api('PUT', '/v1/settings', 'uma', {
      ...settingsFor({}),
      sms: { enabled: true, number: '+39 333 123 4567' },
      xmpp: { enabled: true, jid: 'Uma@LocalHost' },
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ sms: { enabled: true, number: '+393331234567' }, xmpp: { enabled: true, jid: 'uma@localhost' } });
    // A client that only knows email leaves SMS and XMPP as they were.
    await api('PUT', '/v1/settings', 'uma', { email: { enabled: true, address: 'uma@example.test' }, locale: 'it', timeZone: 'Europe/Rome', notifyOn: 'all' });
    expect((await api('GET', '/v1/settings', 'uma')).body).toMatchObject({
      email: { enabled: true },
      sms: { number: '+393331234567' },
      xmpp: { jid: 'uma@localhost' },
      locale: 'it',
    });
  });
});

describe('the settings page', () => {
  const page = (path: string, init: RequestInit = {}) => fetch(`${notifier.url}${path}`, { redirect: 'manual', ...init });
  const cookiesOf = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];

  /** The sign-in form: its CSRF token and the browser's CSRF secret cookie. */
  async function signInForm(): Promise<{ csrf: string; cookies: string[] }> {
    const response = await page('/login');
    expect(response.status).toBe(200);
    return { csrf: csrfOf(await response.text()) ?? '', cookies: cookiesOf(response) };
  }
  const postSignIn = (cookies: string[], fields: Record<string, string>, headers: Record<string, string> = {}) =>
    page('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; '), ...headers },
      body: new URLSearchParams(fields).toString(),
    });

  async function signIn(user: string): Promise<string[]> {
    const token = await issueToken({ secret: SECRET }, user);
    const form = await signInForm();
    const response = await postSignIn(form.cookies, { csrf: form.csrf, token, next: '//evil.example/settings' });
    expect(response.status).toBe(303);
    // Only a path on this site: another origin in `next` falls back to the settings page.
    expect(response.headers.get('location')).toBe('/settings');
    const cookie = response.headers.getSetCookie()[0];
    expect(cookie).toMatch(/^faxnotify_session=.+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    return [...form.cookies, ...cookiesOf(response)];
  }

  async function open(cookies: string[]): Promise<{ html: string; csrf: string; cookies: string[]; status: number }> {
    const response = await page('/settings', { headers: { cookie: cookies.join('; ') } });
    const html = await response.text();
    return { html, csrf: csrfOf(html) ?? '', cookies: [...cookies, ...cookiesOf(response)], status: response.status };
  }

  const post = (cookies: string[], fields: Record<string, string>, headers: Record<string, string> = {}) =>
    page('/settings', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; '), ...headers },
      body: new URLSearchParams(fields).toString(),
    });

  it('asks a visitor without a session to sign in, in their language', async () => {
    const response = await page('/settings', { headers: { 'accept-language': 'it-IT,it;q=0.9,en;q=0.5' } });
    expect(response.status).toBe(401);
    const html = await response.text();
    expect(html).toContain('<html lang="it">');
    expect(html).toMatch(/<label for="token">Token di accesso<\/label>/);
    const form = await signInForm();
    expect((await postSignIn(form.cookies, { csrf: form.csrf, token: 'not.a.token' })).status).toBe(401);
  });

  it('signs no one in on a GET, nor on a post without the CSRF token or from Origin: null', async () => {
    const token = await issueToken({ secret: SECRET }, 'tom');
    const sessionSet = (response: Response) => response.headers.getSetCookie().some((c) => c.startsWith('faxnotify_session='));
    // A link (a plain GET, which another site can make a browser follow) shows the form and nothing more.
    const link = await page(`/login?token=${encodeURIComponent(token)}&next=/settings`);
    expect(link.status).toBe(200);
    expect(sessionSet(link)).toBe(false);
    expect(await link.text()).not.toContain(token);
    const form = await signInForm();
    const noToken = await postSignIn(form.cookies, { token, next: '/settings' });
    expect(noToken.status).toBe(403);
    expect(sessionSet(noToken)).toBe(false);
    expect(await noToken.text()).toContain('The form had expired.');
    expect((await postSignIn([], { csrf: form.csrf, token })).status).toBe(403);
    const fromNull = await postSignIn(form.cookies, { csrf: form.csrf, token }, { origin: 'null' });
    expect(fromNull.status).toBe(403);
    expect(sessionSet(fromNull)).toBe(false);
    expect((await postSignIn(form.cookies, { csrf: form.csrf, token }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postSignIn(form.cookies, { csrf: form.csrf, token }, { origin: notifier.url })).status).toBe(303);
  });

  it('sends its security headers and a content security policy with no inline style or script', async () => {
    const response = await page('/settings');
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).not.toMatch(/<style|<script| style=/);
  });

  it('takes a changed session cookie for none', async () => {
    const cookies = await signIn('tom');
    const session = cookies.find((c) => c.startsWith('faxnotify_session='))!;
    expect((await page('/settings', { headers: { cookie: session } })).status).toBe(200);
    const value = decodeURIComponent(session.slice('faxnotify_session='.length));
    const forged = `${await issueToken({ secret: SECRET }, 'dave')}${value.slice(value.lastIndexOf('.'))}`;
    for (const cookie of [
      `faxnotify_session=${encodeURIComponent(forged)}`,
      `faxnotify_session=${value.slice(0, value.lastIndexOf('.'))}`,
      `${session.slice(0, -3)}abc`,
    ]) {
      expect((await page('/settings', { headers: { cookie } })).status).toBe(401);
    }
  });

  it('round-trips the form: shows the saved settings, saves a change, refuses a post without the CSRF token', async () => {
    await api('PUT', '/v1/settings', 'tom', settingsFor({ email: 'tom@example.test', locale: 'ru' }));
    const cookies = await signIn('tom');
    const form = await open(cookies);
    expect(form.status).toBe(200);
    expect(form.html).toContain('<html lang="ru">');
    expect(form.html).toContain('<h1>Настройки уведомлений</h1>');
    // Every input has its label; the form posts back to this page and works without JavaScript.
    for (const id of [
      'email-enabled',
      'email-address',
      'sms-enabled',
      'sms-number',
      'xmpp-enabled',
      'xmpp-jid',
      'notify-all',
      'notify-failures',
      'locale',
      'time-zone',
    ]) {
      expect(form.html).toContain(`<label for="${id}">`);
      expect(form.html).toContain(`id="${id}"`);
    }
    expect(form.html).toContain('<form method="post" action="/settings"');
    expect(form.html).not.toMatch(/<script/);
    expect(form.html).toContain('value="tom@example.test"');
    // The token @fastify/csrf-protection makes: time, the user it is for, salt, HMAC.
    expect(form.csrf).toMatch(/^[a-z0-9]+-[A-Za-z0-9_]{43}-[\w-]{8}-[\w-]{43}$/);

    const fields = {
      csrf: form.csrf,
      email_enabled: 'on',
      email_address: 'tom@example.test',
      sms_enabled: 'on',
      sms_number: '+7 916 123-45-67',
      xmpp_enabled: 'on',
      xmpp_jid: 'tom@localhost',
      notify_on: 'failures',
      locale: 'en',
      time_zone: 'Asia/Yekaterinburg',
    };
    // Without the CSRF token (a forged cross-site post would lack it): refused, nothing saved.
    const forged = await post(form.cookies, { ...fields, csrf: '' });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('Срок действия формы истёк');
    // Another user's token does not fit this user's session.
    const dave = await open(await signIn('dave'));
    expect((await post(form.cookies, { ...fields, csrf: dave.csrf })).status).toBe(403);
    // Nor does Dave's token with Dave's cookies but Tom's session (a token is made for one user).
    const daveSecret = dave.cookies.filter((c) => c.startsWith('faxnotify_csrf='));
    expect((await post([...cookies.filter((c) => c.startsWith('faxnotify_session=')), ...daveSecret], { ...fields, csrf: dave.csrf })).status).toBe(403);
    // A post from Origin: null is refused even with the right token.
    expect((await post(form.cookies, fields, { origin: 'null' })).status).toBe(403);
    expect((await api('GET', '/v1/settings', 'tom')).body).toMatchObject({ sms: { enabled: false }, locale: 'ru' });

    const saved = await post(form.cookies, fields);
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/settings?saved=1');
    expect((await api('GET', '/v1/settings', 'tom')).body).toEqual({
      email: { enabled: true, address: 'tom@example.test' },
      sms: { enabled: true, number: '+79161234567' },
      xmpp: { enabled: true, jid: 'tom@localhost' },
      locale: 'en',
      timeZone: 'Asia/Yekaterinburg',
      notifyOn: 'failures',
    });
    const after = await page('/settings?saved=1', { headers: { cookie: form.cookies.join('; ') } });
    const html = await after.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('role="status">Your settings have been saved.');
    expect(html).toContain('value="+79161234567"');
    expect(html).toMatch(/<option value="Asia\/Yekaterinburg" selected>/);
    expect(html).toMatch(/id="notify-failures" name="notify_on" value="failures" checked/);
    // Dave's settings were not touched by Tom's form.
    expect((await api('GET', '/v1/settings', 'dave')).body).toMatchObject({ email: { enabled: false, address: null } });
  });

  it('answers a bad value with 400, names the field and keeps what was typed', async () => {
    const form = await open(await signIn('uma'));
    const response = await post(form.cookies, {
      csrf: form.csrf,
      sms_enabled: 'on',
      sms_number: '+39 12',
      notify_on: 'all',
      locale: 'it',
      time_zone: 'Europe/Rome',
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toMatch(
      /<input type="tel" id="sms-number" name="sms_number" value="\+39 12"[^>]* aria-describedby="sms-number-hint sms-number-error" aria-invalid="true">/,
    );
    expect(html).toContain('<a href="#sms-number">Inserisci un numero in formato internazionale');
    const zone = await post(form.cookies, { csrf: form.csrf, notify_on: 'all', locale: 'it', time_zone: 'Mars/Olympus' });
    expect(zone.status).toBe(400);
    expect(await zone.text()).toContain('<a href="#time-zone">');
    const language = await post(form.cookies, { csrf: form.csrf, notify_on: 'all', locale: 'de', time_zone: 'Europe/Rome' });
    expect(language.status).toBe(400);
    expect(await language.text()).toContain('<a href="#locale">');
  });

  it('takes a bearer token instead of the cookie, which needs no CSRF token', async () => {
    const response = await post(
      [],
      { email_enabled: 'on', email_address: 'ivan@example.test', notify_on: 'all', locale: 'ru', time_zone: 'Europe/Moscow' },
      { authorization: await bearer('ivan') },
    );
    expect(response.status).toBe(303);
    expect((await api('GET', '/v1/settings', 'ivan')).body).toMatchObject({ email: { enabled: true, address: 'ivan@example.test' }, locale: 'ru' });
  });
});

describe('notices on email, SMS and XMPP', () => {
  beforeAll(async () => {
    const save = async (user: string, channels: Channels) => expect((await api('PUT', '/v1/settings', user, settingsFor(channels))).status).toBe(200);
    await save('olga', { email: 'olga@example.test', sms: '+79161234567', xmpp: 'olga@localhost', locale: 'ru' });
    await save('xena', { xmpp: 'xena@localhost', locale: 'it' });
    await save('fred', { email: 'fred@example.test', sms: '+12025550188', xmpp: 'fred@localhost', notifyOn: 'failures' });
    await save('hank', { email: 'hank@example.test', sms: '+12025550123', xmpp: 'hank@localhost' });
  });

  it("sends one email, one SMS and one XMPP message in the owner's language", async () => {
    await bus.publish('delivery.recipient.final', final('olga-1', 'olga', { subject: 'Квартальный отчёт' }));
    await eventually(() => ['email', 'sms', 'xmpp'].every((channel) => outcomeOf('olga-1', channel)), 10_000);

    const mails = mailsTo('olga@example.test');
    expect(mails.map((m) => m.subject)).toEqual(['Доставлено: Квартальный отчёт']);
    expect(mails[0].text).toContain('Получатель: +12025550101 (ACME)');

    const sms = smsTo('+79161234567');
    expect(sms).toHaveLength(1);
    expect(sms[0].body).toBe('Доставлено: Квартальный отчёт\n+12025550101 (ACME), 1 стр., 22.11, 12:00\nhttp://127.0.0.1:8082/faxes/olga-1');
    expect(sms[0]).toMatchObject({ from: '+15005550006', encoding: 'UCS-2' });
    expect(sms[0].segments).toBeLessThanOrEqual(2);

    const chats = await xmppUsers.get('olga')!.waitForMessages(1);
    expect(chats).toHaveLength(1);
    expect(chats[0]).toMatchObject({
      type: 'chat',
      from: expect.stringMatching(/^notifier@localhost\/faxnotify-notifier\.[0-9a-f]{6}$/),
      receiptRequested: true,
    });
    expect(chats[0].body).toMatch(/^Доставлено: Квартальный отчёт\nПолучатель: \+12025550101 \(ACME\)\n/);
    expect(chats[0].body).toContain(`Настройки уведомлений: ${notifier.url}/settings`);

    // What went out and what became of it, per channel: the SMS status callback and the XMPP receipt come back as "delivered".
    await eventually(() => outcomeOf('olga-1', 'sms')?.outcome === 'delivered' && outcomeOf('olga-1', 'xmpp')?.outcome === 'delivered', 10_000);
    expect(outcomeOf('olga-1', 'email')).toMatchObject({ outcome: 'sent', address: 'olga@example.test', locale: 'ru', attempts: 1 });
    // The parts and encoding it went out as, and Twilio's status callback word, as fields; nothing left over for the reason.
    expect(outcomeOf('olga-1', 'sms')).toMatchObject({
      outcome: 'delivered',
      address: '+79161234567',
      providerMessageId: sms[0].sid,
      sms: { segments: sms[0].segments, encoding: 'UCS-2' },
      provider: { status: 'delivered' },
    });
    expect(outcomeOf('olga-1', 'sms')!.reason).toBeUndefined();
    expect(outcomeOf('olga-1', 'xmpp')).toMatchObject({ outcome: 'delivered', address: 'olga@localhost', reason: 'receipt received' });
  });

  it('sends a user with only XMPP on only an XMPP message', async () => {
    await bus.publish('delivery.recipient.final', final('xena-1', 'xena', { status: 'failed_user_busy', pagesSent: 0 }));
    await eventually(() => outcomeOf('xena-1', 'xmpp'), 10_000);
    const [chat] = await xmppUsers.get('xena')!.waitForMessages(1);
    expect(chat.body).toMatch(/^Non consegnato: Q3 report\n/);
    expect(chat.body).toContain('Stato: Linea occupata.');
    expect(outcomeOf('xena-1', 'email')).toMatchObject({ outcome: 'skipped', reason: 'email notices are off' });
    expect(outcomeOf('xena-1', 'sms')).toMatchObject({ outcome: 'skipped', reason: 'sms notices are off' });
    expect(mailsTo('xena')).toHaveLength(0);
    expect(twilioEndpoint.requests.filter((r) => String(r.params.Body ?? '').includes('xena-1'))).toHaveLength(0);
  });

  it('sends nothing for a success to an owner who wants failures only', async () => {
    await bus.publish('delivery.recipient.final', final('fred-ok', 'fred'));
    await eventually(() => ['email', 'sms', 'xmpp'].every((channel) => outcomeOf('fred-ok', channel)), 10_000);
    for (const channel of ['email', 'sms', 'xmpp'])
      expect(outcomeOf('fred-ok', channel)).toMatchObject({ outcome: 'skipped', reason: 'the owner is notified of failures only' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo('fred@example.test')).toHaveLength(0);
    expect(requestsTo('+12025550188')).toHaveLength(0);
    expect(chatsFor('fred')).toHaveLength(0);
  });

  it('sends an English SMS as GSM-7 and a Russian one as UCS-2, both within 2 segments', async () => {
    const long = `Contract renewal for the distribution agreement, signed copies of pages ${'1 to 40 '.repeat(20)}`;
    await bus.publish('delivery.recipient.final', final('hank-long', 'hank', { subject: long, status: 'partially_sent', pagesSent: 2, pagesTotal: 5 }));
    await bus.publish(
      'delivery.recipient.final',
      final('olga-long', 'olga', {
        subject: `Договор поставки, подписанные страницы ${'с 1 по 40 '.repeat(20)}`,
        status: 'partially_sent',
        pagesSent: 2,
        pagesTotal: 5,
      }),
    );
    await eventually(() => outcomeOf('hank-long', 'sms') && outcomeOf('olga-long', 'sms'), 10_000);
    const english = smsTo('+12025550123').find((m) => m.body.includes('hank-long'))!;
    const russian = smsTo('+79161234567').find((m) => m.body.includes('olga-long'))!;
    expect(english).toMatchObject({ encoding: 'GSM-7' });
    expect(english.segments).toBeLessThanOrEqual(2);
    expect(english.body).toMatch(
      /^Partially delivered: Contract renewal.*\.\.\.\nPartially sent\nTo: \+12025550101 \(ACME\), 2 of 5 pages, 22\/11, 10:00\nhttp:\/\/127\.0\.0\.1:8082\/faxes\/hank-long$/,
    );
    expect(russian).toMatchObject({ encoding: 'UCS-2' });
    expect(russian.segments).toBeLessThanOrEqual(2);
    expect(russian.body).toMatch(/^Доставлено частично: Договор поставки.*\.\.\.\n/);
    expect(outcomeOf('hank-long', 'sms')!.sms).toEqual({ segments: english.segments, encoding: 'GSM-7' });
    expect(outcomeOf('olga-long', 'sms')!.sms).toEqual({ segments: russian.segments, encoding: 'UCS-2' });
  });

  it('retries after Twilio answers 500 and sends one SMS', async () => {
    await api('PUT', '/v1/settings', 'ivan', settingsFor({ sms: '+393331234567' }));
    twilioEndpoint.script((request) => (request.to === '+393331234567' && requestsTo('+393331234567').length === 1 ? { status: 500 } : undefined));
    await bus.publish('delivery.recipient.final', final('ivan-500', 'ivan'));
    const outcome = await eventually(() => outcomeOf('ivan-500', 'sms'), 15_000);
    expect(outcome).toMatchObject({ outcome: expect.stringMatching(/^(sent|delivered)$/), attempts: 2 });
    expect(requestsTo('+393331234567').map((r) => r.status)).toEqual([500, 201]);
    expect(smsTo('+393331234567')).toHaveLength(1);
  });

  it('records an invalid number (21211) as failed and does not retry', async () => {
    await api('PUT', '/v1/settings', 'ivan', settingsFor({ sms: '+15005550001' }));
    await bus.publish('delivery.recipient.final', final('ivan-21211', 'ivan'));
    const outcome = await eventually(() => outcomeOf('ivan-21211', 'sms'), 10_000);
    expect(outcome).toMatchObject({ outcome: 'failed', attempts: 1, reason: expect.stringMatching(/^Twilio 400 error 21211: invalid 'To' phone number/) });
    // Twilio refused the request: no message went out, and no status callback will come.
    expect(outcome.sms).toBeUndefined();
    expect(outcome.provider).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(requestsTo('+15005550001').map((r) => [r.status, r.errorCode])).toEqual([[400, 21211]]);
  });

  it("records an undelivered SMS with the carrier's error code", async () => {
    await api('PUT', '/v1/settings', 'ivan', settingsFor({ sms: '+393331234568' }));
    twilioEndpoint.script((request) => (request.to === '+393331234568' ? { outcome: 'undelivered', deliveryErrorCode: 30003 } : undefined));
    await bus.publish('delivery.recipient.final', final('ivan-30003', 'ivan'));
    const outcome = await eventually(() => (outcomeOf('ivan-30003', 'sms')?.outcome === 'failed' ? outcomeOf('ivan-30003', 'sms') : undefined), 10_000);
    expect(outcome).toMatchObject({ sms: { segments: 1, encoding: 'GSM-7' }, provider: { status: 'undelivered', errorCode: '30003' } });
    expect(outcome.reason).toBeUndefined();
  });

  it('answers a status callback with a bad signature 403 and records a good one', async () => {
    await api('PUT', '/v1/settings', 'ivan', settingsFor({ sms: '+393331234569' }));
    // Twilio only says "sent" for this one; the test then signs "delivered" itself.
    twilioEndpoint.script((request) => (request.to === '+393331234569' ? { outcome: 'sent' } : undefined));
    await bus.publish('delivery.recipient.final', final('ivan-cb', 'ivan'));
    await eventually(() => outcomeOf('ivan-cb', 'sms'), 10_000);
    await twilioEndpoint.callbacksSettled();
    const message = smsTo('+393331234569')[0];
    expect(twilioEndpoint.statusCallbacks.filter((c) => c.messageSid === message.sid).map((c) => [c.status, c.responseStatus])).toEqual([
      ['queued', 204],
      ['sent', 204],
    ]);
    const url = message.statusCallback!;
    const params = { AccountSid: twilioEndpoint.accountSid, MessageSid: message.sid, MessageStatus: 'delivered', To: message.to };
    const callback = (signature: string, body = params) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(body).toString(),
      });

    expect((await callback('forged')).status).toBe(403);
    expect((await callback(twilioSignature('not-the-token', url, params))).status).toBe(403);
    // Signed, but the body was changed on the way.
    expect((await callback(twilioSignature(twilioEndpoint.authToken, url, params), { ...params, MessageStatus: 'failed' })).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(outcomeOf('ivan-cb', 'sms')!.outcome).toBe('sent');
    // Twilio's own "sent" callback is in the outcome as the provider's status.
    expect(collector.outcomes.filter((o) => o.faxId === 'ivan-cb' && o.channel === 'sms').map((o) => o.provider?.status)).toContain('sent');

    expect((await callback(twilioSignature(twilioEndpoint.authToken, url, params))).status).toBe(204);
    await eventually(() => outcomeOf('ivan-cb', 'sms')?.outcome === 'delivered', 5_000);
    expect(outcomeOf('ivan-cb', 'sms')).toMatchObject({
      outcome: 'delivered',
      providerMessageId: message.sid,
      sms: { segments: 1, encoding: 'GSM-7' },
      provider: { status: 'delivered' },
    });
  });

  it('lets a hostile CSID and subject reach SMS and XMPP harmless', async () => {
    const subject = 'Invoice\r\n\u0000\u0007\u001b[2J<message to="x@evil"><body>pwn</body></message>]]>&amp;\u202eexe.pdf\ud800';
    const remoteCsid = '\u0000EVIL\r\nCSID</body>\u0085\u000b';
    await bus.publish('delivery.recipient.final', final('hank-hostile', 'hank', { subject, remoteCsid, status: 'failed_no_answer', pagesSent: 0 }));
    await eventually(() => outcomeOf('hank-hostile', 'sms') && outcomeOf('hank-hostile', 'xmpp'), 10_000);
    const sms = smsTo('+12025550123').find((m) => m.body.includes('hank-hostile'))!;
    expect(sms.body).not.toMatch(CONTROL);
    expect(sms.body.split('\n')).toHaveLength(4);
    expect(sms.body).toContain('(EVIL CSID</body>)');
    expect(sms.segments).toBeLessThanOrEqual(2);
    const chat = (await xmppUsers.get('hank')!.waitForMessages(1)).find((m) => m.body.includes('EVIL'))!;
    expect(chat.body).not.toMatch(CONTROL);
    expect(chat.body).toContain('<message to="x@evil"><body>pwn</body></message>]]>&amp;');
    expect(chat.body).toContain('Recipient: +12025550101 (EVIL CSID</body>)');
    // The stanza as it arrived parses as XML and carries the text as text, not as elements.
    const { parse } = await import('ltx');
    const stanza = parse(chat.xml);
    expect(stanza.getChildren('body')).toHaveLength(1);
    expect(stanza.getChildText('body')).toBe(chat.body);
    expect(chat.xml).not.toContain('<message to="x@evil">');
  });
});

describe('Prosody restarted while 200 results flow', () => {
  it('delivers every XMPP notice once', async () => {
    const RESULTS = 200;
    await api('PUT', '/v1/settings', 'rita', settingsFor({ xmpp: 'rita@localhost' }));
    const rita = xmppUsers.get('rita')!;
    const adapter = notifier.adapters.get('xmpp') as XmppAdapter;
    const connectionsBefore = adapter.connections;
    const sendsBefore = { ...adapter.sends };
    const started = performance.now();
    let restartedAt = 0;
    let receivedAtRestart = 0;
    const publishing = (async () => {
      for (let i = 0; i < RESULTS; i++) {
        await bus.publish('delivery.recipient.final', final(`rita-${String(i).padStart(3, '0')}`, 'rita', { subject: `Batch ${i}` }));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await eventually(() => rita.messages.length >= 50, 15_000, 5);
    receivedAtRestart = rita.messages.length;
    restartedAt = performance.now() - started;
    await prosody.restart();
    await publishing;
    await eventually(() => new Set(rita.messages.map((m) => m.id)).size >= RESULTS, 40_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const ids = rita.messages.map((m) => m.id!);
    const distinct = new Set(ids);
    const bodies = new Set(rita.messages.map((m) => m.body.split('\n')[0]));
    let sends = 0;
    for (let i = 0; i < RESULTS; i++) sends += (await notifier.ledger.get(`rita-${String(i).padStart(3, '0')}:r1`, 'xmpp'))!.sends;
    const ritaOutcomes = new Map<string, string>();
    for (const o of collector.outcomes.filter((o) => o.ownerId === 'rita')) ritaOutcomes.set(o.faxId, o.outcome);
    const figures = {
      results: RESULTS,
      receivedBeforeRestart: receivedAtRestart,
      restartAtMs: Math.round(restartedAt),
      received: ids.length,
      distinct: distinct.size,
      duplicates: ids.length - distinct.size,
      storedOfflineAndDelivered: rita.messages.filter((m) => m.delayStamp).length,
      ledgerAttempts: sends,
      confirmedByServer: adapter.sends.confirmed - sendsBefore.confirmed,
      refusedWhileDisconnected: adapter.sends.offline - sendsBefore.offline,
      lostUnconfirmed: adapter.sends.unconfirmed - sendsBefore.unconfirmed,
      notifierReconnections: adapter.connections - connectionsBefore,
      userReconnections: rita.onlineCount - 1,
      outcomesDelivered: [...ritaOutcomes.values()].filter((o) => o === 'delivered').length,
      outcomesSentOnly: [...ritaOutcomes.values()].filter((o) => o === 'sent').length,
      totalMs: Math.round(performance.now() - started),
    };
    process.stdout.write(`${JSON.stringify({ xmppRestart: figures })}\n`);
    expect(distinct.size).toBe(RESULTS);
    expect(bodies.size).toBe(RESULTS);
    expect(ids.length).toBe(RESULTS);
    expect(figures.notifierReconnections).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
