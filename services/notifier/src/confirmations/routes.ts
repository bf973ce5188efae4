import type { FastifyInstance, FastifyReply } from 'fastify';
import { requireUser, userOf } from '@faxnotify/kit';
import { CHANNELS, type Channel } from '../channels/types';
import type { ChannelConfirmations, ConfirmResult, SendCodeResult } from './service';

const channelParams = {
  type: 'object',
  required: ['channel'],
  properties: { channel: { type: 'string', enum: [...CHANNELS] } },
} as const;

const confirmBody = {
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  properties: { code: { type: 'string', maxLength: 32 } },
} as const;

/** The API's answer to a refused code request: status, error code and message. */
export function sendCodeRefusal(result: Exclude<SendCodeResult, { kind: 'sent' }>): { status: number; error: string; message: string } {
  switch (result.kind) {
    case 'no_address':
      return { status: 409, error: 'no_address', message: 'save an address for this channel first' };
    case 'unavailable':
      return { status: 409, error: 'channel_unavailable', message: 'this notifier does not send on this channel' };
    case 'already_confirmed':
      return { status: 409, error: 'already_confirmed', message: `${result.address} is already confirmed` };
    case 'rate_limited':
      return { status: 429, error: 'too_many_codes', message: `too many codes asked for: try again in ${result.retryAfterSeconds} s` };
    case 'send_failed':
      return { status: 502, error: 'send_failed', message: `the code could not be sent: ${result.message}` };
  }
}

/** The API's answer to a refused code. */
export function confirmRefusal(result: Exclude<ConfirmResult, { kind: 'confirmed' }>): { status: number; error: string; message: string } {
  switch (result.kind) {
    case 'no_address':
      return { status: 409, error: 'no_address', message: 'save an address for this channel first' };
    case 'bad_code':
      return { status: 400, error: 'bad_request', message: 'code must be the 6 digits sent to the address' };
    case 'wrong':
      return { status: 400, error: 'wrong_code', message: `that code is not right: ${result.attemptsLeft} tries left` };
    case 'voided':
      return { status: 400, error: 'code_void', message: 'too many wrong tries: the code is void, ask for a new one' };
    case 'expired':
      return { status: 400, error: 'code_expired', message: 'the code has expired: ask for a new one' };
    case 'no_code':
      return { status: 400, error: 'no_code', message: 'no code is pending for this address: ask for one' };
  }
}

const refuse = (reply: FastifyReply, refusal: { status: number; error: string; message: string }, retryAfterSeconds?: number) => {
  if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
  return reply.code(refusal.status).send({ error: refusal.error, message: refusal.message });
};

/**
 * The confirmation API, each route for the bearer token's own user only (no user id in the path):
 * GET /v1/settings/channels — each channel's address and whether it is confirmed;
 * POST /v1/settings/channels/:channel/code — send a code to the saved address (429 + Retry-After over the limits);
 * POST /v1/settings/channels/:channel/confirm {code} — confirm the saved address with the code.
 */
export function registerConfirmationRoutes(app: FastifyInstance, confirmations: ChannelConfirmations, auth: { secret: string }): void {
  // Checked before the path and body are: a request without a valid token learns nothing but 401.
  const preValidation = requireUser(auth);
  app.get('/v1/settings/channels', { preValidation }, async (request) => confirmations.view(userOf(request)));

  app.post<{ Params: { channel: Channel } }>(
    '/v1/settings/channels/:channel/code',
    { preValidation, schema: { params: channelParams } },
    async (request, reply) => {
      const result = await confirmations.sendCode(userOf(request), request.params.channel);
      if (result.kind !== 'sent') return refuse(reply, sendCodeRefusal(result), result.kind === 'rate_limited' ? result.retryAfterSeconds : undefined);
      return reply.code(202).send({ channel: request.params.channel, address: result.address, codeExpiresAt: result.expiresAt });
    },
  );

  app.post<{ Params: { channel: Channel }; Body: { code: string } }>(
    '/v1/settings/channels/:channel/confirm',
    { preValidation, schema: { params: channelParams, body: confirmBody } },
    async (request, reply) => {
      const result = await confirmations.confirm(userOf(request), request.params.channel, request.body.code);
      if (result.kind !== 'confirmed') return refuse(reply, confirmRefusal(result));
      return (await confirmations.view(userOf(request))).channels[request.params.channel];
    },
  );
}
