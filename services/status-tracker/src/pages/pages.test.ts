import { issueToken, SESSION_COOKIE, signedCookieValue } from '@faxnotify/kit';
import { freePort, startOidcProvider, type RunningOidcProvider } from '@faxnotify/peers';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { outcome, progress, result, submitted } from '../testing/events';
import { pickLocale } from './strings';

/**
 * The pages as a browser without JavaScript gets them: sign-in through the identity provider and the way back to the deep link,
 * the Sent folder and the fax page in each language, hostile text shown as text, and the live
 * stream the fax page's script listens to.
 */
let service: TestApp;

beforeAll(async () => {
  service = await startTestApp('pages', { live: { pollMs: 50, tailMs: 300 } });
  const { tracker } = service;
  await tracker.handle(
    submitted('fax-p1', 'paula', ['r1', 'r2', 'r3'], { subject: '<script>alert("x")</script> Q3', submittedAt: '2026-11-20T08:00:00Z', from: '+390612345678' }),
  );
  await tracker.handle(result('fax-p1', 'r1', 1, 5, 'success', 3, { remoteCsid: 'ACME \u202Eevil<img src=x onerror=alert(1)>' }));
  await tracker.handle(result('fax-p1', 'r2', 2, 1, 'failed_user_busy', 0, { attempts: 2 }));
  await tracker.handle(result('fax-p1', 'r3', 1, 4, 'partially_sent', 2));
  await tracker.handle(outcome('fax-p1', 'r1', 'paula', 'email', { outcome: 'sent', address: 'paula@example.test', smtp: { code: 250 } }));
  await tracker.handle(outcome('fax-p1', 'r2', 'paula', 'sms', { outcome: 'failed', reason: 'Twilio 21211: invalid To' }));
  await tracker.handle(
    outcome('fax-p1', 'r3', 'paula', 'sms', {
      outcome: 'failed',
      address: '+393331234567',
      sms: { segments: 2, encoding: 'UCS-2' },
      provider: { status: 'undelivered', errorCode: '30003' },
    }),
  );
  await tracker.handle(submitted('fax-p2', 'paula', ['r1'], { subject: '', submittedAt: '2026-11-21T08:00:00Z' }));
  await tracker.handle(progress('fax-p2', 'r1', 1, 2, 'sending', { page: { n: 1, of: 3 } }));
  for (let i = 0; i < 28; i += 1) {
    await tracker.handle(
      submitted(`fax-many-${String(i).padStart(2, '0')}`, 'quinn', ['r1'], {
        subject: `Batch ${i}`,
        submittedAt: new Date(Date.UTC(2026, 10, 1, 8, i)).toISOString(),
      }),
    );
  }
});

afterAll(async () => {
  await service?.close();
});

/** The session cookie the sign-in form sets (signed), for a user signed in without going through the form. */
const cookieFor = async (user: string, claims: Record<string, unknown> = {}) =>
  `${SESSION_COOKIE}=${encodeURIComponent(signedCookieValue(TEST_SECRET, await issueToken({ secret: TEST_SECRET }, user, 3600, claims)))}`;
const page = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${service.url}${path}`, { headers, redirect: 'manual' });
  return { status: response.status, html: await response.text(), headers: response.headers };
};
/** A page's form as a browser holds it: the CSRF token it carries and the cookies to send back with it. */
const formOf = async (path: string, cookie?: string) => {
  const response = await fetch(`${service.url}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  const html = await response.text();
  const set = response.headers.getSetCookie().map((c) => c.split(';')[0]);
  return { html, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '', cookie: [cookie, ...set].filter(Boolean).join('; ') };
};
const postForm = (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
  fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: service.url, ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });

