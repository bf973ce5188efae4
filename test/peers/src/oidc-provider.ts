import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { KoaContext, Provider as OidcProvider } from 'oidc-provider';

/**
 * An OpenID Connect provider in the test's own process: oidc-provider (a certified
 * implementation) on 127.0.0.1 with a free port, signing keys made at start, a real sign-in page
 * (user name and password checked against the given users; consent taken as given for the
 * configured clients), RP-initiated logout (`end_session_endpoint`), and pages that pass a strict
 * content security policy in Chromium (no inline script or style).
 */
export interface OidcUser {
  username: string;
  password: string;
  /** The `sub` claim; the user name when not given. */
  sub?: string;
  email?: string;
  name?: string;
  /** BCP 47 language tag, e.g. `it` or `ru-RU`. */
  locale?: string;
  /** IANA time zone, e.g. `Europe/Rome`. */
  zoneinfo?: string;
}

export interface OidcClient {
  clientId: string;
  /** Empty or absent: a public client (PKCE only, `token_endpoint_auth_method` none). */
  clientSecret?: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
}

export interface RunningOidcProvider {
  /** The issuer URL (`http://127.0.0.1:<port>`). */
  issuer: string;
  /** Sign-ins completed, by user name, in order. */
  signIns: string[];
  /**
   * Walks through the provider's sign-in as a browser without script would: follows the
   * authorization URL, posts the sign-in form (or cancels it), and returns where the provider
   * sends the browser back to (the client's redirect URI with `code` and `state`, or `error`).
   */
  authorize(authorizationUrl: string, as: { username: string; password: string } | 'cancel'): Promise<URL>;
  close(): Promise<void>;
}

// oidc-provider ships as an ES module only; a dynamic import keeps this package CommonJS.
const loadProvider = () => import('oidc-provider');

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The provider's pages: no inline script or style. form-action is left out: a form's redirects go on to the client. */
const CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;

async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginPage(uid: string, problem?: string): string {
  return page(
    'Sign in to the test identity provider',
    `${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<p><label for="username">User name</label> <input id="username" name="username" autocomplete="username" required></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><p><button type="submit">Cancel</button></p></form>`,
  );
}

/** The provider's stored artefacts (sessions, codes, grants, interactions), in this process's memory until they expire. */
function memoryAdapter() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAt?: number }>();
  const live = (key: string) => {
    const entry = store.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt < Date.now()) store.delete(key);
    return store.get(key)?.payload;
  };
  return class MemoryAdapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    }
    async find(id: string) {
      return live(this.key(id));
    }
    async findByUid(uid: string) {
      for (const [key, entry] of store) if (key.startsWith(`${this.model}:`) && entry.payload.uid === uid) return live(key);
      return undefined;
    }
    async findByUserCode(userCode: string) {
      for (const [key, entry] of store) if (key.startsWith(`${this.model}:`) && entry.payload.userCode === userCode) return live(key);
      return undefined;
    }
    async consume(id: string) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}

