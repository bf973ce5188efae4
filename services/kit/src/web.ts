/// <reference types="@fastify/cookie" preserve="true" />
/// <reference types="@fastify/csrf-protection" preserve="true" />
import { createHmac } from 'node:crypto';
import fastifyCookie, { sign } from '@fastify/cookie';
import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { SESSION_COOKIE, bearerToken, sessionViewer, type TokenIssuerOptions } from './auth';

/**
 * What the pages of every service share, set up the same way in each by `registerWebSecurity`:
 * signed cookies, form bodies, CSRF tokens for form posts, security headers with a content
 * security policy, and a refusal of state-changing requests from another site.
 */

/** The browser's CSRF secret (signed, HttpOnly); the forms carry a token made from it. */
export const CSRF_COOKIE = 'faxnotify_csrf';
/** The form field a page's CSRF token travels in. */
export const CSRF_FIELD = 'csrf';

/** What the pages may load: only this site's stylesheet, scripts and event streams; no inline script or style, no framing. */
export const PAGE_CSP_DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'none'"],
  'style-src': ["'self'"],
  'script-src': ["'self'"],
  'connect-src': ["'self'"],
  'img-src': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
};

export interface WebSecurityOptions {
  /** The services' shared auth secret; the cookie-signing and CSRF keys are derived from it. */
  secret: string;
  /**
   * Other origins a form of ours may lead to, e.g. the OpenID Connect provider's, where the sign-out
   * form's answer redirects (browsers hold a form's redirects to the policy's form-action too).
   */
  formTargets?: string[];
}

/** A key for one purpose, derived from the shared secret (so a cookie signature is never a token signature). */
export const derivedKey = (secret: string, purpose: string) => createHmac('sha256', secret).update(`faxnotify ${purpose}`).digest('base64url');

/** A cookie value signed as the services sign it (for a client that signs in without the sign-in form, as tests do). */
export const signedCookieValue = (secret: string, value: string): string => sign(value, derivedKey(secret, 'cookie signing'));

/** A form body as a plain object of strings; a repeated field keeps its last value. */
const parseForm = (body: string): Record<string, string> => Object.fromEntries(new URLSearchParams(body));

/** How long a page's form may be posted after it was shown. */
const CSRF_VALIDITY_MS = 24 * 3600 * 1000;
/** The user a CSRF token is bound to, as @fastify/csrf takes it (a non-empty string, also when no one is signed in). */
const csrfUserInfo = (userId: string | undefined) => (userId ? `user ${userId}` : 'signed out');

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const kCsrfUser = Symbol('faxnotify.csrfUser');
type WithCsrfUser = FastifyRequest & { [kCsrfUser]?: string };

/**
 * Registers @fastify/cookie (signed cookies), @fastify/formbody, @fastify/csrf-protection and
 * @fastify/helmet (with `PAGE_CSP_DIRECTIVES`) on the service's root instance, and refuses a
 * POST, PUT, PATCH or DELETE whose Origin is `null` (a sandboxed or opaque page) or another site.
 * Await it before registering routes.
 */
export async function registerWebSecurity(app: FastifyInstance, options: WebSecurityOptions): Promise<void> {
  await app.register(fastifyCookie, { secret: derivedKey(options.secret, 'cookie signing'), hook: 'onRequest' });
  await app.register(fastifyFormbody, { bodyLimit: 65_536, parser: parseForm });
  await app.register(fastifyCsrfProtection, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, signed: true, secure: 'auto' },
    getToken: (request) => {
      const body = request.body as Record<string, unknown> | undefined;
      return typeof body?.[CSRF_FIELD] === 'string' ? body[CSRF_FIELD] : undefined;
    },
    // A token is good only for the user it was made for (or for no user, on the sign-in form), for a day.
    getUserInfo: (request) => csrfUserInfo((request as WithCsrfUser)[kCsrfUser]),
    csrfOpts: { hmacKey: derivedKey(options.secret, 'csrf'), validity: CSRF_VALIDITY_MS },
  });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...PAGE_CSP_DIRECTIVES, 'form-action': [...PAGE_CSP_DIRECTIVES['form-action'], ...(options.formTargets ?? [])] },
    },
    frameguard: { action: 'deny' },
    // No Referer to another site (a link with a token in it stays here), but this site's own form
    // posts keep their Origin: under no-referrer a browser would send `Origin: null`, which is refused.
    referrerPolicy: { policy: 'same-origin' },
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!STATE_CHANGING.has(request.method)) return;
    const origin = request.headers.origin;
    if (origin === undefined || sameSite(origin, request.host)) return;
    await reply.code(403).send({ error: 'forbidden', message: 'a request from another site (or with Origin: null) is refused' });
  });
}

function sameSite(origin: string, host: string): boolean {
  if (origin === 'null') return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The token a page's form carries, for the signed-in user (or none, on the sign-in form); sets the browser's CSRF secret on first sight. */
export const csrfToken = (reply: FastifyReply, userId: string | undefined): string =>
  reply.generateCsrf({ userInfo: csrfUserInfo(userId) } as Parameters<FastifyReply['generateCsrf']>[0]);

/**
 * Pre-handlers of a form post: refuse it (403, `FST_CSRF_*`) unless it carries a CSRF token made
 * for this browser and the user its session cookie names. A request with a bearer header is not
 * checked: no other site's page can send one.
 */
export function csrfCheck(app: FastifyInstance, auth: TokenIssuerOptions): preHandlerHookHandler[] {
  const identify: preHandlerHookHandler = (request, _reply, done) => {
    sessionViewer(auth, request).then((viewer) => {
      (request as WithCsrfUser)[kCsrfUser] = viewer?.userId;
      done();
    }, done);
  };
  const check: preHandlerHookHandler = function (request, reply, done) {
    if (bearerToken(request)) {
      done();
      return;
    }
    app.csrfProtection(request, reply, done);
  };
  return [identify, check];
}

/** Whether an error is @fastify/csrf-protection's refusal (no secret cookie, or a token that does not fit). */
export const isCsrfRefusal = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'FST_CSRF_INVALID_TOKEN' || code === 'FST_CSRF_MISSING_SECRET';
};

/** Signs a browser in: the session cookie lasts as long as the token (an hour if it has no expiry); `Secure` on HTTPS. */
export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: number | undefined): FastifyReply {
  const maxAge = expiresAt ? Math.max(0, expiresAt - Math.floor(Date.now() / 1000)) : 3600;
  return reply.setCookie(SESSION_COOKIE, token, { path: '/', maxAge, httpOnly: true, sameSite: 'lax', secure: 'auto', signed: true });
}

/** Signs a browser out. */
export const clearSessionCookie = (reply: FastifyReply): FastifyReply =>
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' });
