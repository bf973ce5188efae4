import { freePort, startOidcProvider, type RunningOidcProvider } from '@faxnotify/peers';
import type { FastifyInstance } from 'fastify';
import { SESSION_COOKIE, sessionViewer, verifyTokenClaims, type TokenIssuerOptions } from './auth';
import type { AuthSettings } from './config';
import { createHttpServer, listen } from './http';
import { createLogger } from './logger';
import { ID_TOKEN_COOKIE, registerSignIn, type SignInView } from './sign-in';
import { csrfToken, registerWebSecurity, signedCookieValue } from './web';

/**
 * The OpenID Connect sign-in against a real provider (oidc-provider in this process): the code
 * flow with PKCE, state and nonce; what the session token says; every way a sign-in can fail.
 */
jest.setTimeout(30_000);

const SECRET = 'sign-in-test-secret-0123456789abcdef';
const CLIENT = { clientId: 'faxnotify-test', clientSecret: 'client-secret-0123456789' };
const auth: TokenIssuerOptions = { secret: SECRET, audience: 'faxnotify-pages' };
const logger = createLogger('sign-in-test', 'silent');

let provider: RunningOidcProvider;
let port: number;
const apps: FastifyInstance[] = [];

const settings = (oidc: Partial<AuthSettings['oidc']> = {}): AuthSettings => ({
  jwtSecret: SECRET,
  allowDevelopmentSecret: false,
  audience: 'faxnotify-pages',
  sessionHours: 8,
  oidc: { issuer: provider.issuer, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, scopes: 'openid profile email', userClaim: 'sub', ...oidc },
});

/** A service with the sign-in routes; its pages answer JSON saying what they would show. */
async function startApp(options: { settings: AuthSettings; trustProxy?: boolean; port?: number }): Promise<string> {
  const app = createHttpServer({ host: '127.0.0.1', port: 0, logger, ready: () => ({}), trustProxy: options.trustProxy ?? false });
  await registerWebSecurity(app, { secret: SECRET });
  let url = '';
  registerSignIn(app, {
    auth,
    settings: options.settings,
    publicUrl: () => url,
    landing: '/home',
    logger,
    render: (_request, reply, view: SignInView, status) => reply.code(status).send(view),
  });
  app.get('/form', async (request, reply) => ({ csrf: csrfToken(reply, (await sessionViewer(auth, request))?.userId) }));
  url = await listen(app, '127.0.0.1', options.port ?? 0);
  apps.push(app);
  return url;
}

/** The cookies a response sets: name → value and attributes as sent. */
function setCookies(response: Response): Map<string, { value: string; line: string }> {
  const cookies = new Map<string, { value: string; line: string }>();
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), { value: pair.slice(at + 1), line });
  }
  return cookies;
}

const cookieHeader = (cookies: Map<string, { value: string }>) => [...cookies].map(([name, { value }]) => `${name}=${value}`).join('; ');

/** Starts a sign-in: the redirect to the provider and the flow cookie. */
async function startSignIn(base: string, next = '/faxes/fax-1?lang=it') {
  const response = await fetch(`${base}/auth/login?next=${encodeURIComponent(next)}`, { redirect: 'manual' });
  expect(response.status).toBe(303);
  return { location: new URL(response.headers.get('location')!), cookies: setCookies(response) };
}

let base: string;

beforeAll(async () => {
  port = await freePort();
  provider = await startOidcProvider({
    users: [
      { username: 'paula', password: 'paula-pw', sub: 'user-paula', email: 'paula@example.test', locale: 'it-IT', zoneinfo: 'Europe/Rome' },
      { username: 'ivan', password: 'ivan-pw', sub: 'user-ivan' },
    ],
    clients: [
      {
        ...CLIENT,
        redirectUris: [`http://127.0.0.1:${port}/auth/callback`],
        postLogoutRedirectUris: [`http://127.0.0.1:${port}/auth/signed-out`],
      },
    ],
  });
  base = await startApp({ settings: settings(), port });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await provider?.close();
});

