import { requireUser, SESSION_COOKIE, type TokenIssuerOptions } from '@faxnotify/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LinkTokens } from './links';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A GET of this route with a `:faxId` may be answered for the holder of a notice link's grant for that fax (links.ts). */
    linkGrant?: boolean;
  }
}

/**
 * Who is asking. The JSON API takes the bearer header; the pages (and the API's reads, so a page's
 * live-update stream works) also take the session cookie the sign-in page sets (the kit's
 * `SESSION_COOKIE`, shared with the notifier's settings page).
 */
export type AuthOptions = TokenIssuerOptions;

/** Reads may use the cookie; writes need the bearer header (no cookie-borne request can change anything). */
const READS = new Set(['GET', 'HEAD']);

export const authenticateApi = (auth: AuthOptions, links?: LinkTokens) => {
  const withCookie = requireUser({ ...auth, cookieName: SESSION_COOKIE });
  const bearerOnly = requireUser(auth);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    // A route open to link grants (the fax page's live stream) reads the fax as its owner would,
    // for the one fax the browser holds a grant for; every other route ignores grants.
    if (links && request.method === 'GET' && request.routeOptions.config.linkGrant) {
      const faxId = (request.params as { faxId?: unknown }).faxId;
      const grant = typeof faxId === 'string' ? await links.grantFor(request, faxId) : null;
      if (grant) {
        Object.assign(request, { userId: grant.ownerId, linkGrant: grant });
        return;
      }
    }
    return READS.has(request.method) ? withCookie(request, reply) : bearerOnly(request, reply);
  };
};
