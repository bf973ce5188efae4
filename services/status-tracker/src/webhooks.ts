import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { FINAL_STATUS_INFO, type DeliveryRecipientFinal } from '@faxnotify/contracts';
import { CoalescedPasses, SecretUnreadableError, errorMessage, type Logger, type SecretBox } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { Counter } from 'prom-client';
import type { FaxRow, TrackerDatabase, WebhookDeliveryRow } from './schema';
import { openStoredSecret, secretContext, secretName } from './secrets';
import { WebhookTargetBlockedError, type TargetClient, type WebhookTargets } from './webhook-targets';

/**
 * Outbound webhooks: on each final per-recipient result, a POST in Fax.Plus's `fax_sent` shape
 * (`hook` {id, event, event_time, target} and `data` {id, uid, pages, from, to, start_time,
 * file_name, status, cost}) plus our extras (remote_csid, reason, pages_sent, …), signed with
 * HMAC-SHA256 over `${timestamp}.${body}`. Each Fax.Plus field means what it means there, or is
 * left out: `from` is the fax's sender number (absent when the fax named none), `cost` what a
 * provider charged (absent unless one reported it), `file_name` the fax's file names (absent
 * without files), and `file` (Fax.Plus's file id for its getFile call) is never sent, since the
 * tracker keeps no fax file to fetch by id.
 *
 * Receivers verify with {@link verifyWebhookSignature}: the `X-Faxnotify-Timestamp` header (Unix
 * seconds) and `X-Faxnotify-Signature: sha256=<hex>`; `hook.id` is the same on every retry of one
 * result, so a receiver that already has it can answer 2xx and ignore it.
 */
export const WEBHOOK_EVENT = 'fax_sent';
export const SIGNATURE_HEADER = 'x-faxnotify-signature';
export const TIMESTAMP_HEADER = 'x-faxnotify-timestamp';
export const DELIVERY_HEADER = 'x-faxnotify-delivery';
export const EVENT_HEADER = 'x-faxnotify-event';

