import { requireUser, SESSION_COOKIE, type TokenIssuerOptions } from '@faxnotify/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Who is asking. The JSON API takes the bearer header; the pages (and the API's reads, so a page's
 * live-update stream works) also take the session cookie the sign-in page sets (the kit's
 * `SESSION_COOKIE`, shared with the notifier's settings page).
 */
export type AuthOptions = TokenIssuerOptions;

/** Reads may use the cookie; writes need the bearer header (no cookie-borne request can change anything). */
const READS = new Set(['GET', 'HEAD']);

export const authenticateApi = (auth: AuthOptions) => {
  const withCookie = requireUser({ ...auth, cookieName: SESSION_COOKIE });
  const bearerOnly = requireUser(auth);
  return (request: FastifyRequest, reply: FastifyReply) => (READS.has(request.method) ? withCookie(request, reply) : bearerOnly(request, reply));
};
