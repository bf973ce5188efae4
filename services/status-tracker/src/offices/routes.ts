import { randomBytes } from 'node:crypto';
import { plainText, userOf, type createHttpServer } from '@faxnotify/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { authenticateApi, type AuthOptions } from '../auth';
import { USER_ID } from '../config';
import type { OfficeMemberRow, OfficeRow, TrackerDatabase } from '../schema';
import { OFFICE_ROLES, membershipOf, type OfficeRole } from './scope';

type HttpServer = ReturnType<typeof createHttpServer>;

export interface OfficeRoutesOptions {
  db: Kysely<TrackerDatabase>;
  auth: AuthOptions;
  /** Users who create, rename and delete offices and set their members and roles (offices.adminUsers). */
  adminUsers: readonly string[];
  now?: () => Date;
}

const NAME_MAX = 200;
const DISPLAY_NAME_MAX = 100;

const officeView = (row: OfficeRow) => ({
  id: row.id,
  name: row.name,
  /** Whether every member sees every member's faxes (office admins always do). */
  shareSent: row.share_sent === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const memberView = (row: OfficeMemberRow) => ({
  userId: row.user_id,
  role: row.role as OfficeRole,
  displayName: row.display_name,
  addedAt: row.created_at,
  updatedAt: row.updated_at,
});

/** The JSON answers of the offices API, as a client reads them. */
export type OfficeView = ReturnType<typeof officeView>;
export type OfficeMemberView = ReturnType<typeof memberView>;
export interface OfficeWithMembersView extends OfficeView {
  members: OfficeMemberView[];
}
export interface OfficeListView {
  /** Every office for a service admin; for anyone else, the office they belong to (with their role), if any. */
  offices: Array<OfficeView & { role?: OfficeRole }>;
}

/** A refused request's answer: 400 for what the body or path gets wrong, 403 for what the caller may not do, 404, 409. */
class Refusal {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    readonly message: string,
  ) {}
}
const ERROR_CODES = { 400: 'bad_request', 403: 'forbidden', 404: 'not_found', 409: 'conflict' } as const;
const refuse = (reply: FastifyReply, refusal: Refusal) => reply.code(refusal.status).send({ error: ERROR_CODES[refusal.status], message: refusal.message });

/** The fields a body may have; anything else, or a body that is not a JSON object, is a 400 naming it. */
function bodyOf(request: FastifyRequest, allowed: readonly string[]): Record<string, unknown> | Refusal {
  const body = request.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) return new Refusal(400, 'the body must be a JSON object');
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown !== undefined) return new Refusal(400, `unknown field ${JSON.stringify(unknown)}; allowed: ${allowed.join(', ')}`);
  return body as Record<string, unknown>;
}

/** A name as stored: control characters and runs of spaces folded to one space; empty or too long is refused. */
function textOf(value: unknown, field: string, max: number): string | Refusal {
  const text = typeof value === 'string' ? plainText(value, 10_000) : '';
  if (text === '' || [...text].length > max) return new Refusal(400, `${field} must be a non-empty text of at most ${max} characters`);
  return text;
}
const nameOf = (value: unknown) => textOf(value, 'name', NAME_MAX);
const displayNameOf = (value: unknown) => (value === null ? null : textOf(value, 'displayName (or null)', DISPLAY_NAME_MAX));

/**
 * Virtual offices over the JSON API (bearer token; reads also take the pages' session cookie).
 * Service admins (offices.adminUsers) create, rename and delete offices and set members and their
 * roles. An office's admins list, add and remove its members (role `member` only: roles are the
 * service admins') and switch `shareSent`. Anyone else gets 403, also for an office that does not
 * exist (a 404 there is only for service admins), so office ids cannot be probed.
 */
