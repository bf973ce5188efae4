import { createHash } from 'node:crypto';
import {
  aggregateState,
  createEvent,
  type CloudEvent,
  type DeliveryFaxFinal,
  type EventKey,
  type FinalStatus,
  type ProgressStatus,
} from '@faxnotify/contracts';
import { PermanentError, compiledQuery, errorMessage } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { tokenLink, type LinkTokens } from './links';
import type { OutboxTable, TrackerDatabase } from './schema';
import { finalStatusOf, latest, recipientFinal, resultIdOf } from './tracker-rows';
import { enqueueWebhook } from './webhooks';

/**
 * What a fax's state announces (tracker.ts): its aggregate, and the delivery events due, written
 * into the outbox in the handler's transaction under dedupe keys that make writing them twice
 * a no-op.
 */

/** CloudEvents source of everything the tracker publishes. */
export const TRACKER_SOURCE = '/faxnotify/status-tracker';

/** What announcing needs of the tracker's settings. */
export interface AnnounceOptions {
  faxUrlTemplate: string;
  linkTokens?: { tokens: LinkTokens; urlTemplate: string };
  now: () => Date;
}

const dedupeKeys = {
  recipientFinal: (faxId: string, recipientId: string) => `delivery.recipient.final:${resultIdOf(faxId, recipientId)}`,
  faxFinal: (faxId: string) => `delivery.fax.final:${faxId}`,
};

/**
 * The event id of an outbox row, derived from its dedupe key: a row the sweep has to restore gets
 * the id the lost one had, so consumers that de-duplicate by event id still see one event.
 */
