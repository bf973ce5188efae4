import { createHash } from 'node:crypto';
import { createEvent, type CloudEvent, type DeliveryFaxReceived } from '@faxnotify/contracts';
import { PermanentError, errorMessage } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { receivedOwnerInScope, scopeOf, type FaxScope } from '../offices/scope';
import type { ReceivedFaxRow, ReceivedPageRow, TrackerDatabase } from '../schema';
import { inboxConditions, type SearchFilters } from '../search/filters';
import { TRACKER_SOURCE, outboxEventId, type HandleOutcome } from '../tracker';
import { receivedPdf, resolutionOf, type StoredPage } from './documents';

export interface InboxOptions {
  db: Kysely<TrackerDatabase>;
  /** The received fax's page; `{receivedId}` is replaced. */
  urlTemplate: string;
  /** The largest PDF a delivery.fax.received carries; a larger one goes as the link alone. */
  attachMaxBytes: number;
  now?: () => Date;
}

const iso = (time: string): string => new Date(time).toISOString();
export const inboxLink = (template: string, receivedId: string): string => template.replaceAll('{receivedId}', encodeURIComponent(receivedId));
/** The outbox's fax column is 128 characters; a longer received id goes in as its hash. */
const outboxFaxId = (receivedId: string): string => (receivedId.length <= 128 ? receivedId : createHash('sha256').update(receivedId).digest('hex'));

export const storedPages = (rows: readonly ReceivedPageRow[]): StoredPage[] =>
  rows.map((p) => ({ width: p.width, rows: p.rows, resolution: resolutionOf(p.resolution), data: Buffer.from(p.data) }));

/** The fax's document as a PDF: built from the pages, or a provider's PDF as it came; null for a provider's TIFF. */
export function documentPdf(fax: Pick<ReceivedFaxRow, 'file_type' | 'file_data'>, pages: readonly ReceivedPageRow[]): Buffer | null {
  if (fax.file_data) return fax.file_type === 'application/pdf' ? Buffer.from(fax.file_data) : null;
  return receivedPdf(storedPages(pages));
}

/**
 * Records a `fax.received` in the Inbox and, in the same transaction, the `delivery.fax.received`
 * for the notices in the outbox (with the PDF when it fits `attachMaxBytes`). The receivedId is the
 * key: the same fax reported again changes nothing and writes nothing.
 */
export async function recordReceived(options: InboxOptions, event: CloudEvent<'fax.received'>): Promise<HandleOutcome> {
  const data = event.data;
  const now = (options.now ?? (() => new Date()))();
  if (data.file && data.pages.length > 0) throw new PermanentError(`received fax ${data.receivedId} has both pages and a file`);
  return options.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('received_faxes')
      .values({
        id: data.receivedId,
        owner_id: data.ownerId,
        source: data.source,
        line_id: data.lineId,
        caller_number: data.callerNumber,
        called_number: data.calledNumber,
        remote_csid: data.remoteCsid,
        status: data.status,
        reason: data.reason ? JSON.stringify(data.reason) : null,
        pages: data.pagesReceived,
        started_at: iso(data.startedAt),
        ended_at: iso(data.endedAt),
        file_type: data.file?.contentType ?? null,
        file_data: data.file ? Buffer.from(data.file.data, 'base64') : null,
        read_at: null,
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
      const known = await trx.selectFrom('received_faxes').select('owner_id').where('id', '=', data.receivedId).executeTakeFirst();
      if (known && known.owner_id !== data.ownerId) throw new PermanentError(`received fax ${data.receivedId} was already recorded for another owner`);
      return { duplicate: true, stale: false, outboxRows: 0 };
    }
    const pages: ReceivedPageRow[] = data.pages.map((page, index) => ({
      fax_id: data.receivedId,
      page: index + 1,
      width: page.width,
      rows: page.rows,
      resolution: page.resolution,
      bad_rows: page.badRows,
      data: Buffer.from(page.data, 'base64'),
    }));
    for (const page of pages) await trx.insertInto('received_pages').values(page).execute();
    const file = data.file ? { file_type: data.file.contentType, file_data: Buffer.from(data.file.data, 'base64') } : { file_type: null, file_data: null };
    const pdf = file.file_data || pages.length > 0 ? documentPdf(file, pages) : null;
    const notice: DeliveryFaxReceived = {
      receivedId: data.receivedId,
      ownerId: data.ownerId,
      callerNumber: data.callerNumber,
      calledNumber: data.calledNumber,
      remoteCsid: data.remoteCsid,
      status: data.status,
      reason: data.reason,
      pagesReceived: data.pagesReceived,
      startedAt: iso(data.startedAt),
      receivedAt: iso(data.endedAt),
      links: { fax: inboxLink(options.urlTemplate, data.receivedId) },
      ...(pdf && pdf.length <= options.attachMaxBytes
        ? { document: { fileName: 'fax.pdf', contentType: 'application/pdf' as const, sizeBytes: pdf.length, data: pdf.toString('base64') } }
        : {}),
    };
    const dedupeKey = `delivery.fax.received:${data.receivedId}`;
    const id = outboxEventId(dedupeKey);
    let published: CloudEvent<'delivery.fax.received'>;
    try {
      published = createEvent('delivery.fax.received', notice, { source: TRACKER_SOURCE, id, subject: `received/${data.receivedId}`, time: now });
    } catch (error) {
      throw new PermanentError(`could not build delivery.fax.received for ${data.receivedId}: ${errorMessage(error)}`, 'invalid-output', { cause: error });
    }
    const written = await trx
      .insertInto('outbox')
      .values({
        id,
        dedupe_key: dedupeKey,
        routing_key: 'delivery.fax.received',
        fax_id: outboxFaxId(data.receivedId),
        recipient_id: null,
        event_json: JSON.stringify(published),
        created_at: now.toISOString(),
        published_at: null,
        publish_attempts: 0,
        last_error: null,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return { duplicate: false, stale: false, outboxRows: Number(written.numInsertedOrUpdatedRows ?? 0n) };
  });
}

export type ReceivedSummary = Omit<ReceivedFaxRow, 'file_data'>;
const SUMMARY = [
  'id',
  'owner_id',
  'source',
  'line_id',
  'caller_number',
  'called_number',
  'remote_csid',
  'status',
  'reason',
  'pages',
  'started_at',
  'ended_at',
  'file_type',
  'read_at',
  'created_at',
] as const;

export const encodeInboxCursor = (fax: Pick<ReceivedSummary, 'ended_at' | 'id'>) => Buffer.from(JSON.stringify([fax.ended_at, fax.id])).toString('base64url');
export function decodeInboxCursor(cursor: string): { endedAt: string; id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { endedAt: value[0], id: value[1] };
  } catch {
    /* a bad request for the caller */
  }
  return null;
}