export function registerOfficeApi(app: HttpServer, options: OfficeRoutesOptions): void {
  const { db } = options;
  const now = () => (options.now ?? (() => new Date()))().toISOString();
  const serviceAdmins = new Set(options.adminUsers);
  const isServiceAdmin = (request: FastifyRequest) => serviceAdmins.has(userOf(request));
  const officeById = (id: string) => db.selectFrom('offices').selectAll().where('id', '=', id).executeTakeFirst();

  /** Who the caller is to the office in the path: a service admin, the office's admin, or nobody allowed (403). */
  async function access(request: FastifyRequest<{ Params: { officeId: string } }>, what: string): Promise<'service' | 'office' | Refusal> {
    if (isServiceAdmin(request)) return (await officeById(request.params.officeId)) ? 'service' : new Refusal(404, 'no such office');
    const membership = await membershipOf(db, userOf(request));
    if (membership?.office_id === request.params.officeId && membership.role === 'admin') return 'office';
    return new Refusal(403, `only service admins (offices.adminUsers) and the office's admins ${what}`);
  }
  const serviceOnly = (what: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isServiceAdmin(request)) return refuse(reply, new Refusal(403, `only service admins (offices.adminUsers) ${what}`));
  };

  void app.register(async (scope) => {
    scope.addHook('preHandler', authenticateApi(options.auth));

    scope.get('/v1/offices', async (request) => {
      if (isServiceAdmin(request)) {
        const rows = await db.selectFrom('offices').selectAll().orderBy('name').orderBy('id').execute();
        return { offices: rows.map(officeView) } satisfies OfficeListView;
      }
      const membership = await membershipOf(db, userOf(request));
      const office = membership ? await officeById(membership.office_id) : undefined;
      return { offices: office && membership ? [{ ...officeView(office), role: membership.role as OfficeRole }] : [] } satisfies OfficeListView;
    });

    scope.post('/v1/offices', { preHandler: serviceOnly('create offices') }, async (request, reply) => {
      const body = bodyOf(request, ['name', 'shareSent']);
      if (body instanceof Refusal) return refuse(reply, body);
      const name = nameOf(body.name);
      if (name instanceof Refusal) return refuse(reply, name);
      if (body.shareSent !== undefined && typeof body.shareSent !== 'boolean') return refuse(reply, new Refusal(400, 'shareSent must be true or false'));
      const at = now();
      const row: OfficeRow = { id: `office-${randomBytes(9).toString('base64url')}`, name, share_sent: body.shareSent ? 1 : 0, created_at: at, updated_at: at };
      await db.insertInto('offices').values(row).execute();
      return reply.code(201).send(officeView(row));
    });

    scope.get<{ Params: { officeId: string } }>('/v1/offices/:officeId', async (request, reply) => {
      const caller = await access(request, 'list its members');
      if (caller instanceof Refusal) return refuse(reply, caller);
      const office = await officeById(request.params.officeId);
      if (!office) return refuse(reply, new Refusal(404, 'no such office'));
      const members = await db.selectFrom('office_members').selectAll().where('office_id', '=', office.id).orderBy('user_id').execute();
      return { ...officeView(office), members: members.map(memberView) } satisfies OfficeWithMembersView;
    });

    scope.patch<{ Params: { officeId: string } }>('/v1/offices/:officeId', async (request, reply) => {
      const caller = await access(request, 'change an office');
      if (caller instanceof Refusal) return refuse(reply, caller);
      const body = bodyOf(request, ['name', 'shareSent']);
      if (body instanceof Refusal) return refuse(reply, body);
      if (body.name === undefined && body.shareSent === undefined) return refuse(reply, new Refusal(400, 'give name, shareSent or both'));
      if (body.name !== undefined && caller !== 'service') return refuse(reply, new Refusal(403, 'only service admins (offices.adminUsers) rename offices'));
      const name = body.name === undefined ? undefined : nameOf(body.name);
      if (name instanceof Refusal) return refuse(reply, name);
      if (body.shareSent !== undefined && typeof body.shareSent !== 'boolean') return refuse(reply, new Refusal(400, 'shareSent must be true or false'));
      await db
        .updateTable('offices')
        .set({
          ...(name !== undefined ? { name } : {}),
          ...(body.shareSent !== undefined ? { share_sent: body.shareSent ? 1 : 0 } : {}),
          updated_at: now(),
        })
        .where('id', '=', request.params.officeId)
        .execute();
      const office = await officeById(request.params.officeId);
      return office ? officeView(office) : refuse(reply, new Refusal(404, 'no such office'));
    });

    scope.delete<{ Params: { officeId: string } }>('/v1/offices/:officeId', { preHandler: serviceOnly('delete offices') }, async (request, reply) => {
      // The members go with it: each is back to their own faxes.
      const deleted = await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('office_members').where('office_id', '=', request.params.officeId).execute();
        return tx.deleteFrom('offices').where('id', '=', request.params.officeId).executeTakeFirst();
      });
      if (Number(deleted.numDeletedRows) === 0) return refuse(reply, new Refusal(404, 'no such office'));
      return reply.code(204).send();
    });

    scope.put<{ Params: { officeId: string; userId: string } }>('/v1/offices/:officeId/members/:userId', async (request, reply) => {
      const caller = await access(request, 'add members');
      if (caller instanceof Refusal) return refuse(reply, caller);
      const { officeId, userId } = request.params;
      if (!USER_ID.test(userId)) return refuse(reply, new Refusal(400, 'the user id must be 1-128 letters, digits, ., _, :, @ or -'));
      const body = bodyOf(request, ['role', 'displayName']);
      if (body instanceof Refusal) return refuse(reply, body);
      if (body.role !== undefined && !(OFFICE_ROLES as readonly unknown[]).includes(body.role))
        return refuse(reply, new Refusal(400, `role must be one of ${OFFICE_ROLES.join(', ')}`));
      const displayName = body.displayName === undefined ? undefined : displayNameOf(body.displayName);
      if (displayName instanceof Refusal) return refuse(reply, displayName);
      const existing = await membershipOf(db, userId);
      if (existing && existing.office_id !== officeId)
        return refuse(reply, new Refusal(409, 'the user belongs to another office; remove them there first (a user belongs to at most one office)'));
      const role = (body.role as OfficeRole | undefined) ?? (existing?.role as OfficeRole | undefined) ?? 'member';
      if (caller === 'office' && (role !== 'member' || existing?.role === 'admin'))
        return refuse(reply, new Refusal(403, "only service admins (offices.adminUsers) set an office's admins"));
      const at = now();
      const values = { role, ...(displayName !== undefined ? { display_name: displayName } : {}), updated_at: at };
      if (existing) await db.updateTable('office_members').set(values).where('user_id', '=', userId).execute();
      else {
        // Inserted only while the office is there; the user id being the key, a second office
        // adding the same user at the same moment fails here rather than making two memberships.
        const inserted = await db
          .insertInto('office_members')
          .columns(['user_id', 'office_id', 'role', 'display_name', 'created_at', 'updated_at'])
          .expression((eb) =>
            eb
              .selectFrom('offices')
              .select([
                eb.val(userId).as('user_id'),
                'offices.id',
                eb.val(role).as('role'),
                eb.val(displayName ?? null).as('display_name'),
                eb.val(at).as('created_at'),
                eb.val(at).as('updated_at'),
              ])
              .where('offices.id', '=', officeId),
          )
          .executeTakeFirst()
          .catch(async (error: unknown) => {
            if (await membershipOf(db, userId)) return null;
            throw error;
          });
        if (inserted === null)
          return refuse(reply, new Refusal(409, 'the user was added to an office at the same moment; a user belongs to at most one office'));
      }
      const row = await membershipOf(db, userId);
      // Nothing inserted: the office was deleted a moment ago.
      if (!row) return refuse(reply, new Refusal(404, 'no such office'));
      return reply.code(existing ? 200 : 201).send(memberView(row));
    });

    scope.delete<{ Params: { officeId: string; userId: string } }>('/v1/offices/:officeId/members/:userId', async (request, reply) => {
      const caller = await access(request, 'remove members');
      if (caller instanceof Refusal) return refuse(reply, caller);
      const { officeId, userId } = request.params;
      const existing = await membershipOf(db, userId);
      if (!existing || existing.office_id !== officeId) return refuse(reply, new Refusal(404, 'no such member of the office'));
      if (caller === 'office' && existing.role === 'admin')
        return refuse(reply, new Refusal(403, "only service admins (offices.adminUsers) remove an office's admins"));
      await db.deleteFrom('office_members').where('user_id', '=', userId).where('office_id', '=', officeId).execute();
      return reply.code(204).send();
    });
  });
}
