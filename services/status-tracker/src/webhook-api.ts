import { SecretUnreadableError, looksSealed, userOf, type SecretBox, type createHttpServer } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { webhookDeliveryView, type WebhookDeliveryView } from './api';
import { authenticateApi, type AuthOptions } from './auth';
import { ID_PATTERN } from './folder';
import type { TrackerDatabase, WebhookRow } from './schema';
import { openStoredSecret, secretContext, secretName } from './secrets';
import type { WebhookTargets } from './webhook-targets';
import { newWebhookSecret } from './webhooks';

type HttpServer = ReturnType<typeof createHttpServer>;

export interface WebhookApiOptions {
  db: Kysely<TrackerDatabase>;
  auth: AuthOptions;
  /** Which URLs may be set; the dispatcher checks the same again at every delivery. */
  targets: WebhookTargets;
  /** Seals the secret as it is stored, and opens it for the hint. */
  secrets: SecretBox;
  now?: () => Date;
}

const MAX_URL = 2000;

/** The owner's webhook, as the API answers it. */
export interface WebhookView {
  url: string;
  /** The clear secret: only in the answer to the request that set it. */
  secret?: string;
  /** The secret's last characters; null when the server cannot decrypt it. */
  secretHint: string | null;
  /** Why the secret cannot be decrypted, when it cannot. */
  secretProblem?: string;
  signature: { algorithm: string; signed: string; headers: { timestamp: string; signature: string } };
  createdAt: string;
  updatedAt: string;
}

/** The answer to setting a webhook, which shows the secret this once. */
export type WebhookSetView = WebhookView & { secret: string };

/** The answer of `GET /v1/webhooks/deliveries`. */
export interface WebhookDeliveriesView {
  deliveries: Array<WebhookDeliveryView & { faxId: string }>;
}

/**
 * The secret is shown once, when it is set; afterwards only its last characters, to tell which one
 * it is. `secret` is the clear secret, or the reason it cannot be decrypted (then there is no hint).
 */
const webhookView = (hook: WebhookRow, secret: { clear: string } | { unreadable: string }, showSecret: boolean): WebhookView => ({
  url: hook.url,
  ...('clear' in secret
    ? { ...(showSecret ? { secret: secret.clear } : {}), secretHint: `…${secret.clear.slice(-4)}` }
    : { secretHint: null, secretProblem: secret.unreadable }),
  signature: { algorithm: 'HMAC-SHA256', signed: '<timestamp>.<body>', headers: { timestamp: 'X-Faxnotify-Timestamp', signature: 'X-Faxnotify-Signature' } },
  createdAt: hook.created_at,
  updatedAt: hook.updated_at,
});

function parseUrl(value: unknown): URL | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL) return null;
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/**
 * The owner's webhook: `GET/PUT/DELETE /v1/webhooks` and the delivery log
 * `GET /v1/webhooks/deliveries`. Bearer token; one webhook per owner.
 */
