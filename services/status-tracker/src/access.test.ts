import { createServer, type Server } from 'node:http';
import { issueToken, SESSION_COOKIE, signedCookieValue } from '@faxnotify/kit';
import type { ErrorView, FaxListView } from './api';
import type { ProviderAccountsView } from './ingest/routes';
import { openApiDocument } from './openapi';
import { TEST_INGEST_ADMIN, TEST_SECRET, startTestApp, type TestApp } from './testing/app';
import { result, submitted } from './testing/events';

/**
 * Access control over every authenticated route the server registers: a missing, expired or
 * wrongly signed token is refused; another user's data answers as if it did not exist. Also: the
 * key-set option, the cookie's reach, and the OpenAPI document naming every route.
 */
let service: TestApp;

beforeAll(async () => {
  // The webhooks set here name 127.0.0.1, allowed as an operator would allow an internal receiver.
  service = await startTestApp('access', { allowedPrivateRanges: ['127.0.0.0/8'] });
  const { tracker } = service;
  await tracker.handle(submitted('fax-a1', 'alice', ['r1', 'r2']));
  await tracker.handle(result('fax-a1', 'r1', 1, 1, 'success', 3));
  await tracker.handle(submitted('fax-b1', 'bob', ['r1']));
});

afterAll(async () => {
  await service?.close();
});

/** A request and its answer: JSON read as the answer the test expects, or the text of a page. */
const call = async <Answer = ErrorView>(method: string, path: string, init: { token?: string; cookie?: string; body?: unknown } = {}) => {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.cookie) headers.cookie = init.cookie;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    redirect: 'manual',
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, body: body as Answer, headers: response.headers };
};
const tokenFor = (user: string, ttl = 3600) => issueToken({ secret: TEST_SECRET }, user, ttl);
/** The signed session cookie the sign-in form sets for a token. */
const sessionCookieOf = (token: string) => `${SESSION_COOKIE}=${encodeURIComponent(signedCookieValue(TEST_SECRET, token))}`;

/** The authenticated API routes, with their parameters filled in as alice's. */
const protectedRoutes = () =>
  service.routes
    .filter((r) => r.url.startsWith('/v1/') && r.method !== 'HEAD')
    .map((r) => ({
      method: r.method,
      path: r.url
        .replace(':faxId', 'fax-a1')
        .replace(':provider', 'replixfax')
        .replace(':account', 'alice-rpx')
        .replace(':officeId', 'office-x')
        .replace(':userId', 'bob')
        .replace(':id', 'rx-a1'),
    }));

