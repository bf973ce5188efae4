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
import { PermanentError, errorMessage, type Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { recordReceived, type InboxOptions } from './inbox/store';
import { requestResend, type ResendOutcome, type ResendRequest } from './resend';
import { tokenLink, type LinkTokens } from './links';
import { saveFirstPage } from './report/content';
import type { TrackerDatabase } from './schema';
import { finalStatusOf, latest, lockFax, recipientFinal, recordEvent, resultIdOf, saveRecipient, selectRecipient } from './tracker-rows';
import { enqueueWebhook } from './webhooks';

export { resultIdOf } from './tracker-rows';

/** CloudEvents source of everything the tracker publishes. */
export const TRACKER_SOURCE = '/faxnotify/status-tracker';

export interface StatusTrackerOptions {
  db: Kysely<TrackerDatabase>;
  /** Deep link to a fax; `{faxId}` is replaced. */
  faxUrlTemplate: string;
  /** Notice links with a link token (links.tokens on): the tokens and `{token}`'s template. Absent: the plain fax link. */
  linkTokens?: { tokens: LinkTokens; urlTemplate: string };
  /** Received faxes (fax.received): the Inbox link and the PDF attachment cap; absent, fax.received is refused. */
  inbox?: Omit<InboxOptions, 'db' | 'now'>;
  logger: Logger;
  now?: () => Date;
}

/** What one handled event did, for the caller (kick the relay) and for tests. */
export interface HandleOutcome {
  /** The event id was seen before: nothing changed. */
  duplicate: boolean;
  /** The event was recorded in the history but was older than what the recipient already showed. */
  stale: boolean;
  /** Outbox rows written (delivery.recipient.final, delivery.fax.final). */
  outboxRows: number;
}

const NOTHING: HandleOutcome = { duplicate: false, stale: false, outboxRows: 0 };

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

/** Normalises a peer's RFC 3339 time to UTC ISO text, so times compare correctly as text in either database. */
const iso = (time: string): string => new Date(time).toISOString();

/** (attempt, sequence) order of a recipient's events: a later attempt wins, then a later sequence. */
const isNewer = (a: { attempt: number; sequence: number }, b: { attempt: number; sequence: number }): boolean =>
  a.attempt > b.attempt || (a.attempt === b.attempt && a.sequence > b.sequence);

export const faxLink = (template: string, faxId: string): string => template.replaceAll('{faxId}', encodeURIComponent(faxId));

/**
 * The status tracker's message handlers. Each runs in one database transaction that first locks
 * the fax row (creating a placeholder if the fax is not known yet), so events of one fax apply one
 * at a time, also across replicas on PostgreSQL. The consumer acknowledges only after it returns.
 *
 * Out of order: progress and results may arrive before their fax.submitted. They are stored
 * against a placeholder fax row and recipient rows keyed by (fax id, recipient id); nothing is
 * published until the submission names the owner, the subject and the full recipient list, and
 * then every recipient already final is published at once.
 *
 * A recipient's delivery.recipient.final is written once; a later attempt's result arriving after
 * it was written still updates the recipient (and the API shows it), but is not announced again.
 */
export class StatusTracker {
  private readonly db: Kysely<TrackerDatabase>;
  private readonly now: () => Date;

  constructor(private readonly options: StatusTrackerOptions) {
    this.db = options.db;
    this.now = options.now ?? (() => new Date());
  }

  /** Dispatches a validated event to its handler. */
  async handle(event: CloudEvent, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    switch (event.type) {
      case 'faxnotify.fax.submitted.v2':
        return this.faxSubmitted(event as CloudEvent<'fax.submitted'>, logger);
      case 'faxnotify.fax.recipient.progress.v1':
        return this.recipientProgress(event as CloudEvent<'fax.recipient.progress'>, logger);
      case 'faxnotify.fax.recipient.result.v1':
        return this.recipientResult(event as CloudEvent<'fax.recipient.result'>, logger);
      case 'faxnotify.fax.received.v1':
        if (!this.options.inbox) throw new PermanentError('this status tracker keeps no Inbox');
        return recordReceived({ ...this.options.inbox, db: this.db, now: this.now }, event as CloudEvent<'fax.received'>);
      case 'faxnotify.fax.resend.requested.v1':
        return this.resendRequested(event as CloudEvent<'fax.resend.requested'>, logger);
      // Older versions arrive here upgraded to the current one (see parseEvent).
      case 'faxnotify.notification.outcome.v2':
        await this.notificationOutcome(event as CloudEvent<'notification.outcome'>);
        return NOTHING;
      default:
        throw new PermanentError(`the status tracker does not handle ${event.type}`);
    }
  }

  async faxSubmitted(event: CloudEvent<'fax.submitted'>, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    const data = event.data;
    return this.db.transaction().execute(async (trx) => {
      const now = this.now().toISOString();
      const fax = await lockFax(trx, data.faxId, now);
      if (fax.submitted_at !== null) {
        if (fax.owner_id !== data.ownerId) throw new PermanentError(`fax ${data.faxId} was already submitted by another owner`);
        // A redelivery: nothing new, but completing is idempotent and costs little.
        return { duplicate: true, stale: false, outboxRows: await this.complete(trx, data.faxId) };
      }
      await trx
        .updateTable('faxes')
        .set({
          owner_id: data.ownerId,
          outbox_id: data.outboxId ?? null,
          from_number: data.from ?? null,
          subject: data.subject,
          pages: data.pages,
          files_json: JSON.stringify(data.files),
          resend_of: data.resendOf ?? null,
          submitted_at: iso(data.submittedAt),
          send_at: data.sendAt ? iso(data.sendAt) : null,
          retry_count: data.retry.count,
          retry_delay_minutes: data.retry.delayMinutes,
          updated_at: now,
        })
        .where('id', '=', data.faxId)
        .execute();
      const seen = new Set<string>();
      for (const [position, recipient] of data.recipients.entries()) {
        if (seen.has(recipient.recipientId)) throw new PermanentError(`fax ${data.faxId} names recipient ${recipient.recipientId} twice`);
        seen.add(recipient.recipientId);
        // A recipient given only some pages (a resend's missing pages) has that many to get.
        const share = recipient.pages && recipient.pages.last >= recipient.pages.first ? recipient.pages : undefined;
        await trx
          .insertInto('recipients')
          .values({
            fax_id: data.faxId,
            recipient_id: recipient.recipientId,
            number: recipient.number,
            position,
            status: 'queued',
            attempt: 0,
            sequence: 0,
            pages_sent: 0,
            pages_total: share ? share.last - share.first + 1 : data.pages,
            first_page: share?.first ?? null,
            final: 0,
            created_at: now,
            updated_at: now,
          })
          // Events got here first: keep what they said, take the submission's place, number and share of the pages.
          .onConflict((oc) => oc.columns(['fax_id', 'recipient_id']).doUpdateSet({ position, number: recipient.number, first_page: share?.first ?? null }))
          .execute();
      }
      if (data.firstPage) await saveFirstPage(trx, data.faxId, data.firstPage, logger);
      const strays = await trx.selectFrom('recipients').select('recipient_id').where('fax_id', '=', data.faxId).where('position', 'is', null).execute();
      if (strays.length > 0)
        logger.warn({ faxId: data.faxId, recipients: strays.map((r) => r.recipient_id) }, 'events named recipients the submission does not list');
      return { ...NOTHING, outboxRows: await this.complete(trx, data.faxId) };
    });
  }

  async recipientProgress(event: CloudEvent<'fax.recipient.progress'>, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    const data = event.data;
    return this.db.transaction().execute(async (trx) => {
      const now = this.now().toISOString();
      const fax = await lockFax(trx, data.faxId, now);
      const current = await selectRecipient(trx, data.faxId, data.recipientId);
      const applies = !current || (current.final === 0 && isNewer(data, current));
      const recorded = await recordEvent(trx, event.id, 'progress', data, iso(data.at), applies, now);
      if (!recorded) return { ...NOTHING, duplicate: true };
      if (!applies) {
        logger.debug({ faxId: data.faxId, recipientId: data.recipientId, attempt: data.attempt, sequence: data.sequence }, 'stale progress ignored');
        return { ...NOTHING, stale: true };
      }
      // What the same attempt already established carries over; a new attempt starts a new call.
      const sameAttempt = current && current.attempt === data.attempt ? current : undefined;
      const changes = {
        number: data.number,
        status: data.status,
        attempt: data.attempt,
        sequence: data.sequence,
        pages_sent: data.page ? data.page.n : (sameAttempt?.pages_sent ?? 0),
        pages_total: data.page ? data.page.of : (current?.pages_total ?? fax.pages ?? 0),
        remote_csid: data.remoteCsid ?? sameAttempt?.remote_csid ?? null,
        started_at: data.status === 'connected' ? iso(data.at) : (sameAttempt?.started_at ?? null),
        retry_at: data.retry ? iso(data.retry.at) : null,
        reason_code: data.retry ? data.retry.reason.code : (current?.reason_code ?? null),
        reason_detail: data.retry ? data.retry.reason.detail : (current?.reason_detail ?? null),
        // Progress only ever applies to a recipient that is not final yet, and leaves it so.
        final: 0,
        updated_at: now,
      };
      await saveRecipient(trx, data.faxId, data.recipientId, current !== undefined, changes);
      return NOTHING;
    });
  }

  async recipientResult(event: CloudEvent<'fax.recipient.result'>, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    const data = event.data;
    return this.db.transaction().execute(async (trx) => {
      const now = this.now().toISOString();
      const fax = await lockFax(trx, data.faxId, now);
      const current = await selectRecipient(trx, data.faxId, data.recipientId);
      // A result ends the recipient whatever progress said; between two results the later attempt wins.
      const applies = !current || current.final === 0 || isNewer(data, current);
      const recorded = await recordEvent(trx, event.id, 'result', data, iso(data.endedAt), applies, now);
      if (!recorded) return { ...NOTHING, duplicate: true };
      if (!applies) {
        logger.debug({ faxId: data.faxId, recipientId: data.recipientId, attempt: data.attempt, sequence: data.sequence }, 'stale result ignored');
        return { ...NOTHING, stale: true };
      }
      if (current?.final === 1) {
        logger.info({ faxId: data.faxId, recipientId: data.recipientId, from: current.status, to: data.status }, 'a later attempt replaced a final result');
      }
      const changes = {
        number: data.number,
        status: data.status,
        attempt: data.attempt,
        sequence: data.sequence,
        pages_sent: data.pagesSent,
        pages_total: data.pagesTotal,
        remote_csid: data.remoteCsid,
        remote_csid_raw: data.remoteCsidRaw ?? null,
        reason_code: data.reason.code,
        reason_detail: data.reason.detail,
        started_at: data.startedAt ? iso(data.startedAt) : null,
        ended_at: iso(data.endedAt),
        attempts: data.attempts,
        retry_at: null,
        final: 1,
        updated_at: now,
      };
      await saveRecipient(trx, data.faxId, data.recipientId, current !== undefined, changes);
      if (fax.submitted_at !== null && (current?.position ?? null) === null) {
        logger.warn({ faxId: data.faxId, recipientId: data.recipientId }, 'result for a recipient the submission does not list; stored, not announced');
      }
      return { ...NOTHING, outboxRows: await this.complete(trx, data.faxId) };
    });
  }

  /**
   * Resends a final fax to its recipients that did not get every page (resend.ts): the order to the
   * transmitter goes into the outbox with the request. The API, the fax page and the bus command
   * (fax.resend.requested) all come here.
   */
  requestResend(faxId: string, actor: string, request: ResendRequest): Promise<ResendOutcome> {
    return requestResend(
      {
        db: this.db,
        now: this.now,
        writeOrder: (trx, order) =>
          this.insertOutbox(trx, 'fax.resend.ordered', `fax.resend.ordered:${order.faxId}`, order.faxId, null, order, `fax/${order.faxId}`),
      },
      faxId,
      actor,
      request,
    );
  }

  /** fax.resend.requested from the bus: a refusal is final (dead-lettered with its reason); the same request again changes nothing. */
  async resendRequested(event: CloudEvent<'fax.resend.requested'>, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    const { faxId, ownerId, onlyMissingPages, requestedVia, requestId } = event.data;
    const outcome = await this.requestResend(faxId, ownerId, { onlyMissingPages, requestedVia, requestId });
    if (!outcome.ok) throw new PermanentError(`resend of fax ${faxId} refused (${outcome.error}): ${outcome.message}`);
    logger.info({ faxId, newFaxId: outcome.faxId, requestedVia, recipients: outcome.recipients.length, duplicate: outcome.duplicate }, 'resend requested');
    return { duplicate: outcome.duplicate, stale: false, outboxRows: outcome.duplicate ? 0 : 1 };
  }

  /** Stores a notice outcome; of two outcomes for one (result, channel), the later `at` wins. */
  async notificationOutcome(event: CloudEvent<'notification.outcome'>): Promise<void> {
    const data = event.data;
    const row = {
      result_id: data.resultId,
      channel: data.channel,
      fax_id: data.faxId,
      recipient_id: data.recipientId,
      owner_id: data.ownerId,
      outcome: data.outcome,
      reason: data.reason ?? null,
      address: data.address ?? null,
      locale: data.locale ?? null,
      provider_message_id: data.providerMessageId ?? null,
      sms_segments: data.sms?.segments ?? null,
      sms_encoding: data.sms?.encoding ?? null,
      provider_status: data.provider?.status ?? null,
      provider_error_code: data.provider?.errorCode ?? null,
      smtp_code: data.smtp?.code ?? null,
      attempts: data.attempts,
      at: iso(data.at),
      received_at: this.now().toISOString(),
    };
    await this.db
      .insertInto('notices')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['result_id', 'channel'])
          .doUpdateSet((eb) => ({
            outcome: eb.ref('excluded.outcome'),
            reason: eb.ref('excluded.reason'),
            address: eb.ref('excluded.address'),
            locale: eb.ref('excluded.locale'),
            provider_message_id: eb.ref('excluded.provider_message_id'),
            sms_segments: eb.ref('excluded.sms_segments'),
            sms_encoding: eb.ref('excluded.sms_encoding'),
            provider_status: eb.ref('excluded.provider_status'),
            provider_error_code: eb.ref('excluded.provider_error_code'),
            smtp_code: eb.ref('excluded.smtp_code'),
            attempts: eb.ref('excluded.attempts'),
            at: eb.ref('excluded.at'),
            received_at: eb.ref('excluded.received_at'),
          }))
          .where('notices.at', '<=', (eb) => eb.ref('excluded.at')),
      )
      .execute();
  }

  /**
   * For the reconciliation sweep: in its own transaction, recomputes a fax's state and writes any
   * final event missing from the outbox. Returns the rows written.
   */
  async reconcileFax(faxId: string): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      await lockFax(trx, faxId, this.now().toISOString());
      return this.complete(trx, faxId);
    });
  }

  /**
   * Brings a known fax's aggregate up to date and writes the outbox rows now due: one
   * delivery.recipient.final per final recipient, one delivery.fax.final once all are final.
   * Idempotent: the unique dedupe key turns a second insert into nothing.
   */
  private async complete(trx: Kysely<TrackerDatabase>, faxId: string): Promise<number> {
    const fax = await trx.selectFrom('faxes').selectAll().where('id', '=', faxId).executeTakeFirstOrThrow();
    if (fax.submitted_at === null || fax.owner_id === null) return 0; // a placeholder: wait for fax.submitted
    const recipients = (await trx.selectFrom('recipients').selectAll().where('fax_id', '=', faxId).where('position', 'is not', null).execute()).sort(
      (a, b) => a.position! - b.position!,
    );
    const state = aggregateState(
      recipients.map((r) => ({ status: r.status as FinalStatus | ProgressStatus, pagesSent: r.pages_sent, pagesTotal: r.pages_total })),
    );
    const finalAt = state === 'in_progress' ? null : (fax.final_at ?? latest(recipients.map((r) => r.ended_at)) ?? this.now().toISOString());
    if (state !== fax.state || finalAt !== fax.final_at) {
      await trx.updateTable('faxes').set({ state, final_at: finalAt }).where('id', '=', faxId).execute();
    }
    const plainLink = faxLink(this.options.faxUrlTemplate, faxId);
    // One token per pass that announces something, minted in this transaction: a token exists
    // only if the event carrying it is written, and the notices of one pass share it.
    let tokenized: string | undefined;
    const noticeLink = async (): Promise<string> => {
      const links = this.options.linkTokens;
      if (!links) return plainLink;
      tokenized ??= tokenLink(links.urlTemplate, await links.tokens.mint(trx, fax.owner_id!, faxId));
      return tokenized;
    };
    let written = 0;
    for (const recipient of recipients) {
      if (recipient.final !== 1) continue;
      const dedupeKey = dedupeKeys.recipientFinal(faxId, recipient.recipient_id);
      if (await this.outboxHas(trx, dedupeKey)) continue;
      const data = recipientFinal(fax, recipient, await noticeLink(), recipients.length);
      const inserted = await this.insertOutbox(
        trx,
        'delivery.recipient.final',
        dedupeKey,
        faxId,
        recipient.recipient_id,
        data,
        `fax/${faxId}/recipient/${recipient.recipient_id}`,
      );
      // The owner's webhook POST is queued with the outbox row, in the same transaction: both or neither.
      // It carries the plain fax link: a webhook body is a server's to log, not a place for a credential.
      if (inserted > 0) await enqueueWebhook(trx, { ...data, links: { fax: plainLink } }, fax, recipients.length, this.now());
      written += inserted;
    }
    if (state !== 'in_progress' && !(await this.outboxHas(trx, dedupeKeys.faxFinal(faxId)))) {
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
      written += await this.insertOutbox(trx, 'delivery.fax.final', dedupeKeys.faxFinal(faxId), faxId, null, data, `fax/${faxId}`);
    }
    return written;
  }

  private async outboxHas(trx: Kysely<TrackerDatabase>, dedupeKey: string): Promise<boolean> {
    return (await trx.selectFrom('outbox').select('seq').where('dedupe_key', '=', dedupeKey).executeTakeFirst()) !== undefined;
  }

  private async insertOutbox<K extends EventKey>(
    trx: Kysely<TrackerDatabase>,
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
      event = createEvent(key, data, { source: TRACKER_SOURCE, id, subject, time: this.now() });
    } catch (error) {
      // Our own event failed its schema: retrying the input cannot fix it; dead-letter it with the reason.
      throw new PermanentError(`could not build ${key} for fax ${faxId}: ${errorMessage(error)}`, 'invalid-output', { cause: error });
    }
    const result = await trx
      .insertInto('outbox')
      .values({
        id,
        dedupe_key: dedupeKey,
        routing_key: key,
        fax_id: faxId,
        recipient_id: recipientId,
        event_json: JSON.stringify(event),
        created_at: this.now().toISOString(),
        published_at: null,
        publish_attempts: 0,
        last_error: null,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
}