/** One page of the Inbox in the viewer's scope, newest first; with filters, only the faxes that match them all. */
export async function listReceived(
  db: Kysely<TrackerDatabase>,
  viewer: string | FaxScope,
  limit: number,
  cursor?: { endedAt: string; id: string },
  filters?: SearchFilters,
): Promise<{ entries: ReceivedSummary[]; nextCursor: string | null }> {
  const scope = scopeOf(viewer);
  let select = db
    .selectFrom('received_faxes')
    .select(SUMMARY)
    .where((eb) => receivedOwnerInScope(eb, scope));
  if (filters) select = select.where((eb) => inboxConditions(eb, filters));
  if (cursor)
    select = select.where((eb) => eb.or([eb('ended_at', '<', cursor.endedAt), eb.and([eb('ended_at', '=', cursor.endedAt), eb('id', '<', cursor.id)])]));
  const rows = await select
    .orderBy('ended_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const entries = rows.slice(0, limit);
  return { entries, nextCursor: rows.length > limit ? encodeInboxCursor(entries[entries.length - 1]) : null };
}

export const RECEIVED_ID = /^[A-Za-z0-9._:@-]{1,200}$/;

/** A received fax in the viewer's scope with its pages' sizes (not their data), or undefined (not in it, or not there). */
export async function loadReceived(
  db: Kysely<TrackerDatabase>,
  viewer: string | FaxScope,
  id: string,
): Promise<{ fax: ReceivedSummary; pages: Array<Omit<ReceivedPageRow, 'data'>> } | undefined> {
  if (!RECEIVED_ID.test(id)) return undefined;
  const scope = scopeOf(viewer);
  const fax = await db
    .selectFrom('received_faxes')
    .select(SUMMARY)
    .where('id', '=', id)
    .where((eb) => receivedOwnerInScope(eb, scope))
    .executeTakeFirst();
  if (!fax) return undefined;
  const pages = await db
    .selectFrom('received_pages')
    .select(['fax_id', 'page', 'width', 'rows', 'resolution', 'bad_rows'])
    .where('fax_id', '=', id)
    .orderBy('page')
    .execute();
  return { fax, pages };
}

/** The fax's stored document: its pages with their data and a provider's file, in the viewer's scope. */
export async function loadDocument(
  db: Kysely<TrackerDatabase>,
  viewer: string | FaxScope,
  id: string,
): Promise<{ fax: Pick<ReceivedFaxRow, 'id' | 'file_type' | 'file_data'>; pages: ReceivedPageRow[] } | undefined> {
  if (!RECEIVED_ID.test(id)) return undefined;
  const scope = scopeOf(viewer);
  const fax = await db
    .selectFrom('received_faxes')
    .select(['id', 'file_type', 'file_data'])
    .where('id', '=', id)
    .where((eb) => receivedOwnerInScope(eb, scope))
    .executeTakeFirst();
  if (!fax) return undefined;
  const pages = await db.selectFrom('received_pages').selectAll().where('fax_id', '=', id).orderBy('page').execute();
  return { fax, pages };
}

/** One page of a received fax in the viewer's scope, with its data, or undefined. */
export async function loadPage(db: Kysely<TrackerDatabase>, viewer: string | FaxScope, id: string, page: number): Promise<ReceivedPageRow | undefined> {
  if (!RECEIVED_ID.test(id)) return undefined;
  const scope = scopeOf(viewer);
  return db
    .selectFrom('received_pages')
    .selectAll()
    .where('fax_id', '=', id)
    .where('page', '=', page)
    .where('fax_id', 'in', (eb) =>
      eb
        .selectFrom('received_faxes')
        .select('id')
        .where('id', '=', id)
        .where((w) => receivedOwnerInScope(w, scope)),
    )
    .executeTakeFirst();
}

/** Marks a fax read the first time someone in scope opens it. */
export async function markRead(db: Kysely<TrackerDatabase>, id: string, now: Date): Promise<void> {
  await db.updateTable('received_faxes').set({ read_at: now.toISOString() }).where('id', '=', id).where('read_at', 'is', null).execute();
}

/** Deletes the received faxes recorded before the cutoff, their pages first; returns how many. */
export async function pruneReceived(db: Kysely<TrackerDatabase>, before: Date): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const old = trx.selectFrom('received_faxes').select('id').where('created_at', '<', before.toISOString());
    await trx.deleteFrom('received_pages').where('fax_id', 'in', old).execute();
    const result = await trx.deleteFrom('received_faxes').where('created_at', '<', before.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}