describe('sign-in', () => {
  let provider: RunningOidcProvider;
  let withOidc: TestApp;

  beforeAll(async () => {
    const port = await freePort();
    provider = await startOidcProvider({
      users: [{ username: 'paula', password: 'paula-pw', locale: 'ru', zoneinfo: 'Asia/Tokyo' }],
      clients: [{ clientId: 'tracker', clientSecret: 'tracker-secret-0123456789', redirectUris: [`http://127.0.0.1:${port}/auth/callback`] }],
    });
    withOidc = await startTestApp('pages-oidc', {
      port,
      signIn: () => ({
        publicUrl: () => `http://127.0.0.1:${port}`,
        settings: {
          jwtSecret: TEST_SECRET,
          allowDevelopmentSecret: false,
          audience: 'faxnotify',
          sessionHours: 8,
          oidc: {
            issuer: provider.issuer,
            clientId: 'tracker',
            clientSecret: 'tracker-secret-0123456789',
            scopes: 'openid profile',
            userClaim: 'preferred_username',
          },
        },
      }),
    });
    await withOidc.tracker.handle(submitted('fax-o1', 'paula', ['r1'], { subject: 'Signed in through the provider' }));
  });

  afterAll(async () => {
    await withOidc?.close();
    await provider?.close();
  });

  it('sends a signed-out deep link through the identity provider and back to it, signed in with an HttpOnly, SameSite=Lax cookie', async () => {
    const deep = await fetch(`${withOidc.url}/faxes/fax-o1`, { redirect: 'manual' });
    expect(deep.status).toBe(303);
    expect(deep.headers.get('location')).toBe('/auth/login?next=%2Ffaxes%2Ffax-o1');
    const login = await fetch(`${withOidc.url}${deep.headers.get('location')!}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const flow = login.headers.getSetCookie().map((c) => c.split(';')[0]);
    const back = await provider.authorize(login.headers.get('location')!, { username: 'paula', password: 'paula-pw' });
    const callback = await fetch(back, { redirect: 'manual', headers: { cookie: flow.join('; ') } });
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/faxes/fax-o1');
    const session = callback.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    expect(session).toMatch(/Path=\//);
    // The provider's locale and zoneinfo reach the page: Russian, times in Tokyo.
    const landed = await fetch(`${withOidc.url}/faxes/fax-o1`, { headers: { cookie: session.split(';')[0] } });
    expect(landed.status).toBe(200);
    const html = await landed.text();
    expect(html).toContain('Signed in through the provider');
    expect(html).toContain('<html lang="ru">');
    expect(html).toContain('Asia/Tokyo');
    // The sign-out form goes on to the provider: the page's policy lets a form lead there.
    expect(landed.headers.get('content-security-policy')).toContain(`form-action 'self' ${provider.issuer}`);
  });

  it('says in the visitor’s language why a sign-in failed, with a way to try again', async () => {
    const answer = await fetch(`${withOidc.url}/auth/callback?state=${'x'.repeat(43)}&code=abc`, { headers: { 'accept-language': 'it' } });
    expect(answer.status).toBe(400);
    const html = await answer.text();
    expect(html).toContain('Questo accesso era scaduto o già usato. Acceda di nuovo.');
    expect(html).toContain('href="/auth/login?next&#x3D;%2Ffaxes"');
    expect(answer.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });

  it('without an identity provider, tells a signed-out visitor that sign-in is not set up and how to use the API', async () => {
    const deep = await page('/faxes/fax-p1');
    expect(deep.status).toBe(401);
    expect(deep.html).toContain('Sign-in on these pages is not set up');
    expect(deep.html).toContain(`curl -H 'Authorization: Bearer &lt;token&gt;' ${service.url}/v1/faxes`);
    expect(deep.html).not.toContain('name="token"');
    expect((await page('/auth/login?next=/faxes')).status).toBe(404);
    // A signed-in visitor (a session cookie made with issueToken, as a sign-in would) sees the fax.
    expect((await page('/faxes/fax-p1', { cookie: await cookieFor('paula') })).status).toBe(200);
  });

  it('takes a changed session cookie for none', async () => {
    const good = await cookieFor('paula');
    expect((await page('/faxes/fax-p1', { cookie: good })).status).toBe(200);
    const mallory = await issueToken({ secret: TEST_SECRET }, 'mallory');
    const signature = decodeURIComponent(good).slice(decodeURIComponent(good).lastIndexOf('.'));
    const unsigned = `${SESSION_COOKIE}=${await issueToken({ secret: TEST_SECRET }, 'paula')}`;
    for (const cookie of [`${SESSION_COOKIE}=${encodeURIComponent(`${mallory}${signature}`)}`, unsigned, `${good.slice(0, -3)}abc`]) {
      const response = await page('/faxes/fax-p1', { cookie });
      expect(response.status).toBe(401);
      expect(response.html).toContain('Sign-in on these pages is not set up');
    }
  });

  it("signs out, from a page's sign-out button (with its CSRF token) only", async () => {
    const held = await formOf('/faxes', await cookieFor('paula'));
    expect(held.html).toMatch(/<form method="post" action="\/auth\/logout"><input type="hidden" name="csrf" value="[\w-]+">/);
    const refused = await postForm('/auth/logout', {}, { cookie: held.cookie });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('The form had expired. Please try again.');
    expect((await postForm('/auth/logout', { csrf: held.csrf }, { cookie: held.cookie, origin: 'null' })).status).toBe(403);
    const out = await postForm('/auth/logout', { csrf: held.csrf }, { cookie: held.cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/auth/signed-out');
    expect(out.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))).toMatch(/Max-Age=0/);
    const after = await page('/auth/signed-out?lang=ru');
    expect(after.status).toBe(200);
    expect(after.html).toContain('Вы вышли.');
    expect(after.headers.get('referrer-policy')).toBe('same-origin');
  });
});

describe('the fax page', () => {
  it('shows every recipient with status, reason, advice, pages, CSID, times and attempts, and the notices', async () => {
    const { status, html, headers } = await page('/faxes/fax-p1', { cookie: await cookieFor('paula') });
    expect(status).toBe(200);
    expect(headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('referrer-policy')).toBe('same-origin');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<svg class="icon icon-partial" role="img" aria-label="Partially delivered"/);
    expect(html).toContain('<th scope="row" class="number">+12025550101</th>');
    expect(html).toContain('aria-label="Line busy"');
    expect(html).toContain('The recipient&#x27;s number was busy on every attempt.');
    expect(html).toContain('<strong>What to do:</strong> Wait and try again later, or check the number with the recipient.');
    expect(html).toContain('2 of 3');
    expect(html).toContain('<td class="num">2</td>'); // attempts of r2
    expect(html).toContain('paula@example.test');
    expect(html).toContain('Twilio 21211: invalid To');
    // The SMS parts, the provider's status and the SMTP reply come from the outcome's fields.
    expect(html).toContain('<td>SMS parts: 2 (UCS-2) · Provider status: undelivered, error 30003</td>');
    expect(html).toContain('<td>SMTP reply: 250</td>');
    expect(html).toContain('Times are shown in Europe/Moscow.');
    // The fax's sender number; no cost, since no provider reported one.
    expect(html).toContain('<dt>From</dt><dd class="number">+390612345678</dd>');
    expect(html).not.toContain('<dt>Cost</dt>');
    // A final fax gets no live script.
    expect(html).not.toContain('fax-live.js');
  });

  it('shows text from strangers as text', async () => {
    const { html } = await page('/faxes/fax-p1', { cookie: await cookieFor('paula') });
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Q3');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('ACME evil&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;'); // the direction override became a space, folded
    expect(html).not.toContain('\u202E');
  });

  it("speaks the owner's language: ?lang, then the token's claim, then Accept-Language", async () => {
    const ru = await page('/faxes/fax-p2', { cookie: await cookieFor('paula'), 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.5' });
    expect(ru.html).toContain('<html lang="ru">');
    expect(ru.html).toContain('без темы');
    expect(ru.html).toContain('aria-label="Отправляется"');
    expect(ru.html).toContain('Передача');
    expect((await page('/faxes/fax-p1?lang=ru', { cookie: await cookieFor('paula') })).html).toContain(
      '<td>Частей SMS: 2 (UCS-2) · Статус у провайдера: undelivered, ошибка 30003</td>',
    );
    const claim = await page('/faxes/fax-p2', { cookie: await cookieFor('paula', { locale: 'it', tz: 'America/New_York' }), 'accept-language': 'ru' });
    expect(claim.html).toContain('senza oggetto');
    expect(claim.html).toContain('America/New_York');
    const chosen = await page('/faxes/fax-p2?lang=en', { cookie: await cookieFor('paula', { locale: 'it' }) });
    expect(chosen.html).toContain('no subject');
    expect(chosen.headers.get('set-cookie')).toMatch(/^faxnotify_lang=en;/);
    expect(pickLocale({ acceptLanguage: 'de-DE, it;q=0.8, ru;q=0.9' })).toBe('ru');
    expect(pickLocale({ acceptLanguage: 'de' })).toBe('en');
  });

  it('loads the live script only while the fax is in progress, and works without it', async () => {
    const { html } = await page('/faxes/fax-p2', { cookie: await cookieFor('paula') });
    expect(html).toContain('<script src="/assets/fax-live.js" defer></script>');
    expect(html).toContain('data-live-events="/v1/faxes/fax-p2/events"');
    expect(html).toContain('<a href="/faxes/fax-p2">Refresh</a>');
    expect(html).toContain('1 of 3');
    const script = await page('/assets/fax-live.js');
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.html).toContain('EventSource');
  });
});

describe('the Sent folder', () => {
  it('lists the owner\'s faxes newest first with their icons, recipients and subject or "no subject"', async () => {
    const { html } = await page('/faxes', { cookie: await cookieFor('paula') });
    const p2 = html.indexOf('href="/faxes/fax-p2"');
    const p1 = html.indexOf('href="/faxes/fax-p1"');
    expect(p2).toBeGreaterThan(0);
    expect(p1).toBeGreaterThan(p2);
    expect(html).toMatch(/aria-label="In progress"[\s\S]*class="no-subject">no subject<\/a>/);
    expect(html).toContain('+12025550101, +12025550102, +12025550103');
    expect(html).toContain('3 of 3 finished');
    expect(html).not.toContain('Batch');
  });

  it('pages, and filters in-progress and finished faxes', async () => {
    const cookie = await cookieFor('quinn');
    const first = await page('/faxes', { cookie });
    expect(first.html.match(/href="\/faxes\/fax-many-/g)).toHaveLength(25);
    expect(first.html).toContain('fax-many-27');
    const older = /href="(\/faxes\?cursor[^"]+)" rel="next"/.exec(first.html)![1];
    const second = await page(older.replace(/&amp;/g, '&').replace(/&#x3D;/g, '='), { cookie });
    expect(second.html.match(/href="\/faxes\/fax-many-/g)).toHaveLength(3);
    expect(second.html).toContain('fax-many-00');
    expect(second.html).not.toContain('rel="next"');
    const outbox = await page('/faxes?category=outbox', { cookie: await cookieFor('paula') });
    expect(outbox.html).toContain('fax-p2');
    expect(outbox.html).not.toContain('href="/faxes/fax-p1"');
    const finished = await page('/faxes?category=sent', { cookie: await cookieFor('paula') });
    expect(finished.html).toContain('href="/faxes/fax-p1"');
    expect(finished.html).not.toContain('href="/faxes/fax-p2"');
  });
});

describe('the live stream', () => {
  it('sends an update when the fax changes and ends once it has been final for a while', async () => {
    await service.tracker.handle(submitted('fax-live', 'paula', ['r1']));
    const controller = new AbortController();
    const response = await fetch(`${service.url}/v1/faxes/fax-live/events`, { headers: { cookie: await cookieFor('paula') }, signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      return pattern.test(text);
    };
    expect(await until(/event: state\ndata: {"state":"in_progress"}/)).toBe(true);
    await service.tracker.handle(progress('fax-live', 'r1', 1, 1, 'dialing'));
    expect(await until(/event: update/)).toBe(true);
    await service.tracker.handle(result('fax-live', 'r1', 1, 2, 'success', 3));
    expect(await until(/event: update\ndata: {"state":"delivered"}/)).toBe(true);
    expect(await until(/event: end/)).toBe(true);
    controller.abort();
  });
});
