import { requireUser, userOf, type createHttpServer } from '@faxnotify/kit';
import type { AuthOptions } from './auth';
import { REQUEST_ID, type ResendOutcome, type ResendRecipient, type ResendRefusal } from './resend';
import type { StatusTracker } from './tracker';

type HttpServer = ReturnType<typeof createHttpServer>;

/** What a resend answers: the new fax, the fax it resends, and who gets what. */
export interface ResendView {
  faxId: string;
  resendOf: string;
  recipients: ResendRecipient[];
  requestId: string;
  /** True when this request id had already made the resend (nothing new was made). */
  duplicate: boolean;
}

export const RESEND_STATUS: Record<ResendRefusal, number> = {
  not_found: 404,
  forbidden: 403,
  not_final: 409,
  nothing_failed: 409,
  request_reused: 409,
};

export interface ResendApiOptions {
  auth: AuthOptions;
  tracker: Pick<StatusTracker, 'requestResend'>;
  /** Called after a new order was committed, so the outbox relay sends it now. */
  ordered: () => void;
}

const bad = (message: string) => ({ error: 'bad_request', message });

/**
 * `POST /v1/faxes/:faxId/resend` (bearer token only): resend a final fax to its recipients that did
 * not get every page. Body (optional): `onlyMissingPages` (a partially_sent recipient gets only its
 * missing pages), `requestId` (the idempotency key: the same id makes one new fax),
 * `requestedVia` (`api`, or `cli` from the command line).
 */
export function registerResendApi(app: HttpServer, options: ResendApiOptions): void {
  void app.register(async (scope) => {
    scope.addHook('preHandler', requireUser(options.auth));
    scope.post<{ Params: { faxId: string }; Body: unknown }>('/v1/faxes/:faxId/resend', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) return reply.code(400).send(bad('the body must be a JSON object'));
      const { onlyMissingPages = false, requestId, requestedVia = 'api' } = body;
      if (typeof onlyMissingPages !== 'boolean') return reply.code(400).send(bad('onlyMissingPages must be true or false'));
      if (requestId !== undefined && (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)))
        return reply.code(400).send(bad('requestId must be 1 to 128 letters, digits or . _ : @ -'));
      if (requestedVia !== 'api' && requestedVia !== 'cli') return reply.code(400).send(bad('requestedVia must be api or cli'));
      const outcome: ResendOutcome = await options.tracker.requestResend(request.params.faxId, userOf(request), {
        onlyMissingPages,
        requestedVia,
        ...(requestId !== undefined ? { requestId } : {}),
      });
      if (!outcome.ok) return reply.code(RESEND_STATUS[outcome.error]).send({ error: outcome.error, message: outcome.message });
      if (!outcome.duplicate) options.ordered();
      const { ok: _ok, ...view } = outcome;
      return reply.code(outcome.duplicate ? 200 : 201).send(view satisfies ResendView);
    });
  });
}

const errorBody = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

const resendRecipient = {
  type: 'object',
  required: ['number'],
  properties: {
    number: { type: 'string', description: 'E.164.' },
    pages: {
      type: 'object',
      required: ['first', 'last'],
      properties: { first: { type: 'integer', minimum: 1 }, last: { type: 'integer', minimum: 1 } },
      description: 'Only these pages of the documents (counted from 1); absent: all of them.',
    },
  },
};

/** `POST /v1/faxes/{faxId}/resend` in the OpenAPI document (openapi.ts). */
export const resendPaths = () => ({
  '/v1/faxes/{faxId}/resend': {
    post: {
      summary: 'Resend to the failed',
      description:
        "Makes a new fax of this fax's documents for its recipients whose final status is not success; with `onlyMissingPages`, a partially_sent recipient gets only the pages it did not get. The new fax's id is answered at once; the transmitter sends it (its `resendOf` names this fax, and this fax's `resentAs` the new one). Only the fax's owner or an admin of the owner's virtual office may; the fax must be final. The same `requestId` (per caller) makes one new fax however often it is sent. If the documents are no longer kept (files.keepDays), the new fax ends failed with the reason.",
      parameters: [{ name: 'faxId', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: {
        required: false,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: {
                onlyMissingPages: { type: 'boolean', default: false },
                requestId: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$', description: 'Idempotency key; one is made up when absent.' },
                requestedVia: { type: 'string', enum: ['api', 'cli'], default: 'api' },
              },
            },
          },
        },
      },
      responses: {
        201: {
          description: 'The new fax was ordered.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['faxId', 'resendOf', 'recipients', 'requestId', 'duplicate'],
                properties: {
                  faxId: { type: 'string', description: 'The new fax.' },
                  resendOf: { type: 'string' },
                  recipients: { type: 'array', items: resendRecipient },
                  requestId: { type: 'string' },
                  duplicate: { type: 'boolean' },
                },
              },
            },
          },
        },
        200: { description: 'This requestId had already made the resend: the same answer, nothing new.' },
        400: errorBody('A bad body; `message` says what.'),
        401: errorBody('No bearer token, or an expired or wrongly signed one.'),
        403: errorBody("A colleague's fax the caller sees but may not resend (only its owner and the office's admins may)."),
        404: errorBody('No such fax (or not one the caller sees).'),
        409: errorBody(
          '`not_final`: recipients are still under way; `nothing_failed`: every recipient got every page; `request_reused`: the requestId made a resend of another fax.',
        ),
      },
    },
  },
});
