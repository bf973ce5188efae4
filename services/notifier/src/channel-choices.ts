import type { Channel } from './channels/types';
import { inQuietHours, quietHoursEnd } from './quiet-hours';
import type { NotificationSettings } from './settings';

/** Each channel's name in notices' reasons. */
export const CHANNEL_NAMES: Record<Channel, string> = { email: 'email', sms: 'SMS', xmpp: 'Jabber (XMPP)' };

/** Which results of faxes sent a channel's notices are about, by the owner's choice for that channel. */
export function wantsResult(settings: NotificationSettings, channel: Channel, delivered: boolean): string | undefined {
  const choice = settings[channel].results;
  if (choice === 'none') return `the owner turned ${CHANNEL_NAMES[channel]} notices of results off`;
  if (choice === 'failures' && delivered) return `the owner gets ${CHANNEL_NAMES[channel]} notices of failures only`;
  return undefined;
}

/**
 * When a notice due at `at` on a channel may go out: `at`, or the end of the owner's quiet hours on
 * it (SMS and Jabber); a Jabber notice also waits for the end of a mute the owner asked for (`mute 2h`).
 */
export function sendableFrom(settings: NotificationSettings, channel: Channel, at: Date): Date {
  const mutedUntil = channel === 'xmpp' ? settings.xmppMutedUntil : undefined;
  const from = mutedUntil && mutedUntil > at ? mutedUntil : at;
  const quiet = channel === 'email' ? null : settings[channel].quietHours;
  return quiet && inQuietHours(quiet, from, settings.timeZone) ? quietHoursEnd(quiet, from, settings.timeZone) : from;
}
