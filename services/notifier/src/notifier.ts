import { createHash } from 'node:crypto';
import { FINAL_STATUS_INFO, type CloudEvent, type DeliveryRecipientFinal, type Locale } from '@faxnotify/contracts';
import { RetryableError, describeRateLimit, errorMessage, type Logger, type MessageBus, type RateLimiter } from '@faxnotify/kit';
import { CHANNELS, ChannelError, type Channel, type ChannelAdapter, type DeliveryReport, type RenderedNotice, type SendReceipt } from './channels/types';
import { FINAL_LEDGER_STATUSES, SendLedger, type LedgerEntry } from './ledger';
import { outcomeEventOf } from './outcome';
import { noticeContext, renderNotice } from './render';
import type { LedgerTable } from './schema';
import type { ChannelConfirmations } from './confirmations/service';
import type { ConfirmationReports } from './report-attachment';
import type { NotificationSettings, SettingsStore } from './settings';
import { wantsRecipientNotice } from './summary/choice';
import { CHANNEL_NAMES, sendableFrom, wantsResult } from './channel-choices';

export const NOTIFIER_SOURCE = '/faxnotify/notifier';

/** Whether the owner's address on a channel is one they confirmed (from ChannelConfirmations.sendable). */
export type Sendable = (channel: Channel, address: string) => boolean;

/**
 * One event's notices on every channel, each decided on the owner's settings and confirmed
 * addresses, all channels at once (each has its own ledger row). A channel that fails
 * transiently does not stop the others; the event is then tried again, and only the channels
 * still unfinished in the ledger go out. Any other error is thrown once every channel is done.
 */
export async function deliverOnEveryChannel(
  deps: { settings: Pick<SettingsStore, 'get'>; confirmations: Pick<ChannelConfirmations, 'sendable'> },
  ownerId: string,
  deliver: (channel: Channel, settings: NotificationSettings | undefined, sendable: Sendable) => Promise<void>,
): Promise<void> {
  const settings = await deps.settings.get(ownerId);
  const sendable: Sendable = settings ? await deps.confirmations.sendable(ownerId, settings) : () => false;
  const settled = await Promise.allSettled(CHANNELS.map((channel) => deliver(channel, settings, sendable)));
  let transient: ChannelError | undefined;
  for (const result of settled) {
    if (result.status === 'fulfilled') continue;
    if (result.reason instanceof ChannelError && result.reason.transient) transient ??= result.reason;
    else throw result.reason;
  }
  if (transient) throw new RetryableError(transient.message, 'channel_transient', { cause: transient });
}

export interface NotifierDeps {
  bus: MessageBus;
  ledger: SendLedger;
  settings: SettingsStore;
  adapters: ReadonlyMap<Channel, ChannelAdapter>;
  settingsUrlTemplate: string;
  messageIdDomain: string;
  logger: Logger;
  /** Which addresses may get notices (only confirmed ones, when confirmation is required). */
  confirmations: Pick<ChannelConfirmations, 'sendable'>;
  /** Notices per owner and channel in a window (rateLimits.notices), counted in the notifier's database. */
  noticeLimits?: { limiter: RateLimiter; windowSeconds: number; perChannel: Record<Channel, number> };
  /** The clock quiet hours are read on (tests drive it); the ledger has the same one. */
  now?: () => Date;
  /** The one-click unsubscribe link of an owner's notices on a channel (List-Unsubscribe); none when absent. */
  unsubscribeUrl?: (ownerId: string, channel: Channel) => string;
  /** Fetches a fax's confirmation report for the email notices of owners who want it attached (email.attachReport). */
  reports?: ConfirmationReports;
}

/** A held notice the scheduler could not send is tried again after this long, at most HELD_MAX_SENDS times in all. */
const HELD_RETRY_MS = 60_000;
const HELD_MAX_SENDS = 10;

