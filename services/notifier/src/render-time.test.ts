import { formatShortTime, formatTime } from './render';

describe('times in notices, with formatters kept per locale, zone and style', () => {
  const at = '2026-11-22T09:01:00Z';

  it('formats the same instant for each zone and locale asked, whatever was asked before', () => {
    expect(formatTime(at, 'en', 'Europe/Rome')).toBe('22 Nov 2026, 10:01');
    expect(formatTime(at, 'en', 'Europe/Moscow')).toBe('22 Nov 2026, 12:01');
    expect(formatTime(at, 'ru', 'Europe/Moscow')).toBe(
      new Intl.DateTimeFormat('ru', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Moscow' }).format(new Date(at)),
    );
    expect(formatShortTime(at, 'en', 'Europe/Rome')).toBe('22/11, 10:01');
    expect(formatShortTime(at, 'ru', 'Europe/Moscow')).toBe('22.11, 12:01');
    // Asked again after the others: the same answers.
    expect(formatTime(at, 'en', 'Europe/Rome')).toBe('22 Nov 2026, 10:01');
    expect(formatShortTime(at, 'en', 'Europe/Moscow')).toBe('22/11, 12:01');
    expect(formatTime(null, 'it', 'Europe/Rome')).toBeNull();
  });

  it('refuses a zone Intl does not know, every time', () => {
    expect(() => formatTime(at, 'en', 'Mars/Olympus')).toThrow(RangeError);
    expect(() => formatTime(at, 'en', 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('times of one minute, formatted once', () => {
  const intl = (style: 'full' | 'short', locale: string, timeZone: string, iso: string) =>
    new Intl.DateTimeFormat(
      locale,
      style === 'full'
        ? { dateStyle: 'medium', timeStyle: 'short', timeZone }
        : { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', timeZone },
    ).format(new Date(iso));

  it('gives what Intl gives for instants within a minute, across minutes, days and a clock change', () => {
    const instants = [
      '2026-11-22T09:01:00.000Z',
      '2026-11-22T09:01:59.999Z',
      '2026-11-22T09:02:00.000Z',
      '2026-11-22T09:01:30.000Z',
      '2026-11-22T23:59:59.000Z',
      '2026-11-23T00:00:00.000Z',
      // Europe/Rome goes back from 03:00 to 02:00 at 01:00 UTC: 00:59 and 01:00 UTC are both 02:mm local.
      '2026-10-25T00:59:30.000Z',
      '2026-10-25T01:00:10.000Z',
    ];
    for (const timeZone of ['Europe/Rome', 'Asia/Kathmandu', 'America/St_Johns', 'UTC']) {
      for (const iso of instants) {
        expect(formatTime(iso, 'en', timeZone)).toBe(intl('full', 'en-GB', timeZone, iso));
        expect(formatShortTime(iso, 'ru', timeZone)).toBe(intl('short', 'ru', timeZone, iso));
      }
    }
  });

  it('formats every instant before 1972 anew: some zones were then off UTC by minutes and seconds', () => {
    // Monrovia was 44 minutes 30 seconds behind UTC until 1972: 12:00:10 and 12:00:40 UTC fall in two local minutes.
    for (const iso of ['1960-06-01T12:00:10.000Z', '1960-06-01T12:00:40.000Z', '1960-06-01T12:00:10.000Z']) {
      expect(formatTime(iso, 'en', 'Africa/Monrovia')).toBe(intl('full', 'en-GB', 'Africa/Monrovia', iso));
    }
  });

  it('throws for a time that is not one, every time', () => {
    expect(() => formatTime('not a time', 'en', 'UTC')).toThrow(RangeError);
    expect(() => formatTime('not a time', 'en', 'UTC')).toThrow(RangeError);
  });
});
