import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { SESSION_COOKIE, issueToken, safeNext, sessionViewer, signedCookie, type TokenIssuerOptions } from './auth';
import type { AuthSettings } from './config';
import { isLoopbackHost } from './config';
import type { Logger } from './logger';
import { clearSessionCookie, csrfCheck, isCsrfRefusal, setSessionCookie } from './web';

/**
 * The pages' sign-in through an OpenID Connect provider (authorization code with PKCE S256, state
 * and nonce checked, the ID token verified against the provider's keys by openid-client). After it
 * the browser holds the kit's `SESSION_COOKIE` with our own HS256 session token (`sub`, `aud`,
 * `exp` = the session's lifetime, `sid`, and `locale`/`tz` from the provider's `locale`/`zoneinfo`),
 * which every service on the same host accepts.
 *
 *   GET  /auth/login?next=/path  anyone: starts a sign-in and comes back to `next` (a path on this site)
 *   GET  /auth/callback          anyone: the provider's answer; refused unless it fits a sign-in this browser started
 *   POST /auth/logout            the signed-in browser (CSRF-checked): signs out here and at the provider
 *   GET  /auth/signed-out        anyone: the page after signing out
 */

// openid-client ships as an ES module only; a dynamic import keeps this package CommonJS.
const openid = () => import('openid-client');
type OpenId = Awaited<ReturnType<typeof openid>>;
type ClientConfiguration = Awaited<ReturnType<OpenId['discovery']>>;

/** Why a sign-in did not go through, as the page tells the visitor. */
export type SignInProblem =
  /** The visitor said no at the provider. */
  | 'cancelled'
  /** The answer fits no sign-in this browser started (changed, replayed, or older than ten minutes). */
  | 'expired'
  /** The provider's answer did not hold (a wrong nonce, a bad ID token, a refused code, no user id). */
  | 'refused'
  /** The provider could not be reached or failed. */
  | 'unavailable'
  /** OpenID Connect sign-in is not set up (auth.oidc.issuer is empty). */
  | 'not-configured'
  /** The sign-out form was posted without a valid CSRF token. */
  | 'form-expired';

/** What a sign-in page shows; `signInHref` starts a new sign-in (to `next`). */
export type SignInView = { kind: 'signed-out'; signInHref: string } | { kind: 'problem'; problem: SignInProblem; signInHref: string };

export interface SignInOptions {
  /** The services' token settings: the secret, and the audience of auth.audience (the pages must check the same). */
  auth: TokenIssuerOptions;
  /** The `auth` section of the service's configuration. */
  settings: AuthSettings;
  /** This service's base URL as browsers reach it (`http.publicUrl`, else the address it listens on). */
  publicUrl: () => string;
  /** Where a sign-in without a (good) `next` lands, e.g. the Sent folder. */
  landing: string;
  /** Renders a sign-in page in the service's look and the visitor's language, with this status. */
  render: (request: FastifyRequest, reply: FastifyReply, view: SignInView, status: number) => FastifyReply | Promise<FastifyReply>;
  logger: Logger;
  /** Run before the handlers of /auth/login and /auth/callback: the place for a limit on sign-in attempts. */
  attemptGuard?: preHandlerHookHandler[];
}

export interface SignIn {
  /** Whether OpenID Connect sign-in is set up. */
  readonly enabled: boolean;
  /** The path that signs a visitor in and leads back to `next`. */
  loginHref: (next: string) => string;
}

/** The signed cookie that keeps one sign-in's verifier, nonce and destination while the visitor is at the provider. */
const FLOW_COOKIE_PREFIX = 'faxnotify_signin_';
/** The signed cookie that keeps the provider's ID token for the sign-out (`id_token_hint`). */
export const ID_TOKEN_COOKIE = 'faxnotify_idt';
const FLOW_SECONDS = 600;
/** Longer ID tokens are not kept (a cookie holds about 4 KB); sign-out then goes without the hint. */
const MAX_ID_TOKEN_LENGTH = 3000;
const STATE = /^[A-Za-z0-9_-]{22,128}$/;
const PROVIDER_TIMEOUT_SECONDS = 10;

interface FlowState {
  verifier: string;
  nonce: string;
  next: string;
}

/** The provider's discovery document and keys, fetched on first use and again after a failure. */
class ProviderConnection {
  private configuration?: Promise<ClientConfiguration>;

  constructor(private readonly settings: AuthSettings['oidc']) {}

  get(): Promise<ClientConfiguration> {
    if (!this.configuration) {
      this.configuration = this.discover();
      this.configuration.catch(() => {
        this.configuration = undefined;
      });
    }
    return this.configuration;
  }

