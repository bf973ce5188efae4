import Fastify, { type FastifyInstance } from 'fastify';
import { SESSION_COOKIE, issueToken, sessionViewer, verifyTokenClaims } from './auth';
import { CSRF_COOKIE, clearSessionCookie, csrfCheck, csrfToken, isCsrfRefusal, registerWebSecurity, setSessionCookie, signedCookieValue } from './web';

/**
 * The pages' plugins as both services set them up: the signed session cookie, CSRF tokens on form
 * posts, the security headers and the refusal of cross-site state-changing requests.
 */
const auth = { secret: 'web-security-test-secret-0123456789' };
let app: FastifyInstance;

const cookiesOf = (setCookies: string | string[] | undefined) => [setCookies ?? []].flat().map((c) => c.split(';')[0]);
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

beforeAll(async () => {
  // trustProxy, so a test can say the request came over HTTPS through a TLS-terminating proxy.
  app = Fastify({ trustProxy: true });
  await registerWebSecurity(app, auth);
  app.post<{ Body: { token: string } }>('/sign-in', async (request, reply) => {
    const verified = await verifyTokenClaims(auth, request.body.token);
    return setSessionCookie(reply, request.body.token, verified?.expiresAt).send({ ok: true });
  });
  app.post('/sign-out', async (_request, reply) => clearSessionCookie(reply).send({ ok: true }));
  app.get('/who', async (request) => ({ user: (await sessionViewer(auth, request))?.userId ?? null }));
  app.get('/form', async (request, reply) => ({ csrf: csrfToken(reply, (await sessionViewer(auth, request))?.userId) }));
  app.post('/form', { preHandler: csrfCheck(app, auth) }, async (request) => ({ saved: request.body }));
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

describe('the session cookie', () => {
  it('holds the token for as long as it lasts, signed, HttpOnly and SameSite=Lax, Secure on HTTPS', async () => {
    const token = await issueToken(auth, 'paula', 600);
    const response = await app.inject({ method: 'POST', url: '/sign-in', payload: { token } });
    const cookie = response.headers['set-cookie'] as string;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+; Max-Age=(59\\d|600); Path=/; HttpOnly; SameSite=Lax$`));
    const value = decodeURIComponent(cookie.slice(SESSION_COOKIE.length + 1, cookie.indexOf(';')));
    expect(value).toBe(signedCookieValue(auth.secret, token));
    expect((await app.inject({ url: '/who', cookies: { [SESSION_COOKIE]: value } })).json()).toEqual({ user: 'paula' });

    const overHttps = await app.inject({ method: 'POST', url: '/sign-in', payload: { token }, headers: { 'x-forwarded-proto': 'https' } });
    expect(overHttps.headers['set-cookie']).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
    const out = await app.inject({ method: 'POST', url: '/sign-out', headers: { 'x-forwarded-proto': 'https' } });
    expect(out.headers['set-cookie']).toMatch(
      new RegExp(`^${SESSION_COOKIE}=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$`),
    );
  });

  it('refuses a tampered, unsigned or foreign-signed cookie', async () => {
    const token = await issueToken(auth, 'paula', 600);
    const mallory = await issueToken(auth, 'mallory', 600);
    const signed = signedCookieValue(auth.secret, token);
    const who = async (value: string) => (await app.inject({ url: '/who', cookies: { [SESSION_COOKIE]: value } })).json<{ user: string | null }>().user;
    expect(await who(signed)).toBe('paula');
    // Another valid token under paula's signature, the bare token, and a signature made with another secret.
    expect(await who(`${mallory}${signed.slice(token.length)}`)).toBeNull();
    expect(await who(token)).toBeNull();
    expect(await who(signedCookieValue('some-other-secret-0123456789', token))).toBeNull();
    expect(await who(`${signed.slice(0, -2)}xx`)).toBeNull();
  });
});

describe('CSRF tokens', () => {
  const open = async (session?: string) => {
    const response = await app.inject({ url: '/form', cookies: session ? { [SESSION_COOKIE]: session } : {} });
    return { csrf: response.json<{ csrf: string }>().csrf, cookies: cookiesOf(response.headers['set-cookie']) };
  };
  const post = (cookies: string[], fields: Record<string, string>, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/form',
      payload: form(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; '), ...headers },
    });

  it('refuses a post without a token, with a wrong one, or without the secret cookie; takes a good one', async () => {
    const paula = signedCookieValue(auth.secret, await issueToken(auth, 'paula', 600));
    const session = `${SESSION_COOKIE}=${encodeURIComponent(paula)}`;
    const page = await open(paula);
    expect(page.cookies).toEqual([expect.stringMatching(new RegExp(`^${CSRF_COOKIE}=.+`))]);
    const cookies = [session, ...page.cookies];

    const missing = await post(cookies, { name: 'x' });
    expect(missing.statusCode).toBe(403);
    expect(isCsrfRefusal({ code: missing.json<{ code: string }>().code })).toBe(true);
    expect((await post(cookies, { name: 'x', csrf: `${page.csrf}x` })).statusCode).toBe(403);
    expect((await post([session], { name: 'x', csrf: page.csrf })).statusCode).toBe(403);
    // Another browser's token does not fit this browser's secret.
    expect((await post(cookies, { name: 'x', csrf: (await open(paula)).csrf })).statusCode).toBe(403);
    const good = await post(cookies, { name: 'x', csrf: page.csrf });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toEqual({ saved: { name: 'x', csrf: page.csrf } });
  });

  it("binds a token to the signed-in user: the sign-in form's token is no good once signed in, nor another user's", async () => {
    const anonymous = await open();
    const paula = signedCookieValue(auth.secret, await issueToken(auth, 'paula', 600));
    const dave = signedCookieValue(auth.secret, await issueToken(auth, 'dave', 600));
    const withSession = (value: string) => [`${SESSION_COOKIE}=${encodeURIComponent(value)}`, ...anonymous.cookies];
    expect((await post(anonymous.cookies, { csrf: anonymous.csrf })).statusCode).toBe(200);
    expect((await post(withSession(paula), { csrf: anonymous.csrf })).statusCode).toBe(403);
    const paulas = (
      await app.inject({ url: '/form', cookies: { [SESSION_COOKIE]: paula, [CSRF_COOKIE]: decodeURIComponent(anonymous.cookies[0].split('=')[1]) } })
    ).json<{ csrf: string }>().csrf;
    expect((await post(withSession(paula), { csrf: paulas })).statusCode).toBe(200);
    expect((await post(withSession(dave), { csrf: paulas })).statusCode).toBe(403);
  });

  it('does not ask a bearer request for a token', async () => {
    const token = await issueToken(auth, 'ivan', 600);
    expect((await post([], { name: 'y' }, { authorization: `Bearer ${token}` })).statusCode).toBe(200);
  });

  it('parses a form body, a repeated field keeping its last value', async () => {
    const page = await open();
    const response = await app.inject({
      method: 'POST',
      url: '/form',
      payload: `a=1&a=2&csrf=${encodeURIComponent(page.csrf)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookies.join('; ') },
    });
    expect(response.json<{ saved: Record<string, string> }>().saved.a).toBe('2');
  });
});

