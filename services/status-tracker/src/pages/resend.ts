import { randomUUID } from 'node:crypto';
import type { Logger } from '@faxnotify/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import type { FaxRecord } from '../folder';
import { mayResend, REQUEST_ID, resendsOf, type ResendRefusal } from '../resend';
import type { TrackerDatabase } from '../schema';
import type { StatusTracker } from '../tracker';
import { RESEND_STRINGS } from './resend-strings';
import type { PageContext } from './routes';
import { fill } from './strings';

/** What the fax page's resend form needs: the tracker that resends, and what to kick once an order is written. */
export interface ResendPageOptions {
  tracker: Pick<StatusTracker, 'requestResend'>;
  ordered: () => void;
}

const REFUSALS: readonly ResendRefusal[] = ['not_found', 'forbidden', 'not_final', 'nothing_failed', 'request_reused'];

const faxHref = (faxId: string) => `/faxes/${encodeURIComponent(faxId)}`;

/**
 * The fax page's resend part: "Resend of …" and "Resent as …" links, the outcome of a resend just
 * made, and — for the owner or an office admin, on a final fax with recipients that did not get
 * every page — the "Resend to failed" form (a POST with the page's CSRF token and a request id
 * minted with the page, so a double submit makes one fax).
 */
export async function resendPageData(
  db: Kysely<TrackerDatabase>,
  record: FaxRecord,
  context: PageContext,
  query: { resent?: string; resendRefused?: string },
  viaLink: boolean,
) {
  const s = RESEND_STRINGS[context.locale];
  const { fax } = record;
  const listed = record.recipients.filter((r) => r.position !== null);
  const failed = listed.filter((r) => r.final === 1 && r.status !== 'success');
  const canResend =
    !viaLink && context.viewer !== null && fax.state !== 'in_progress' && failed.length > 0 && (await mayResend(db, context.viewer.userId, fax.owner_id!));
  const resentAs = (await resendsOf(db, fax.id)).map((r) => ({ id: r.new_fax_id, href: faxHref(r.new_fax_id) }));
  const resent = query.resent && REQUEST_ID.test(query.resent) && resentAs.some((r) => r.id === query.resent) ? query.resent : '';
  const refused = REFUSALS.find((r) => r === query.resendRefused);
  return {
    s,
    resendOf: fax.resend_of ? { id: fax.resend_of, href: faxHref(fax.resend_of) } : null,
    resentAs,
    done: resent ? fill(s.done, { faxId: resent }) : '',
    refused: refused ? s.refused[refused] : '',
    form: canResend
      ? {
          action: `${faxHref(fax.id)}/resend`,
          help: fill(s.help, { n: failed.length }),
          hasPartial: failed.some((r) => r.status === 'partially_sent' && r.pages_sent > 0),
          requestId: `page-${randomUUID()}`,
        }
      : null,
  };
}

export interface ResendPageHelpers extends ResendPageOptions {
  contextOf: (request: FastifyRequest, reply: FastifyReply) => Promise<PageContext>;
  checkCsrf: preHandlerHookHandler[];
  toSignIn: (request: FastifyRequest, reply: FastifyReply) => unknown;
  logger?: Logger;
}

/** `POST /faxes/:faxId/resend` (a signed-in viewer, the page's form with its CSRF token): resend, then back to the fax page saying what happened. */
export function registerResendPages(scope: FastifyInstance, helpers: ResendPageHelpers): void {
  scope.post<{ Params: { faxId: string }; Body: Record<string, unknown> | undefined }>(
    '/faxes/:faxId/resend',
    { preHandler: helpers.checkCsrf },
    async (request, reply) => {
      const context = await helpers.contextOf(request, reply);
      const back = faxHref(request.params.faxId);
      if (!context.viewer) return reply.code(303).header('cache-control', 'no-store').redirect(back, 303);
      const body = request.body ?? {};
      const requestId = typeof body.requestId === 'string' && REQUEST_ID.test(body.requestId) ? body.requestId : undefined;
      const outcome = await helpers.tracker.requestResend(request.params.faxId, context.viewer.userId, {
        onlyMissingPages: body.onlyMissingPages === '1',
        requestedVia: 'page',
        ...(requestId ? { requestId } : {}),
      });
      if (!outcome.ok) {
        helpers.logger?.info({ faxId: request.params.faxId, refused: outcome.error }, 'resend refused');
        return reply.code(303).header('cache-control', 'no-store').redirect(`${back}?resendRefused=${outcome.error}`, 303);
      }
      if (!outcome.duplicate) helpers.ordered();
      return reply
        .code(303)
        .header('cache-control', 'no-store')
        .redirect(`${back}?resent=${encodeURIComponent(outcome.faxId)}`, 303);
    },
  );
}
