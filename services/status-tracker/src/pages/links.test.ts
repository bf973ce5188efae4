import { Writable } from 'node:stream';
import { issueToken, SESSION_COOKIE, signedCookieValue } from '@faxnotify/kit';
import pino from 'pino';
import { LINK_COOKIE } from '../links';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { result, submitted } from '../testing/events';

/**
 * Notice links over HTTP, as a browser without JavaScript follows them: the link the tracker puts
 * in the delivery event opens that one fax and nothing else, a changed, expired or signed-out one
 * says so, and no token ever reaches the log.
 */
const DAY = 86_400_000;
let service: TestApp;
let clock: Date;
const logLines: string[] = [];
/** Every token the test saw, to look for in the log. */
const seen = new Set<string>();

beforeAll(async () => {
  clock = new Date('2026-12-01T10:00:00.000Z');
  // Everything the app logs, at every level, kept as written.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  service = await startTestApp('links', {
    links: { ttlMs: 30 * DAY, now: () => clock },
    logger: pino({ level: 'trace' }, sink),
    live: { pollMs: 50, tailMs: 60_000 },
  });
  const { tracker } = service;
  await tracker.handle(submitted('fax-L1', 'lena', ['r1'], { subject: 'Signed contract', submittedAt: '2026-12-01T09:00:00Z' }));
  await tracker.handle(result('fax-L1', 'r1', 1, 3, 'success', 3, { remoteCsid: 'LAW FIRM' }));
  await tracker.handle(submitted('fax-L2', 'lena', ['r1'], { subject: 'Private memo', submittedAt: '2026-12-01T09:30:00Z' }));
  await tracker.handle(result('fax-L2', 'r1', 1, 3, 'success', 1));
});

afterAll(async () => {
  await service?.close();
  // Nothing the app logged, at any level, holds a token the test saw.
  const log = logLines.join('');
  expect(log).toContain('notice link opened');
  expect(log).toContain('notice link refused');
  for (const token of seen) expect(log).not.toContain(token);
});

