import { createHash, timingSafeEqual } from 'node:crypto';
import { createEvent } from '@faxnotify/contracts';
import type { Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { ProviderAccountRow, TrackerDatabase } from '../schema';
import type { StatusTracker } from '../tracker';
import type { ProviderResult } from './providers';

/** The first (usually the only) recipient of a provider fax; a Fax.Plus `to` list adds r2, r3, … in its order. */
export const PROVIDER_RECIPIENT = 'r1';
const recipientIdOf = (index: number): string => `r${index + 1}`;
const PREFIX: Record<ProviderResult['provider'], string> = { faxplus: 'fxp', replixfax: 'rpx' };

/** The SHA-256 (hex) kept of an ingest secret: posts are only checked against it, never signed with it. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/**
 * Whether a presented secret is the account's: its digest against the stored one (decrypted
 * first), compared in constant time; both are 32 bytes, so the time says nothing of either.
 */
export function secretMatches(presented: string | undefined, digest: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(digest, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A provider's id as part of ours: kept when it is short and plain, otherwise hashed. */
const idPart = (raw: string): string => (/^[A-Za-z0-9._-]{1,40}$/.test(raw) ? raw : createHash('sha256').update(raw).digest('hex').slice(0, 32));

export const providerFaxIdOf = (provider: ProviderResult['provider'], account: string, providerFaxKey: string): string =>
  `${PREFIX[provider]}-${account}-${idPart(providerFaxKey)}`;

/** Event ids bounded by the envelope's 200 characters. */
const eventId = (...parts: string[]): string => {
  const id = `ingest:${parts.join(':')}`;
  return id.length <= 200 ? id : `ingest:${createHash('sha256').update(id).digest('hex')}`;
};

/** Orders one recipient's provider results by when they ended (a retried Fax.Plus fax reports again later). */
const sequenceOf = (endedAt: string): number => Math.max(0, Math.floor((Date.parse(endedAt) - Date.UTC(2020, 0, 1)) / 1000));

export interface RecordOutcome {
  faxId: string;
  /** This result had been recorded before (by post or by query): nothing new happened. */
  duplicate: boolean;
  outboxRows: number;
}

export interface IngestRecorderOptions {
  db: Kysely<TrackerDatabase>;
  tracker: StatusTracker;
  logger: Logger;
  /** Called after a result committed new outbox rows (hand them over now). */
  onRecorded?: () => void;
  now?: () => Date;
}

/**
 * Records a provider result through the tracker's own handlers, as a fax.submitted and a
 * fax.recipient.result per number it names, whose event ids derive from the provider's ids: the same result arriving by
 * post and by query (or twice by either) is one event to the tracker, so it is stored once and its
 * delivery.recipient.final is written once. Then notes the result in `ingested_results`.
 */
export class IngestRecorder {
  private readonly now: () => Date;

  constructor(private readonly options: IngestRecorderOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async record(account: Pick<ProviderAccountRow, 'provider' | 'account' | 'owner_id'>, result: ProviderResult, via: 'post' | 'query'): Promise<RecordOutcome> {
    const { db, tracker, logger } = this.options;
    const faxId = providerFaxIdOf(result.provider, account.account, result.providerFaxKey);
    const source = `/faxnotify/ingest/${result.provider}/${account.account}`;
    const recipients = result.numbers.map((number, index) => ({ recipientId: recipientIdOf(index), number }));
    const submitted = createEvent(
      'fax.submitted',
      {
        faxId,
        ownerId: account.owner_id,
        ...(result.from ? { from: result.from } : {}),
        subject: result.subject,
        recipients,
        files: result.fileName ? [{ name: result.fileName, pages: result.pagesTotal }] : [],
        pages: result.pagesTotal,
        submittedAt: result.submittedAt ?? result.startedAt ?? result.endedAt,
        retry: result.retry,
      },
      { source, id: eventId(result.provider, account.account, result.providerFaxKey, 'submitted'), subject: `fax/${faxId}` },
    );
    const finals = recipients.map(({ recipientId, number }) =>
      createEvent(
        'fax.recipient.result',
        {
          faxId,
          recipientId,
          number,
          attempt: 1,
          sequence: sequenceOf(result.endedAt),
          status: result.status,
          reason: result.reason,
          pagesSent: result.pagesSent,
          pagesTotal: result.pagesTotal,
          remoteCsid: result.remoteCsid,
          startedAt: result.startedAt,
          endedAt: result.endedAt,
          attempts: 1,
        },
        {
          source,
          // The first recipient's id is the one results had when a provider fax had one recipient only.
          id: eventId(result.provider, account.account, result.providerFaxId, 'result', ...(recipientId === PROVIDER_RECIPIENT ? [] : [recipientId])),
          subject: `fax/${faxId}/recipient/${recipientId}`,
        },
      ),
    );
    const log = logger.child({ provider: result.provider, account: account.account, providerFaxId: result.providerFaxId, faxId, via });
    const first = await tracker.handle(submitted, log);
    // The cost is the fax's, written before its results so their webhooks can carry it.
    if (result.cost !== null)
      await db.updateTable('faxes').set({ cost: result.cost }).where('id', '=', faxId).where('owner_id', '=', account.owner_id).execute();
    let outboxRows = first.outboxRows;
    let duplicate = true;
    for (const final of finals) {
      const outcome = await tracker.handle(final, log);
      outboxRows += outcome.outboxRows;
      duplicate &&= outcome.duplicate;
    }
    const at = this.now().toISOString();
    await db
      .insertInto('ingested_results')
      .values({
        provider: result.provider,
        account: account.account,
        provider_fax_id: result.providerFaxId,
        fax_id: faxId,
        recipient_id: PROVIDER_RECIPIENT,
        raw_status: result.rawStatus,
        status: result.status,
        seen_by_post: via === 'post' ? 1 : 0,
        seen_by_query: via === 'query' ? 1 : 0,
        first_seen_via: via,
        first_seen_at: at,
        last_seen_at: at,
        marked_at: null,
        mark_attempts: 0,
        mark_error: null,
      })
      .onConflict((oc) => oc.columns(['provider', 'account', 'provider_fax_id']).doNothing())
      .execute();
    await db
      .updateTable('ingested_results')
      .set(via === 'post' ? { seen_by_post: 1, last_seen_at: at } : { seen_by_query: 1, last_seen_at: at })
      .where('provider', '=', result.provider)
      .where('account', '=', account.account)
      .where('provider_fax_id', '=', result.providerFaxId)
      .execute();
    if (outboxRows > 0) this.options.onRecorded?.();
    log.info({ status: result.status, recipients: recipients.length, duplicate }, duplicate ? 'provider result seen again' : 'provider result recorded');
    return { faxId, duplicate, outboxRows };
  }
}
