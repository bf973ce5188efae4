import { FINAL_STATUSES } from '@faxnotify/contracts';
import { error, json, nullable, ref, UNAUTHORIZED } from '../openapi-parts';

/**
 * Provider ingest's part of the OpenAPI document (openapi.ts merges it): the admin routes of
 * provider accounts and the webhook targets the providers post to, with their schemas.
 */
const NOT_INGEST_ADMIN = error('The caller is not an admin user (ingest.adminUsers); nothing is changed.');
const INGEST_RATE_LIMITED = json(
  ref('RateLimited'),
  'The account is over rateLimits.ingest (posts per provider account, counted once the secret matches): nothing is recorded; `Retry-After` says when to post again.',
);
const providerAccount = [
  { name: 'provider', in: 'path', required: true, schema: { type: 'string', enum: ['faxplus', 'replixfax'] } },
  { name: 'account', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
];

export function ingestPaths(): Record<string, unknown> {
  return {
    '/v1/ingest/accounts': {
      get: {
        summary: "The caller's provider accounts (every account for admin users)",
        responses: {
          200: json({ type: 'object', properties: { accounts: { type: 'array', items: ref('ProviderAccount') } } }, 'Accounts (never their secrets).'),
          401: UNAUTHORIZED,
        },
      },
    },
    '/v1/ingest/accounts/{provider}/{account}': {
      put: {
        summary: 'Add or change a provider account and whose Sent folder its results land in (ownerId; admin users only)',
        parameters: providerAccount,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['secret'],
                properties: {
                  secret: {
                    type: 'string',
                    minLength: 16,
                    description: "What the provider's posts present: `?token=` in the target URL, Basic password, Bearer, or X-Faxnotify-Ingest-Secret.",
                  },
                  baseUrl: {
                    type: 'string',
                    format: 'uri',
                    description:
                      'ReplixFax REST base URL: enables the periodic query and the marking. It must lead to a public address (or one in the ranges the operator allows): a loopback, link-local or private address is refused here, and a host name that resolves to one is not queried.',
                  },
                  username: { type: 'string' },
                  password: { type: 'string' },
                  ownerId: {
                    type: 'string',
                    pattern: '^[A-Za-z0-9._:@-]{1,128}$',
                    description: "Whose Sent folder the account's results land in; omitted: as it was, or the admin user for a new account.",
                  },
                },
              },
            },
          },
        },
        responses: {
          200: json(ref('ProviderAccount'), 'The account.'),
          400: error('Bad fields.'),
          401: UNAUTHORIZED,
          403: NOT_INGEST_ADMIN,
          409: error('The account name belongs to someone else.'),
        },
      },
      delete: {
        summary: 'Remove a provider account (admin users only)',
        parameters: providerAccount,
        responses: { 204: { description: 'Removed.' }, 401: UNAUTHORIZED, 403: NOT_INGEST_ADMIN, 404: error('No such account.') },
      },
    },
    '/v1/ingest/accounts/replixfax/{account}/poll': {
      post: {
        summary: 'Query ReplixFax now for final faxes not yet marked, record them, mark them (admin users only)',
        parameters: [providerAccount[1]],
        responses: {
          200: json(
            { type: 'object', properties: { seen: { type: 'integer' }, recorded: { type: 'integer' }, marked: { type: 'integer' } } },
            'What the query found.',
          ),
          400: error('The account has no baseUrl, or its base URL leads to an address that is not allowed.'),
          401: UNAUTHORIZED,
          403: NOT_INGEST_ADMIN,
          404: error('No such account.'),
          502: error('The provider failed.'),
          503: error("The account's stored password cannot be decrypted by the server (`secret_unreadable`)."),
        },
      },
    },
    '/ingest/faxplus/{account}': {
      post: {
        summary: 'Fax.Plus `fax_sent` and `fax_received` webhook target (a received fax: its file is downloaded with the account token into the owner Inbox)',
        security: [{ ingestSecret: [] }, { ingestToken: [] }],
        parameters: [providerAccount[1]],
        requestBody: { required: true, content: { 'application/json': { schema: ref('FaxPlusWebhook') } } },
        responses: {
          200: json(ref('IngestOutcome'), 'Recorded (or already recorded).'),
          202: json({ type: 'object' }, 'Not a result we track (another event).'),
          400: error('A body we cannot use.'),
          401: error('Unknown account or wrong secret.'),
          429: INGEST_RATE_LIMITED,
          503: error(
            "The account's stored secret cannot be decrypted by the server (`secret_unreadable`), or a received fax's document could not be fetched from the provider (`download_failed`, nothing recorded); a later retry may succeed.",
          ),
        },
      },
    },
    '/ingest/replixfax/{account}': {
      post: {
        summary: 'ReplixFax outbound and inbound URL callback target (an inbound fax: its content is retrieved into the owner Inbox, then marked)',
        security: [{ ingestSecret: [] }, { ingestToken: [] }],
        parameters: [providerAccount[1]],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: ref('ReplixFaxOutbound') },
            'application/json': { schema: ref('ReplixFaxOutbound') },
          },
        },
        responses: {
          200: json(ref('IngestOutcome'), 'Recorded (or already recorded).'),
          202: json({ type: 'object' }, 'Not final, or not an outgoing fax.'),
          400: error('A body we cannot use.'),
          401: error('Unknown account or wrong secret.'),
          429: INGEST_RATE_LIMITED,
          503: error(
            "The account's stored secret cannot be decrypted by the server (`secret_unreadable`), or a received fax's document could not be fetched from the provider (`download_failed`, nothing recorded); a later retry may succeed.",
          ),
        },
      },
    },
  };
}