/** How much of a receiver's answer is read; the body is not used, only the status. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const metrics = {
  attempts: new Counter({ name: 'faxnotify_tracker_webhook_attempts_total', help: 'Webhook POSTs made, by outcome.', labelNames: ['outcome'] }),
};

/** The hex HMAC-SHA256 of `${timestamp}.${body}` under the owner's secret. */
export const signWebhook = (secret: string, timestamp: number | string, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/**
 * For receivers (and our tests): true when `signature` (the header's value, `sha256=<hex>` or bare
 * hex) signs `${timestamp}.${body}` with `secret`, and the timestamp is within `toleranceSeconds`
 * of now (a replayed old POST fails).
 */
export function verifyWebhookSignature(input: {
  secret: string;
  timestamp: string | undefined;
  body: string;
  signature: string | undefined;
  toleranceSeconds?: number;
  now?: Date;
}): boolean {
  if (!input.timestamp || !input.signature || !/^\d{1,12}$/.test(input.timestamp)) return false;
  const age = Math.abs((input.now ?? new Date()).getTime() / 1000 - Number(input.timestamp));
  if (age > (input.toleranceSeconds ?? 300)) return false;
  const given = Buffer.from(input.signature.replace(/^sha256=/, ''), 'utf8');
  const expected = Buffer.from(signWebhook(input.secret, input.timestamp, input.body), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Fax.Plus writes times as `YYYY-MM-DD HH:mm:ss` (UTC). */
export const faxPlusTime = (iso: string): string => new Date(iso).toISOString().slice(0, 19).replace('T', ' ');

/** The hook id of one result's delivery: a UUID derived from the result id, the same on every retry. */
export function deliveryIdOf(resultId: string): string {
  const hex = createHash('sha256').update(`webhook:${resultId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The facts of the fax a webhook reads beside the result: its files, sender number and cost. */
export type WebhookFax = Pick<FaxRow, 'files_json' | 'from_number' | 'cost'>;

/**
 * The `data` of a fax_sent hook for one final result. `recipients` is how many the fax has: a
 * provider's cost is of the whole fax, so it is only this result's cost when the fax had one.
 */
export function faxSentData(final: DeliveryRecipientFinal, fax: WebhookFax, recipients = 1) {
  let files: Array<{ name: string; pages: number }> = [];
  try {
    files = fax.files_json ? (JSON.parse(fax.files_json) as typeof files) : [];
  } catch {
    files = [];
  }
  return {
    id: final.faxId,
    uid: final.ownerId,
    pages: final.pagesTotal,
    ...(fax.from_number ? { from: fax.from_number } : {}),
    to: final.number,
    start_time: faxPlusTime(final.startedAt ?? final.submittedAt),
    ...(files.length > 0 ? { file_name: files.map((f) => f.name).join(', ') } : {}),
    status: final.status,
    ...(fax.cost !== null && recipients === 1 ? { cost: fax.cost } : {}),
    // Ours, beyond Fax.Plus's shape:
    recipient_id: final.recipientId,
    result_id: final.resultId,
    subject: final.subject,
    pages_sent: final.pagesSent,
    remote_csid: final.remoteCsid,
    reason: { code: final.reason.code, detail: final.reason.detail, description: FINAL_STATUS_INFO[final.status].text.en.description },
    submit_time: faxPlusTime(final.submittedAt),
    end_time: faxPlusTime(final.endedAt),
    attempts: final.attempts,
    link: final.links.fax,
  };
}

/** The body of a fax_sent hook, as {@link webhookBody} writes it. */
export interface FaxSentBody {
  hook: { id: string; event: string; event_time: string; target: string };
  data: ReturnType<typeof faxSentData>;
}

/**
 * Called inside the transaction that writes a recipient's delivery.recipient.final outbox row:
 * queues the owner's webhook POST for it, if the owner has a webhook. One per result.
 */
export async function enqueueWebhook(
  trx: Kysely<TrackerDatabase>,
  final: DeliveryRecipientFinal,
  fax: WebhookFax,
  recipients: number,
  now: Date,
): Promise<boolean> {
  const hook = await trx.selectFrom('webhooks').select('owner_id').where('owner_id', '=', final.ownerId).executeTakeFirst();
  if (!hook) return false;
  const at = now.toISOString();
  const result = await trx
    .insertInto('webhook_deliveries')
    .values({
      id: deliveryIdOf(final.resultId),
      owner_id: final.ownerId,
      fax_id: final.faxId,
      recipient_id: final.recipientId,
      result_id: final.resultId,
      event: WEBHOOK_EVENT,
      event_time: final.endedAt,
      data_json: JSON.stringify(faxSentData(final, fax, recipients)),
      status: 'pending',
      attempts: 0,
      next_attempt_at: at,
      last_target: null,
      last_status_code: null,
      last_error: null,
      created_at: at,
      updated_at: at,
      delivered_at: null,
    })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** The webhook body, built at send time so `hook.target` names where it actually went. */
export const webhookBody = (delivery: Pick<WebhookDeliveryRow, 'id' | 'event' | 'event_time' | 'data_json'>, target: string): string =>
  `{"hook":${JSON.stringify({ id: delivery.id, event: delivery.event, event_time: faxPlusTime(delivery.event_time), target })},"data":${delivery.data_json}}`;

export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64url')}`;

/** What one POST came to: the receiver's status, or why there is none (`blocked`: the target is not allowed). */
interface PostOutcome {
  statusCode: number | null;
  error: string | null;
  blocked: boolean;
}

export interface WebhookDispatcherOptions {
  db: Kysely<TrackerDatabase>;
  logger: Logger;
  pollMs: number;
  firstRetryMs: number;
  maxRetryMs: number;
  maxAgeMs: number;
  timeoutMs: number;
  /** Where POSTs may go: checked for each delivery, and again by the agent when it connects. */
  targets: WebhookTargets;
  /** Opens the owners' stored signing secrets. */
  secrets: SecretBox;
  batchSize?: number;
  now?: () => Date;
}

/**
 * Sends queued webhook deliveries. Every `pollMs` (and on `kick`) it takes the deliveries due,
 * leases each by moving its `next_attempt_at` past the POST's timeout (so a replica polling at the
 * same time skips it), POSTs, and records the attempt: 2xx delivered; a target that is not
 * allowed (see {@link WebhookTargets}) failed at once, since trying again would not change it;
 * a signing secret that cannot be decrypted (its key is not configured) sends nothing and is
 * retried like a failed POST, since the operator can fix the keys meanwhile; otherwise (redirects included, which are never followed) retried after a doubling wait
 * (firstRetryMs, 2×, 4×, … up to maxRetryMs) until maxAgeMs after the result, then failed. A
 * replica that dies mid-POST leaves the lease to run out; the next poll tries again.
 */
export class WebhookDispatcher {
  private readonly passes: CoalescedPasses;
  private readonly now: () => Date;
  /** Makes the POSTs: every connection it opens resolves its host through the target check. */
  private readonly http: TargetClient;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.now = options.now ?? (() => new Date());
    this.http = options.targets.client();
    this.passes = new CoalescedPasses({
      pass: () => this.deliverDue(),
      onError: (error) => options.logger.warn({ err: errorMessage(error) }, 'webhook pass failed; retrying on the next poll'),
      pollMs: options.pollMs,
    });
  }

  start(): void {
    this.passes.start();
  }

  kick(): void {
    this.passes.kick();
  }

  /** Delay before attempt n+1 after n failed attempts. */
  backoffMs(failedAttempts: number): number {
    return Math.min(this.options.firstRetryMs * 2 ** Math.max(0, failedAttempts - 1), this.options.maxRetryMs);
  }

  /** Sends every delivery due now; returns how many POSTs were made. */
  async deliverDue(): Promise<number> {
    const { db } = this.options;
    const now = this.now().toISOString();
    const due = await db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(this.options.batchSize ?? 20)
      .execute();
    const lease = new Date(this.now().getTime() + this.options.timeoutMs + 5_000).toISOString();
    let made = 0;
    await Promise.all(
      due.map(async (delivery) => {
        if (this.passes.stopped) return;
        const claimed = await db
          .updateTable('webhook_deliveries')
          .set({ next_attempt_at: lease })
          .where('id', '=', delivery.id)
          .where('status', '=', 'pending')
          .where('next_attempt_at', '=', delivery.next_attempt_at)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) return; // another replica has it
        made += 1;
        await this.attempt(delivery);
      }),
    );
    return made;
  }

  private async attempt(delivery: WebhookDeliveryRow): Promise<void> {
    const { db, logger } = this.options;
    const hook = await db.selectFrom('webhooks').selectAll().where('owner_id', '=', delivery.owner_id).executeTakeFirst();
    const started = this.now();
    if (!hook) {
      // The owner removed the webhook: nothing to send to; keep the record of what was pending.
      await db
        .updateTable('webhook_deliveries')
        .set({ status: 'cancelled', next_attempt_at: null, last_error: 'the webhook was removed', updated_at: started.toISOString() })
        .where('id', '=', delivery.id)
        .execute();
      return;
    }
    const body = webhookBody(delivery, hook.url);
    const timestamp = Math.floor(started.getTime() / 1000);
    let secret: string | undefined;
    let unreadable: PostOutcome | undefined;
    try {
      secret = openStoredSecret(this.options.secrets, hook.secret, secretContext.webhookSecret(hook.owner_id), secretName.webhookSecret(hook.owner_id));
    } catch (cause) {
      if (!(cause instanceof SecretUnreadableError)) throw cause;
      unreadable = { statusCode: null, blocked: false, error: cause.message.slice(0, 500) };
    }
    const { statusCode, error, blocked } = secret === undefined ? unreadable! : await this.post(hook.url, delivery, body, timestamp, secret);
    const ended = this.now();
    const attempt = delivery.attempts + 1;
    let outcome: 'delivered' | 'retry' | 'failed';
    let nextAt: string | null = null;
    if (error === null) {
      outcome = 'delivered';
    } else if (blocked) {
      outcome = 'failed';
    } else {
      const next = ended.getTime() + this.backoffMs(attempt);
      const giveUpAt = Date.parse(delivery.created_at) + this.options.maxAgeMs;
      outcome = next > giveUpAt ? 'failed' : 'retry';
      if (outcome === 'retry') nextAt = new Date(next).toISOString();
    }
    metrics.attempts.inc({ outcome: blocked ? 'blocked' : secret === undefined ? 'secret_unreadable' : outcome });
    const at = ended.toISOString();
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('webhook_attempts')
        .values({
          delivery_id: delivery.id,
          attempt,
          fax_id: delivery.fax_id,
          target: hook.url,
          at: started.toISOString(),
          duration_ms: ended.getTime() - started.getTime(),
          status_code: statusCode,
          error,
          outcome,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await trx
        .updateTable('webhook_deliveries')
        .set({
          status: outcome === 'retry' ? 'pending' : outcome,
          attempts: attempt,
          next_attempt_at: nextAt,
          last_target: hook.url,
          last_status_code: statusCode,
          last_error: error,
          updated_at: at,
          delivered_at: outcome === 'delivered' ? at : null,
        })
        .where('id', '=', delivery.id)
        .execute();
    });
    if (secret === undefined)
      logger.error(
        { deliveryId: delivery.id, faxId: delivery.fax_id, ownerId: hook.owner_id, outcome, err: error },
        'webhook not sent: its signing secret cannot be decrypted',
      );
    else if (blocked)
      logger.warn({ deliveryId: delivery.id, faxId: delivery.fax_id, target: hook.url, error }, 'webhook delivery refused: the target is not allowed');
    else if (outcome === 'failed') logger.warn({ deliveryId: delivery.id, faxId: delivery.fax_id, attempts: attempt, error }, 'webhook delivery given up');
    else if (outcome === 'retry')
      logger.info({ deliveryId: delivery.id, faxId: delivery.fax_id, attempt, error, nextAt }, 'webhook delivery failed; will retry');
  }

  /** One signed POST; a failure comes back as its reason (`blocked`: the target is not allowed). */
  private async post(url: string, delivery: WebhookDeliveryRow, body: string, timestamp: number, secret: string): Promise<PostOutcome> {
    try {
      // Checked when it was set; again by the client before it connects, since the allowed ranges
      // may have changed since. A host name is judged by the client's lookup, on the addresses the
      // socket then connects to. Only the status of the answer counts; its body is not used.
      const response = await this.http.request(new URL(url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'faxnotify-webhooks/1',
          [EVENT_HEADER]: delivery.event,
          [DELIVERY_HEADER]: delivery.id,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: `sha256=${signWebhook(secret, timestamp, body)}`,
        },
        body,
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: MAX_RESPONSE_BYTES,
      });
      const statusCode = response.status;
      const location = response.headers.location;
      // A redirect is not a delivery, and following one could lead anywhere: the owner should fix the URL.
      if (statusCode >= 300 && statusCode <= 399)
        return {
          statusCode,
          blocked: false,
          error: `HTTP ${statusCode}: redirect${location ? ` to ${location.slice(0, 300)}` : ''} not followed; set the webhook URL to where the receiver is`,
        };
      return { statusCode, blocked: false, error: statusCode < 200 || statusCode > 299 ? `HTTP ${statusCode}` : null };
    } catch (cause) {
      const blocked = cause instanceof WebhookTargetBlockedError;
      return { statusCode: null, blocked, error: `${blocked ? 'blocked: ' : ''}${errorMessage(cause)}`.slice(0, 500) };
    }
  }

  async stop(): Promise<void> {
    await this.passes.stop();
    this.http.close();
  }
}
