import { AGGREGATE_STATES, FINAL_STATUSES, PROGRESS_STATUSES } from '@faxnotify/contracts';
import type { createHttpServer } from '@faxnotify/kit';
import { linkPaths } from './link-api';
import { resendPaths } from './resend-api';
import { INBOX_SCHEMAS, inboxPaths } from './inbox/openapi';
import { INGEST_SCHEMAS, ingestPaths } from './ingest/openapi';
import { error, json, nullable, ref, UNAUTHORIZED } from './openapi-parts';
import { OFFICE_SCHEMAS, officePaths } from './offices/openapi';
import { searchPaths, searchParameters } from './search/openapi';

type HttpServer = ReturnType<typeof createHttpServer>;

const NOT_FOUND = error("No such fax among those the caller sees (their own, and their office's when they see it): any other fax answers the same.");

/**
 * The status tracker's HTTP API as OpenAPI 3.1, served at `/openapi.json`. Written by hand next to
 * the routes; a test checks that every route the server registers is in it.
 */
export function openApiDocument(): Record<string, unknown> {
  const faxId = { name: 'faxId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'faxnotify status tracker',
      version: '1.0.0',
      description:
        "The fax owner's view: the Sent folder and each fax with its recipients, the notices sent about them and the webhook deliveries; the owner's webhook; provider ingest. Every /v1 route needs a JWT naming the user in `sub` (bearer header; reads also take the pages' session cookie) and sees only that user's data.",
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: {
      '/v1/faxes': {
        get: {
          summary:
            "List the faxes the caller sees, newest first: their own, and every member's of their office when they are its admin or it shares its Sent folder",
          parameters: [
            {
              name: 'category',
              in: 'query',
              schema: { type: 'string', enum: ['sent', 'outbox'] },
              description: 'outbox: faxes still in progress; sent: finished faxes; omitted: all.',
            },
            ...searchParameters('sent'),
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'The nextCursor of the previous page.' },
          ],
          responses: {
            200: json(
              {
                type: 'object',
                required: ['faxes', 'nextCursor'],
                properties: { faxes: { type: 'array', items: ref('FaxSummary') }, nextCursor: nullable('string') },
              },
              'One page of faxes.',
            ),
            400: error('A bad limit, category or cursor, or a search filter that cannot be read.'),
            401: UNAUTHORIZED,
          },
        },
      },
      '/v1/faxes/{faxId}': {
        get: {
          summary: 'One fax with its recipients, their history, the notices and the webhook deliveries',
          parameters: [faxId],
          responses: { 200: json(ref('Fax'), 'The fax.'), 401: UNAUTHORIZED, 404: NOT_FOUND },
        },
      },
      '/v1/faxes/{faxId}/events': {
        get: {
          summary: 'Live updates of one fax (server-sent events)',
          description:
            "`state` once at the start, `update` whenever something on the fax page changed, `end` once the fax has been final for a while; comments as heartbeats. Besides a token, a browser that opened a notice's link to this fax (`/l/{token}`) may read it with the link's grant cookie: one of the two API routes a grant opens (with the confirmation report), for that fax only.",
          parameters: [faxId],
          responses: {
            200: { description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            401: UNAUTHORIZED,
            404: NOT_FOUND,
          },
        },
      },
      '/v1/faxes/{faxId}/report.pdf': {
        get: {
          summary: 'The confirmation report of one fax (PDF)',
          description:
            "The fax's facts, a picture of its first page (when the transmitter sent one), and one row per recipient: number, remote CSID, pages sent of total, start and end times, status with its description, attempts. Readable by whoever may read the fax page: a token or session of its owner or of an office colleague who sees it, or the grant cookie of a notice's link to this fax. Language: `lang`, else the pages' language cookie, the token's `locale` claim, Accept-Language, English. Times: in `tz`, else the token's `tz` claim, else pages.defaultTimeZone.",
          parameters: [
            faxId,
            { name: 'lang', in: 'query', schema: { type: 'string', enum: ['ru', 'en', 'it'] } },
            { name: 'tz', in: 'query', schema: { type: 'string' }, description: 'An IANA time zone such as Europe/Rome; an unknown one is ignored.' },
          ],
          responses: {
            200: {
              description: 'The report.',
              headers: {
                'X-Faxnotify-Fax-State': {
                  description: "The fax's state as the report shows it: in_progress, delivered, partial or failed.",
                  schema: { type: 'string' },
                },
              },
              content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
            },
            401: UNAUTHORIZED,
            404: NOT_FOUND,
          },
        },
      },
      '/v1/webhooks': {
        get: {
          summary: "The caller's webhook",
          responses: { 200: json(ref('Webhook'), 'The webhook (the secret only as a hint).'), 401: UNAUTHORIZED, 404: error('No webhook is set.') },
        },
        put: {
          summary: "Set the caller's webhook",
          description:
            'On each final per-recipient result the tracker POSTs a Fax.Plus `fax_sent` body (`hook` {id, event, event_time, target}, `data` {id, uid, pages, from, to, start_time, file_name, status, cost} plus remote_csid, reason, pages_sent, …; `from` is the sender number of the fax and is left out when the fax named none, `cost` is there only when a provider reported the cost of the fax and the fax had one recipient, `file` is not sent: there is no fax file to fetch by id), with `X-Faxnotify-Timestamp` (Unix seconds) and `X-Faxnotify-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. A non-2xx answer is retried with doubling waits for about a day; `hook.id` stays the same. Redirects are not followed (a 3xx is a failed attempt). The URL must be http(s), without a user name or password, and reach a public address: a URL naming a loopback, link-local, private or other special-purpose address is refused here, and a host name that resolves to one fails the delivery at once (`blocked: …` in the log) unless the operator allows that range.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['url'],
                  properties: {
                    url: { type: 'string', format: 'uri' },
                    secret: { type: 'string', minLength: 16, maxLength: 200, description: 'Generated when omitted.' },
                  },
                },
              },
            },
          },
          responses: {
            200: json(ref('Webhook'), 'The webhook, with its secret (shown this once).'),
            400: error('A bad URL (not http(s), with credentials, or naming an address webhooks may not go to) or secret; `message` says which.'),
            401: UNAUTHORIZED,
          },
        },
        delete: {
          summary: "Remove the caller's webhook (pending deliveries are cancelled)",
          responses: { 204: { description: 'Removed.' }, 401: UNAUTHORIZED, 404: error('No webhook is set.') },
        },
      },
      '/v1/webhooks/deliveries': {
        get: {
          summary: 'The webhook delivery log',
          parameters: [
            { name: 'faxId', in: 'query', schema: { type: 'string' } },
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['pending', 'delivered', 'failed', 'cancelled'] } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          ],
          responses: {
            200: json({ type: 'object', properties: { deliveries: { type: 'array', items: ref('WebhookDelivery') } } }, 'Deliveries, newest first.'),
            401: UNAUTHORIZED,
          },
        },
      },
      ...ingestPaths(),
      ...officePaths(),
      ...inboxPaths(),
      ...searchPaths(),
      ...linkPaths(),
      ...resendPaths(),
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        ingestSecret: { type: 'apiKey', in: 'header', name: 'X-Faxnotify-Ingest-Secret' },
        ingestToken: { type: 'apiKey', in: 'query', name: 'token' },
      },
      schemas: {
        Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } },
        RateLimited: {
          type: 'object',
          required: ['error', 'message', 'limit', 'windowSeconds', 'retryAfterSeconds'],
          properties: {
            error: { const: 'rate_limited' },
            message: { type: 'string', description: 'The limit in words and when to try again.' },
            limit: { type: 'integer', description: 'Requests allowed per window.' },
            windowSeconds: { type: 'integer' },
            retryAfterSeconds: { type: 'integer', description: 'As the Retry-After header.' },
          },
        },
        FaxSummary: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            owner: { type: 'string', description: "Who sent the fax (its owner's user id): the caller, or a colleague in an office-wide Sent folder." },
            ownerName: nullable('string', { description: "The owner's display name in their office; null when none is set." }),
            from: nullable('string', { description: "The fax's sender number (E.164); null when it named none." }),
            subject: { type: 'string', description: 'Empty when the fax has none.' },
            cost: nullable('number', {
              description: "What a provider charged for the fax (Fax.Plus's cost, in the account's currency); null when no source said.",
            }),
            state: { type: 'string', enum: [...AGGREGATE_STATES] },
            pages: nullable('integer'),
            submittedAt: { type: 'string', format: 'date-time' },
            sendAt: nullable('string', { format: 'date-time' }),
            finalAt: nullable('string', { format: 'date-time' }),
            recipients: {
              type: 'object',
              properties: { total: { type: 'integer' }, final: { type: 'integer' }, numbers: { type: 'array', items: { type: 'string' } } },
            },
          },
        },
        Fax: {
          allOf: [
            ref('FaxSummary'),
            {
              type: 'object',
              properties: {
                recipients: { type: 'array', items: ref('Recipient') },
                webhookDeliveries: { type: 'array', items: ref('WebhookDelivery') },
                outboxId: nullable('string'),
                files: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, pages: { type: 'integer' } } } },
                retry: { type: 'object', properties: { count: nullable('integer'), delayMinutes: nullable('integer') } },
                resendOf: { ...nullable('string'), description: 'The fax whose documents this fax sends again (POST /v1/faxes/{faxId}/resend), or null.' },
                resentAs: { type: 'array', items: { type: 'string' }, description: 'The faxes that resent this one to its failed recipients, oldest first.' },
                createdAt: { type: 'string', format: 'date-time' },
                updatedAt: { type: 'string', format: 'date-time' },
              },
            },
          ],
        },
        Recipient: {
          type: 'object',
          properties: {
            recipientId: { type: 'string' },
            number: { type: 'string' },
            status: { type: 'string', enum: [...FINAL_STATUSES, ...PROGRESS_STATUSES] },
            final: { type: 'boolean' },
            attempt: { type: 'integer' },
            attempts: nullable('integer'),
            pagesSent: { type: 'integer' },
            pagesTotal: { type: 'integer' },
            remoteCsid: nullable('string'),
            remoteCsidRaw: nullable('string'),
            reason: { type: ['object', 'null'], properties: { code: { type: 'string' }, detail: { type: 'string' } } },
            startedAt: nullable('string', { format: 'date-time' }),
            endedAt: nullable('string', { format: 'date-time' }),
            retryAt: nullable('string', { format: 'date-time' }),
            listed: { type: 'boolean' },
            history: { type: 'array', items: { type: 'object' } },
            notices: { type: 'object', description: 'Per channel (email, sms, xmpp): what became of the notice.', additionalProperties: ref('Notice') },
          },
        },
        Notice: {
          type: 'object',
          properties: {
            outcome: { type: 'string', enum: ['sent', 'delivered', 'failed', 'skipped'] },
            reason: nullable('string'),
            address: nullable('string'),
            locale: nullable('string'),
            providerMessageId: nullable('string'),
            sms: {
              type: ['object', 'null'],
              description: 'SMS: the parts it went out as and their encoding; null when not known (or the notifier sent an older outcome version).',
              properties: { segments: { type: 'integer' }, encoding: { type: 'string', enum: ['GSM-7', 'UCS-2'] } },
            },
            provider: {
              type: ['object', 'null'],
              description:
                "The provider's own word for what became of the notice (Twilio's MessageStatus: sent, delivered, undelivered, failed) and its error code.",
              properties: { status: { type: 'string' }, errorCode: nullable('string') },
            },
            smtp: { type: ['object', 'null'], description: "Email: the SMTP server's reply code.", properties: { code: { type: 'integer' } } },
            attempts: { type: 'integer' },
            at: { type: 'string', format: 'date-time' },
          },
        },
        Webhook: {
          type: 'object',
          properties: {
            url: { type: 'string' },
            secret: { type: 'string' },
            secretHint: nullable('string', {
              description: "The secret's last characters; null when the server cannot decrypt the stored secret (see secretProblem).",
            }),
            secretProblem: {
              type: 'string',
              description: 'Present when the stored secret cannot be decrypted: no webhook is sent until the operator restores its key or a new secret is set.',
            },
            signature: { type: 'object' },
            createdAt: { type: 'string' },
            updatedAt: { type: 'string' },
          },
        },
        WebhookDelivery: {
          type: 'object',
          properties: {
            faxId: { type: 'string' },
            hookId: { type: 'string' },
            recipientId: { type: 'string' },
            resultId: { type: 'string' },
            event: { type: 'string', const: 'fax_sent' },
            status: { type: 'string', enum: ['pending', 'delivered', 'failed', 'cancelled'] },
            attempts: { type: 'integer' },
            nextAttemptAt: nullable('string'),
            deliveredAt: nullable('string'),
            lastStatusCode: nullable('integer'),
            lastError: nullable('string'),
            createdAt: { type: 'string' },
            log: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  attempt: { type: 'integer' },
                  at: { type: 'string' },
                  target: { type: 'string' },
                  statusCode: nullable('integer'),
                  error: nullable('string'),
                  outcome: { type: 'string', enum: ['delivered', 'retry', 'failed'] },
                  durationMs: { type: 'integer' },
                },
              },
            },
          },
        },
        ...OFFICE_SCHEMAS,
        ...INBOX_SCHEMAS,
        ...INGEST_SCHEMAS,
      },
    },
  };
}

export function registerOpenApi(app: HttpServer): void {
  const document = JSON.stringify(openApiDocument());
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(document));
}