describe('GET /auth/login and /auth/callback', () => {
  it('signs in with the code flow (PKCE S256, state, nonce) and comes back to the page asked for', async () => {
    const { location, cookies } = await startSignIn(base);
    expect(location.origin).toBe(provider.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('redirect_uri')).toBe(`${base}/auth/callback`);
    const state = location.searchParams.get('state')!;
    expect(location.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const flow = cookies.get(`faxnotify_signin_${state}`)!;
    expect(flow.line).toMatch(/HttpOnly/i);
    expect(flow.line).toMatch(/SameSite=Lax/i);
    expect(flow.line).toMatch(/Path=\/auth\/callback/);

    const back = await provider.authorize(location.href, { username: 'paula', password: 'paula-pw' });
    expect(back.searchParams.get('state')).toBe(state);
    const callback = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/faxes/fax-1?lang=it');
    const set = setCookies(callback);
    expect(set.get(`faxnotify_signin_${state}`)?.value).toBe('');
    const session = set.get(SESSION_COOKIE)!;
    expect(session.line).toMatch(/HttpOnly/i);
    expect(session.line).toMatch(/SameSite=Lax/i);
    expect(session.line).not.toMatch(/Secure/i);

    // The session token is ours: the user from `sub`, our audience, eight hours, a session id, and the profile's language and zone.
    const token = decodeURIComponent(session.value).replace(/\.[^.]+$/, '');
    const verified = await verifyTokenClaims(auth, token);
    expect(verified).toMatchObject({ userId: 'user-paula', locale: 'it-IT', tz: 'Europe/Rome' });
    expect(verified!.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(verified!.expiresAt - Date.now() / 1000).toBeGreaterThan(8 * 3600 - 60);
    expect(await verifyTokenClaims({ secret: SECRET }, token)).toBeNull();
    expect(provider.signIns).toContain('paula');

    // Signed in, a sign-in link goes straight on.
    const again = await fetch(`${base}/auth/login?next=%2Fsettings`, { redirect: 'manual', headers: { cookie: `${SESSION_COOKIE}=${session.value}` } });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/settings');
  });

  it('refuses an answer whose state was changed, or whose cookie was, and an answer used twice', async () => {
    const { location, cookies } = await startSignIn(base);
    const back = await provider.authorize(location.href, { username: 'ivan', password: 'ivan-pw' });
    const changed = new URL(back);
    changed.searchParams.set('state', `${back.searchParams.get('state')!.slice(0, -2)}xy`);
    const tampered = await fetch(changed, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ kind: 'problem', problem: 'expired' });
    expect(setCookies(tampered).has(SESSION_COOKIE)).toBe(false);

    const [name, { value }] = [...cookies][0];
    const forged = `${name}=${value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`;
    const badCookie = await fetch(back, { redirect: 'manual', headers: { cookie: forged } });
    expect(badCookie.status).toBe(400);

    const good = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
    expect(good.status).toBe(303);
    // The flow cookie went with the first answer; a browser that kept it anyway meets a used code.
    const again = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
    expect(again.status).toBe(400);
    expect(setCookies(again).has(SESSION_COOKIE)).toBe(false);
  });

  it('refuses an ID token whose nonce is not the one this browser sent', async () => {
    const { location, cookies } = await startSignIn(base);
    const back = await provider.authorize(location.href, { username: 'ivan', password: 'ivan-pw' });
    const [name, { value }] = [...cookies][0];
    const flow = JSON.parse(decodeURIComponent(value).replace(/\.[^.]+$/, '')) as Record<string, string>;
    const swapped = signedCookieValue(SECRET, JSON.stringify({ ...flow, nonce: 'a-nonce-this-browser-never-sent' }));
    const response = await fetch(back, { redirect: 'manual', headers: { cookie: `${name}=${encodeURIComponent(swapped)}` } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ kind: 'problem', problem: 'refused' });
    expect(setCookies(response).has(SESSION_COOKIE)).toBe(false);
  });

  it('says the sign-in was cancelled when the visitor cancels at the provider', async () => {
    const { location, cookies } = await startSignIn(base, '/settings');
    const back = await provider.authorize(location.href, 'cancel');
    expect(back.searchParams.get('error')).toBe('access_denied');
    const response = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ kind: 'problem', problem: 'cancelled', signInHref: '/auth/login?next=%2Fsettings' });
  });

  it('leads only to a path on this site', async () => {
    const { location, cookies } = await startSignIn(base, 'https://evil.example/');
    const back = await provider.authorize(location.href, { username: 'ivan', password: 'ivan-pw' });
    const response = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
    expect(response.headers.get('location')).toBe('/home');
  });

  it('takes the user id from the configured claim', async () => {
    const emailPort = await freePort();
    const other = await startOidcProvider({
      users: [{ username: 'paula', password: 'paula-pw', email: 'paula@example.test' }],
      clients: [{ clientId: 'public-client', redirectUris: [`http://127.0.0.1:${emailPort}/auth/callback`] }],
    });
    try {
      const emailBase = await startApp({
        settings: { ...settings({ issuer: other.issuer, clientId: 'public-client', clientSecret: '', userClaim: 'email' }) },
        port: emailPort,
      });
      const { location, cookies } = await startSignIn(emailBase);
      const back = await other.authorize(location.href, { username: 'paula', password: 'paula-pw' });
      const response = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
      expect(response.status).toBe(303);
      const token = decodeURIComponent(setCookies(response).get(SESSION_COOKIE)!.value).replace(/\.[^.]+$/, '');
      expect((await verifyTokenClaims(auth, token))?.userId).toBe('paula@example.test');
    } finally {
      await other.close();
    }
  });

  it('shows a clear page when the provider cannot be reached, and when sign-in is not set up', async () => {
    const downBase = await startApp({ settings: settings({ issuer: `http://127.0.0.1:${await freePort()}` }) });
    const down = await fetch(`${downBase}/auth/login?next=/x`, { redirect: 'manual' });
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ kind: 'problem', problem: 'unavailable', signInHref: '/auth/login?next=%2Fx' });

    const offBase = await startApp({ settings: settings({ issuer: '' }) });
    const off = await fetch(`${offBase}/auth/login`, { redirect: 'manual' });
    expect(off.status).toBe(404);
    expect(await off.json()).toMatchObject({ kind: 'problem', problem: 'not-configured' });
    expect((await fetch(`${offBase}/auth/callback?state=x&code=y`)).status).toBe(404);
  });

  it('marks the cookies Secure behind a trusted TLS-terminating proxy, and only then', async () => {
    const proxied = await startApp({ settings: settings(), trustProxy: true });
    const viaTls = await fetch(`${proxied}/auth/login`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect([...setCookies(viaTls).values()][0].line).toMatch(/; Secure/i);
    const untrusted = await fetch(`${base}/auth/login`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect([...setCookies(untrusted).values()][0].line).not.toMatch(/; Secure/i);
  });
});

