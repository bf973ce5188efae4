import type { Locale } from '@faxnotify/contracts';
import { errorMessage, type Logger } from '@faxnotify/kit';
import { CHANNELS, ChannelError, type Channel, type ChannelAdapter } from '../channels/types';
import type { NotificationSettings, SettingsStore } from '../settings';
import { renderCodeMessage } from './code-message';
import { CODE_PATTERN, cleanCode, confirmedKey, type ConfirmationPolicy, type ConfirmationStore } from './store';

/** Confirmed addresses a notifier process keeps in memory for the send path. */
const KNOWN_CONFIRMED_MAX = 100_000;

/** The address a user's settings hold for a channel, whether the channel is on or not. */
export function savedAddress(settings: NotificationSettings, channel: Channel): string | null {
  switch (channel) {
    case 'email':
      return settings.email.address;
    case 'sms':
      return settings.sms.number;
    case 'xmpp':
      return settings.xmpp.jid;
  }
}

/** One channel's confirmation as the API and the settings page show it. */
export interface ChannelConfirmationView {
  /** The address saved for this channel (null: none). */
  address: string | null;
  /** Whether this notifier sends on this channel at all. */
  available: boolean;
  confirmed: boolean;
  /** A code sent to this address that can still be used. */
  codePending: boolean;
  codeExpiresAt: string | null;
  /** When another code may be sent (null: now). */
  nextCodeAt: string | null;
}

export interface ConfirmationsView {
  /** Whether notices wait for confirmation (channels.requireConfirmation). */
  required: boolean;
  channels: Record<Channel, ChannelConfirmationView>;
}

export type SendCodeResult =
  | { kind: 'sent'; address: string; expiresAt: string }
  | { kind: 'no_address' }
  | { kind: 'unavailable' }
  | { kind: 'already_confirmed'; address: string }
  | { kind: 'rate_limited'; retryAfterSeconds: number }
  | { kind: 'send_failed'; message: string };

export type ConfirmResult =
  | { kind: 'confirmed'; address: string }
  | { kind: 'bad_code' }
  | { kind: 'wrong'; attemptsLeft: number }
  | { kind: 'voided' }
  | { kind: 'expired' }
  | { kind: 'no_code' }
  | { kind: 'no_address' };

export interface ChannelConfirmationsOptions {
  store: ConfirmationStore;
  settings: SettingsStore;
  adapters: ReadonlyMap<Channel, ChannelAdapter>;
  policy: ConfirmationPolicy;
  required: boolean;
  settingsUrlTemplate: string;
  messageIdDomain: string;
  logger: Logger;
}

/**
 * Confirming an address before notices go to it: a code sent through the channel's own adapter
 * to the address the user saved, typed back on the settings page or through the API.
 */
export class ChannelConfirmations {
  /** Confirmed addresses seen by this process (`user\nchannel address`), oldest first, at most KNOWN_CONFIRMED_MAX. */
  private readonly knownConfirmed = new Set<string>();

  constructor(private readonly options: ChannelConfirmationsOptions) {}

  get required(): boolean {
    return this.options.required;
  }

  /** How long a code is valid, in whole minutes (what the messages and the page say). */
  get codeMinutes(): number {
    return Math.max(1, Math.round(this.options.policy.codeTtlMs / 60_000));
  }

  async view(userId: string): Promise<ConfirmationsView> {
    const settings = await this.options.settings.current(userId);
    const entries = await Promise.all(
      CHANNELS.map(async (channel): Promise<[Channel, ChannelConfirmationView]> => {
        const address = savedAddress(settings, channel);
        const available = this.options.adapters.has(channel);
        if (!address) return [channel, { address, available, confirmed: false, codePending: false, codeExpiresAt: null, nextCodeAt: null }];
        const status = await this.options.store.status(userId, channel, address);
        const { confirmed, codePending, codeExpiresAt, nextCodeAt } = status;
        return [channel, { address, available, confirmed, codePending, codeExpiresAt, nextCodeAt }];
      }),
    );
    return { required: this.options.required, channels: Object.fromEntries(entries) as Record<Channel, ChannelConfirmationView> };
  }

  /**
   * Whether a channel's address in these settings may get notices: every address when confirmation
   * is not required, otherwise those the user confirmed. Confirmed addresses are remembered in
   * this process (a confirmation is never taken back), so the send path asks the database only
   * about an address it has not yet seen confirmed.
   */
  async sendable(userId: string, settings: NotificationSettings): Promise<(channel: Channel, address: string) => boolean> {
    if (!this.options.required) return () => true;
    const key = (channel: Channel, address: string) => `${userId}\n${confirmedKey(channel, address)}`;
    // Only the channels that are on can get a notice.
    const unknown = CHANNELS.some((channel) => {
      const address = settings[channel].enabled ? savedAddress(settings, channel) : null;
      return address !== null && !this.knownConfirmed.has(key(channel, address));
    });
    if (unknown) {
      for (const confirmed of await this.options.store.confirmedKeys(userId)) this.remember(`${userId}\n${confirmed}`);
    }
    return (channel, address) => this.knownConfirmed.has(key(channel, address));
  }

  private remember(key: string): void {
    if (this.knownConfirmed.has(key)) return;
    this.knownConfirmed.add(key);
    if (this.knownConfirmed.size > KNOWN_CONFIRMED_MAX) this.knownConfirmed.delete(this.knownConfirmed.values().next().value!);
  }

  /** Sends a new code to the address saved for this channel, within the limits. */
  async sendCode(userId: string, channel: Channel): Promise<SendCodeResult> {
    const settings = await this.options.settings.current(userId);
    const address = savedAddress(settings, channel);
    if (!address) return { kind: 'no_address' };
    const adapter = this.options.adapters.get(channel);
    if (!adapter) return { kind: 'unavailable' };
    const { store } = this.options;
    if (await store.isConfirmed(userId, channel, address)) return { kind: 'already_confirmed', address };
    const issued = await store.issue(userId, channel, address);
    if (issued.kind === 'rate_limited') return { kind: 'rate_limited', retryAfterSeconds: Math.max(1, Math.ceil(issued.retryAfterMs / 1000)) };
    const locale: Locale = settings.locale;
    const message = renderCodeMessage(
      channel,
      locale,
      {
        code: issued.code,
        address,
        minutes: this.codeMinutes,
        settingsUrl: this.options.settingsUrlTemplate.replaceAll('{userId}', encodeURIComponent(userId)),
      },
      this.options.messageIdDomain,
    );
    try {
      await adapter.send(message, address);
    } catch (error) {
      // The send still counts towards the limits: a failing provider is not asked again at once.
      const reason = error instanceof ChannelError ? error.message : errorMessage(error);
      this.options.logger.warn({ channel, err: reason }, 'could not send a confirmation code');
      return { kind: 'send_failed', message: reason };
    }
    return { kind: 'sent', address, expiresAt: issued.expiresAt };
  }

  /** Checks a typed code against the one sent to the address saved for this channel. */
  async confirm(userId: string, channel: Channel, typed: string): Promise<ConfirmResult> {
    const settings = await this.options.settings.current(userId);
    const address = savedAddress(settings, channel);
    if (!address) return { kind: 'no_address' };
    if (!CODE_PATTERN.test(cleanCode(typed))) return { kind: 'bad_code' };
    const checked = await this.options.store.check(userId, channel, address, typed);
    return checked.kind === 'confirmed' ? { kind: 'confirmed', address } : checked;
  }
}
