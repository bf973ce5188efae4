import { inQuietHours, localMinutes, quietHoursEnd } from './quiet-hours';
import { sendableFrom, wantsResult } from './channel-choices';
import { SettingsStore, checkSettings, type NotificationSettings } from './settings';

const at = (iso: string) => new Date(iso);

describe('quiet hours', () => {
  const night = { start: '22:00', end: '07:00' };
  const lunch = { start: '12:30', end: '14:00' };

  it('reads the wall clock of the owner’s time zone', () => {
    expect(localMinutes(at('2026-07-01T20:15:00Z'), 'Europe/Rome')).toBe(22 * 60 + 15);
    expect(localMinutes(at('2026-01-01T20:15:00Z'), 'Europe/Rome')).toBe(21 * 60 + 15);
    expect(localMinutes(at('2026-01-01T20:15:00Z'), 'Asia/Kolkata')).toBe(1 * 60 + 45);
  });

  it('spans midnight when the start is later than the end, start included and end excluded', () => {
    const rome = (iso: string) => inQuietHours(night, at(iso), 'Europe/Rome');
    expect(rome('2026-01-10T20:59:00Z')).toBe(false); // 21:59
    expect(rome('2026-01-10T21:00:00Z')).toBe(true); // 22:00
    expect(rome('2026-01-10T23:30:00Z')).toBe(true); // 00:30
    expect(rome('2026-01-11T05:59:00Z')).toBe(true); // 06:59
    expect(rome('2026-01-11T06:00:00Z')).toBe(false); // 07:00
    expect(inQuietHours(lunch, at('2026-01-10T11:45:00Z'), 'Europe/Rome')).toBe(true); // 12:45
    expect(inQuietHours(lunch, at('2026-01-10T13:00:00Z'), 'Europe/Rome')).toBe(false); // 14:00
  });

  it('ends at the next local end time, across midnight', () => {
    expect(quietHoursEnd(night, at('2026-01-10T22:10:30Z'), 'Europe/Rome').toISOString()).toBe('2026-01-11T06:00:00.000Z');
    expect(quietHoursEnd(night, at('2026-01-11T05:59:59Z'), 'Europe/Rome').toISOString()).toBe('2026-01-11T06:00:00.000Z');
    // Out of quiet hours: now.
    expect(quietHoursEnd(night, at('2026-01-11T12:00:00Z'), 'Europe/Rome').toISOString()).toBe('2026-01-11T12:00:00.000Z');
    expect(quietHoursEnd(night, at('2026-01-11T03:00:00Z'), 'America/New_York').toISOString()).toBe('2026-01-11T12:00:00.000Z');
  });

  it('ends at the right instant on the nights the clocks change', () => {
    // Spring forward in Rome, 29 March 2026: 02:00 becomes 03:00; 07:00 is then 05:00Z, not 06:00Z.
    expect(quietHoursEnd(night, at('2026-03-28T22:00:00Z'), 'Europe/Rome').toISOString()).toBe('2026-03-29T05:00:00.000Z');
    // Fall back, 25 October 2026: 03:00 becomes 02:00 again; 07:00 is then 06:00Z.
    expect(quietHoursEnd(night, at('2026-10-24T21:00:00Z'), 'Europe/Rome').toISOString()).toBe('2026-10-25T06:00:00.000Z');
    // An end time the change skips (02:30 on the spring night): they end when the clock jumps to 03:00.
    const small = { start: '01:00', end: '02:30' };
    expect(quietHoursEnd(small, at('2026-03-29T00:15:00Z'), 'Europe/Rome').toISOString()).toBe('2026-03-29T01:00:00.000Z');
    // An end time the change repeats (02:30 on the autumn night): they end at its first occurrence.
    expect(quietHoursEnd(small, at('2026-10-24T23:30:00Z'), 'Europe/Rome').toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });
});

/** A user's settings: the defaults of a store (no database needed for them) with these channels. */
const settings = (overrides: Partial<NotificationSettings> = {}): NotificationSettings => ({
  ...new SettingsStore(undefined as never, { locale: 'en', timeZone: 'UTC' }).defaultsFor(),
  email: { enabled: true, address: 'ann@example.test', results: 'all', attachReport: false },
  sms: { enabled: true, number: '+393331234567', results: 'failures', quietHours: { start: '22:00', end: '07:00' } },
  xmpp: { enabled: true, jid: 'ann@localhost', results: 'none', quietHours: null },
  locale: 'en',
  timeZone: 'Europe/Rome',
  notifyOn: 'all',
  notifyInbound: 'on',
  ...overrides,
});

describe('per-channel choices', () => {
  it('lets each channel have all results, failures only or none', () => {
    const s = settings();
    expect(wantsResult(s, 'email', true)).toBeUndefined();
    expect(wantsResult(s, 'email', false)).toBeUndefined();
    expect(wantsResult(s, 'sms', true)).toBe('the owner gets SMS notices of failures only');
    expect(wantsResult(s, 'sms', false)).toBeUndefined();
    expect(wantsResult(s, 'xmpp', false)).toBe('the owner turned Jabber (XMPP) notices of results off');
  });

  it('holds SMS and Jabber notices in quiet hours, never email', () => {
    const night = at('2026-01-10T23:00:00Z');
    const s = settings({ xmpp: { enabled: true, jid: 'ann@localhost', results: 'all', quietHours: { start: '23:30', end: '06:00' } } });
    expect(sendableFrom(s, 'sms', night).toISOString()).toBe('2026-01-11T06:00:00.000Z');
    expect(sendableFrom(s, 'xmpp', night).toISOString()).toBe('2026-01-11T05:00:00.000Z');
    expect(sendableFrom({ ...s, email: { ...s.email } }, 'email', night)).toBe(night);
  });

  it('takes notifyOn as the choice of the channels without one of their own', () => {
    const none = checkSettings(
      { email: { enabled: true, address: 'ann@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'failures' },
      settings({ own: undefined }),
    );
    if (!('settings' in none)) throw new Error(JSON.stringify(none));
    expect([none.settings.email.results, none.settings.sms.results, none.settings.xmpp.results]).toEqual(['failures', 'failures', 'failures']);
    // A channel with a choice of its own keeps it when a client sends notifyOn only.
    const current = { ...none.settings, sms: { ...none.settings.sms, results: 'none' as const }, own: { email: false, sms: true, xmpp: false } };
    const again = checkSettings({ email: { enabled: true, address: 'ann@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' }, current);
    if (!('settings' in again)) throw new Error(JSON.stringify(again));
    expect([again.settings.email.results, again.settings.sms.results, again.settings.xmpp.results]).toEqual(['all', 'none', 'all']);
  });

  it('refuses quiet hours that start and end at once', () => {
    const input = {
      email: { enabled: false, address: null },
      sms: { enabled: false, number: null, quietHours: { start: '07:00', end: '07:00' } },
      locale: 'en' as const,
      timeZone: 'UTC',
    };
    expect(checkSettings(input, settings())).toEqual({ error: { field: 'sms.quietHours', message: expect.stringMatching(/another time/) } });
  });
});