/** The address a user's settings give for a channel, when that channel is on. */
export function addressFor(settings: NotificationSettings, channel: Channel): string | null {
  switch (channel) {
    case 'email':
      return settings.email.enabled ? settings.email.address : null;
    case 'sms':
      return settings.sms.enabled ? settings.sms.number : null;
    case 'xmpp':
      return settings.xmpp.enabled ? settings.xmpp.jid : null;
  }
}

/** The notice's own id: the same for every try of one result on one channel. */
export const noticeIdOf = (resultId: string, channel: Channel): string => createHash('sha256').update(`${resultId}\n${channel}`).digest('hex').slice(0, 24);

/** Characters a Message-ID's left part may hold; anything else becomes '-'. */
const idPart = (value: string) => value.replace(/[^A-Za-z0-9._-]/g, '-');

/** The Message-ID every email about one fax refers to (In-Reply-To, References): its per-recipient notices and its summary are one thread. */
export const faxThreadId = (faxId: string, domain: string): string => `<fax.${idPart(faxId)}@${domain}>`;

/**
 * Turns each final per-recipient result into notices on the owner's channels, once per
 * (result, channel), and publishes what became of each as notification.outcome.
 */
export class Notifier {
  /** Receipts of notices the provider took whose ledger mark failed, by idempotency key, until marked. */
  private readonly unmarked = new Map<string, SendReceipt>();

  private readonly now: () => Date;

