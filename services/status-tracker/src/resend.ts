/**
 * Resend to the failed: a final fax's documents go again, as a new fax, to those of its recipients
 * that did not get every page — a partially_sent recipient only its missing pages when asked. The
 * tracker decides who failed (it is the source of truth of the results), mints the new fax's id,
 * records the link and writes the order to the transmitter (fax.resend.ordered) into its outbox in
 * the same transaction: the order goes out once the request is committed, and only then.
 *
 * Who may: the fax's owner, or an admin of the owner's virtual office. The same request (who asks
 * and their requestId) makes one new fax however often it comes: the page's form, an API client's
 * retry, a redelivered bus message.
 */
import { randomUUID } from 'node:crypto';
import type { FaxResendOrdered, ResendVia } from '@faxnotify/contracts';
import type { Kysely } from 'kysely';
import { faxScopeOf } from './offices/scope';
import type { RecipientRow, ResendRow, TrackerDatabase } from './schema';
import { lockFax } from './tracker-rows';

/** A request id: the characters of the contracts' identifiers. */
export const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface ResendRequest {
  onlyMissingPages: boolean;
  requestedVia: ResendVia;
  /** The idempotency key, per asker; a fresh one is minted when absent (the request is then not repeatable). */
  requestId?: string;
}

export type ResendRecipient = FaxResendOrdered['recipients'][number];

export type ResendOutcome =
  | { ok: true; faxId: string; resendOf: string; recipients: ResendRecipient[]; requestId: string; duplicate: boolean }
  | { ok: false; error: ResendRefusal; message: string };

/**
 * not_found: no such fax, or not one the asker sees; forbidden: a colleague's fax the asker sees but
 * may not resend; not_final: recipients still under way; nothing_failed: every recipient got every
 * page; request_reused: the request id already made a resend of another fax.
 */
export type ResendRefusal = 'not_found' | 'forbidden' | 'not_final' | 'nothing_failed' | 'request_reused';

export interface ResendDependencies {
  db: Kysely<TrackerDatabase>;
  now: () => Date;
  /** Writes the order into the tracker's outbox, in the request's transaction. */
  writeOrder: (trx: Kysely<TrackerDatabase>, order: FaxResendOrdered) => Promise<number>;
}

const refuse = (error: ResendRefusal, message: string): ResendOutcome => ({ ok: false, error, message });

/** The pages a recipient is to get again: its missing ones (counted in the documents' own numbering), its own share, or all. */
export function resendPages(recipient: Pick<RecipientRow, 'status' | 'pages_sent' | 'pages_total' | 'first_page'>, onlyMissingPages: boolean) {
  const first = recipient.first_page ?? 1;
  if (onlyMissingPages && recipient.status === 'partially_sent' && recipient.pages_sent > 0 && recipient.pages_total > recipient.pages_sent)
    return { first: first + recipient.pages_sent, last: first + recipient.pages_total - 1 };
  if (recipient.first_page !== null && recipient.pages_total > 0) return { first, last: first + recipient.pages_total - 1 };
  return undefined;
}

/** Whether `actor` may resend a fax of `ownerId`: the owner, or an admin of the office the owner is a member of. */
export async function mayResend(db: Kysely<TrackerDatabase>, actor: string, ownerId: string): Promise<boolean> {
  if (actor === ownerId) return true;
  const row = await db
    .selectFrom('office_members as admin')
    .innerJoin('office_members as owner', 'owner.office_id', 'admin.office_id')
    .select('admin.office_id')
    .where('admin.user_id', '=', actor)
    .where('admin.role', '=', 'admin')
    .where('owner.user_id', '=', ownerId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether `actor` sees faxes of `ownerId` at all (their own, or their office's as a whole). */
async function sees(db: Kysely<TrackerDatabase>, actor: string, ownerId: string): Promise<boolean> {
  const scope = await faxScopeOf(db, actor);
  if (scope.officeId === null) return actor === ownerId;
  const member = await db
    .selectFrom('office_members')
    .select('user_id')
    .where('office_id', '=', scope.officeId)
    .where('user_id', '=', ownerId)
    .executeTakeFirst();
  return member !== undefined;
}

const outcomeOf = (row: ResendRow, duplicate: boolean): ResendOutcome => ({
  ok: true,
  faxId: row.new_fax_id,
  resendOf: row.fax_id,
  recipients: JSON.parse(row.recipients_json) as ResendRecipient[],
  requestId: row.request_id,
  duplicate,
});

/**
 * Resends fax `faxId` for `actor` to its recipients whose final status is not success, or says
 * clearly why not. Runs in one transaction under the fax's row lock, so two deliveries of one
 * request cannot both make a fax.
 */
export async function requestResend(deps: ResendDependencies, faxId: string, actor: string, request: ResendRequest): Promise<ResendOutcome> {
  const { db } = deps;
  const requestId = request.requestId ?? `resend-${randomUUID()}`;
  const known = await db.selectFrom('faxes').select(['owner_id', 'submitted_at']).where('id', '=', faxId).executeTakeFirst();
  if (!known || known.owner_id === null || known.submitted_at === null || !(await sees(db, actor, known.owner_id))) return refuse('not_found', 'no such fax');
  if (!(await mayResend(db, actor, known.owner_id))) return refuse('forbidden', "only the fax's owner or an admin of their office may resend it");
  return db.transaction().execute(async (trx) => {
    const now = deps.now().toISOString();
    const fax = await lockFax(trx, faxId, now);
    const earlier = await trx.selectFrom('resends').selectAll().where('requested_by', '=', actor).where('request_id', '=', requestId).executeTakeFirst();
    if (earlier) {
      if (earlier.fax_id !== faxId) return refuse('request_reused', `request ${requestId} already resent another fax`);
      return outcomeOf(earlier, true);
    }
    if (fax.state === 'in_progress') return refuse('not_final', 'the fax is still being sent: resend it once every recipient has a final result');
    const failed = (
      await trx.selectFrom('recipients').selectAll().where('fax_id', '=', faxId).where('position', 'is not', null).orderBy('position').execute()
    ).filter((r) => r.final === 1 && r.status !== 'success');
    if (failed.length === 0) return refuse('nothing_failed', 'every recipient got every page: there is nothing to resend');
    const recipients: ResendRecipient[] = failed.map((r) => {
      const pages = resendPages(r, request.onlyMissingPages);
      return { number: r.number, ...(pages ? { pages } : {}) };
    });
    const row: ResendRow = {
      requested_by: actor,
      request_id: requestId,
      fax_id: faxId,
      new_fax_id: `fax-${randomUUID()}`,
      owner_id: fax.owner_id!,
      only_missing_pages: request.onlyMissingPages ? 1 : 0,
      requested_via: request.requestedVia,
      recipients_json: JSON.stringify(recipients),
      created_at: now,
    };
    await trx.insertInto('resends').values(row).execute();
    await deps.writeOrder(trx, {
      faxId: row.new_fax_id,
      resendOf: faxId,
      ownerId: row.owner_id,
      requestId,
      recipients,
      orderedAt: now,
    });
    return outcomeOf(row, false);
  });
}

/** The resends made of a fax, oldest first (its page's "Resent as …"). */
export const resendsOf = (db: Kysely<TrackerDatabase>, faxId: string): Promise<ResendRow[]> =>
  db.selectFrom('resends').selectAll().where('fax_id', '=', faxId).orderBy('created_at').orderBy('new_fax_id').execute();
