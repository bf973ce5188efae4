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

/** When a notice due at `at` on a channel may go out: `at`, or the end of the owner's quiet hours on it (SMS and Jabber). */
export function sendableFrom(settings: NotificationSettings, channel: Channel, at: Date): Date {
  const quiet = channel === 'email' ? null : settings[channel].quietHours;
  return quiet && inQuietHours(quiet, at, settings.timeZone) ? quietHoursEnd(quiet, at, settings.timeZone) : at;
}