  constructor(private readonly deps: NotifierDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async handle(event: CloudEvent<'delivery.recipient.final'>, context: { lastAttempt: boolean }): Promise<void> {
    const result = event.data;
    await deliverOnEveryChannel(this.deps, result.ownerId, (channel, settings, sendable) => this.deliver(result, channel, settings, sendable));
    void context;
  }

  /** Records the given-up channels as failed once the bus runs out of retries. */
  async giveUp(event: CloudEvent<'delivery.recipient.final'>, error: unknown): Promise<void> {
    await this.giveUpNotices(event.data.resultId, error);
  }

  /** Records every channel of one result (or received fax) still unfinished as failed. */
  async giveUpNotices(resultId: string, error: unknown): Promise<void> {
    for (const channel of this.deps.adapters.keys()) {
      const row = await this.deps.ledger.get(resultId, channel);
      // A notice held through quiet hours is the scheduler's, not this delivery's: it is sent when they end.
      if (!row || FINAL_LEDGER_STATUSES.has(row.status) || row.status === 'held') continue;
      await this.publishMarked(resultId, channel, await this.deps.ledger.markFailed(resultId, channel, `retries exhausted: ${errorMessage(error)}`));
    }
  }

  private async deliver(
    result: DeliveryRecipientFinal,
    channel: Channel,
    settings: NotificationSettings | undefined,
    sendable: (channel: Channel, address: string) => boolean,
    held = false,
  ): Promise<void> {
    const address = settings ? addressFor(settings, channel) : null;
    // A channel the owner has off gets no notice and no record (as one this notifier has no
    // adapter for); a held notice is another matter: its row is there and must end as skipped.
    if (settings && !address && !held) return;
    const entry: LedgerEntry = {
      resultId: result.resultId,
      channel,
      faxId: result.faxId,
      recipientId: result.recipientId,
      ownerId: result.ownerId,
      address,
      locale: settings?.locale ?? null,
      noticeId: noticeIdOf(result.resultId, channel),
    };
    const skipReason = !settings
      ? 'the owner has no notification settings'
      : !entry.address
        ? `${channel} notices are off`
        : !wantsRecipientNotice(settings.summary, channel, result.recipientCount)
          ? 'the fax summary stands for this result on this channel'
          : wantsResult(settings, channel, FINAL_STATUS_INFO[result.status].outcome === 'delivered');
    const now = this.now();
    const from = settings ? sendableFrom(settings, channel, now) : now;
    const hold = from > now ? { until: from, json: JSON.stringify(result) } : undefined;
    await this.deliverNotice(entry, skipReason, sendable, () => this.renderWithReport(result, channel, settings!, entry.noticeId), hold);
  }

  /**
   * Sends the held notices that fell due (their quiet hours ended), and those the scheduler took
   * before that failed transiently or were left by a notifier that died. With several notifiers on
   * one database each row is claimed in the ledger, so one of them sends it. Returns how many it took up.
   */
  async releaseHeld(limit = 100): Promise<number> {
    const { ledger } = this.deps;
    const due = await ledger.dueHeld(limit);
    for (const row of due) {
      const channel = row.channel as Channel;
      const sender = [...this.heldSenders].find(([prefix]) => row.result_id.startsWith(prefix))?.[1];
      if (sender) {
        await this.releaseHeldWith(row, sender);
        continue;
      }
      let result: DeliveryRecipientFinal;
      try {
        result = JSON.parse(row.held_json!) as DeliveryRecipientFinal;
      } catch (error) {
        await this.publishMarked(row.result_id, channel, await ledger.markFailed(row.result_id, channel, `held notice unreadable: ${errorMessage(error)}`));
        continue;
      }
      if (row.sends >= HELD_MAX_SENDS && row.status === 'retrying') {
        await this.giveUpNotices(row.result_id, new Error(`${row.sends} sends of a held notice failed: ${row.error ?? ''}`));
        continue;
      }
      const settings = await this.deps.settings.get(result.ownerId);
      const sendable = settings ? await this.deps.confirmations.sendable(result.ownerId, settings) : () => false;
      try {
        await this.deliver(result, channel, settings, sendable, true);
      } catch (error) {
        if (!(error instanceof ChannelError && error.transient))
          this.deps.logger.error({ err: errorMessage(error), channel }, 'a held notice could not be sent');
        await ledger.postpone(row.result_id, channel, new Date(this.now().getTime() + HELD_RETRY_MS));
      }
    }
    return due.length;
  }

  /** Senders of held notices that are about no one recipient's result (fax summaries), by their result id's prefix. */
  private readonly heldSenders = new Map<string, (row: LedgerTable) => Promise<void>>();

  /** Lets notices whose result id starts with `prefix` be held through quiet hours: `send` sends such a row when they end. */
  sendHeldWith(prefix: string, send: (row: LedgerTable) => Promise<void>): void {
    this.heldSenders.set(prefix, send);
  }

  /** A held row of another kind, sent by its own sender; tried again later like a held result, and given up after as many sends. */
  private async releaseHeldWith(row: LedgerTable, send: (row: LedgerTable) => Promise<void>): Promise<void> {
    const channel = row.channel as Channel;
    if (row.sends >= HELD_MAX_SENDS && row.status === 'retrying') {
      await this.giveUpNotices(row.result_id, new Error(`${row.sends} sends of a held notice failed: ${row.error ?? ''}`));
      return;
    }
    try {
      await send(row);
    } catch (error) {
      if (!(error instanceof ChannelError && error.transient)) this.deps.logger.error({ err: errorMessage(error), channel }, 'a held notice could not be sent');
      await this.deps.ledger.postpone(row.result_id, channel, new Date(this.now().getTime() + HELD_RETRY_MS));
    }
  }

  /**
   * One notice on one channel, once: recorded as skipped (`skipReason`, no adapter, an unconfirmed
   * address, over the owner's limit), or claimed in the ledger, sent through the channel's adapter
   * and marked. Throws a transient ChannelError when trying again later can help. Outbound results
   * and received faxes both go this way.
   */
  async deliverNotice(
    entry: LedgerEntry,
    skipReason: string | undefined,
    sendable: (channel: Channel, address: string) => boolean,
    render: () => RenderedNotice | Promise<RenderedNotice>,
    hold?: { until: Date; json: string },
  ): Promise<void> {
    const { ledger } = this.deps;
    const channel = entry.channel as Channel;
    const result = { resultId: entry.resultId, ownerId: entry.ownerId };
    const adapter = this.deps.adapters.get(channel);
    // A channel this notifier has no adapter for exists only for owners who turned it on.
    if (!adapter && !entry.address) return;
    skipReason ??= !adapter
      ? `${CHANNEL_NAMES[channel]} notices are not set up on this notifier`
      : !sendable(channel, entry.address!)
        ? 'address not confirmed'
        : undefined;
    if (skipReason) {
      await this.publishOutcome(await ledger.skip(entry, skipReason));
      return;
    }
    // Sent by this process already, its mark in the ledger still missing: mark it, do not send again.
    const unmarked = this.unmarked.get(SendLedger.key(result.resultId, channel));
    if (unmarked) {
      await this.publishMarked(result.resultId, channel, await this.recordSent(result.resultId, channel, unmarked));
      return;
    }
    // In the owner's quiet hours: kept in the ledger until they end, then sent by releaseHeld.
    if (hold && (await ledger.hold(entry, hold.until, hold.json))) {
      this.deps.logger.info({ resultId: result.resultId, channel, notBefore: hold.until.toISOString() }, 'notice held through quiet hours');
      return;
    }
    const claim = await ledger.claim(entry);
    if (claim.kind === 'done') {
      await this.publishOutcome(claim.row);
      return;
    }
    if (claim.kind === 'busy') throw new ChannelError(`${channel} notice ${result.resultId} is being sent by another worker`, true);
    // Counted at the first claim only, so a redelivery or a retry of the same notice is not counted again.
    const overLimit = claim.row.sends === 1 ? await this.overLimit(result.ownerId, channel) : undefined;
    if (overLimit) {
      await this.publishMarked(result.resultId, channel, await ledger.markSkipped(result.resultId, channel, overLimit));
      return;
    }
    if (claim.resumedUnfinished) this.deps.logger.warn({ resultId: result.resultId, channel }, 'sending again over an unfinished send (possible duplicate)');

    // Sending over a send that never got its mark (its process died after calling the provider):
    // an SMS is looked for at Twilio first, as after a lost answer, from when that send was claimed.
    const claimedAt = Date.parse(claim.row.updated_at);
    const lostSend = SendLedger.lostSendOf(claim.row) ?? (claim.resumedUnfinished ? { startedAt: claimedAt, lostAt: claimedAt } : undefined);
    const notice = { ...(await render()), ...(lostSend ? { lostSend } : {}) };
    let receipt: SendReceipt | undefined;
    let marked: LedgerTable | undefined;
    try {
      receipt = await adapter!.send(notice, entry.address!);
    } catch (error) {
      const channelError = error instanceof ChannelError ? error : new ChannelError(errorMessage(error), true, undefined, { cause: error });
      const smtpCode = smtpCodeOf(channel, channelError);
      if (channelError.transient) {
        await ledger.markRetrying(result.resultId, channel, channelError.message, smtpCode, channelError.lostSend);
        throw channelError;
      }
      marked = await ledger.markFailed(result.resultId, channel, channelError.message, smtpCode);
    }
    if (receipt) marked = await this.recordSent(result.resultId, channel, receipt);
    await this.publishMarked(result.resultId, channel, marked);
  }

  /**
   * The provider took the notice: only the ledger's mark is left, and it is never a reason to send
   * again. A mark that fails (the database dropped the connection) is tried again at once, then
   * kept in this process, and the retry of the result marks it without calling the provider.
   */
  private async recordSent(resultId: string, channel: Channel, receipt: SendReceipt): Promise<LedgerTable | undefined> {
    const key = SendLedger.key(resultId, channel);
    for (let attempt = 0; ; attempt++) {
      try {
        const row = await this.deps.ledger.markSent(resultId, channel, receipt);
        this.unmarked.delete(key);
        return row;
      } catch (error) {
        if (attempt < 2) {
          await new Promise((resolve) => setTimeout(resolve, 200 * 4 ** attempt));
          continue;
        }
        this.unmarked.set(key, receipt);
        throw new ChannelError(
          `${channel} notice sent, but recording it failed (recorded on the retry, not sent again): ${errorMessage(error)}`,
          true,
          undefined,
          {
            cause: error,
          },
        );
      }
    }
  }

  /** The reason a notice is skipped when its owner has had the most the channel's limit allows, else undefined. */
  private async overLimit(ownerId: string, channel: Channel): Promise<string | undefined> {
    const limits = this.deps.noticeLimits;
    const max = limits?.perChannel[channel] ?? 0;
    if (!limits || max <= 0) return undefined;
    const rule = { name: `${channel}-notices`, max, windowSeconds: limits.windowSeconds, what: `${CHANNEL_NAMES[channel]} notices` };
    const decision = await limits.limiter.hit(rule, ownerId);
    return decision.allowed ? undefined : `rate limit: ${describeRateLimit(rule)}`;
  }

  /**
   * A provider's later report about a notice it accepted (an SMS status callback, an XMPP
   * receipt): recorded in the ledger and, once the send is marked, published as the outcome.
   * A report that comes before the send is marked is published with the send.
   */
  async recordDeliveryReport(report: DeliveryReport): Promise<void> {
    const row = await this.deps.ledger.recordDelivery(report);
    if (!row) {
      this.deps.logger.debug({ report }, 'delivery report changes nothing (unknown notice, an earlier try, or already final)');
      return;
    }
    if (row.status === 'sent') await this.publishOutcome(row);
  }

  /** The notice, with the fax's confirmation report attached when the owner wants it by email (fetched only now, as it is sent). */
  private async renderWithReport(result: DeliveryRecipientFinal, channel: Channel, settings: NotificationSettings, noticeId: string): Promise<RenderedNotice> {
    const notice = this.render(result, channel, settings, noticeId);
    if (channel !== 'email' || !settings.email.attachReport || !this.deps.reports) return notice;
    const report = await this.deps.reports.fetchFor(result, settings);
    return report ? { ...notice, attachments: [...(notice.attachments ?? []), report] } : notice;
  }

  /** The notice of a result on a channel; `noticeId` is its ledger entry's, when the caller has it already. */
  render(result: DeliveryRecipientFinal, channel: Channel, settings: NotificationSettings, noticeId = noticeIdOf(result.resultId, channel)): RenderedNotice {
    const locale: Locale = settings.locale;
    const settingsUrl = this.deps.settingsUrlTemplate.replaceAll('{userId}', encodeURIComponent(result.ownerId));
    const parts = renderNotice(channel, locale, noticeContext(result, { locale, timeZone: settings.timeZone, settingsUrl }));
    const unsubscribeUrl = channel === 'email' ? this.deps.unsubscribeUrl?.(result.ownerId, channel) : undefined;
    return {
      channel,
      locale,
      noticeId,
      ...parts,
      ...(unsubscribeUrl ? { unsubscribeUrl } : {}),
      messageId: `<${noticeId}.${channel}@${this.deps.messageIdDomain}>`,
      threadId: faxThreadId(result.faxId, this.deps.messageIdDomain),
    };
  }

  /** Publishes the outcome of a row as a mark left it (read again only if the mark did not return it). */
  private async publishMarked(resultId: string, channel: Channel, row: LedgerTable | undefined): Promise<void> {
    await this.publishOutcome(row ?? (await this.deps.ledger.get(resultId, channel))!);
  }

  private async publishOutcome(row: LedgerTable): Promise<void> {
    const event = outcomeEventOf(row);
    if (event) await this.deps.bus.publish('notification.outcome', event.outcome, { id: event.id, subject: event.subject });
  }
}

/** For email, the SMTP reply behind a failure (classifySmtpError keeps it as a numeric provider code), null when the server did not reply. */
const smtpCodeOf = (channel: Channel, error: ChannelError): number | null | undefined =>
  channel !== 'email' ? undefined : typeof error.providerCode === 'number' ? error.providerCode : null;