export async function startOidcProvider(options: { users: OidcUser[]; clients: OidcClient[] }): Promise<RunningOidcProvider> {
  const { Provider } = await loadProvider();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const signIns: string[] = [];
  const subOf = (user: OidcUser) => user.sub ?? user.username;
  const clientIds = new Set(options.clients.map((client) => client.clientId));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };

  const provider: OidcProvider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      ...(client.clientSecret
        ? { client_secret: client.clientSecret, token_endpoint_auth_method: 'client_secret_basic' }
        : { token_endpoint_auth_method: 'none' }),
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [jwk] },
    adapter: memoryAdapter(),
    // Lifetimes of the provider's artefacts, in seconds.
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 86_400, Grant: 86_400 },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username', 'locale', 'zoneinfo'] },
    // Every client here must send a PKCE challenge, as ours always does.
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContext, form: string) => {
          ctx.body = page(
            'Sign out of the test identity provider?',
            `${form}<p><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button> <button type="submit" form="op.logoutForm">No, stay signed in</button></p>`,
          );
        },
        postLogoutSuccessSource: async (ctx: KoaContext) => {
          ctx.body = page('Signed out', '<p>You are signed out of the test identity provider.</p>');
        },
      },
    },
    interactions: { url: (_ctx: KoaContext, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    renderError: async (ctx: KoaContext, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sign-in error',
        Object.entries(out)
          .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(String(value))}</p>`)
          .join(''),
      );
    },
    // Consent is taken as given for the configured clients: their grant covers the scopes they ask for.
    loadExistingGrant: async (ctx: KoaContext) => {
      const client = ctx.oidc.client;
      const grantId = ctx.oidc.result?.consent?.grantId ?? (client ? ctx.oidc.session?.grantIdFor(client.clientId) : undefined);
      if (grantId) return provider.Grant.find(grantId);
      if (!client || !clientIds.has(client.clientId) || !ctx.oidc.session?.accountId) return undefined;
      const grant = new provider.Grant({ clientId: client.clientId, accountId: ctx.oidc.session.accountId });
      const scope = ctx.oidc.params?.scope;
      grant.addOIDCScope(typeof scope === 'string' ? scope : 'openid');
      await grant.save();
      return grant;
    },
    async findAccount(_ctx: KoaContext, id: string) {
      const user = options.users.find((candidate) => subOf(candidate) === id);
      if (!user) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          preferred_username: user.username,
          ...(user.email ? { email: user.email, email_verified: true } : {}),
          ...(user.name ? { name: user.name } : {}),
          ...(user.locale ? { locale: user.locale } : {}),
          ...(user.zoneinfo ? { zoneinfo: user.zoneinfo } : {}),
        }),
      };
    },
  });

  provider.use(async (ctx, next) => {
    ctx.set('content-security-policy', CSP);
    ctx.set('cache-control', 'no-store');
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/.exec(ctx.path);
    if (!match) {
      await next();
      // oidc-provider's self-submitting forms (a sign-out without a session here) use an inline script: shown as a button instead.
      if (typeof ctx.body === 'string' && ctx.body.includes('<script>'))
        ctx.body = ctx.body.replace(/<script>[\s\S]*?<\/script>/g, '').replace(/<\/?noscript>/g, '');
      return undefined;
    }
    const [, uid, action] = match;
    if (ctx.method === 'GET' && !action) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      ctx.type = 'html';
      if (details.prompt.name === 'login') {
        ctx.body = loginPage(uid);
        return undefined;
      }
      // A consent prompt (a grant that lost a scope): given, for a configured client.
      if (!clientIds.has(String(details.params.client_id))) {
        ctx.status = 403;
        ctx.body = page('Not allowed', '<p>This client is not known here.</p>');
        return undefined;
      }
      return provider.interactionFinished(ctx.req, ctx.res, { consent: {} }, { mergeWithLastSubmission: true });
    }
    if (ctx.method === 'POST' && action === '/abort') {
      return provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'the user cancelled the sign-in' });
    }
    if (ctx.method === 'POST' && action === '/login') {
      const form = await formOf(ctx.req);
      const user = options.users.find((candidate) => candidate.username === form.get('username'));
      if (!user || user.password !== form.get('password')) {
        ctx.status = 401;
        ctx.type = 'html';
        ctx.body = loginPage(uid, 'Wrong user name or password.');
        return undefined;
      }
      signIns.push(user.username);
      return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: subOf(user) } }, { mergeWithLastSubmission: false });
    }
    ctx.status = 405;
    ctx.body = '';
    return undefined;
  });
  server.on('request', provider.callback());

  return {
    issuer,
    signIns,
    async authorize(authorizationUrl, as) {
      const jar = new Map<string, string>();
      const go = async (url: string, init: RequestInit = {}): Promise<string> => {
        const response = await fetch(url, {
          ...init,
          redirect: 'manual',
          headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
        });
        for (const line of response.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const at = pair.indexOf('=');
          jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
        }
        const location = response.headers.get('location');
        if (response.status < 300 || response.status >= 400 || !location)
          throw new Error(`the identity provider answered ${response.status} at ${new URL(url).pathname}: ${(await response.text()).slice(0, 300)}`);
        return new URL(location, url).href;
      };
      let at = await go(authorizationUrl);
      while (at.startsWith(issuer) && !/\/interaction\//.test(at)) at = await go(at);
      if (at.startsWith(issuer)) {
        const body = as === 'cancel' ? '' : new URLSearchParams({ username: as.username, password: as.password }).toString();
        at = await go(`${at}/${as === 'cancel' ? 'abort' : 'login'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        while (at.startsWith(issuer)) at = await go(at);
      }
      return new URL(at);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
