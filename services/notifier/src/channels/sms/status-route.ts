import type { FastifyInstance } from 'fastify';
import type { SmsAdapter } from './adapter';

/**
 * POST /twilio/status: Twilio's status callbacks (sent, delivered, undelivered, failed with its
 * ErrorCode). A request whose X-Twilio-Signature does not hold for the configured public callback
 * URL is refused with 403 and changes nothing.
 */
export function registerTwilioStatusRoute(app: FastifyInstance, adapter: SmsAdapter): void {
  app.post<{ Body: Record<string, string> | undefined }>('/twilio/status', async (request, reply) => {
    const raw = request.raw.url ?? '';
    const question = raw.indexOf('?');
    const signature = request.headers['x-twilio-signature'];
    const params = request.body && typeof request.body === 'object' ? request.body : {};
    const accepted = await adapter.handleStatusCallback({
      query: question >= 0 ? raw.slice(question + 1) : '',
      signature: typeof signature === 'string' ? signature : undefined,
      params,
    });
    if (!accepted) return reply.code(403).send({ error: 'forbidden', message: 'the request does not carry a valid Twilio signature' });
    return reply.code(204).send();
  });
}