describe('POST /auth/logout', () => {
  async function signedIn() {
    const { location, cookies } = await startSignIn(base);
    const back = await provider.authorize(location.href, { username: 'paula', password: 'paula-pw' });
    const response = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
    const jar = setCookies(response);
    for (const name of [...jar.keys()]) if (!jar.get(name)!.value) jar.delete(name);
    const form = await fetch(`${base}/form`, { headers: { cookie: cookieHeader(jar) } });
    for (const [name, cookie] of setCookies(form)) jar.set(name, cookie);
    return { jar, csrf: ((await form.json()) as { csrf: string }).csrf };
  }

  it('needs the CSRF token of the page', async () => {
    const { jar } = await signedIn();
    const response = await fetch(`${base}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=forged',
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ kind: 'problem', problem: 'form-expired' });
    expect(setCookies(response).has(SESSION_COOKIE)).toBe(false);
  });

  it("clears the session and goes on to the provider's end_session_endpoint with the ID token as a hint", async () => {
    const { jar, csrf } = await signedIn();
    const idToken = jar.get(ID_TOKEN_COOKIE)!.value;
    const response = await fetch(`${base}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(response.status).toBe(303);
    const target = new URL(response.headers.get('location')!);
    expect(target.origin).toBe(provider.issuer);
    expect(target.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/auth/signed-out`);
    const hint = target.searchParams.get('id_token_hint')!;
    expect(decodeURIComponent(idToken).startsWith(hint)).toBe(true);
    const cleared = setCookies(response);
    expect(cleared.get(SESSION_COOKIE)?.value).toBe('');
    expect(cleared.get(ID_TOKEN_COOKIE)?.value).toBe('');
    // The provider takes the hint and the return address (a wrong one would be an error page): its sign-out form follows.
    const confirm = await fetch(target, { redirect: 'manual' });
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(html).toContain(`action="${provider.issuer}/session/end/confirm"`);
    expect(html).not.toContain('<script');
  });
});
