import { expressionBuilder, type ExpressionBuilder, type Kysely } from 'kysely';
import type { OfficeMemberRow, TrackerDatabase } from '../schema';

/**
 * Whose faxes a user sees in the Sent folder, on a fax page, in the API and in a live stream.
 *
 * Everyone sees their own faxes. A member of a virtual office sees every member's faxes too when
 * they are one of its admins, or when the office shares its Sent folder (`share_sent`); otherwise
 * only their own. A user who left the office (or whose office was deleted) is back to their own,
 * and the office no longer sees theirs. A fax outside the scope is answered exactly like one that
 * does not exist.
 */
export interface FaxScope {
  userId: string;
  /** The office whose members' faxes the user sees; null: their own faxes only. */
  officeId: string | null;
}

export const OFFICE_ROLES = ['member', 'admin'] as const;
export type OfficeRole = (typeof OFFICE_ROLES)[number];

/** Only the user's own faxes (what a user outside any office sees). */
export const ownScope = (userId: string): FaxScope => ({ userId, officeId: null });

/** The user's office membership, if any. */
export const membershipOf = (db: Kysely<TrackerDatabase>, userId: string): Promise<OfficeMemberRow | undefined> =>
  db.selectFrom('office_members').selectAll().where('user_id', '=', userId).executeTakeFirst();

/** The scope of what the user sees, read from their membership and their office's setting now. */
export async function faxScopeOf(db: Kysely<TrackerDatabase>, userId: string): Promise<FaxScope> {
  const row = await db
    .selectFrom('office_members')
    .innerJoin('offices', 'offices.id', 'office_members.office_id')
    .select(['office_members.office_id', 'office_members.role', 'offices.share_sent'])
    .where('office_members.user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return ownScope(userId);
  return { userId, officeId: row.role === 'admin' || row.share_sent === 1 ? row.office_id : null };
}

/** A viewer given as a user id alone sees only their own faxes. */
export const scopeOf = (viewer: string | FaxScope): FaxScope => (typeof viewer === 'string' ? ownScope(viewer) : viewer);

/**
 * The condition on `faxes.owner_id` for a scope: the user's own, or any member's of the office the
 * user may see as a whole. Membership, role and `share_sent` are read again in the same statement,
 * so a scope taken earlier (a live stream's) never outlasts a removal, a demotion or a switch.
 */
export function ownerInScope(eb: ExpressionBuilder<TrackerDatabase, 'faxes'>, scope: FaxScope) {
  const own = eb('faxes.owner_id', '=', scope.userId);
  if (scope.officeId === null) return own;
  return eb.or([own, eb('faxes.owner_id', 'in', colleaguesSeen(scope.userId, scope.officeId))]);
}

/** The same scope on the Inbox: `received_faxes.owner_id` the user's own, or an office member's they may see. */
export function receivedOwnerInScope(eb: ExpressionBuilder<TrackerDatabase, 'received_faxes'>, scope: FaxScope) {
  const own = eb('received_faxes.owner_id', '=', scope.userId);
  if (scope.officeId === null) return own;
  return eb.or([own, eb('received_faxes.owner_id', 'in', colleaguesSeen(scope.userId, scope.officeId))]);
}

/** The members of the office the scope sees as a whole, read again in the statement that uses them. */
function colleaguesSeen(userId: string, officeId: string) {
  const eb = expressionBuilder<TrackerDatabase, never>();
  const seen = eb
    .selectFrom('office_members as viewer')
    .innerJoin('offices', 'offices.id', 'viewer.office_id')
    .select('viewer.office_id')
    .where('viewer.user_id', '=', userId)
    .where('viewer.office_id', '=', officeId)
    .where((w) => w.or([w('viewer.role', '=', 'admin'), w('offices.share_sent', '=', 1)]));
  return eb.selectFrom('office_members as colleague').select('colleague.user_id').where('colleague.office_id', 'in', seen);
}

/** The display names the office's members have, by user id (those without one are left out). */
export async function displayNames(db: Kysely<TrackerDatabase>, scope: FaxScope, owners: string[]): Promise<Map<string, string>> {
  if (scope.officeId === null || owners.length === 0) return new Map();
  const rows = await db
    .selectFrom('office_members')
    .select(['user_id', 'display_name'])
    .where('office_id', '=', scope.officeId)
    .where('user_id', 'in', [...new Set(owners)])
    .where('display_name', 'is not', null)
    .execute();
  return new Map(rows.map((r) => [r.user_id, r.display_name!]));
}
