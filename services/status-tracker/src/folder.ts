import type { Kysely } from 'kysely';
import { displayNames, ownerInScope, scopeOf, type FaxScope } from './offices/scope';
import { sentConditions, type SearchFilters } from './search/filters';
import type { FaxRow, NoticeRow, RecipientEventRow, RecipientRow, TrackerDatabase, WebhookAttemptRow, WebhookDeliveryRow } from './schema';

/**
 * The Sent folder as the API and the pages read it. Every query takes the viewer: a user id (their
 * own faxes) or the scope of a virtual office member (see offices/scope.ts); a fax outside it is
 * answered exactly like one that does not exist.
 */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;
export const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Fax.Plus's folder names: `outbox` holds the faxes still in progress, `sent` the finished ones. */
export const CATEGORIES = ['sent', 'outbox'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Opaque list position: the last row's (submitted_at, id), so paging is stable while new faxes arrive. */
export const encodeCursor = (fax: Pick<FaxRow, 'submitted_at' | 'id'>) => Buffer.from(JSON.stringify([fax.submitted_at, fax.id])).toString('base64url');
export function decodeCursor(cursor: string): { submittedAt: string; id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string')
      return { submittedAt: value[0], id: value[1] };
  } catch {
    /* answered as a bad request by the caller */
  }
  return null;
}

export interface FolderQuery {
  /** Whose faxes: a user id (their own), or a viewer's scope (their office's too, when they may see them). */
  owner: string | FaxScope;
  limit: number;
  cursor?: { submittedAt: string; id: string };
  state?: string;
  category?: Category;
  /** A search (search/filters.ts): only the faxes that match every filter given. */
  filters?: SearchFilters;
}

/** Who sent a fax: its owner, with the display name their office membership gives them (null: none). */
export interface Sender {
  userId: string;
  name: string | null;
}

export interface FolderEntry {
  fax: FaxRow;
  recipients: { total: number; final: number; numbers: string[] };
  sender: Sender;
}

const senderOf = (fax: FaxRow, names: Map<string, string>): Sender => ({ userId: fax.owner_id ?? '', name: names.get(fax.owner_id ?? '') ?? null });

/** One page of the faxes in the viewer's scope, newest first. */
export async function listFaxes(db: Kysely<TrackerDatabase>, query: FolderQuery): Promise<{ entries: FolderEntry[]; nextCursor: string | null }> {
  const scope = scopeOf(query.owner);
  let select = db
    .selectFrom('faxes')
    .selectAll()
    .where((eb) => ownerInScope(eb, scope))
    .where('submitted_at', 'is not', null);
  if (query.state !== undefined) select = select.where('state', '=', query.state);
  if (query.category === 'outbox') select = select.where('state', '=', 'in_progress');
  if (query.category === 'sent') select = select.where('state', '<>', 'in_progress');
  const filters = query.filters;
  if (filters) select = select.where((eb) => sentConditions(eb, filters));
  const cursor = query.cursor;
  if (cursor) {
    select = select.where((eb) =>
      eb.or([eb('submitted_at', '<', cursor.submittedAt), eb.and([eb('submitted_at', '=', cursor.submittedAt), eb('id', '<', cursor.id)])]),
    );
  }
  const rows = await select
    .orderBy('submitted_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const recipients = new Map<string, FolderEntry['recipients']>();
  if (page.length > 0) {
    const listed = await db
      .selectFrom('recipients')
      .select(['fax_id', 'number', 'final', 'position'])
      .where(
        'fax_id',
        'in',
        page.map((f) => f.id),
      )
      .where('position', 'is not', null)
      .orderBy('fax_id')
      .orderBy('position')
      .execute();
    for (const r of listed) {
      const tally = recipients.get(r.fax_id) ?? { total: 0, final: 0, numbers: [] };
      tally.total += 1;
      tally.final += r.final;
      tally.numbers.push(r.number);
      recipients.set(r.fax_id, tally);
    }
  }
  const names = await displayNames(
    db,
    scope,
    page.map((f) => f.owner_id ?? ''),
  );
  return {
    entries: page.map((fax) => ({ fax, recipients: recipients.get(fax.id) ?? { total: 0, final: 0, numbers: [] }, sender: senderOf(fax, names) })),
    nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]) : null,
  };
}

