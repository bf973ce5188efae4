import { error, json, ref, UNAUTHORIZED } from '../openapi-parts';
/**
 * The offices API's part of the OpenAPI document (openapi.ts merges it): paths and schemas. Every
 * route names its 403 (who may call it) beside the 400s of its body.
 */
const body = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });

const officeId = { name: 'officeId', in: 'path', required: true, schema: { type: 'string' } };
const userId = { name: 'userId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' } };
const NOT_OFFICE_ADMIN = error(
  'The caller is neither a service admin (offices.adminUsers) nor an admin of this office; also the answer for an office that does not exist, so ids cannot be probed.',
);
const NO_OFFICE = error('No such office (answered to service admins only; others get 403).');
const NAME = { type: 'string', minLength: 1, maxLength: 200, description: 'Control characters and runs of spaces are folded to one space.' };

export function officePaths(): Record<string, unknown> {
  return {
    '/v1/offices': {
      get: {
        summary: 'Virtual offices: every office for a service admin; for anyone else the office they belong to, with their role',
        responses: {
          200: json({ type: 'object', required: ['offices'], properties: { offices: { type: 'array', items: ref('Office') } } }, 'Offices.'),
          401: UNAUTHORIZED,
        },
      },
      post: {
        summary: 'Create an office (service admins only)',
        requestBody: body({
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: NAME, shareSent: { type: 'boolean', default: false } },
        }),
        responses: {
          201: json(ref('Office'), 'The office, with the id the server gave it.'),
          400: error('A missing or bad name, a shareSent that is not a boolean, or an unknown field.'),
          401: UNAUTHORIZED,
          403: error('The caller is not a service admin (offices.adminUsers).'),
        },
      },
    },
    '/v1/offices/{officeId}': {
      get: {
        summary: 'One office with its members (service admins and the office’s admins)',
        parameters: [officeId],
        responses: { 200: json(ref('OfficeWithMembers'), 'The office.'), 401: UNAUTHORIZED, 403: NOT_OFFICE_ADMIN, 404: NO_OFFICE },
      },
      patch: {
        summary: 'Rename an office (service admins) or switch whether members see every member’s faxes (service admins and the office’s admins)',
        parameters: [officeId],
        requestBody: body({ type: 'object', additionalProperties: false, minProperties: 1, properties: { name: NAME, shareSent: { type: 'boolean' } } }),
        responses: {
          200: json(ref('Office'), 'The office as changed.'),
          400: error('Neither field given, a bad name or shareSent, or an unknown field.'),
          401: UNAUTHORIZED,
          403: error(
            'The caller is neither a service admin nor an admin of this office, or is an office admin giving a name (renaming is for service admins).',
          ),
          404: NO_OFFICE,
        },
      },
      delete: {
        summary: 'Delete an office and its memberships (service admins only); each member is back to their own faxes',
        parameters: [officeId],
        responses: {
          204: { description: 'Deleted.' },
          401: UNAUTHORIZED,
          403: error('The caller is not a service admin (offices.adminUsers).'),
          404: error('No such office.'),
        },
      },
    },
    '/v1/offices/{officeId}/members/{userId}': {
      put: {
        summary: 'Add a user to an office, or change their role or display name',
        description:
          'A user belongs to at most one office. Service admins set any role; an office’s admins add members with role `member` only and cannot change an admin. Without `role`, a new member is a `member` and an existing one keeps theirs.',
        parameters: [officeId, userId],
        requestBody: body({
          type: 'object',
          additionalProperties: false,
          properties: {
            role: { type: 'string', enum: ['member', 'admin'] },
            displayName: {
              type: ['string', 'null'],
              minLength: 1,
              maxLength: 100,
              description: 'Shown as "sent by" in the office-wide Sent folder; null clears it (the user id is shown).',
            },
          },
        }),
        responses: {
          200: json(ref('OfficeMember'), 'The membership as changed.'),
          201: json(ref('OfficeMember'), 'The user was added.'),
          400: error('A bad user id, role or displayName, or an unknown field.'),
          401: UNAUTHORIZED,
          403: error(
            'The caller is neither a service admin nor an admin of this office (also for an office that does not exist), or is an office admin setting role admin or changing an admin.',
          ),
          404: NO_OFFICE,
          409: error('The user belongs to another office.'),
        },
      },
      delete: {
        summary: 'Remove a user from an office: they are back to their own faxes, and the office no longer sees theirs',
        parameters: [officeId, userId],
        responses: {
          204: { description: 'Removed.' },
          401: UNAUTHORIZED,
          403: error('The caller is neither a service admin nor an admin of this office, or is an office admin removing an admin.'),
          404: error('No such office (service admins only), or the user is not a member of it.'),
        },
      },
    },
  };
}

export const OFFICE_SCHEMAS = {
  Office: {
    type: 'object',
    required: ['id', 'name', 'shareSent'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      shareSent: { type: 'boolean', description: "Whether every member sees every member's faxes in the Sent folder (the office's admins always do)." },
      role: { type: 'string', enum: ['member', 'admin'], description: "In GET /v1/offices for someone who is not a service admin: the caller's role." },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  OfficeWithMembers: {
    allOf: [ref('Office'), { type: 'object', properties: { members: { type: 'array', items: ref('OfficeMember') } } }],
  },
  OfficeMember: {
    type: 'object',
    properties: {
      userId: { type: 'string' },
      role: { type: 'string', enum: ['member', 'admin'] },
      displayName: { type: ['string', 'null'] },
      addedAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
};
