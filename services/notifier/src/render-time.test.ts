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