export const INGEST_SCHEMAS = {
  ProviderAccount: {
    type: 'object',
    properties: {
      provider: { type: 'string' },
      account: { type: 'string' },
      ingestPath: { type: 'string' },
      baseUrl: nullable('string'),
      username: nullable('string'),
      source: { type: 'string', enum: ['api', 'config'] },
      lastPolledAt: nullable('string'),
      lastPollError: nullable('string'),
    },
  },
  IngestOutcome: {
    type: 'object',
    properties: {
      recorded: { type: 'boolean' },
      duplicate: { type: 'boolean' },
      faxId: { type: 'string', description: 'A sent fax: its id in the Sent folder.' },
      receivedId: { type: 'string', description: "A received fax: its id in the owner's Inbox." },
      status: { type: 'string', enum: [...FINAL_STATUSES, 'partially_received'] },
    },
  },
  FaxPlusWebhook: {
    type: 'object',
    required: ['hook', 'data'],
    properties: {
      hook: {
        type: 'object',
        properties: { id: { type: 'string' }, event: { type: 'string' }, event_time: { type: 'string' }, target: { type: 'string' } },
      },
      data: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          uid: { type: 'string' },
          pages: { type: 'integer' },
          from: { type: 'string', description: 'Sender number; a Fax.Plus user id (free accounts) is not kept as one.' },
          to: {
            oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
            description: 'Destination number, or a list of them: one recipient each.',
          },
          start_time: { type: 'string' },
          submit_time: { type: 'string' },
          file: { type: 'string', description: "Fax.Plus's file id for its getFile call; kept in the result's detail." },
          file_name: { type: 'string' },
          comment: { oneOf: [{ type: 'string' }, { type: 'object', properties: { text: { type: 'string' } } }], description: 'The subject.' },
          status: { type: 'string', enum: [...FINAL_STATUSES] },
          cost: { type: 'number', description: "In the account's currency." },
          direction: { type: 'string', enum: ['outgoing', 'incoming'], description: 'An incoming fax is not a result we track.' },
          max_retry: { type: 'integer' },
          retry_delay: { type: 'integer' },
        },
      },
    },
  },
  ReplixFaxOutbound: {
    type: 'object',
    required: ['FaxId', 'FaxStatus'],
    properties: {
      FaxId: { type: 'string' },
      FaxStatus: { type: 'string', description: 'sent or failed (other values are not final and are ignored).' },
      ErrorCode: { type: 'string' },
      ErrorText: { type: 'string' },
      DestFaxNumber: { type: 'string' },
      CSI: { type: 'string' },
      CompleteTime: { type: 'string' },
      PagesSent: { type: 'string' },
      Queue: { type: 'string' },
    },
  },
};