describe('every API route', () => {
  it('exists as expected', () => {
    expect(
      protectedRoutes()
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual(
      [
        'GET /v1/faxes',
        'GET /v1/faxes.csv',
        'GET /v1/faxes/fax-a1',
        'GET /v1/faxes/fax-a1/events',
        'GET /v1/faxes/fax-a1/report.pdf',
        'POST /v1/faxes/fax-a1/resend',
        'GET /v1/webhooks',
        'PUT /v1/webhooks',
        'DELETE /v1/webhooks',
        'GET /v1/webhooks/deliveries',
        'GET /v1/ingest/accounts',
        'PUT /v1/ingest/accounts/replixfax/alice-rpx',
        'DELETE /v1/ingest/accounts/replixfax/alice-rpx',
        'POST /v1/ingest/accounts/replixfax/alice-rpx/poll',
        'GET /v1/offices',
        'POST /v1/offices',
        'GET /v1/offices/office-x',
        'PATCH /v1/offices/office-x',
        'DELETE /v1/offices/office-x',
        'PUT /v1/offices/office-x/members/bob',
        'DELETE /v1/offices/office-x/members/bob',
        'POST /v1/links/revoke',
        'GET /v1/received',
        'GET /v1/received.csv',
        'GET /v1/received/rx-a1',
        'GET /v1/received/rx-a1/pdf',
        'GET /v1/received/rx-a1/tiff',
      ].sort(),
    );
  });

  it.each([
    ['no token', async () => undefined],
    ['an expired token', () => tokenFor('alice', -60)],
    ['a token signed with another secret', () => issueToken({ secret: 'someone-elses-secret-0123456789' }, 'alice')],
    ['a token from another issuer', () => issueToken({ secret: TEST_SECRET, issuer: 'elsewhere' }, 'alice')],
    ['a token with its signature cut off', async () => (await tokenFor('alice')).split('.').slice(0, 2).join('.') + '.'],
    [
      'an unsigned token (alg none)',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'alice', iss: 'faxnotify', exp: 9999999999 })).toString('base64url')}.`,
    ],
  ])('refuses %s', async (_label, token) => {
    const presented = await token();
    for (const route of protectedRoutes()) {
      const response = await call(route.method, route.path, {
        token: presented,
        body: route.method === 'PUT' ? { url: 'http://127.0.0.1:9/x', secret: 'a-secret-of-enough-length' } : undefined,
      });
      expect([route, response.status]).toEqual([route, 401]);
      expect(response.body.error).toBe('unauthorized');
    }
  });

  it('answers a valid token', async () => {
    const alice = await tokenFor('alice');
    expect((await call('GET', '/v1/faxes', { token: alice })).status).toBe(200);
    expect((await call('GET', '/v1/webhooks', { token: alice })).status).toBe(404); // none set yet: reached the handler
  });
});

describe("another user's data", () => {
  it('answers 404 for their fax, its stream and its page, exactly like a fax that does not exist', async () => {
    const bob = await tokenFor('bob');
    const theirs = await call('GET', '/v1/faxes/fax-a1', { token: bob });
    const missing = await call('GET', '/v1/faxes/fax-none', { token: bob });
    expect(theirs).toMatchObject({ status: 404 });
    expect(theirs.body).toEqual(missing.body);
    expect((await call('GET', '/v1/faxes/fax-a1/events', { token: bob })).status).toBe(404);
    const page = await call<string>('GET', '/faxes/fax-a1', { cookie: sessionCookieOf(bob) });
    const nothing = await call<string>('GET', '/faxes/fax-none', { cookie: sessionCookieOf(bob) });
    expect(page.status).toBe(404);
    // The same page but for the fax id and the sign-out form's CSRF token (fresh salt and time on every page).
    const csrfless = (html: string) => html.replace(/name="csrf" value="[\w-]+"/g, 'name="csrf" value="TOKEN"');
    expect(csrfless(page.body.replaceAll('fax-a1', 'ID'))).toBe(csrfless(nothing.body.replaceAll('fax-none', 'ID')));
    const list = await call<FaxListView>('GET', '/v1/faxes', { token: bob });
    expect(list.body.faxes.map((f: { id: string }) => f.id)).toEqual(['fax-b1']);
  });

  it('keeps webhooks, their log and provider accounts to their owner', async () => {
    const alice = await tokenFor('alice');
    const bob = await tokenFor('bob');
    expect((await call('PUT', '/v1/webhooks', { token: alice, body: { url: 'http://127.0.0.1:9/hook' } })).status).toBe(200);
    expect((await call('GET', '/v1/webhooks', { token: bob })).status).toBe(404);
    expect((await call('GET', '/v1/webhooks/deliveries?faxId=fax-a1', { token: bob })).body).toEqual({ deliveries: [] });
    // Provider accounts are set up by the admin user only; their owner reads them.
    const admin = await tokenFor(TEST_INGEST_ADMIN);
    expect((await call('PUT', '/v1/ingest/accounts/replixfax/alice-rpx', { token: alice, body: { secret: 'alice-shared-secret-0123' } })).status).toBe(403);
    expect(
      (await call('PUT', '/v1/ingest/accounts/replixfax/alice-rpx', { token: admin, body: { secret: 'alice-shared-secret-0123', ownerId: 'alice' } })).status,
    ).toBe(200);
    expect((await call('PUT', '/v1/ingest/accounts/replixfax/alice-rpx', { token: bob, body: { secret: 'bob-takes-it-over-0123456' } })).status).toBe(403);
    expect((await call('DELETE', '/v1/ingest/accounts/replixfax/alice-rpx', { token: bob })).status).toBe(403);
    expect((await call('POST', '/v1/ingest/accounts/replixfax/alice-rpx/poll', { token: bob })).status).toBe(403);
    expect((await call('GET', '/v1/ingest/accounts', { token: bob })).body).toEqual({ accounts: [] });
    expect((await call<ProviderAccountsView>('GET', '/v1/ingest/accounts', { token: alice })).body.accounts).toHaveLength(1);
    expect((await call('DELETE', '/v1/webhooks', { token: alice })).status).toBe(204);
  });
});

describe('the session cookie', () => {
  it('reads with the cookie but never writes with it', async () => {
    const cookie = sessionCookieOf(await tokenFor('alice'));
    expect((await call('GET', '/v1/faxes/fax-a1', { cookie })).status).toBe(200);
    expect((await call('PUT', '/v1/webhooks', { cookie, body: { url: 'http://127.0.0.1:9/x' } })).status).toBe(401);
    expect((await call('DELETE', '/v1/webhooks', { cookie })).status).toBe(401);
  });
});

describe('a key set (JWKS)', () => {
  let jwks: Server;
  let keyed: TestApp;
  let sign: (user: string, kid: string, key: object) => Promise<string>;
  let ourKey: object;
  let strangerKey: object;

  beforeAll(async () => {
    const jose = await import('jose');
    const ours = await jose.generateKeyPair('ES256');
    const stranger = await jose.generateKeyPair('ES256');
    ourKey = ours.privateKey;
    strangerKey = stranger.privateKey;
    const publicJwk = { ...(await jose.exportJWK(ours.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const address = jwks.address() as { port: number };
    keyed = await startTestApp('access-jwks', { auth: { jwksUrl: `http://127.0.0.1:${address.port}/.well-known/jwks.json` } });
    await keyed.tracker.handle(submitted('fax-k1', 'carol', ['r1']));
    sign = (user, kid, key) =>
      new jose.SignJWT({ locale: 'it' })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setSubject(user)
        .setIssuer('faxnotify')
        .setAudience('faxnotify')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(key);
  });

  afterAll(async () => {
    await keyed?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  it("accepts tokens signed by the identity provider's keys, and still the shared secret", async () => {
    const fromProvider = await sign('carol', 'idp-1', ourKey);
    const response = await fetch(`${keyed.url}/v1/faxes/fax-k1`, { headers: { authorization: `Bearer ${fromProvider}` } });
    expect(response.status).toBe(200);
    const shared = await issueToken({ secret: TEST_SECRET }, 'carol');
    expect((await fetch(`${keyed.url}/v1/faxes/fax-k1`, { headers: { authorization: `Bearer ${shared}` } })).status).toBe(200);
  });

  it('refuses a token signed by a key not in the set', async () => {
    for (const kid of ['idp-1', 'idp-2']) {
      const forged = await sign('carol', kid, strangerKey);
      expect((await fetch(`${keyed.url}/v1/faxes/fax-k1`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    }
  });

  it("refuses the provider's token without an audience or without an expiry, with 401", async () => {
    const jose = await import('jose');
    const base = () => new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setSubject('carol').setIssuer('faxnotify').setIssuedAt();
    const withoutAudience = await base().setExpirationTime('10m').sign(ourKey);
    const withoutExpiry = await base().setAudience('faxnotify').sign(ourKey);
    for (const token of [withoutAudience, withoutExpiry]) {
      const response = await fetch(`${keyed.url}/v1/faxes/fax-k1`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
  });
});

describe('GET /openapi.json', () => {
  it('documents every API and ingest route the server has', async () => {
    const response = await fetch(`${service.url}/openapi.json`);
    expect(response.status).toBe(200);
    const served = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(served).toEqual(openApiDocument());
    expect(served.openapi).toBe('3.1.0');
    const documented = Object.entries(served.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    const registered = service.routes
      .filter((r) => (r.url.startsWith('/v1/') || r.url.startsWith('/ingest/')) && r.method !== 'HEAD')
      .flatMap((r) =>
        r.url === '/ingest/:provider/:account'
          ? [`${r.method} /ingest/faxplus/{account}`, `${r.method} /ingest/replixfax/{account}`]
          : [`${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`],
      );
    expect(documented.sort()).toEqual([...new Set(registered)].sort());
  });
});