export function registerWebhookApi(app: HttpServer, options: WebhookApiOptions): void {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  void app.register(async (scope) => {
    scope.addHook('preHandler', authenticateApi(options.auth));

    scope.get('/v1/webhooks', async (request, reply) => {
      const hook = await db.selectFrom('webhooks').selectAll().where('owner_id', '=', userOf(request)).executeTakeFirst();
      if (!hook) return reply.code(404).send({ error: 'not_found', message: 'no webhook is set' });
      try {
        return webhookView(
          hook,
          { clear: openStoredSecret(options.secrets, hook.secret, secretContext.webhookSecret(hook.owner_id), secretName.webhookSecret(hook.owner_id)) },
          false,
        );
      } catch (error) {
        if (!(error instanceof SecretUnreadableError)) throw error;
        request.log.error({ ownerId: hook.owner_id, err: error.message }, 'webhook secret cannot be decrypted');
        // Deliveries fail until the operator configures its key, or the owner sets a new secret.
        return webhookView(
          hook,
          {
            unreadable: `the secret cannot be decrypted by the server, so no webhook is sent until the operator restores its key or a new secret is set (${error.code})`,
          },
          false,
        );
      }
    });

    scope.put<{ Body: { url?: unknown; secret?: unknown } }>('/v1/webhooks', async (request, reply) => {
      const body = request.body ?? {};
      const parsed = parseUrl(body.url);
      if (!parsed) return reply.code(400).send({ error: 'bad_request', message: `url must be an http(s) URL of at most ${MAX_URL} characters` });
      const problem = options.targets.checkUrl(parsed);
      if (problem) return reply.code(400).send({ error: 'bad_request', message: problem });
      const url = parsed.toString();
      if (body.secret !== undefined && (typeof body.secret !== 'string' || body.secret.length < 16 || body.secret.length > 200))
        return reply.code(400).send({ error: 'bad_request', message: 'secret, when given, must be a string of 16 to 200 characters' });
      if (typeof body.secret === 'string' && !options.secrets.encrypting && looksSealed(body.secret))
        return reply.code(400).send({
          error: 'bad_request',
          message:
            'secret has the form of an encrypted value (v<n>:<8 hex digits>:…), which cannot be stored while the tracker has no encryption key; choose another',
        });
      const owner = userOf(request);
      const at = now().toISOString();
      const secret = typeof body.secret === 'string' ? body.secret : newWebhookSecret();
      const stored = options.secrets.seal(secret, secretContext.webhookSecret(owner));
      await db
        .insertInto('webhooks')
        .values({ owner_id: owner, url, secret: stored, created_at: at, updated_at: at })
        .onConflict((oc) => oc.column('owner_id').doUpdateSet({ url, secret: stored, updated_at: at }))
        .execute();
      const hook = await db.selectFrom('webhooks').selectAll().where('owner_id', '=', owner).executeTakeFirstOrThrow();
      return webhookView(hook, { clear: secret }, true);
    });

    scope.delete('/v1/webhooks', async (request, reply) => {
      const owner = userOf(request);
      const at = now().toISOString();
      const removed = await db.transaction().execute(async (trx) => {
        const result = await trx.deleteFrom('webhooks').where('owner_id', '=', owner).executeTakeFirst();
        await trx
          .updateTable('webhook_deliveries')
          .set({ status: 'cancelled', next_attempt_at: null, last_error: 'the webhook was removed', updated_at: at })
          .where('owner_id', '=', owner)
          .where('status', '=', 'pending')
          .execute();
        return Number(result.numDeletedRows);
      });
      if (removed === 0) return reply.code(404).send({ error: 'not_found', message: 'no webhook is set' });
      return reply.code(204).send();
    });

    scope.get<{ Querystring: { faxId?: string; status?: string; limit?: string } }>('/v1/webhooks/deliveries', async (request, reply) => {
      const owner = userOf(request);
      const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200)
        return reply.code(400).send({ error: 'bad_request', message: 'limit must be an integer from 1 to 200' });
      const { faxId, status } = request.query;
      if (faxId !== undefined && !ID_PATTERN.test(faxId)) return { deliveries: [] };
      if (status !== undefined && !['pending', 'delivered', 'failed', 'cancelled'].includes(status))
        return reply.code(400).send({ error: 'bad_request', message: 'status must be one of pending, delivered, failed, cancelled' });
      let query = db.selectFrom('webhook_deliveries').selectAll().where('owner_id', '=', owner);
      if (faxId !== undefined) query = query.where('fax_id', '=', faxId);
      if (status !== undefined) query = query.where('status', '=', status as 'pending');
      const deliveries = await query.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
      const attempts =
        deliveries.length === 0
          ? []
          : await db
              .selectFrom('webhook_attempts')
              .selectAll()
              .where(
                'delivery_id',
                'in',
                deliveries.map((d) => d.id),
              )
              .orderBy('attempt')
              .execute();
      return {
        deliveries: deliveries.map((d) => ({ faxId: d.fax_id, ...webhookDeliveryView({ ...d, log: attempts.filter((a) => a.delivery_id === d.id) }) })),
      } satisfies WebhookDeliveriesView;
    });
  });
}
