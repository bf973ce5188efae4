import { tokenOf, userOf, type createHttpServer } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { authenticateApi, type AuthOptions } from './auth';
import { isTimeZone } from './config';
import {
  CATEGORIES,
  DEFAULT_PAGE,
  MAX_PAGE,
  decodeCursor,
  listFaxes,
  loadFax,
  type Category,
  type FaxRecord,
  type Sender,
  type WebhookDeliveryWithAttempts,
} from './folder';
import type { LinkTokens } from './links';
import { endLiveStreams, streamFaxEvents, type LiveStreams, type LiveUpdateOptions } from './live';
import { faxScopeOf } from './offices/scope';
import { resendsOf } from './resend';
import { registerSentExport } from './search/export';
import { parseSearch, searchTimeZone } from './search/filters';
import type { FaxRow, NoticeRow, RecipientEventRow, RecipientRow, TrackerDatabase } from './schema';

type HttpServer = ReturnType<typeof createHttpServer>;

export interface FaxApiOptions {
  db: Kysely<TrackerDatabase>;
  jwtSecret: string;
  /** Token verification beyond the shared secret (a key set); defaults to the secret alone. */
  auth?: AuthOptions;
  /** The live-update stream's timing; defaults suit the pages. */
  live?: Partial<LiveUpdateOptions>;
  /** Link tokens, when on: a notice link's grant opens its fax's live stream (and nothing else here). */
  links?: LinkTokens;
}

const faxSummary = (fax: FaxRow, sender: Sender, counts?: { total: number; final: number; numbers?: string[] }) => ({
  id: fax.id,
  /** Who sent it: the owner's user id (an office colleague's, in an office-wide Sent folder). */
  owner: sender.userId,
  /** The owner's display name in their office, or null when none is set. */
  ownerName: sender.name,
  /** The fax's sender number (E.164), or null when it named none. */
  from: fax.from_number,
  subject: fax.subject ?? '',
  /** What a provider charged for the fax, in the account's currency; null when no source said. */
  cost: fax.cost,
  state: fax.state,
  pages: fax.pages,
  submittedAt: fax.submitted_at,
  sendAt: fax.send_at,
  finalAt: fax.final_at,
  recipients: counts ? { total: counts.total, final: counts.final, ...(counts.numbers ? { numbers: counts.numbers } : {}) } : undefined,
});

const parseJson = (text: string): Record<string, unknown> => {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
};

function historyEntry(row: RecipientEventRow) {
  const data = parseJson(row.data_json);
  const pick = (...keys: string[]) => Object.fromEntries(keys.filter((k) => data[k] !== undefined).map((k) => [k, data[k]]));
  return {
    eventId: row.event_id,
    kind: row.kind,
    attempt: row.attempt,
    sequence: row.sequence,
    status: row.status,
    at: row.at,
    applied: row.applied === 1,
    ...(row.kind === 'progress' ? pick('page', 'remoteCsid', 'retry') : pick('reason', 'pagesSent', 'pagesTotal', 'remoteCsid', 'attempts')),
  };
}

const noticeView = (notice: NoticeRow) => ({
  outcome: notice.outcome,
  reason: notice.reason,
  address: notice.address,
  locale: notice.locale,
  providerMessageId: notice.provider_message_id,
  sms: notice.sms_segments !== null && notice.sms_encoding !== null ? { segments: notice.sms_segments, encoding: notice.sms_encoding } : null,
  provider: notice.provider_status !== null ? { status: notice.provider_status, errorCode: notice.provider_error_code } : null,
  smtp: notice.smtp_code !== null ? { code: notice.smtp_code } : null,
  attempts: notice.attempts,
  at: notice.at,
});

export const webhookDeliveryView = (delivery: WebhookDeliveryWithAttempts) => ({
  hookId: delivery.id,
  recipientId: delivery.recipient_id,
  resultId: delivery.result_id,
  event: delivery.event,
  status: delivery.status,
  attempts: delivery.attempts,
  nextAttemptAt: delivery.next_attempt_at,
  deliveredAt: delivery.delivered_at,
  lastStatusCode: delivery.last_status_code,
  lastError: delivery.last_error,
  createdAt: delivery.created_at,
  log: delivery.log.map((a) => ({
    attempt: a.attempt,
    at: a.at,
    target: a.target,
    statusCode: a.status_code,
    error: a.error,
    outcome: a.outcome,
    durationMs: a.duration_ms,
  })),
});

function recipientView(recipient: RecipientRow, history: RecipientEventRow[], notices: NoticeRow[]) {
  return {
    recipientId: recipient.recipient_id,
    number: recipient.number,
    status: recipient.status,
    final: recipient.final === 1,
    attempt: recipient.attempt,
    attempts: recipient.attempts,
    pagesSent: recipient.pages_sent,
    pagesTotal: recipient.pages_total,
    remoteCsid: recipient.remote_csid,
    remoteCsidRaw: recipient.remote_csid_raw,
    reason: recipient.reason_code !== null ? { code: recipient.reason_code, detail: recipient.reason_detail ?? '' } : null,
    startedAt: recipient.started_at,
    endedAt: recipient.ended_at,
    retryAt: recipient.retry_at,
    /** Whether fax.submitted named this recipient (events for unnamed ones are kept, never announced). */
    listed: recipient.position !== null,
    history: history.map(historyEntry),
    notices: Object.fromEntries(notices.map((n) => [n.channel, noticeView(n)])),
  };
}