describe('requests from other sites', () => {
  it("refuses a state-changing request with Origin: null or another site's origin, and takes this site's", async () => {
    const token = await issueToken(auth, 'ivan', 600);
    const post = (origin?: string) =>
      app.inject({
        method: 'POST',
        url: '/form',
        payload: 'a=1',
        headers: {
          host: 'fax.example:8443',
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Bearer ${token}`,
          ...(origin ? { origin } : {}),
        },
      });
    expect((await post('null')).statusCode).toBe(403);
    expect((await post('https://evil.example')).statusCode).toBe(403);
    expect((await post('https://fax.example:9443')).statusCode).toBe(403);
    expect((await post('not a url')).statusCode).toBe(403);
    expect((await post('https://fax.example:8443')).statusCode).toBe(200);
    expect((await post()).statusCode).toBe(200);
    // Reads are not refused: a GET changes nothing.
    expect((await app.inject({ url: '/who', headers: { origin: 'null' } })).statusCode).toBe(200);
  });
});

describe('security headers', () => {
  it('sends a content security policy with no inline script or style, and the other headers', async () => {
    const response = await app.inject({ url: '/who' });
    expect(response.headers['content-security-policy']).toBe(
      "default-src 'none';style-src 'self';script-src 'self';connect-src 'self';img-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'",
    );
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('same-origin');
    expect(response.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
  });
});
