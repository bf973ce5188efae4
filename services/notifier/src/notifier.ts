import { createHash } from 'node:crypto';
import { FINAL_STATUS_INFO, type CloudEvent, type DeliveryRecipientFinal, type Locale, type NotificationOutcome } from '@faxnotify/contracts';
import { RetryableError, errorMessage, type Logger, type MessageBus } from '@faxnotify/kit';
import { ChannelError, type Channel, type ChannelAdapter, type RenderedNotice } from './channels/types';
import { FINAL_LEDGER_STATUSES, SendLedger, type LedgerEntry } from './ledger';
import { noticeContext, renderNotice } from './render';
import type { LedgerTable } from './schema';
import type { NotificationSettings, SettingsStore } from './settings';

export const NOTIFIER_SOURCE = '/faxnotify/notifier';

export interface NotifierDeps {
  bus: MessageBus;
  ledger: SendLedger;
  settings: SettingsStore;
  adapters: ReadonlyMap<Channel, ChannelAdapter>;
  settingsUrlTemplate: string;
  messageIdDomain: string;
  logger: Logger;
}

/** The address a user's settings give for a channel, when that channel is on. */
function addressFor(settings: NotificationSettings, channel: Channel): string | null {
  if (channel === 'email') return settings.email.enabled ? settings.email.address : null;
  return null;
}

/** Characters a Message-ID's left part may hold; anything else becomes '-'. */
const idPart = (value: string) => value.replace(/[^A-Za-z0-9._-]/g, '-');

/**
 * Turns each final per-recipient result into notices on the owner's channels, once per
 * (result, channel), and publishes what became of each as notification.outcome.
 */
export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  async handle(event: CloudEvent<'delivery.recipient.final'>, context: { lastAttempt: boolean }): Promise<void> {
    const result = event.data;
    const settings = await this.deps.settings.get(result.ownerId);
    let transient: ChannelError | undefined;
    for (const channel of this.deps.adapters.keys()) {
      try {
        await this.deliver(result, channel, settings);
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
  async giveUp(event: CloudEvent<'delivery.recipient.final'>, error: unknown): Promise<void> {
    const result = event.data;
    for (const channel of this.deps.adapters.keys()) {
      const row = await this.deps.ledger.get(result.resultId, channel);
      if (!row || FINAL_LEDGER_STATUSES.has(row.status)) continue;
      await this.deps.ledger.markFailed(result.resultId, channel, `retries exhausted: ${errorMessage(error)}`);
      await this.publishOutcome(result, channel, (await this.deps.ledger.get(result.resultId, channel))!);
    }
  }

  private async deliver(result: DeliveryRecipientFinal, channel: Channel, settings: NotificationSettings | undefined): Promise<void> {
    const { ledger } = this.deps;
    const entry: LedgerEntry = {
      resultId: result.resultId,
      channel,
      faxId: result.faxId,
      recipientId: result.recipientId,
      ownerId: result.ownerId,
      address: settings ? addressFor(settings, channel) : null,
      locale: settings?.locale ?? null,
    };
    const skipReason = !settings
      ? 'the owner has no notification settings'
      : !entry.address
        ? `${channel} notices are off`
        : settings.notifyOn === 'failures' && FINAL_STATUS_INFO[result.status].outcome === 'delivered'
          ? 'the owner is notified of failures only'
          : undefined;
    if (skipReason) {
      await this.publishOutcome(result, channel, await ledger.skip(entry, skipReason));
      return;
    }
    const claim = await ledger.claim(entry);
    if (claim.kind === 'done') {
      await this.publishOutcome(result, channel, claim.row);
      return;
    }
    if (claim.kind === 'busy') throw new ChannelError(`${channel} notice ${result.resultId} is being sent by another worker`, true);
    if (claim.resumedUnfinished) this.deps.logger.warn({ resultId: result.resultId, channel }, 'sending again over an unfinished send (possible duplicate)');

    const notice = this.render(result, channel, settings!);
    try {
      const { providerMessageId } = await this.deps.adapters.get(channel)!.send(notice, entry.address!);
      await ledger.markSent(result.resultId, channel, providerMessageId);
    } catch (error) {
      const channelError = error instanceof ChannelError ? error : new ChannelError(errorMessage(error), true, undefined, { cause: error });
      if (channelError.transient) {
        await ledger.markRetrying(result.resultId, channel, channelError.message);
        throw channelError;
      }
      await ledger.markFailed(result.resultId, channel, channelError.message);
    }
    await this.publishOutcome(result, channel, (await ledger.get(result.resultId, channel))!);
  }

  render(result: DeliveryRecipientFinal, channel: Channel, settings: NotificationSettings): RenderedNotice {
    const locale: Locale = settings.locale;
    const settingsUrl = this.deps.settingsUrlTemplate.replaceAll('{userId}', encodeURIComponent(result.ownerId));
    const parts = renderNotice(channel, locale, noticeContext(result, { locale, timeZone: settings.timeZone, settingsUrl }));
    const digest = createHash('sha256').update(`${result.resultId}\n${channel}`).digest('hex').slice(0, 24);
    return {
      channel,
      locale,
      ...parts,
      messageId: `<${digest}.${channel}@${this.deps.messageIdDomain}>`,
      threadId: `<fax.${idPart(result.faxId)}@${this.deps.messageIdDomain}>`,
    };
  }

  private async publishOutcome(result: DeliveryRecipientFinal, channel: Channel, row: LedgerTable): Promise<void> {
    const outcome: NotificationOutcome = {
      resultId: result.resultId,
      faxId: result.faxId,
      recipientId: result.recipientId,
      ownerId: result.ownerId,
      channel,
      outcome: row.status === 'sent' ? 'sent' : row.status === 'skipped' ? 'skipped' : 'failed',
      ...(row.error ? { reason: row.error.slice(0, 2000) } : {}),
      ...(row.address ? { address: row.address } : {}),
      ...(row.locale ? { locale: row.locale as Locale } : {}),
      ...(row.provider_message_id ? { providerMessageId: row.provider_message_id.slice(0, 500) } : {}),
      attempts: row.sends,
      at: row.updated_at,
    };
    // The same id for the same ledger state, so a re-published outcome is recognisably the same fact.
    const id = createHash('sha256').update(`${row.idempotency_key}\n${row.status}\n${row.sends}`).digest('hex').slice(0, 32);
    await this.deps.bus.publish('notification.outcome', outcome, { id, subject: `fax/${result.faxId}/recipient/${result.recipientId}/${channel}` });
  }
}