const linkOf = async (faxId: string): Promise<string> => {
  const rows = await service.database.db.selectFrom('outbox').select(['event_json', 'routing_key']).where('fax_id', '=', faxId).execute();
  const links = rows.map((r) => (JSON.parse(r.event_json) as { data: { links: { fax: string } } }).data.links.fax);
  // The recipient's notice and the fax's final event were written in one pass: one token for both.
  expect(new Set(links).size).toBe(1);
  const link = links[0];
  expect(link).toMatch(new RegExp(`^${service.url}/l/[A-Za-z0-9_-]{24}$`));
  seen.add(link.slice(-24));
  return link;
};
const get = async (url: string, cookie?: string) => {
  const response = await fetch(url.startsWith('http') ? url : `${service.url}${url}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  return { status: response.status, html: await response.text(), headers: response.headers };
};
/** Whether a page asked for a sign-in: a redirect to sign-in, or (sign-in not set up here) the page saying how to sign in. */
const asksSignIn = (answer: { status: number; headers: Headers }) =>
  answer.status === 401 || (answer.status === 303 && /\/(auth\/)?login\?next=/.test(answer.headers.get('location') ?? ''));
const sessionCookie = async (user: string) =>
  `${SESSION_COOKIE}=${encodeURIComponent(signedCookieValue(TEST_SECRET, await issueToken({ secret: TEST_SECRET }, user)))}`;
/** Opens a link signed out; returns the grant cookie it set. */
const open = async (link: string) => {
  const opened = await get(link);
  expect(opened.status).toBe(303);
  const set = opened.headers.getSetCookie().find((c) => c.startsWith(`${LINK_COOKIE}=`)) ?? '';
  expect(set).toMatch(/HttpOnly/i);
  expect(set).toMatch(/SameSite=Lax/i);
  expect(set).toMatch(/Path=\//);
  expect(opened.headers.get('cache-control')).toBe('no-store');
  return { location: opened.headers.get('location'), cookie: set.split(';')[0] };
};

it('opens the one fax of the link without a sign-in, and nothing else', async () => {
  const link = await linkOf('fax-L1');
  const { location, cookie } = await open(link);
  expect(location).toBe('/faxes/fax-L1');

  const fax = await get('/faxes/fax-L1', cookie);
  expect(fax.status).toBe(200);
  expect(fax.html).toContain('Signed contract');
  expect(fax.html).toContain('LAW FIRM');
  expect(fax.html).toContain('You opened this fax from a link in a notice');
  // Not signed in: no Sent folder, no sign-out in the page.
  expect(fax.html).not.toMatch(/action="[^"]*logout"/);
  expect(fax.html).not.toContain('Private memo');

  // The same owner's other fax, the Sent folder and the JSON API ask for a sign-in.
  expect(asksSignIn(await get('/faxes/fax-L2', cookie))).toBe(true);
  expect(asksSignIn(await get('/faxes', cookie))).toBe(true);
  expect((await get('/v1/faxes/fax-L1', cookie)).status).toBe(401);
  expect((await get('/v1/faxes', cookie)).status).toBe(401);
  expect((await get('/v1/faxes/fax-L2/events', cookie)).status).toBe(401);

  // The fax page's live stream opens for the granted fax.
  const controller = new AbortController();
  const stream = await fetch(`${service.url}/v1/faxes/fax-L1/events`, { headers: { cookie }, signal: controller.signal });
  expect(stream.status).toBe(200);
  expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
  controller.abort();
});

it('keeps the grants of several links in one browser', async () => {
  const [one, two] = [await linkOf('fax-L1'), await linkOf('fax-L2')];
  const first = await open(one);
  const both = await fetch(two, { headers: { cookie: first.cookie }, redirect: 'manual' });
  const cookie = both.headers.getSetCookie()[0].split(';')[0];
  expect((await get('/faxes/fax-L1', cookie)).status).toBe(200);
  expect((await get('/faxes/fax-L2', cookie)).status).toBe(200);
  // A grant cookie changed by hand is no grant at all.
  expect(
    asksSignIn(
      await get(
        '/faxes/fax-L1',
        cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      ),
    ),
  ).toBe(true);
});

it('shows the owner, signed in, the fax without giving a grant', async () => {
  const link = await linkOf('fax-L1');
  const session = await sessionCookie('lena');
  const opened = await get(link, session);
  expect(opened.status).toBe(303);
  expect(opened.headers.get('location')).toBe('/faxes/fax-L1');
  expect(opened.headers.getSetCookie().some((c) => c.startsWith(`${LINK_COOKIE}=`))).toBe(false);
  const fax = await get('/faxes/fax-L1', session);
  expect(fax.status).toBe(200);
  expect(fax.html).not.toContain('You opened this fax from a link');
});

it('says a changed or unknown link no longer works, with nothing of the fax', async () => {
  const link = await linkOf('fax-L1');
  const last = link.at(-1) === 'A' ? 'B' : 'A';
  for (const bad of [`${link.slice(0, -1)}${last}`, `${service.url}/l/AAAAAAAAAAAAAAAAAAAAAAAA`, `${service.url}/l/short`]) {
    const page = await get(bad);
    expect(page.status).toBe(404);
    expect(page.html).toContain('<h1>This link no longer works</h1>');
    expect(page.html).toMatch(/href="[^"]*login\?next&#x3D;%2Ffaxes"/);
    expect(page.html).not.toContain('Signed contract');
    expect(page.html).not.toContain('fax-L1');
    expect(page.headers.getSetCookie().some((c) => c.startsWith(`${LINK_COOKIE}=`))).toBe(false);
  }
  const ru = await get(`${link.slice(0, -1)}${last}?lang=ru`);
  expect(ru.html).toContain('Эта ссылка больше не действует');
});

it('stops a link once it expires', async () => {
  const link = await linkOf('fax-L1');
  const { cookie } = await open(link);
  clock = new Date(clock.getTime() + 30 * DAY);
  try {
    const page = await get(link);
    expect(page.status).toBe(410);
    expect(page.html).toContain('This link no longer works');
    // The grant it gave ends with it.
    expect(asksSignIn(await get('/faxes/fax-L1', cookie))).toBe(true);
  } finally {
    clock = new Date('2026-12-01T10:00:00.000Z');
  }
});

it("signs out all the owner's links from the Sent folder's button (a signed-in form with its CSRF token)", async () => {
  const link = await linkOf('fax-L1');
  const { cookie: grant } = await open(link);
  const session = await sessionCookie('lena');
  const folder = await fetch(`${service.url}/faxes`, { headers: { cookie: session }, redirect: 'manual' });
  const html = await folder.text();
  expect(html).toContain('action="/links/revoke"');
  expect(html).toContain('Sign out all links');
  const csrf = /action="\/links\/revoke"[\s\S]*?name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const cookie = [session, ...folder.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
  const post = (body: string, withCookie = cookie) =>
    fetch(`${service.url}/links/revoke`, {
      method: 'POST',
      headers: { cookie: withCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body,
      redirect: 'manual',
    });

  // Without the form's CSRF token, or signed out, nothing changes.
  expect((await post('csrf=forged')).status).toBe(403);
  expect((await get(link)).status).toBe(303);

  const revoked = await post(`csrf=${encodeURIComponent(csrf)}`);
  expect(revoked.status).toBe(303);
  expect(revoked.headers.get('location')).toMatch(/^\/faxes\?linksRevoked=\d+$/);
  const after = await get(revoked.headers.get('location')!, cookie);
  expect(after.html).toMatch(/Every link sent so far is signed out \(\d+\)/);

  expect((await get(link)).status).toBe(410);
  expect(asksSignIn(await get('/faxes/fax-L1', grant))).toBe(true);
});

it('signs out all links through the API, with a bearer token only', async () => {
  await service.tracker.handle(submitted('fax-L3', 'lena', ['r1'], { subject: 'Later', submittedAt: '2026-12-01T11:00:00Z' }));
  await service.tracker.handle(result('fax-L3', 'r1', 1, 3, 'success', 1));
  const link = await linkOf('fax-L3');
  expect((await get(link)).status).toBe(303);
  const bearer = await issueToken({ secret: TEST_SECRET }, 'lena');
  // The session cookie alone cannot: a cookie-borne request changes nothing.
  const byCookie = await fetch(`${service.url}/v1/links/revoke`, { method: 'POST', headers: { cookie: await sessionCookie('lena') } });
  expect(byCookie.status).toBe(401);
  const response = await fetch(`${service.url}/v1/links/revoke`, { method: 'POST', headers: { authorization: `Bearer ${bearer}` } });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { revoked: number; revokedBefore: string };
  expect(body.revoked).toBeGreaterThanOrEqual(1);
  expect(body.revokedBefore).toBe('2026-12-01T10:00:00.000Z');
  expect((await get(link)).status).toBe(410);
});

it('refuses every link while link tokens are off, and still signs them out from the Sent folder', async () => {
  const off = await startTestApp('links-off');
  try {
    const token = await off.linkTokens.mint(off.database.db, 'omar', 'fax-O1');
    seen.add(token);
    expect((await fetch(`${off.url}/l/${token}`, { redirect: 'manual' })).status).toBe(410);
    const session = await sessionCookie('omar');
    const folder = await fetch(`${off.url}/faxes`, { headers: { cookie: session }, redirect: 'manual' });
    const csrf = /action="\/links\/revoke"[\s\S]*?name="csrf" value="([^"]+)"/.exec(await folder.text())?.[1] ?? '';
    const cookie = [session, ...folder.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
    const revoked = await fetch(`${off.url}/links/revoke`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${encodeURIComponent(csrf)}`,
      redirect: 'manual',
    });
    expect(revoked.headers.get('location')).toBe('/faxes?linksRevoked=1');
    // Were tokens turned on again, this one would stay signed out.
    await expect(off.linkTokens.check(token)).resolves.toEqual({ ok: false, reason: 'revoked' });
  } finally {
    await off.close();
  }
});
