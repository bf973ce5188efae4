import { plainText, tokenOf, userOf } from '@faxnotify/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { isTimeZone } from '../config';
import { CATEGORIES, decodeCursor, listFaxes, type Category, type FolderQuery } from '../folder';
import { decodeInboxCursor, listReceived, type ReceivedSummary } from '../inbox/store';
import { faxScopeOf, type FaxScope } from '../offices/scope';
import { pickLocale } from '../pages/strings';
import type { RecipientRow, TrackerDatabase } from '../schema';
import { CSV_TYPE, inboxCsv, sentCsv, type SentExportFax } from './csv';
import { parseSearch, searchTimeZone, type SearchFilters, type SearchKind } from './filters';

/** The most faxes one export holds (the newest that match); a narrower search reaches older ones. */
export const MAX_EXPORT = 5000;
const BATCH = 200;

/** Every fax of the Sent folder that the query finds (up to `max`), newest first, with its listed recipients. */
export async function sentExport(db: Kysely<TrackerDatabase>, query: Omit<FolderQuery, 'limit' | 'cursor'>, max = MAX_EXPORT): Promise<SentExportFax[]> {
  const faxes: SentExportFax[] = [];
  let cursor: FolderQuery['cursor'];
  while (faxes.length < max) {
    const { entries, nextCursor } = await listFaxes(db, { ...query, limit: Math.min(BATCH, max - faxes.length), cursor });
    if (entries.length === 0) break;
    const rows = await db
      .selectFrom('recipients')
      .selectAll()
      .where(
        'fax_id',
        'in',
        entries.map((e) => e.fax.id),
      )
      .where('position', 'is not', null)
      .orderBy('fax_id')
      .orderBy('position')
      .execute();
    const byFax = new Map<string, RecipientRow[]>();
    for (const row of rows) byFax.set(row.fax_id, [...(byFax.get(row.fax_id) ?? []), row]);
    for (const { fax, sender } of entries) faxes.push({ fax, sentBy: plainText(sender.name, 100) || sender.userId, recipients: byFax.get(fax.id) ?? [] });
    if (!nextCursor) break;
    cursor = decodeCursor(nextCursor) ?? undefined;
  }
  return faxes;
}

/** Every received fax the search finds in the viewer's scope (up to `max`), newest first. */
export async function inboxExport(
  db: Kysely<TrackerDatabase>,
  viewer: string | FaxScope,
  filters: SearchFilters,
  max = MAX_EXPORT,
): Promise<ReceivedSummary[]> {
  const faxes: ReceivedSummary[] = [];
  let cursor: { endedAt: string; id: string } | undefined;
  while (faxes.length < max) {
    const { entries, nextCursor } = await listReceived(db, viewer, Math.min(BATCH, max - faxes.length), cursor, filters);
    faxes.push(...entries);
    if (!nextCursor) break;
    cursor = decodeInboxCursor(nextCursor) ?? undefined;
  }
  return faxes;
}

interface ExportQuery {
  lang?: string;
  tz?: string;
  category?: string;
  [filter: string]: unknown;
}

const badRequest = (reply: FastifyReply, message: string) => reply.code(400).send({ error: 'bad_request', message });

/** The export's language and time zone: `lang` and `tz` when given, else the token's claims, else the browser's language and UTC. */
function exportSettings(kind: SearchKind, request: FastifyRequest<{ Querystring: ExportQuery }>) {
  const token = tokenOf(request);
  const locale = pickLocale({ query: request.query.lang, claim: token?.locale, acceptLanguage: request.headers['accept-language'] });
  const timeZone = searchTimeZone(request.query.tz, token?.tz && isTimeZone(token.tz) ? token.tz : 'UTC');
  if (timeZone === undefined) return { ok: false as const, message: 'tz must be an IANA time zone name' };
  const search = parseSearch(kind, request.query, timeZone);
  if (!search.ok) return search;
  return { ok: true as const, locale, timeZone, filters: search.filters };
}

const sendCsv = (reply: FastifyReply, name: string, body: string) =>
  reply.header('cache-control', 'private, no-store').header('content-disposition', `attachment; filename="${name}"`).type(CSV_TYPE).send(body);

const today = () => new Date().toISOString().slice(0, 10);

/**
 * `GET /v1/faxes.csv`: the Sent folder as the same search shows it (filters, category), one row per
 * recipient. Registered in the fax API's authenticated scope, so the caller sees their scope only.
 */
export function registerSentExport(scope: FastifyInstance, db: Kysely<TrackerDatabase>): void {
  scope.get<{ Querystring: ExportQuery }>('/v1/faxes.csv', async (request, reply) => {
    const settings = exportSettings('sent', request);
    if (!settings.ok) return badRequest(reply, settings.message);
    const { category } = request.query;
    if (category !== undefined && category !== '' && !(CATEGORIES as readonly string[]).includes(category))
      return badRequest(reply, `category must be one of ${CATEGORIES.join(', ')}`);
    const owner = await faxScopeOf(db, userOf(request));
    const faxes = await sentExport(db, { owner, filters: settings.filters, category: (category || undefined) as Category | undefined });
    return sendCsv(reply, `faxes-${today()}.csv`, sentCsv(faxes, settings.locale, settings.timeZone));
  });
}

/** `GET /v1/received.csv`: the Inbox as the same search shows it, one row per received fax. */
export function registerInboxExport(scope: FastifyInstance, db: Kysely<TrackerDatabase>): void {
  scope.get<{ Querystring: ExportQuery }>('/v1/received.csv', async (request, reply) => {
    const settings = exportSettings('inbox', request);
    if (!settings.ok) return badRequest(reply, settings.message);
    const faxes = await inboxExport(db, await faxScopeOf(db, userOf(request)), settings.filters);
    return sendCsv(reply, `inbox-${today()}.csv`, inboxCsv(faxes, settings.locale, settings.timeZone));
  });
}
