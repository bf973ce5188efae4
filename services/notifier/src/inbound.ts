import type { CloudEvent, DeliveryFaxReceived, Locale } from '@faxnotify/contracts';
import { plainText } from '@faxnotify/kit';
import { type Channel, type NoticeAttachment, type RenderedNotice } from './channels/types';
import { receivedContext, renderReceivedNotice } from './inbound-render';
import type { LedgerEntry } from './ledger';
import type { LedgerTable } from './schema';
import { sendableFrom } from './channel-choices';
import { addressFor, deliverOnEveryChannel, noticeIdOf, type Notifier } from './notifier';
import { RECEIVED_RECIPIENT, RECEIVED_RESULT_PREFIX } from './outcome';
import type { ChannelConfirmations } from './confirmations/service';
import type { NotificationSettings, SettingsStore } from './settings';

export interface ReceivedNoticesDeps {
  /** The clock quiet hours are read on (the notifier's). */
  now?: () => Date;
  notifier: Notifier;
  settings: SettingsStore;
  confirmations: Pick<ChannelConfirmations, 'sendable'>;
  settingsUrlTemplate: string;
  messageIdDomain: string;
}

/** The ledger's result id of a received fax's notices: one row per (received fax, channel). */
export const receivedResultId = (receivedId: string): string => `${RECEIVED_RESULT_PREFIX}${receivedId}`;

/** Characters a Message-ID's left part may hold; anything else becomes '-'. */
const idPart = (value: string) => value.replace(/[^A-Za-z0-9._-]/g, '-');

/** A file name fit for a MIME header: the tracker's name without path, control or quoting characters, ending in .pdf. */
export function attachmentName(fileName: string, receivedId: string): string {
  const base = plainText(fileName.split(/[\\/]/).pop() ?? '', 120)
    .replace(/["<>:|?*]/g, '_')
    .trim();
  const name = base && base !== '.' && base !== '..' ? base : `fax-${idPart(receivedId)}`;
  return /\.pdf$/i.test(name) ? name : `${name}.pdf`;
}

/**
 * Notices of faxes received for an owner (delivery.fax.received): on each channel the owner has
 * on, once per (received fax, channel) through the same send ledger as the results of faxes sent,
 * unless the owner turned inbound notices off. The email carries the PDF when the event does.
 */
export class ReceivedNotices {
  constructor(private readonly deps: ReceivedNoticesDeps) {
    // SMS and Jabber notices held through the owner's quiet hours are sent from what was held (the fax without its PDF).
    deps.notifier.sendHeldWith(RECEIVED_RESULT_PREFIX, (row) => this.sendHeld(row));
  }

  async handle(event: CloudEvent<'delivery.fax.received'>, context: { lastAttempt: boolean }): Promise<void> {
    const received = event.data;
    await deliverOnEveryChannel(this.deps, received.ownerId, (channel, settings, sendable) => this.deliver(received, channel, settings, sendable));
    void context;
  }

  /** A held notice of a received fax whose quiet hours ended, decided again on the owner's settings as they are now. */
  private async sendHeld(row: LedgerTable): Promise<void> {
    const received = JSON.parse(row.held_json!) as DeliveryFaxReceived;
    const settings = await this.deps.settings.get(received.ownerId);
    const sendable = settings ? await this.deps.confirmations.sendable(received.ownerId, settings) : () => false;
    await this.deliver(received, row.channel as Channel, settings, sendable);
  }

  /** One channel's notice of a received fax: skipped, held through quiet hours (SMS, Jabber), or sent. */
  private async deliver(
    received: DeliveryFaxReceived,
    channel: Channel,
    settings: NotificationSettings | undefined,
    sendable: (channel: Channel, address: string) => boolean,
  ): Promise<void> {
    const entry: LedgerEntry = {
      resultId: receivedResultId(received.receivedId),
      channel,
      faxId: received.receivedId,
      recipientId: RECEIVED_RECIPIENT,
      ownerId: received.ownerId,
      address: settings ? addressFor(settings, channel) : null,
      locale: settings?.locale ?? null,
      noticeId: noticeIdOf(receivedResultId(received.receivedId), channel),
    };
    const skipReason = !settings
      ? 'the owner has no notification settings'
      : !entry.address
        ? `${channel} notices are off`
        : settings.notifyInbound === 'off'
          ? 'the owner turned notices of received faxes off'
          : undefined;
    const now = this.deps.now?.() ?? new Date();
    const from = settings ? sendableFrom(settings, channel, now) : now;
    // Held without the PDF: only email attaches it, and email is never held.
    const hold = from > now ? { until: from, json: JSON.stringify({ ...received, document: undefined }) } : undefined;
    await this.deps.notifier.deliverNotice(entry, skipReason, sendable, () => this.render(received, channel, settings!, entry.noticeId), hold);
  }

  /** Records the given-up channels as failed once the bus runs out of retries. */
  async giveUp(event: CloudEvent<'delivery.fax.received'>, error: unknown): Promise<void> {
    await this.deps.notifier.giveUpNotices(receivedResultId(event.data.receivedId), error);
  }

  /** The notice of a received fax on a channel; `noticeId` is its ledger entry's, when the caller has it already. */
  render(
    received: DeliveryFaxReceived,
    channel: Channel,
    settings: NotificationSettings,
    noticeId = noticeIdOf(receivedResultId(received.receivedId), channel),
  ): RenderedNotice {
    const locale: Locale = settings.locale;
    const settingsUrl = this.deps.settingsUrlTemplate.replaceAll('{userId}', encodeURIComponent(received.ownerId));
    const parts = renderReceivedNotice(channel, locale, receivedContext(received, { locale, timeZone: settings.timeZone, settingsUrl }));
    const document = received.document;
    const attachments: NoticeAttachment[] =
      channel === 'email' && document
        ? [
            {
              fileName: attachmentName(document.fileName, received.receivedId),
              contentType: document.contentType,
              content: Buffer.from(document.data, 'base64'),
            },
          ]
        : [];
    return {
      channel,
      locale,
      noticeId,
      ...parts,
      messageId: `<${noticeId}.${channel}@${this.deps.messageIdDomain}>`,
      threadId: `<received.${idPart(received.receivedId)}@${this.deps.messageIdDomain}>`,
      ...(attachments.length > 0 ? { attachments } : {}),
    };
  }
}