export interface WebhookDeliveryWithAttempts extends WebhookDeliveryRow {
  log: WebhookAttemptRow[];
}

export interface FaxRecord {
  fax: FaxRow;
  sender: Sender;
  /** Whether the viewer is the fax's owner (else an office colleague: the owner's notice addresses and webhook are not shown). */
  own: boolean;
  /** Listed recipients in the submission's order, then any the submission did not name. */
  recipients: RecipientRow[];
  history: RecipientEventRow[];
  notices: NoticeRow[];
  webhooks: WebhookDeliveryWithAttempts[];
}

/** One fax in the viewer's scope with everything the fax page shows, or undefined (not in it, or not there). */
export async function loadFax(db: Kysely<TrackerDatabase>, owner: string | FaxScope, faxId: string): Promise<FaxRecord | undefined> {
  if (!ID_PATTERN.test(faxId)) return undefined;
  const scope = scopeOf(owner);
  const fax = await db
    .selectFrom('faxes')
    .selectAll()
    .where('id', '=', faxId)
    .where((eb) => ownerInScope(eb, scope))
    .where('submitted_at', 'is not', null)
    .executeTakeFirst();
  if (!fax) return undefined;
  const own = fax.owner_id === scope.userId;
  const [recipients, history, notices, deliveries, attempts, names] = await Promise.all([
    db.selectFrom('recipients').selectAll().where('fax_id', '=', faxId).execute(),
    db.selectFrom('recipient_events').selectAll().where('fax_id', '=', faxId).orderBy('attempt').orderBy('sequence').orderBy('received_at').execute(),
    db.selectFrom('notices').selectAll().where('fax_id', '=', faxId).orderBy('channel').execute(),
    // The webhook is the owner's own set-up: a colleague sees none of its deliveries.
    db.selectFrom('webhook_deliveries').selectAll().where('fax_id', '=', faxId).where('owner_id', '=', scope.userId).orderBy('created_at').execute(),
    db.selectFrom('webhook_attempts').selectAll().where('fax_id', '=', faxId).orderBy('attempt').execute(),
    displayNames(db, scope, [fax.owner_id ?? '']),
  ]);
  recipients.sort((a, b) => (a.position ?? Number.MAX_SAFE_INTEGER) - (b.position ?? Number.MAX_SAFE_INTEGER) || a.recipient_id.localeCompare(b.recipient_id));
  return {
    fax,
    sender: senderOf(fax, names),
    own,
    recipients,
    history,
    // Where the owner's notices went (their email, phone, Jabber address) stays the owner's.
    notices: own ? notices : notices.map((n) => ({ ...n, address: null })),
    webhooks: deliveries.map((d) => ({ ...d, log: attempts.filter((a) => a.delivery_id === d.id) })),
  };
}

/**
 * A cheap fingerprint of everything the fax page shows, for the live-update stream: it changes
 * whenever an event, a notice outcome or a webhook attempt is recorded.
 */
export async function faxVersion(
  db: Kysely<TrackerDatabase>,
  owner: string | FaxScope,
  faxId: string,
): Promise<{ version: string; state: string; finalAt: string | null } | undefined> {
  const scope = scopeOf(owner);
  const fax = await db
    .selectFrom('faxes')
    .select(['updated_at', 'state', 'final_at'])
    .where('id', '=', faxId)
    .where((eb) => ownerInScope(eb, scope))
    .where('submitted_at', 'is not', null)
    .executeTakeFirst();
  if (!fax) return undefined;
  const [notices, hooks] = await Promise.all([
    db
      .selectFrom('notices')
      .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.max('received_at').as('latest')])
      .where('fax_id', '=', faxId)
      .executeTakeFirst(),
    db
      .selectFrom('webhook_deliveries')
      .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.max('updated_at').as('latest')])
      .where('fax_id', '=', faxId)
      .executeTakeFirst(),
  ]);
  return {
    version: [fax.updated_at, fax.state, notices?.n, notices?.latest, hooks?.n, hooks?.latest].join('|'),
    state: fax.state,
    finalAt: fax.final_at,
  };
}
