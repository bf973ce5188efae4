import type { CloudEvent, DeliveryFaxFinal, Locale } from '@faxnotify/contracts';
import { RetryableError } from '@faxnotify/kit';
import { CHANNELS, ChannelError, type Channel, type RenderedNotice } from '../channels/types';
import type { LedgerEntry } from '../ledger';
import { SUMMARY_RECIPIENT, SUMMARY_RESULT_PREFIX, addressFor, faxThreadId, noticeIdOf, type Notifier } from '../notifier';
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
}

/** The ledger's result id of a fax's summaries: one row per (fax, channel), so the notice id is the fax id's and the channel's. */
export const summaryResultId = (faxId: string): string => `${SUMMARY_RESULT_PREFIX}${faxId}`;

/** Which results a channel gets: its own choice where the settings have one, else the owner's one choice for all channels. */
const resultsOn = (settings: NotificationSettings, channel: Channel): 'all' | 'failures' | 'none' =>
  (settings[channel] as { results?: 'all' | 'failures' | 'none' }).results ?? settings.notifyOn;

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
  const results = resultsOn(settings, channel);
  if (results === 'none') return `the owner gets no results on ${channel}`;
  // A summary is about failures too unless every recipient got every page.
  if (results === 'failures' && fax.state === 'delivered') return 'the owner is notified of failures only';
  return undefined;
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
    const settings = await this.deps.settings.get(fax.ownerId);
    const sendable = settings ? await this.deps.confirmations.sendable(fax.ownerId, settings) : () => false;
    let transient: ChannelError | undefined;
    for (const channel of CHANNELS) {
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
      try {
        await this.deps.notifier.deliverNotice(entry, summarySkipReason(settings, channel, fax, entry.address), sendable, () =>
          this.render(fax, channel, settings!),
        );
      } catch (error) {
        if (error instanceof ChannelError && error.transient) transient ??= error;
        else throw error;
      }
    }
    // Channels that went out are final in the ledger; only the ones that failed transiently are tried again.
    if (transient) throw new RetryableError(transient.message, 'channel_transient', { cause: transient });
    void context;
  }

  /** Records the given-up channels as failed once the bus runs out of retries. */
  async giveUp(event: CloudEvent<'delivery.fax.final'>, error: unknown): Promise<void> {
    await this.deps.notifier.giveUpNotices(summaryResultId(event.data.faxId), error);
  }

  render(fax: DeliveryFaxFinal, channel: Channel, settings: NotificationSettings): RenderedNotice {
    const locale: Locale = settings.locale;
    const settingsUrl = this.deps.settingsUrlTemplate.replaceAll('{userId}', encodeURIComponent(fax.ownerId));
    const parts = renderSummary(channel, locale, summaryContext(fax, { locale, timeZone: settings.timeZone, settingsUrl }));
    const noticeId = noticeIdOf(summaryResultId(fax.faxId), channel);
    return {
      channel,
      locale,
      noticeId,
      ...parts,
      messageId: `<${noticeId}.${channel}@${this.deps.messageIdDomain}>`,
      // The same thread as the fax's per-recipient notices.
      threadId: faxThreadId(fax.faxId, this.deps.messageIdDomain),
    };
  }
}
