import { requireUser, verifyTokenClaims, requestToken, type TokenIssuerOptions, type VerifiedToken } from '@faxnotify/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Who is asking. The JSON API takes the bearer header; the pages (and the API's reads, so a page's
 * live-update stream works) also take the session cookie the sign-in page sets. The cookie holds
 * the same JWT, HttpOnly and SameSite=Lax, so another site can neither read it nor make a browser
 * send it with a cross-site POST.
 */
export const SESSION_COOKIE = 'faxnotify_session';

export type AuthOptions = TokenIssuerOptions;

/** Reads may use the cookie; writes need the bearer header (no cookie-borne request can change anything). */
const READS = new Set(['GET', 'HEAD']);

export const authenticateApi = (auth: AuthOptions) => {
  const withCookie = requireUser({ ...auth, cookieName: SESSION_COOKIE });
  const bearerOnly = requireUser(auth);
  return (request: FastifyRequest, reply: FastifyReply) => (READS.has(request.method) ? withCookie(request, reply) : bearerOnly(request, reply));
};

/** The signed-in viewer of a page, or null. */
export const pageViewer = (auth: AuthOptions, request: FastifyRequest): Promise<VerifiedToken | null> =>
  verifyTokenClaims(auth, requestToken(request, SESSION_COOKIE));

/**
 * Where to go after signing in: only a path on this site (`/…`, not `//host` or `/\host`, which
 * browsers treat as another origin), else the Sent folder.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return '/faxes';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/faxes';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return '/faxes';
  return next;
}

export function sessionCookie(token: string, expiresAt: number | undefined, secure: boolean): string {
  const maxAge = expiresAt ? Math.max(0, expiresAt - Math.floor(Date.now() / 1000)) : 3600;
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export const clearedSessionCookie = (secure: boolean): string => `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
