import { plainText } from '@faxnotify/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { faxScopeOf } from '../offices/scope';
import type { LayoutData, PageName } from '../pages/render';
import type { PageContext } from '../pages/routes';
import { fill } from '../pages/strings';
import type { TrackerDatabase } from '../schema';
import { pageSearch } from '../search/form';
import { pagePng, resolutionOf } from './documents';
import { decodeInboxCursor, listReceived, loadPage, loadReceived, markRead, type ReceivedSummary } from './store';
import { INBOX_STRINGS, type InboxStrings } from './strings';

export interface InboxPagesOptions {
  db: Kysely<TrackerDatabase>;
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
  toSignIn: (request: FastifyRequest, reply: FastifyReply) => unknown;
  now: () => Date;
}

const INBOX_PAGE = 25;
/** Shown at half the fax's 204 dpi: an A4 page 864 pixels wide. */
const SHOWN_WIDTH_RATIO = 0.5;

const statusLabel = (i: InboxStrings, status: string) => i.status[status as keyof InboxStrings['status']] ?? status;
const fromLabel = (fax: ReceivedSummary, i: InboxStrings) => plainText(fax.caller_number, 32) || i.unknownNumber;

/**
 * The Inbox (`GET /inbox`) and one received fax (`GET /inbox/:id`, marking it read), with its pages
 * as PNG images (`GET /inbox/:id/pages/:n.png`) drawn from the received MH data, and links to the
 * API's PDF and TIFF. Signed in only; a fax outside the viewer's scope answers the not-found page.
 */
export function registerInboxPages(scope: FastifyInstance, options: InboxPagesOptions): void {
  const { db, contextOf, send, toSignIn } = options;

  scope.get<{ Querystring: Record<string, string | undefined> }>('/inbox', async (request, reply) => {
    const context = await contextOf(request, reply);
    if (!context.viewer) return toSignIn(request, reply);
    const i = INBOX_STRINGS[context.locale];
    const cursor = request.query.cursor ? (decodeInboxCursor(request.query.cursor) ?? undefined) : undefined;
    // A search (search/form.ts) is kept in the query string, so it is a link; the paging keeps it.
    const search = pageSearch('inbox', request.query, context);
    const { entries, nextCursor } = await listReceived(db, await faxScopeOf(db, context.viewer.userId), INBOX_PAGE, cursor, search.filters);
    const searchQuery = search.query ? `${search.query}&` : '';
    const data = {
      i,
      search: search.form,
      noMatch: search.noMatch,
      entries: entries.map((fax) => ({
        href: `/inbox/${encodeURIComponent(fax.id)}`,
        from: fromLabel(fax, i),
        csid: plainText(fax.remote_csid, 64),
        received: context.time(fax.ended_at),
        receivedIso: fax.ended_at,
        status: fax.status,
        statusLabel: statusLabel(i, fax.status),
        pages: fax.pages,
        read: fax.read_at !== null,
        readLabel: fax.read_at !== null ? i.read : i.unread,
      })),
      olderHref: nextCursor ? `/inbox?${searchQuery}cursor=${encodeURIComponent(nextCursor)}` : '',
      newestHref: search.query ? `/inbox?${search.query}` : '/inbox',
      timesIn: fill(context.t.timesIn, { tz: context.tz }),
    };
    return send(reply, request, context, 'inbox', data, { title: context.t.inboxFolder, inInbox: true });
  });

  scope.get<{ Params: { id: string } }>('/inbox/:id', async (request, reply) => {
    const context = await contextOf(request, reply);
    if (!context.viewer) return toSignIn(request, reply);
    const record = await loadReceived(db, await faxScopeOf(db, context.viewer.userId), request.params.id);
    if (!record) return send(reply, request, context, 'not-found', {}, { title: context.t.notFoundTitle }, 404);
    const { fax, pages } = record;
    await markRead(db, fax.id, options.now());
    const i = INBOX_STRINGS[context.locale];
    const base = `/inbox/${encodeURIComponent(fax.id)}`;
    const api = `/v1/received/${encodeURIComponent(fax.id)}`;
    const hasPages = pages.length > 0;
    const reason = (() => {
      try {
        return fax.reason ? plainText((JSON.parse(fax.reason) as { detail?: string }).detail, 200) : '';
      } catch {
        return '';
      }
    })();
    const data = {
      i,
      from: fromLabel(fax, i),
      csid: plainText(fax.remote_csid, 64),
      status: fax.status,
      statusLabel: statusLabel(i, fax.status),
      reason,
      received: context.time(fax.ended_at),
      receivedIso: fax.ended_at,
      called: plainText(fax.called_number, 32),
      pageCount: fax.pages,
      pdfHref: hasPages || fax.file_type === 'application/pdf' ? `${api}/pdf` : '',
      tiffHref: hasPages || fax.file_type === 'image/tiff' ? `${api}/tiff` : '',
      noPages: fax.file_type ? i.providerFile : i.noPages,
      pages: pages.map((p) => {
        const caption = fill(i.pageCaption, { n: p.page, total: pages.length });
        const scaleY = resolutionOf(p.resolution) === 'fine' ? 204 / 196 : 204 / 98;
        return {
          src: `${base}/pages/${p.page}.png`,
          alt: caption,
          caption,
          width: Math.round(p.width * SHOWN_WIDTH_RATIO),
          height: Math.max(1, Math.round(Math.max(p.rows, 1) * scaleY * SHOWN_WIDTH_RATIO)),
        };
      }),
    };
    return send(reply, request, context, 'received', data, { title: `${data.from}`, inInbox: true });
  });

  scope.get<{ Params: { id: string; page: string } }>('/inbox/:id/pages/:page', async (request, reply) => {
    const context = await contextOf(request, reply);
    if (!context.viewer) return reply.code(401).send();
    const match = /^(\d{1,3})\.png$/.exec(request.params.page);
    const page = match ? await loadPage(db, await faxScopeOf(db, context.viewer.userId), request.params.id, Number(match[1])) : undefined;
    if (!page) return reply.code(404).type('text/plain; charset=utf-8').send('no such page');
    const { png } = pagePng({ width: page.width, rows: page.rows, resolution: resolutionOf(page.resolution), data: Buffer.from(page.data) });
    return reply.header('cache-control', 'private, no-store').type('image/png').send(png);
  });
}