  private async discover(): Promise<ClientConfiguration> {
    const client = await openid();
    const issuer = new URL(this.settings.issuer);
    const authentication = this.settings.clientSecret ? client.ClientSecretBasic(this.settings.clientSecret) : client.None();
    return client.discovery(issuer, this.settings.clientId, undefined, authentication, {
      timeout: PROVIDER_TIMEOUT_SECONDS,
      // Plain http only to a provider on this machine (configuration refuses it elsewhere).
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- deprecated only to stand out; a loopback provider is its one use here
      ...(issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname) ? { execute: [client.allowInsecureRequests] } : {}),
    });
  }
}

/** Whether an error means the provider could not be reached or answered with a failure of its own. */
function providerFailed(error: unknown): boolean {
  const e = error as { name?: string; code?: string; status?: number } | null;
  if (error instanceof TypeError) return true;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return true;
  if (e?.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || e?.code === 'OAUTH_RESPONSE_IS_NOT_JSON') return true;
  return typeof e?.status === 'number' && e.status >= 500;
}

/** What may be logged of an error from the sign-in: its kind, code and OAuth error, never a token or code. */
const errorSummary = (error: unknown) => {
  const e = error as { name?: string; code?: string; error?: string; message?: string } | null;
  return { name: e?.name, code: e?.code, oauthError: e?.error, message: e?.message?.slice(0, 200) };
};

const isTimeZone = (name: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

/** The user id a claim holds: a non-empty string (or number) without control characters, at most 256 characters. */
function userIdOf(value: unknown): string | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  // eslint-disable-next-line no-control-regex
  if (typeof text !== 'string' || text.length === 0 || text.length > 256 || /[\u0000-\u001f\u007f]/.test(text)) return undefined;
  return text;
}

/**
 * Registers the sign-in routes on the service's root instance (after `registerWebSecurity`).
 * With auth.oidc.issuer empty they answer with the "not configured" page.
 */