function faxView({ fax, sender, recipients, history, notices, webhooks }: FaxRecord) {
  return {
    ...faxSummary(fax, sender),
    recipients: recipients.map((r) =>
      recipientView(
        r,
        history.filter((h) => h.recipient_id === r.recipient_id),
        notices.filter((n) => n.recipient_id === r.recipient_id),
      ),
    ),
    webhookDeliveries: webhooks.map(webhookDeliveryView),
    outboxId: fax.outbox_id,
    files: fax.files_json ? (JSON.parse(fax.files_json) as unknown) : [],
    retry: { count: fax.retry_count, delayMinutes: fax.retry_delay_minutes },
    createdAt: fax.created_at,
    updatedAt: fax.updated_at,
  };
}

/** The JSON answers of the API, as a client reads them. */
export type FaxSummaryView = ReturnType<typeof faxSummary>;
export interface FaxListView {
  faxes: FaxSummaryView[];
  nextCursor: string | null;
}
export type FaxView = ReturnType<typeof faxView>;
export type RecipientView = ReturnType<typeof recipientView>;
export type WebhookDeliveryView = ReturnType<typeof webhookDeliveryView>;
/** Any refused request: a machine-readable code and a sentence. */
export interface ErrorView {
  error: string;
  message: string;
}

/**
 * The polling JSON API: the caller's Sent folder and one fax with its recipients, their attempt
 * history and the notices sent about them. Every route needs a bearer token and sees only the
 * faxes in the caller's scope (their own; their office's too when they are its admin or it shares
 * its Sent folder): any other fax answers 404, as one that does not exist.
 */
export function registerFaxApi(app: HttpServer, options: FaxApiOptions): void {
  const { db } = options;
  const auth = options.auth ?? { secret: options.jwtSecret };
  const streams: LiveStreams = new Set();
  app.addHook('preClose', async () => endLiveStreams(streams));
  void app.register(async (scope) => {
    scope.addHook('preHandler', authenticateApi(auth, options.links));

    scope.get<{ Querystring: Record<string, string | undefined> }>('/v1/faxes', async (request, reply) => {
      const owner = userOf(request);
      const limit = request.query.limit === undefined ? DEFAULT_PAGE : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
        return reply.code(400).send({ error: 'bad_request', message: `limit must be an integer from 1 to ${MAX_PAGE}` });
      const { category } = request.query;
      if (category !== undefined && !(CATEGORIES as readonly string[]).includes(category))
        return reply.code(400).send({ error: 'bad_request', message: `category must be one of ${CATEGORIES.join(', ')}` });
      // A search: dates are days in `tz`, else the token's time zone, else UTC (search/filters.ts).
      const token = tokenOf(request);
      const timeZone = searchTimeZone(request.query.tz, token?.tz && isTimeZone(token.tz) ? token.tz : 'UTC');
      if (timeZone === undefined) return reply.code(400).send({ error: 'bad_request', message: 'tz must be an IANA time zone name' });
      const search = parseSearch('sent', request.query, timeZone);
      if (!search.ok) return reply.code(400).send({ error: 'bad_request', message: search.message });
      const cursor = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);
      if (cursor === null) return reply.code(400).send({ error: 'bad_request', message: 'cursor is not one this API gave out' });
      const scope = await faxScopeOf(db, owner);
      const { entries, nextCursor } = await listFaxes(db, { owner: scope, limit, cursor, filters: search.filters, category: category as Category | undefined });
      return { faxes: entries.map((e) => faxSummary(e.fax, e.sender, e.recipients)), nextCursor } satisfies FaxListView;
    });

    registerSentExport(scope, db);

    scope.get<{ Params: { faxId: string } }>('/v1/faxes/:faxId', async (request, reply) => {
      const record = await loadFax(db, await faxScopeOf(db, userOf(request)), request.params.faxId);
      if (!record) return reply.code(404).send({ error: 'not_found', message: 'no such fax' });
      // Linked both ways: the fax this one resends, and the faxes that resent this one.
      const resentAs = (await resendsOf(db, record.fax.id)).map((r) => r.new_fax_id);
      return { ...faxView(record), resendOf: record.fax.resend_of, resentAs };
    });

    scope.get<{ Params: { faxId: string } }>('/v1/faxes/:faxId/events', { config: { linkGrant: true } }, async (request, reply) => {
      await streamFaxEvents(db, request, reply, await faxScopeOf(db, userOf(request)), request.params.faxId, options.live ?? {}, streams);
    });
  });
}
