import type { CloudEvent, DeliveryFaxFinal, Locale } from '@faxnotify/contracts';
import { errorMessage } from '@faxnotify/kit';
import { type Channel, type RenderedNotice } from '../channels/types';
import { sendableFrom, wantsResult } from '../channel-choices';
import type { LedgerEntry } from '../ledger';
import type { LedgerTable } from '../schema';
import { addressFor, deliverOnEveryChannel, faxThreadId, noticeIdOf, type Notifier } from '../notifier';
import { SUMMARY_RECIPIENT, SUMMARY_RESULT_PREFIX } from '../outcome';
import type { ChannelConfirmations } from '../confirmations/service';
import type { NotificationSettings, SettingsStore } from '../settings';
import { wantsSummary } from './choice';
import { renderSummary, summaryContext } from './render';

export interface FaxSummariesDeps {
  notifier: Notifier;
  settings: SettingsStore;
  confirmations: Pick<ChannelConfirmations, 'sendable'>;
  settingsUrlTemplate: string;
  messageIdDomain: string;
  /** The clock quiet hours are read on (the notifier's). */
  now?: () => Date;
  /** The one-click unsubscribe link of an owner's email notices (List-Unsubscribe). */
  unsubscribeUrl?: (ownerId: string, channel: Channel) => string;
}

/** The ledger's result id of a fax's summaries: one row per (fax, channel), so the notice id is the fax id's and the channel's. */
export const summaryResultId = (faxId: string): string => `${SUMMARY_RESULT_PREFIX}${faxId}`;

/**
 * Whether the owner's choice asks for a fax's summary on a channel: the channel is on, and it is
 * one of their summary channels for a fax of this many recipients. A summary not asked for stands
 * for nothing and gets no ledger row (as a per-recipient notice on a channel that is off).
 */
export function summaryAskedFor(settings: NotificationSettings, channel: Channel, fax: DeliveryFaxFinal): boolean {
  return addressFor(settings, channel) !== null && wantsSummary(settings.summary, fax.recipients.length) && settings.summary.channels.includes(channel);
}

/** Why a fax's summary is not sent on a channel, or undefined when it is. */
export function summarySkipReason(
  settings: NotificationSettings | undefined,
  channel: Channel,
  fax: DeliveryFaxFinal,
  address: string | null,
): string | undefined {
  if (!settings) return 'the owner has no notification settings';
  if (!address) return `${channel} notices are off`;
  if (!wantsSummary(settings.summary, fax.recipients.length)) return 'the owner gets a notice per recipient for this fax';
  if (!settings.summary.channels.includes(channel)) return `the owner gets no summaries on ${channel}`;
  // A summary is about failures too unless every recipient got every page.
  return wantsResult(settings, channel, fax.state === 'delivered');
}

/**
 * Fax summaries (delivery.fax.final): one notice per fax with its aggregate state and a row per
 * recipient, on the channels the owner picked for summaries, once per (fax, channel) through the
 * same send ledger as every other notice, in the fax's email thread.
 */
export class FaxSummaries {
  constructor(private readonly deps: FaxSummariesDeps) {}

  async handle(event: CloudEvent<'delivery.fax.final'>, context: { lastAttempt: boolean }): Promise<void> {
    const fax = event.data;
    await deliverOnEveryChannel(this.deps, fax.ownerId, (channel, settings, sendable) => this.deliverOn(fax, channel, settings, sendable));
    void context;
  }

  /** A summary held through the owner's quiet hours, sent now they are over (the notifier's held-notice scheduler calls it). */
  async sendHeld(row: LedgerTable): Promise<void> {
    const channel = row.channel as Channel;
    let fax: DeliveryFaxFinal;
    try {
      fax = JSON.parse(row.held_json!) as DeliveryFaxFinal;
    } catch (error) {
      await this.deps.notifier.giveUpNotices(row.result_id, new Error(`held summary unreadable: ${errorMessage(error)}`));
      return;
    }
    const settings = await this.deps.settings.get(fax.ownerId);
    const sendable = settings ? await this.deps.confirmations.sendable(fax.ownerId, settings) : () => false;
    await this.deliverOn(fax, channel, settings, sendable, true);
  }

  /**
   * The summary on one channel: nothing when the owner does not ask for it there; else skipped,
   * held through the owner's quiet hours (SMS, Jabber), or sent once. A held summary has its row
   * already: when the owner no longer asks for it (the channel turned off meanwhile) it ends as skipped.
   */
  private async deliverOn(
    fax: DeliveryFaxFinal,
    channel: Channel,
    settings: NotificationSettings | undefined,
    sendable: (channel: Channel, address: string) => boolean,
    held = false,
  ): Promise<void> {
    if (settings && !held && !summaryAskedFor(settings, channel, fax)) return;
    const resultId = summaryResultId(fax.faxId);
    const entry: LedgerEntry = {
      resultId,
      channel,
      faxId: fax.faxId,
      recipientId: SUMMARY_RECIPIENT,
      ownerId: fax.ownerId,
      address: settings ? addressFor(settings, channel) : null,
      locale: settings?.locale ?? null,
      noticeId: noticeIdOf(resultId, channel),
    };
    const now = this.deps.now?.() ?? new Date();
    const from = settings ? sendableFrom(settings, channel, now) : now;
    const hold = from > now ? { until: from, json: JSON.stringify(fax) } : undefined;
    await this.deps.notifier.deliverNotice(
      entry,
      summarySkipReason(settings, channel, fax, entry.address),
      sendable,
      () => this.render(fax, channel, settings!, entry.noticeId),
      hold,
    );
  }

  /** Records the given-up channels as failed once the bus runs out of retries. */
  async giveUp(event: CloudEvent<'delivery.fax.final'>, error: unknown): Promise<void> {
    await this.deps.notifier.giveUpNotices(summaryResultId(event.data.faxId), error);
  }

  /** The summary of a fax on a channel; `noticeId` is its ledger entry's, when the caller has it already. */
  render(fax: DeliveryFaxFinal, channel: Channel, settings: NotificationSettings, noticeId = noticeIdOf(summaryResultId(fax.faxId), channel)): RenderedNotice {
    const locale: Locale = settings.locale;
    const settingsUrl = this.deps.settingsUrlTemplate.replaceAll('{userId}', encodeURIComponent(fax.ownerId));
    const parts = renderSummary(channel, locale, summaryContext(fax, { locale, timeZone: settings.timeZone, settingsUrl }));
    const unsubscribeUrl = channel === 'email' ? this.deps.unsubscribeUrl?.(fax.ownerId, channel) : undefined;
    return {
      channel,
      locale,
      noticeId,
      ...parts,
      ...(unsubscribeUrl ? { unsubscribeUrl } : {}),
      messageId: `<${noticeId}.${channel}@${this.deps.messageIdDomain}>`,
      // The same thread as the fax's per-recipient notices.
      threadId: faxThreadId(fax.faxId, this.deps.messageIdDomain),
    };
  }
}