export function registerSignIn(app: FastifyInstance, options: SignInOptions): SignIn {
  const { settings, logger } = options;
  const enabled = settings.oidc.issuer !== '';
  const provider = enabled ? new ProviderConnection(settings.oidc) : undefined;
  const loginHref = (next: string) => `/auth/login?next=${encodeURIComponent(next)}`;
  const base = () => options.publicUrl().replace(/\/+$/, '');
  const redirectUri = () => `${base()}/auth/callback`;
  const callbackPath = () => `${new URL(redirectUri()).pathname}`;
  const flowCookie = (state: string) => `${FLOW_COOKIE_PREFIX}${state}`;
  const tokenOptions = options.auth;

  const problem = (request: FastifyRequest, reply: FastifyReply, kind: SignInProblem, status: number, next: string) =>
    options.render(request, reply.header('cache-control', 'no-store'), { kind: 'problem', problem: kind, signInHref: loginHref(next) }, status);

  void app.register(async (scope) => {
    scope.setErrorHandler(async (error, request, reply) => {
      if (!isCsrfRefusal(error)) throw error;
      return problem(request, reply, 'form-expired', 403, options.landing);
    });
    const guard = options.attemptGuard ?? [];

    scope.get<{ Querystring: { next?: string } }>('/auth/login', { preHandler: guard }, async (request, reply) => {
      const next = safeNext(request.query.next, options.landing);
      if (!provider) return problem(request, reply, 'not-configured', 404, next);
      // Already signed in (this browser's session holds): straight on.
      if (await sessionViewer(tokenOptions, request)) return reply.header('cache-control', 'no-store').redirect(next, 303);
      let configuration: ClientConfiguration;
      try {
        configuration = await provider.get();
      } catch (error) {
        logger.warn({ err: errorSummary(error), issuer: settings.oidc.issuer }, 'sign-in: the OpenID Connect provider cannot be reached');
        return problem(request, reply, 'unavailable', 502, next);
      }
      const client = await openid();
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const flow: FlowState = { verifier, nonce, next };
      reply.setCookie(flowCookie(state), JSON.stringify(flow), {
        path: callbackPath(),
        maxAge: FLOW_SECONDS,
        httpOnly: true,
        // Lax: the provider's redirect back is a top-level GET from another site, which Lax lets through.
        sameSite: 'lax',
        secure: 'auto',
        signed: true,
      });
      const target = client.buildAuthorizationUrl(configuration, {
        redirect_uri: redirectUri(),
        scope: settings.oidc.scopes,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return reply.header('cache-control', 'no-store').redirect(target.href, 303);
    });

    scope.get<{ Querystring: Record<string, string | undefined> }>('/auth/callback', { preHandler: guard }, async (request, reply) => {
      if (!provider) return problem(request, reply, 'not-configured', 404, options.landing);
      const state = request.query.state;
      const raw = typeof state === 'string' && STATE.test(state) ? signedCookie(request, flowCookie(state)) : undefined;
      let flow: FlowState | undefined;
      try {
        flow = raw ? (JSON.parse(raw) as FlowState) : undefined;
      } catch {
        flow = undefined;
      }
      if (!flow || typeof flow.verifier !== 'string' || typeof flow.nonce !== 'string' || !state) {
        logger.info('sign-in: an answer that fits no sign-in started by this browser was refused');
        return problem(request, reply, 'expired', 400, options.landing);
      }
      // One answer per sign-in: the cookie goes now, whatever happens next.
      reply.clearCookie(flowCookie(state), { path: callbackPath(), httpOnly: true, sameSite: 'lax', secure: 'auto' });
      const next = safeNext(flow.next, options.landing);
      if (typeof request.query.error === 'string') {
        const cancelled = request.query.error === 'access_denied';
        logger.info({ oauthError: request.query.error.slice(0, 64) }, 'sign-in: the provider answered with an error');
        return problem(request, reply, cancelled ? 'cancelled' : 'refused', 400, next);
      }
      const client = await openid();
      let claims: Record<string, unknown>;
      let idToken: string | undefined;
      try {
        const configuration = await provider.get();
        const answer = new URL(redirectUri());
        for (const [name, value] of Object.entries(request.query)) if (typeof value === 'string') answer.searchParams.set(name, value);
        const tokens = await client.authorizationCodeGrant(configuration, answer, {
          pkceCodeVerifier: flow.verifier,
          expectedState: state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
        claims = { ...(tokens.claims() ?? {}) };
        idToken = tokens.id_token;
        const wanted = [settings.oidc.userClaim, 'locale', 'zoneinfo'];
        if (wanted.some((name) => claims[name] === undefined) && configuration.serverMetadata().userinfo_endpoint && tokens.access_token) {
          // The ID token of a code flow often names only the user; the rest is at the userinfo endpoint, for the same subject.
          const info = await client.fetchUserInfo(configuration, tokens.access_token, String(claims.sub));
          claims = { ...info, ...claims };
        }
      } catch (error) {
        const unavailable = providerFailed(error);
        logger.warn({ err: errorSummary(error) }, unavailable ? 'sign-in: the OpenID Connect provider failed' : 'sign-in: the provider’s answer was refused');
        return problem(request, reply, unavailable ? 'unavailable' : 'refused', unavailable ? 502 : 400, next);
      }
      const userId = userIdOf(claims[settings.oidc.userClaim]);
      if (!userId) {
        logger.warn({ claim: settings.oidc.userClaim }, 'sign-in: the provider’s answer has no usable user id in the configured claim');
        return problem(request, reply, 'refused', 400, next);
      }
      const extra: Record<string, unknown> = { sid: randomUUID() };
      if (typeof claims.locale === 'string' && claims.locale.length <= 35) extra.locale = claims.locale;
      if (typeof claims.zoneinfo === 'string' && claims.zoneinfo.length <= 64 && isTimeZone(claims.zoneinfo)) extra.tz = claims.zoneinfo;
      const lifetime = settings.sessionHours * 3600;
      const session = await issueToken(tokenOptions, userId, lifetime, extra);
      const expiresAt = Math.floor(Date.now() / 1000) + lifetime;
      setSessionCookie(reply, session, expiresAt);
      if (idToken && idToken.length <= MAX_ID_TOKEN_LENGTH)
        reply.setCookie(ID_TOKEN_COOKIE, idToken, { path: '/', maxAge: lifetime, httpOnly: true, sameSite: 'lax', secure: 'auto', signed: true });
      logger.info({ user: userId }, 'sign-in: signed in through OpenID Connect');
      return reply.header('cache-control', 'no-store').redirect(next, 303);
    });

    // Signing out is a form post with this browser's CSRF token: another site cannot sign a visitor out.
    scope.post('/auth/logout', { preHandler: csrfCheck(app, tokenOptions) }, async (request, reply) => {
      const idToken = signedCookie(request, ID_TOKEN_COOKIE);
      clearSessionCookie(reply).clearCookie(ID_TOKEN_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' });
      reply.header('cache-control', 'no-store');
      const signedOut = `${base()}/auth/signed-out`;
      if (provider) {
        try {
          const configuration = await provider.get();
          if (configuration.serverMetadata().end_session_endpoint) {
            const client = await openid();
            const target = client.buildEndSessionUrl(configuration, {
              post_logout_redirect_uri: signedOut,
              ...(idToken ? { id_token_hint: idToken } : {}),
            });
            return await reply.redirect(target.href, 303);
          }
        } catch (error) {
          // Signed out here all the same; the provider's own session is left as it is.
          logger.warn({ err: errorSummary(error) }, 'sign-out: the OpenID Connect provider cannot be reached; signed out here only');
        }
      }
      return reply.redirect('/auth/signed-out', 303);
    });

    scope.get('/auth/signed-out', async (request, reply) =>
      options.render(request, reply.header('cache-control', 'no-store'), { kind: 'signed-out', signInHref: loginHref(options.landing) }, 200),
    );
  });

  return { enabled, loginHref };
}

/** The cookie names the sign-in uses, for tests and diagnostics. */
export const SIGN_IN_COOKIES = { session: SESSION_COOKIE, idToken: ID_TOKEN_COOKIE, flowPrefix: FLOW_COOKIE_PREFIX };
