import type { Logger } from '@faxnotify/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { LinkRefusal, LinkTokens } from '../links';
import type { LayoutData, PageName } from './render';
import type { PageContext } from './routes';

/** What the link routes use of the pages' own machinery (routes.ts). */
export interface LinkPageHelpers {
  /** Absent when the operator turned link tokens off: every link then asks for a sign-in. */
  links?: LinkTokens;
  /** What "sign out all links" revokes with, also while link tokens are off (the tokens sent before stay until they expire). */
  revoker?: LinkTokens;
  logger?: Logger;
  contextOf: (request: FastifyRequest, reply: FastifyReply) => Promise<PageContext>;
  send: (
    reply: FastifyReply,
    request: FastifyRequest,
    context: PageContext,
    page: PageName,
    data: Record<string, unknown>,
    layout: Partial<LayoutData> & { title: string },
    code?: number,
  ) => FastifyReply;
  checkCsrf: preHandlerHookHandler[];
  /** Where a visitor signs in, going on to `next`. */
  signInHref: (next: string) => string;
}

/** Refusals that mean "this link worked once": 410 Gone; the others (never a link of ours) 404. */
const GONE: ReadonlySet<LinkRefusal> = new Set(['expired', 'revoked', 'off']);

/**
 * The notice links' routes on the pages:
 * - `GET /l/:token` (anyone holding a link): a good token lets this browser read its one fax (a
 *   signed HttpOnly grant cookie) and sends it on to the fax page, so the token leaves the
 *   address bar; its owner, signed in, just goes there. A bad token gets a page saying the link
 *   no longer works, with a sign-in link and nothing of the fax.
 * - `POST /links/revoke` (the signed-in owner, a form with its CSRF token): "sign out all links".
 */
export function registerLinkPages(scope: FastifyInstance, helpers: LinkPageHelpers): void {
  const { links, logger, contextOf, send } = helpers;

  scope.get<{ Params: { token: string } }>('/l/:token', async (request, reply) => {
    const context = await contextOf(request, reply);
    const check = links ? await links.check(request.params.token) : ({ ok: false, reason: 'off' } as const);
    if (!check.ok) {
      logger?.info({ reason: check.reason }, 'notice link refused');
      const l = context.l;
      return send(
        reply,
        request,
        context,
        'link-invalid',
        { signInHref: helpers.signInHref('/faxes') },
        { title: l.invalidTitle },
        GONE.has(check.reason) ? 410 : 404,
      );
    }
    const { faxId, ownerId } = check.grant;
    if (context.viewer?.userId !== ownerId) links!.grant(request, reply, request.params.token);
    logger?.info({ faxId, signedIn: context.viewer !== null }, 'notice link opened');
    return reply
      .code(303)
      .header('cache-control', 'no-store')
      .redirect(`/faxes/${encodeURIComponent(faxId)}`, 303);
  });

  scope.post('/links/revoke', { preHandler: helpers.checkCsrf }, async (request, reply) => {
    const context = await contextOf(request, reply);
    if (!context.viewer) return reply.code(303).header('cache-control', 'no-store').redirect(helpers.signInHref('/faxes'), 303);
    const revoker = helpers.revoker ?? links;
    if (!revoker) return reply.code(303).redirect('/faxes?linksRevoked=0', 303);
    const { revoked } = await revoker.revokeAll(context.viewer.userId);
    logger?.info({ owner: context.viewer.userId, revoked }, 'notice links signed out');
    return reply.code(303).header('cache-control', 'no-store').redirect(`/faxes?linksRevoked=${revoked}`, 303);
  });
}
