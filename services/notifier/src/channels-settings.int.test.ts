import { issueToken, signedCookieValue } from '@faxnotify/kit';
import { CHANNELS_SECRET, settingsFor, useChannelPeers } from './testing/channels';

/**
 * Notification settings with all three channels configured: the JSON API's checks on phone numbers
 * and JIDs, and the settings page (signed out, sign-out, CSRF, security headers, the form). The
 * sign-in through an identity provider is tested in settings-page.browser.int.test.ts.
 */

const peers = useChannelPeers('notifier-channels-settings', []);
const { api, bearer } = peers;

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
  const page = (path: string, init: RequestInit = {}) => fetch(`${peers.notifier.url}${path}`, { redirect: 'manual', ...init });
  const cookiesOf = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];

  /** A browser signed in as `user`: the session cookie the sign-in sets (our session token, signed). */
  async function signIn(user: string): Promise<string[]> {
    const token = await issueToken({ secret: CHANNELS_SECRET }, user, 3600, { sid: `session-of-${user}` });
    return [`faxnotify_session=${encodeURIComponent(signedCookieValue(CHANNELS_SECRET, token))}`];
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

  it('tells a visitor without a session, in their language, that sign-in is not set up here and how to use the API', async () => {
    const response = await page('/settings', { headers: { 'accept-language': 'it-IT,it;q=0.9,en;q=0.5' } });
    expect(response.status).toBe(401);
    const html = await response.text();
    expect(html).toContain('<html lang="it">');
    expect(html).toContain('L&#x27;accesso a questa pagina non è configurato');
    expect(html).toContain(`curl -H 'Authorization: Bearer &lt;token&gt;' ${peers.notifier.url}/v1/settings`);
    expect(html).not.toContain('name="token"');
    // The token-paste sign-in is gone; the OpenID Connect one answers that it is not set up.
    expect((await page('/login')).status).toBe(404);
    expect((await page('/auth/login?next=/settings')).status).toBe(404);
  });

  it('signs out only by the page’s sign-out button with its CSRF token, not from another site or Origin: null', async () => {
    const form = await open(await signIn('tom'));
    expect(form.html).toMatch(/<form method="post" action="\/auth\/logout" class="sign-out"><input type="hidden" name="csrf" value="[^"]+">/);
    const cleared = (response: Response) => response.headers.getSetCookie().some((c) => /^faxnotify_session=;/.test(c));
    const logout = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      page('/auth/logout', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookies.join('; '), ...headers },
        body: new URLSearchParams(fields).toString(),
      });
    const noToken = await logout({});
    expect(noToken.status).toBe(403);
    expect(cleared(noToken)).toBe(false);
    expect(await noToken.text()).toContain('The form had expired.');
    expect((await logout({ csrf: form.csrf }, { origin: 'null' })).status).toBe(403);
    expect((await logout({ csrf: form.csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    const out = await logout({ csrf: form.csrf }, { origin: peers.notifier.url });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/auth/signed-out');
    expect(cleared(out)).toBe(true);
    const signedOut = await page('/auth/signed-out', { headers: { 'accept-language': 'ru' } });
    expect(signedOut.status).toBe(200);
    expect(await signedOut.text()).toContain('Вы вышли.');
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
    const forged = `${await issueToken({ secret: CHANNELS_SECRET }, 'dave')}${value.slice(value.lastIndexOf('.'))}`;
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
      notify_inbound: 'off',
      locale: 'en',
      time_zone: 'Asia/Yekaterinburg',
      // Email follows "which results"; SMS has a choice of its own and quiet hours; Jabber's form fields are left out.
      email_results: '',
      sms_results: 'none',
      sms_quiet_start: '22:00',
      sms_quiet_end: '07:00',
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
    // The form's "which results" is the choice of the channels without one of their own.
    expect((await api('GET', '/v1/settings', 'tom')).body).toMatchObject({
      email: { enabled: true, address: 'tom@example.test', results: 'failures' },
      sms: { enabled: true, number: '+79161234567', results: 'none', quietHours: { start: '22:00', end: '07:00' } },
      xmpp: { enabled: true, jid: 'tom@localhost', results: 'failures', quietHours: null },
      locale: 'en',
      timeZone: 'Asia/Yekaterinburg',
      notifyOn: 'failures',
      notifyInbound: 'off',
      summary: { mode: 'auto', threshold: 5, channels: ['email', 'sms', 'xmpp'] },
    });
    const after = await page('/settings?saved=1', { headers: { cookie: form.cookies.join('; ') } });
    const html = await after.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('role="status">Your settings have been saved.');
    expect(html).toContain('value="+79161234567"');
    expect(html).toMatch(/<option value="Asia\/Yekaterinburg" selected>/);
    expect(html).toContain('<input type="radio" id="inbound-off" name="notify_inbound" value="off" checked>');
    expect(html).toMatch(/id="notify-failures" name="notify_on" value="failures" checked/);
    expect(html).toMatch(/<select id="sms-results" name="sms_results">.*<option value="none" selected>None<\/option>/s);
    expect(html).toMatch(/<select id="email-results" name="email_results">\s*<option value="" selected>/);
    expect(html).toContain('id="sms-quiet-start" name="sms_quiet_start" value="22:00"');
    expect(html).toContain('id="xmpp-quiet-start" name="xmpp_quiet_start" value=""');
    // Quiet hours with one end only are refused, naming the field, in the page's language.
    const half = await post(form.cookies, { ...fields, sms_quiet_end: '' });
    expect(half.status).toBe(400);
    expect(await half.text()).toContain('Enter SMS quiet hours as two different times');
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
