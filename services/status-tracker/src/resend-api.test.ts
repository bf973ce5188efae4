import { issueToken, SESSION_COOKIE, signedCookieValue } from '@faxnotify/kit';
import type { ResendView } from './resend-api';
import { TEST_SECRET, startTestApp, type TestApp } from './testing/app';
import { numberOf, result, submitted } from './testing/events';

/**
 * The entry points of "resend to the failed" on the tracker's HTTP server: the API's answers
 * (created, the same request again, refusals, bad bodies) and the fax page's form (its button, the
 * CSRF token it must carry, the page's links after it). The logic itself: resend.suite.ts.
 */
let service: TestApp;

beforeAll(async () => {
  service = await startTestApp('resend-api');
  const { tracker } = service;
  await tracker.handle(submitted('fax-R1', 'alice', ['r1', 'r2', 'r3']));
  await tracker.handle(result('fax-R1', 'r1', 1, 5, 'success', 3));
  await tracker.handle(result('fax-R1', 'r2', 1, 1, 'failed_user_busy', 0));
  await tracker.handle(result('fax-R1', 'r3', 1, 4, 'partially_sent', 2));
  await tracker.handle(submitted('fax-R2', 'alice', ['r1', 'r2']));
  await tracker.handle(result('fax-R2', 'r1', 1, 1, 'failed_user_busy', 0));
  await tracker.handle(submitted('fax-R3', 'alice', ['r1', 'r2']));
  await tracker.handle(result('fax-R3', 'r1', 1, 1, 'failed_user_busy', 0));
  await tracker.handle(result('fax-R3', 'r2', 1, 1, 'failed_user_busy', 0));
});

afterAll(async () => {
  await service?.close();
});

const token = (user: string) => issueToken({ secret: TEST_SECRET }, user);
const resend = async (faxId: string, user: string, body?: unknown) => {
  const response = await fetch(`${service.url}/v1/faxes/${faxId}/resend`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token(user)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as ResendView & { error?: string; message?: string } };
};
const ordersOf = async (faxId: string) =>
  (await service.database.db.selectFrom('resends').select('new_fax_id').where('fax_id', '=', faxId).execute()).map((r) => r.new_fax_id);

describe('POST /v1/faxes/:faxId/resend', () => {
  it('orders the resend (201), answers the same request again with the same fax (200), and shows the link on both faxes', async () => {
    const created = await resend('fax-R1', 'alice', { onlyMissingPages: true, requestId: 'api-1' });
    expect(created).toMatchObject({
      status: 201,
      body: {
        resendOf: 'fax-R1',
        requestId: 'api-1',
        duplicate: false,
        recipients: [{ number: numberOf('r2') }, { number: numberOf('r3'), pages: { first: 3, last: 3 } }],
      },
    });
    const again = await resend('fax-R1', 'alice', { onlyMissingPages: true, requestId: 'api-1' });
    expect(again).toEqual({ status: 200, body: { ...created.body, duplicate: true } });
    expect(await ordersOf('fax-R1')).toEqual([created.body.faxId]);
    const fax = await fetch(`${service.url}/v1/faxes/fax-R1`, { headers: { authorization: `Bearer ${await token('alice')}` } });
    expect(await fax.json()).toMatchObject({ resendOf: null, resentAs: [created.body.faxId] });
    // Without a body: everything to the failed, a request id made up.
    expect(await resend('fax-R3', 'alice')).toMatchObject({ status: 201, body: { recipients: [{ number: numberOf('r1') }, { number: numberOf('r2') }] } });
  });

  it('refuses clearly: a fax in progress, another user’s fax, a bad body', async () => {
    expect(await resend('fax-R2', 'alice')).toMatchObject({ status: 409, body: { error: 'not_final' } });
    expect(await resend('fax-R1', 'bob')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await resend('fax-R1', 'alice', { onlyMissingPages: 'yes' })).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    expect(await resend('fax-R1', 'alice', { requestId: 'spaces are not allowed' })).toMatchObject({ status: 400 });
    expect(await resend('fax-R1', 'alice', { requestedVia: 'xmpp' })).toMatchObject({ status: 400 });
    expect(await ordersOf('fax-R2')).toEqual([]);
  });
});

describe('the fax page’s "Resend to failed"', () => {
  const session = async (user: string) => `${SESSION_COOKIE}=${encodeURIComponent(signedCookieValue(TEST_SECRET, await token(user)))}`;

  it('is a form with its CSRF token; a forged post changes nothing; the posted form resends once', async () => {
    const before = await ordersOf('fax-R1');
    const cookieOfSession = await session('alice');
    const page = await fetch(`${service.url}/faxes/fax-R1?lang=it`, { headers: { cookie: cookieOfSession } });
    const html = await page.text();
    expect(html).toContain('action="/faxes/fax-R1/resend"');
    expect(html).toContain('Reinvia ai falliti');
    expect(html).toContain('Reinviato come');
    const csrf = /class="resend"[\s\S]*?name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const requestId = /name="requestId" value="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(requestId).toMatch(/^page-/);
    const cookie = [cookieOfSession, ...page.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
    const post = (body: string) =>
      fetch(`${service.url}/faxes/fax-R1/resend`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      });

    expect((await post(`csrf=forged&requestId=${requestId}`)).status).toBe(403);
    expect(await ordersOf('fax-R1')).toEqual(before);

    const form = `csrf=${encodeURIComponent(csrf)}&requestId=${requestId}&onlyMissingPages=1`;
    const done = await post(form);
    expect(done.status).toBe(303);
    const location = done.headers.get('location') ?? '';
    expect(location).toMatch(/^\/faxes\/fax-R1\?resent=fax-/);
    // The same form sent twice (a double click): the same fax.
    expect((await post(form)).headers.get('location')).toBe(location);
    const made = (await ordersOf('fax-R1')).filter((id) => !before.includes(id));
    expect(made).toHaveLength(1);
    const after = await (await fetch(`${service.url}${location}&lang=en`, { headers: { cookie: cookieOfSession } })).text();
    expect(after).toContain(`Resent as a new fax: ${made[0]}`);
    expect(after).toContain(`href="/faxes/${made[0]}"`);
  });

  it('is not offered on a fax still in progress; another user’s fax is not found', async () => {
    const running = await (await fetch(`${service.url}/faxes/fax-R2`, { headers: { cookie: await session('alice') } })).text();
    expect(running).not.toContain('/resend"');
    const stranger = await fetch(`${service.url}/faxes/fax-R1`, { headers: { cookie: await session('bob') } });
    expect(stranger.status).toBe(404);
  });
});
