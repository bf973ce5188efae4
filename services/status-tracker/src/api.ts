import { requireUser, userOf, type createHttpServer } from '@faxnotify/kit';
import { AGGREGATE_STATES } from '@faxnotify/contracts';
import type { Kysely } from 'kysely';
import type { FaxRow, NoticeRow, RecipientEventRow, RecipientRow, TrackerDatabase } from './schema';

type HttpServer = ReturnType<typeof createHttpServer>;

export interface FaxApiOptions {
  db: Kysely<TrackerDatabase>;
  jwtSecret: string;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Opaque list position: the last row's (submitted_at, id), so paging is stable while new faxes arrive. */
const encodeCursor = (fax: Pick<FaxRow, 'submitted_at' | 'id'>) => Buffer.from(JSON.stringify([fax.submitted_at, fax.id])).toString('base64url');
function decodeCursor(cursor: string): { submittedAt: string; id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { submittedAt: value[0], id: value[1] };
  } catch {
    /* answered as a bad request below */
  }
  return null;
}

const faxSummary = (fax: FaxRow, counts?: { total: number; final: number }) => ({
  id: fax.id,
  subject: fax.subject ?? '',
  state: fax.state,
  pages: fax.pages,
  submittedAt: fax.submitted_at,
  sendAt: fax.send_at,
  finalAt: fax.final_at,
  recipients: counts ? { total: counts.total, final: counts.final } : undefined,
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
  attempts: notice.attempts,
  at: notice.at,
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

/**
 * The polling JSON API: the owner's Sent folder and one fax with its recipients, their attempt
 * history and the notices sent about them. Every route needs a bearer token and sees only the
 * caller's faxes: another user's fax answers 404, as one that does not exist.
 */
export function registerFaxApi(app: HttpServer, options: FaxApiOptions): void {
  const { db } = options;
  void app.register(async (scope) => {
    scope.addHook('preHandler', requireUser({ secret: options.jwtSecret }));

    scope.get<{ Querystring: { limit?: string; cursor?: string; state?: string } }>('/v1/faxes', async (request, reply) => {
      const owner = userOf(request);
      const limit = request.query.limit === undefined ? DEFAULT_PAGE : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) return reply.code(400).send({ error: 'bad_request', message: `limit must be an integer from 1 to ${MAX_PAGE}` });
      const { state } = request.query;
      if (state !== undefined && !(AGGREGATE_STATES as readonly string[]).includes(state))
        return reply.code(400).send({ error: 'bad_request', message: `state must be one of ${AGGREGATE_STATES.join(', ')}` });
      const cursor = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);
      if (cursor === null) return reply.code(400).send({ error: 'bad_request', message: 'cursor is not one this API gave out' });

      let query = db.selectFrom('faxes').selectAll().where('owner_id', '=', owner).where('submitted_at', 'is not', null);
      if (state !== undefined) query = query.where('state', '=', state);
      if (cursor) {
        query = query.where((eb) =>
          eb.or([eb('submitted_at', '<', cursor.submittedAt), eb.and([eb('submitted_at', '=', cursor.submittedAt), eb('id', '<', cursor.id)])]),
        );
      }
      const rows = await query.orderBy('submitted_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const counts = new Map<string, { total: number; final: number }>();
      if (page.length > 0) {
        const tallies = await db
          .selectFrom('recipients')
          .select((eb) => ['fax_id', eb.fn.countAll<string | number>().as('total'), eb.fn.sum<string | number>('final').as('final')])
          .where(
            'fax_id',
            'in',
            page.map((f) => f.id),
          )
          .where('position', 'is not', null)
          .groupBy('fax_id')
          .execute();
        for (const t of tallies) counts.set(t.fax_id, { total: Number(t.total), final: Number(t.final ?? 0) });
      }
      return {
        faxes: page.map((fax) => faxSummary(fax, counts.get(fax.id) ?? { total: 0, final: 0 })),
        nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!) : null,
      };
    });

    scope.get<{ Params: { faxId: string } }>('/v1/faxes/:faxId', async (request, reply) => {
      const owner = userOf(request);
      const { faxId } = request.params;
      const notFound = () => reply.code(404).send({ error: 'not_found', message: 'no such fax' });
      if (!ID_PATTERN.test(faxId)) return notFound();
      const fax = await db.selectFrom('faxes').selectAll().where('id', '=', faxId).where('owner_id', '=', owner).where('submitted_at', 'is not', null).executeTakeFirst();
      if (!fax) return notFound();
      const [recipients, history, notices] = await Promise.all([
        db.selectFrom('recipients').selectAll().where('fax_id', '=', faxId).execute(),
        db.selectFrom('recipient_events').selectAll().where('fax_id', '=', faxId).orderBy('attempt').orderBy('sequence').orderBy('received_at').execute(),
        db.selectFrom('notices').selectAll().where('fax_id', '=', faxId).orderBy('channel').execute(),
      ]);
      // Listed recipients in the submission's order, then any the submission did not name.
      recipients.sort((a, b) => (a.position ?? Number.MAX_SAFE_INTEGER) - (b.position ?? Number.MAX_SAFE_INTEGER) || a.recipient_id.localeCompare(b.recipient_id));
      return {
        ...faxSummary(fax),
        recipients: recipients.map((r) =>
          recipientView(
            r,
            history.filter((h) => h.recipient_id === r.recipient_id),
            notices.filter((n) => n.recipient_id === r.recipient_id),
          ),
        ),
        outboxId: fax.outbox_id,
        files: fax.files_json ? (JSON.parse(fax.files_json) as unknown) : [],
        retry: { count: fax.retry_count, delayMinutes: fax.retry_delay_minutes },
        createdAt: fax.created_at,
        updatedAt: fax.updated_at,
      };
    });
  });
}
