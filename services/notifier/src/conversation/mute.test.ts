import { sendableFrom } from '../channel-choices';
import type { NotificationSettings } from '../settings';

const settings = (xmpp: Partial<NotificationSettings['xmpp']>, mutedUntil?: string): NotificationSettings => ({
  email: { enabled: true, address: 'o@example.com', results: 'all', attachReport: false },
  sms: { enabled: true, number: '+12025550101', results: 'all', quietHours: null },
  xmpp: { enabled: true, jid: 'o@localhost', results: 'all', quietHours: null, ...xmpp },
  locale: 'en',
  timeZone: 'Europe/Rome',
  notifyOn: 'all',
  notifyInbound: 'on',
  summary: { mode: 'recipient', threshold: 5, channels: ['email', 'sms', 'xmpp'] },
  ...(mutedUntil ? { xmppMutedUntil: new Date(mutedUntil) } : {}),
});

describe('a Jabber mute', () => {
  const at = new Date('2026-12-07T10:00:00Z');

  it('holds Jabber notices until it ends, and no other channel', () => {
    const muted = settings({}, '2026-12-07T12:00:00Z');
    expect(sendableFrom(muted, 'xmpp', at).toISOString()).toBe('2026-12-07T12:00:00.000Z');
    expect(sendableFrom(muted, 'sms', at)).toEqual(at);
    expect(sendableFrom(muted, 'email', at)).toEqual(at);
  });

  it('is over once its time has passed', () => {
    expect(sendableFrom(settings({}, '2026-12-07T09:59:00Z'), 'xmpp', at)).toEqual(at);
    expect(sendableFrom(settings({}), 'xmpp', at)).toEqual(at);
  });

  it('ends into quiet hours: the notice then waits for them to end too', () => {
    // Quiet 12:30–14:00 in Rome (11:30–13:00 UTC); the mute ends at 12:00 UTC, inside them.
    const both = settings({ quietHours: { start: '12:30', end: '14:00' } }, '2026-12-07T12:00:00Z');
    expect(sendableFrom(both, 'xmpp', at).toISOString()).toBe('2026-12-07T13:00:00.000Z');
  });
});
