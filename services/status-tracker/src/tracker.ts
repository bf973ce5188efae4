import type { CloudEvent } from '@faxnotify/contracts';
import { PermanentError, errorMessage, type Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { recordReceived, type InboxOptions } from './inbox/store';
import { requestResend, type ResendOutcome, type ResendRequest } from './resend';
import type { LinkTokens } from './links';
import { saveFirstPage } from './report/content';
import type { TrackerDatabase } from './schema';
import { completeFax, insertOutbox, type AnnounceOptions } from './tracker-outbox';
import { faxSubmission, lockFax, recordEvent, saveNotice, saveRecipient, selectRecipient, submittedRecipient, unlistedRecipients } from './tracker-rows';

export { resultIdOf } from './tracker-rows';
export { TRACKER_SOURCE, faxLink, outboxEventId } from './tracker-outbox';

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

/** What one event of a batch came to: its outcome, or the error its handling raised. */
export type BatchResult = { ok: true; outcome: HandleOutcome } | { ok: false; error: unknown };

/** The events handled in one shared transaction; the others open their own. */
type TransactionalEvent = CloudEvent<'fax.submitted' | 'fax.recipient.progress' | 'fax.recipient.result' | 'notification.outcome'>;

/** Normalises a peer's RFC 3339 time to UTC ISO text, so times compare correctly as text in either database. */
const iso = (time: string): string => new Date(time).toISOString();

/** (attempt, sequence) order of a recipient's events: a later attempt wins, then a later sequence. */
const isNewer = (a: { attempt: number; sequence: number }, b: { attempt: number; sequence: number }): boolean =>
  a.attempt > b.attempt || (a.attempt === b.attempt && a.sequence > b.sequence);

/**
 * The status tracker's message handlers. Each runs in a database transaction (its own, or the one
 * of its batch: handleBatch) and first locks the fax row (creating a placeholder if the fax is not
 * known yet), so events of one fax apply one at a time, also across replicas on PostgreSQL. The
 * consumer acknowledges only after the transaction committed.
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
  private readonly announce: AnnounceOptions;

  constructor(private readonly options: StatusTrackerOptions) {
    this.db = options.db;
    this.now = options.now ?? (() => new Date());
    this.announce = { faxUrlTemplate: options.faxUrlTemplate, linkTokens: options.linkTokens, now: this.now };
  }

  /**
   * The handling of an event that runs inside a transaction it is given (fax.submitted, progress,
   * results, notice outcomes); undefined for the events that open their own.
   */
  private inTransaction(event: CloudEvent, logger: Logger): ((trx: Kysely<TrackerDatabase>) => Promise<HandleOutcome>) | undefined {
    switch (event.type) {
      case 'faxnotify.fax.submitted.v2':
        return (trx) => this.submittedIn(trx, event as CloudEvent<'fax.submitted'>, logger);
      case 'faxnotify.fax.recipient.progress.v1':
        return (trx) => this.progressIn(trx, event as CloudEvent<'fax.recipient.progress'>, logger);
      case 'faxnotify.fax.recipient.result.v1':
        return (trx) => this.resultIn(trx, event as CloudEvent<'fax.recipient.result'>, logger);
      // Older versions arrive here upgraded to the current one (see parseEvent).
      case 'faxnotify.notification.outcome.v2':
        return async (trx) => {
          await saveNotice(trx, (event as CloudEvent<'notification.outcome'>).data, this.now().toISOString());
          return NOTHING;
        };
      default:
        return undefined;
    }
  }

  /** Dispatches a validated event to its handler, in a transaction of its own. */
  async handle(event: CloudEvent, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    const apply = this.inTransaction(event, logger);
    if (apply) return this.db.transaction().execute(apply);
    switch (event.type) {
      case 'faxnotify.fax.received.v1':
        if (!this.options.inbox) throw new PermanentError('this status tracker keeps no Inbox');
        return recordReceived({ ...this.options.inbox, db: this.db, now: this.now }, event as CloudEvent<'fax.received'>);
      case 'faxnotify.fax.resend.requested.v1':
        return this.resendRequested(event as CloudEvent<'fax.resend.requested'>, logger);
      default:
        throw new PermanentError(`the status tracker does not handle ${event.type}`);
    }
  }

  /**
   * Handles a batch of events, one result per event in the batch's order. Submissions, progress,
   * results and notice outcomes run in ONE transaction, sorted by fax id (a fax's events keep their
   * order; every handler locks its fax row first, so replicas on PostgreSQL take the locks in the
   * same order and cannot deadlock). If that transaction fails it is rolled back and its events run
   * one by one, each in its own, so only the faulty one reports an error. The other events
   * (fax.received, fax.resend.requested) open their own transactions and run one by one.
   */
  async handleBatch(items: ReadonlyArray<{ event: CloudEvent; logger?: Logger }>): Promise<BatchResult[]> {
    const results: Array<BatchResult | undefined> = items.map(() => undefined);
    const together = items
      .map(({ event, logger }, index) => ({
        index,
        faxId: (event as TransactionalEvent).data.faxId,
        apply: this.inTransaction(event, logger ?? this.options.logger),
      }))
      .filter((item) => item.apply !== undefined)
      .sort((a, b) => (a.faxId < b.faxId ? -1 : a.faxId > b.faxId ? 1 : a.index - b.index));
    if (together.length > 1) {
      try {
        const outcomes = await this.db.transaction().execute(async (trx) => {
          const done: HandleOutcome[] = [];
          for (const { apply } of together) done.push(await apply!(trx));
          return done;
        });
        together.forEach(({ index }, i) => (results[index] = { ok: true, outcome: outcomes[i] }));
      } catch (error) {
        this.options.logger.warn({ err: errorMessage(error), events: together.length }, 'batch transaction failed; handling its events one by one');
      }
    }
    for (const [index, { event, logger }] of items.entries()) {
      if (results[index]) continue;
      try {
        results[index] = { ok: true, outcome: await this.handle(event, logger) };
      } catch (error) {
        results[index] = { ok: false, error };
      }
    }
    return results as BatchResult[];
  }

  async faxSubmitted(event: CloudEvent<'fax.submitted'>, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    return this.db.transaction().execute((trx) => this.submittedIn(trx, event, logger));
  }

  private async submittedIn(trx: Kysely<TrackerDatabase>, event: CloudEvent<'fax.submitted'>, logger: Logger): Promise<HandleOutcome> {
    const data = event.data;
    const now = this.now().toISOString();
    const fax = await lockFax(trx, data.faxId, now);
    if (fax.submitted_at !== null) {
      if (fax.owner_id !== data.ownerId) throw new PermanentError(`fax ${data.faxId} was already submitted by another owner`);
      // A redelivery: nothing new, but completing is idempotent and costs little.
      return { duplicate: true, stale: false, outboxRows: await completeFax(trx, this.announce, data.faxId) };
    }
    await faxSubmission.execute(trx, {
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
      id: data.faxId,
    });
    const seen = new Set<string>();
    for (const [position, recipient] of data.recipients.entries()) {
      if (seen.has(recipient.recipientId)) throw new PermanentError(`fax ${data.faxId} names recipient ${recipient.recipientId} twice`);
      seen.add(recipient.recipientId);
      // A recipient given only some pages (a resend's missing pages) has that many to get.
      const share = recipient.pages && recipient.pages.last >= recipient.pages.first ? recipient.pages : undefined;
      await submittedRecipient.execute(trx, {
        fax_id: data.faxId,
        recipient_id: recipient.recipientId,
        number: recipient.number,
        position,
        pages_total: share ? share.last - share.first + 1 : data.pages,
        first_page: share?.first ?? null,
        now,
      });
    }
    if (data.firstPage) await saveFirstPage(trx, data.faxId, data.firstPage, logger);
    const strays = await unlistedRecipients.rows(trx, { faxId: data.faxId });
    if (strays.length > 0)
      logger.warn({ faxId: data.faxId, recipients: strays.map((r) => r.recipient_id) }, 'events named recipients the submission does not list');
    return { ...NOTHING, outboxRows: await completeFax(trx, this.announce, data.faxId) };
  }

  async recipientProgress(event: CloudEvent<'fax.recipient.progress'>, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    return this.db.transaction().execute((trx) => this.progressIn(trx, event, logger));
  }

  private async progressIn(trx: Kysely<TrackerDatabase>, event: CloudEvent<'fax.recipient.progress'>, logger: Logger): Promise<HandleOutcome> {
    const data = event.data;
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
  }

  async recipientResult(event: CloudEvent<'fax.recipient.result'>, logger: Logger = this.options.logger): Promise<HandleOutcome> {
    return this.db.transaction().execute((trx) => this.resultIn(trx, event, logger));
  }

  private async resultIn(trx: Kysely<TrackerDatabase>, event: CloudEvent<'fax.recipient.result'>, logger: Logger): Promise<HandleOutcome> {
    const data = event.data;
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
    return { ...NOTHING, outboxRows: await completeFax(trx, this.announce, data.faxId) };
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
          insertOutbox(trx, this.now, 'fax.resend.ordered', `fax.resend.ordered:${order.faxId}`, order.faxId, null, order, `fax/${order.faxId}`),
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
    await saveNotice(this.db, event.data, this.now().toISOString());
  }

  /**
   * For the reconciliation sweep: in its own transaction, recomputes a fax's state and writes any
   * final event missing from the outbox. Returns the rows written.
   */
  async reconcileFax(faxId: string): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      await lockFax(trx, faxId, this.now().toISOString());
      return completeFax(trx, this.announce, faxId);
    });
  }
}