export const outboxEventId = (dedupeKey: string): string => {
  const hex = createHash('sha256').update(dedupeKey).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

export const faxLink = (template: string, faxId: string): string => template.replaceAll('{faxId}', encodeURIComponent(faxId));

/* The statements of every announcement, built once (compiledQuery) and run with its values. */

const faxById = compiledQuery((db: Kysely<TrackerDatabase>, p: { faxId: string }) => db.selectFrom('faxes').selectAll().where('id', '=', p.faxId));

const listedRecipients = compiledQuery((db: Kysely<TrackerDatabase>, p: { faxId: string }) =>
  db.selectFrom('recipients').selectAll().where('fax_id', '=', p.faxId).where('position', 'is not', null),
);

const faxState = compiledQuery((db: Kysely<TrackerDatabase>, p: { state: string; finalAt: string | null; faxId: string }) =>
  db.updateTable('faxes').set({ state: p.state, final_at: p.finalAt }).where('id', '=', p.faxId),
);

const outboxRow = compiledQuery((db: Kysely<TrackerDatabase>, p: { dedupeKey: string }) =>
  db.selectFrom('outbox').select('seq').where('dedupe_key', '=', p.dedupeKey),
);

const outboxInsert = compiledQuery(
  (db: Kysely<TrackerDatabase>, p: Pick<OutboxTable, 'id' | 'dedupe_key' | 'routing_key' | 'fax_id' | 'recipient_id' | 'event_json' | 'created_at'>) =>
    db
      .insertInto('outbox')
      .values({
        id: p.id,
        dedupe_key: p.dedupe_key,
        routing_key: p.routing_key,
        fax_id: p.fax_id,
        recipient_id: p.recipient_id,
        event_json: p.event_json,
        created_at: p.created_at,
        published_at: null,
        publish_attempts: 0,
        last_error: null,
      })
      .onConflict((oc) => oc.doNothing()),
);

/**
 * Brings a known fax's aggregate up to date and writes the outbox rows now due: one
 * delivery.recipient.final per final recipient, one delivery.fax.final once all are final.
 * Idempotent: the unique dedupe key turns a second insert into nothing.
 */
export async function completeFax(trx: Kysely<TrackerDatabase>, options: AnnounceOptions, faxId: string): Promise<number> {
  const fax = await faxById.firstOrThrow(trx, { faxId });
  if (fax.submitted_at === null || fax.owner_id === null) return 0; // a placeholder: wait for fax.submitted
  const recipients = (await listedRecipients.rows(trx, { faxId })).sort((a, b) => a.position! - b.position!);
  const state = aggregateState(
    recipients.map((r) => ({ status: r.status as FinalStatus | ProgressStatus, pagesSent: r.pages_sent, pagesTotal: r.pages_total })),
  );
  const finalAt = state === 'in_progress' ? null : (fax.final_at ?? latest(recipients.map((r) => r.ended_at)) ?? options.now().toISOString());
  if (state !== fax.state || finalAt !== fax.final_at) {
    await faxState.execute(trx, { state, finalAt, faxId });
  }
  const plainLink = faxLink(options.faxUrlTemplate, faxId);
  // One token per pass that announces something, minted in this transaction: a token exists
  // only if the event carrying it is written, and the notices of one pass share it.
  let tokenized: string | undefined;
  const noticeLink = async (): Promise<string> => {
    const links = options.linkTokens;
    if (!links) return plainLink;
    tokenized ??= tokenLink(links.urlTemplate, await links.tokens.mint(trx, fax.owner_id!, faxId));
    return tokenized;
  };
  let written = 0;
  for (const recipient of recipients) {
    if (recipient.final !== 1) continue;
    const dedupeKey = dedupeKeys.recipientFinal(faxId, recipient.recipient_id);
    if (await outboxHas(trx, dedupeKey)) continue;
    const data = recipientFinal(fax, recipient, await noticeLink(), recipients.length);
    const inserted = await insertOutbox(
      trx,
      options.now,
      'delivery.recipient.final',
      dedupeKey,
      faxId,
      recipient.recipient_id,
      data,
      `fax/${faxId}/recipient/${recipient.recipient_id}`,
    );
    // The owner's webhook POST is queued with the outbox row, in the same transaction: both or neither.
    // It carries the plain fax link: a webhook body is a server's to log, not a place for a credential.
    if (inserted > 0) await enqueueWebhook(trx, { ...data, links: { fax: plainLink } }, fax, recipients.length, options.now());
    written += inserted;
  }
  if (state !== 'in_progress' && !(await outboxHas(trx, dedupeKeys.faxFinal(faxId)))) {
    const data: DeliveryFaxFinal = {
      faxId,
      ownerId: fax.owner_id,
      subject: fax.subject ?? '',
      state,
      completedAt: finalAt!,
      recipients: recipients.map((r) => ({
        recipientId: r.recipient_id,
        number: r.number,
        status: finalStatusOf(r),
        pagesSent: r.pages_sent,
        pagesTotal: r.pages_total,
        remoteCsid: r.remote_csid,
        endedAt: r.ended_at ?? fax.updated_at,
        attempts: r.attempts ?? Math.max(1, r.attempt),
      })),
      links: { fax: await noticeLink() },
    };
    written += await insertOutbox(trx, options.now, 'delivery.fax.final', dedupeKeys.faxFinal(faxId), faxId, null, data, `fax/${faxId}`);
  }
  return written;
}

async function outboxHas(trx: Kysely<TrackerDatabase>, dedupeKey: string): Promise<boolean> {
  return (await outboxRow.first(trx, { dedupeKey })) !== undefined;
}

/** Writes one event into the outbox under its dedupe key; returns 1, or 0 when that key is already there. */
export async function insertOutbox<K extends EventKey>(
  trx: Kysely<TrackerDatabase>,
  now: () => Date,
  key: K,
  dedupeKey: string,
  faxId: string,
  recipientId: string | null,
  data: CloudEvent<K>['data'],
  subject: string,
): Promise<number> {
  const id = outboxEventId(dedupeKey);
  let event: CloudEvent<K>;
  try {
    event = createEvent(key, data, { source: TRACKER_SOURCE, id, subject, time: now() });
  } catch (error) {
    // Our own event failed its schema: retrying the input cannot fix it; dead-letter it with the reason.
    throw new PermanentError(`could not build ${key} for fax ${faxId}: ${errorMessage(error)}`, 'invalid-output', { cause: error });
  }
  return outboxInsert.affected(trx, {
    id,
    dedupe_key: dedupeKey,
    routing_key: key,
    fax_id: faxId,
    recipient_id: recipientId,
    event_json: JSON.stringify(event),
    created_at: now().toISOString(),
  });
}
