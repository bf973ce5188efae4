import { tokenOf, userOf, type createHttpServer } from '@faxnotify/kit';
import type { FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import { authenticateApi, type AuthOptions } from '../auth';
import { isTimeZone } from '../config';
import { DEFAULT_PAGE, MAX_PAGE } from '../folder';
import { faxScopeOf } from '../offices/scope';
import type { TrackerDatabase } from '../schema';
import { registerInboxExport } from '../search/export';
import { parseSearch, searchTimeZone } from '../search/filters';
import { receivedTiff } from './documents';
import { decodeInboxCursor, documentPdf, listReceived, loadDocument, loadReceived, storedPages, type ReceivedSummary } from './store';

type HttpServer = ReturnType<typeof createHttpServer>;

export interface InboxApiOptions {
  db: Kysely<TrackerDatabase>;
  auth: AuthOptions;
}

const parseReason = (text: string | null): { code: string; detail: string } | null => {
  if (text === null) return null;
  try {
    return JSON.parse(text) as { code: string; detail: string };
  } catch {
    return null;
  }
};

export const receivedSummary = (fax: ReceivedSummary) => ({
  id: fax.id,
  owner: fax.owner_id,
  source: fax.source,
  callerNumber: fax.caller_number,
  calledNumber: fax.called_number,
  /** The sender's TSI as sent: untrusted text. */
  remoteCsid: fax.remote_csid,
  status: fax.status,
  reason: parseReason(fax.reason),
  pages: fax.pages,
  startedAt: fax.started_at,
  receivedAt: fax.ended_at,
  read: fax.read_at !== null,
  readAt: fax.read_at,
  /** A provider's file kept as it came (application/pdf or image/tiff); null: pages received on a line. */
  file: fax.file_type,
});

const notFound = (reply: FastifyReply) => reply.code(404).send({ error: 'not_found', message: 'no such received fax' });
const NO_PAGES = 'this received fax has no pages to make a document of';

/**
 * The Inbox's JSON API: the received faxes in the caller's scope (their own; their office's too when
 * they are its admin or it shares its folder, as the Sent folder), one received fax, and its document
 * as a PDF and as a G3 TIFF. Any other fax answers 404, as one that does not exist. Reads take the
 * bearer header or the pages' session cookie.
 */
export function registerInboxApi(app: HttpServer, options: InboxApiOptions): void {
  const { db } = options;
  void app.register(async (scope) => {
    scope.addHook('preHandler', authenticateApi(options.auth));

    scope.get<{ Querystring: Record<string, string | undefined> }>('/v1/received', async (request, reply) => {
      const limit = request.query.limit === undefined ? DEFAULT_PAGE : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
        return reply.code(400).send({ error: 'bad_request', message: `limit must be an integer from 1 to ${MAX_PAGE}` });
      // A search: dates are days in `tz`, else the token's time zone, else UTC (search/filters.ts).
      const token = tokenOf(request);
      const timeZone = searchTimeZone(request.query.tz, token?.tz && isTimeZone(token.tz) ? token.tz : 'UTC');
      if (timeZone === undefined) return reply.code(400).send({ error: 'bad_request', message: 'tz must be an IANA time zone name' });
      const search = parseSearch('inbox', request.query, timeZone);
      if (!search.ok) return reply.code(400).send({ error: 'bad_request', message: search.message });
      const cursor = request.query.cursor === undefined ? undefined : decodeInboxCursor(request.query.cursor);
      if (cursor === null) return reply.code(400).send({ error: 'bad_request', message: 'cursor is not one this API gave out' });
      const { entries, nextCursor } = await listReceived(db, await faxScopeOf(db, userOf(request)), limit, cursor, search.filters);
      return { received: entries.map(receivedSummary), nextCursor };
    });

    registerInboxExport(scope, db);

    scope.get<{ Params: { id: string } }>('/v1/received/:id', async (request, reply) => {
      const record = await loadReceived(db, await faxScopeOf(db, userOf(request)), request.params.id);
      if (!record) return notFound(reply);
      return {
        ...receivedSummary(record.fax),
        pageList: record.pages.map((p) => ({ page: p.page, width: p.width, rows: p.rows, resolution: p.resolution, badRows: p.bad_rows })),
      };
    });

    scope.get<{ Params: { id: string } }>('/v1/received/:id/pdf', async (request, reply) => {
      const document = await loadDocument(db, await faxScopeOf(db, userOf(request)), request.params.id);
      if (!document) return notFound(reply);
      if (!document.fax.file_data && document.pages.length === 0) return reply.code(409).send({ error: 'no_document', message: NO_PAGES });
      const pdf = documentPdf(document.fax, document.pages);
      if (!pdf) return reply.code(409).send({ error: 'no_pdf', message: 'the provider gave this fax as a TIFF only; see /tiff' });
      return sendFile(reply, pdf, 'application/pdf', `${fileBase(document.fax.id)}.pdf`);
    });

    scope.get<{ Params: { id: string } }>('/v1/received/:id/tiff', async (request, reply) => {
      const document = await loadDocument(db, await faxScopeOf(db, userOf(request)), request.params.id);
      if (!document) return notFound(reply);
      if (document.fax.file_data) {
        if (document.fax.file_type !== 'image/tiff')
          return reply.code(409).send({ error: 'no_tiff', message: 'the provider gave this fax as a PDF only; see /pdf' });
        return sendFile(reply, Buffer.from(document.fax.file_data), 'image/tiff', `${fileBase(document.fax.id)}.tif`);
      }
      if (document.pages.length === 0) return reply.code(409).send({ error: 'no_document', message: NO_PAGES });
      return sendFile(reply, receivedTiff(storedPages(document.pages)), 'image/tiff', `${fileBase(document.fax.id)}.tif`);
    });
  });
}

/** A file name from the id: only characters safe in a Content-Disposition header. */
const fileBase = (id: string): string => `fax-${id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}`;

const sendFile = (reply: FastifyReply, body: Buffer, type: string, name: string) =>
  reply.header('cache-control', 'private, no-store').header('content-disposition', `inline; filename="${name}"`).type(type).send(body);
