import { MAX_TSI_LENGTH, dialStringFor, normalizeNumber, tsiFor } from './numbers';

describe('fax numbers', () => {
  it('normalises what people type to E.164, reading national numbers in the configured region', () => {
    expect(normalizeNumber('+1 (202) 555-0101', 'US')).toEqual({ ok: true, e164: '+12025550101' });
    expect(normalizeNumber('202.555.0101', 'US')).toEqual({ ok: true, e164: '+12025550101' });
    expect(normalizeNumber('030 1234567', 'DE')).toEqual({ ok: true, e164: '+49301234567' });
    expect(normalizeNumber('+44 20 7946 0958', 'DE')).toEqual({ ok: true, e164: '+442079460958' });
  });

  it('refuses what cannot be a dialable fax number', () => {
    for (const input of ['', '12', 'call me', '+1 555 555 0100', '+12025550101 ext. 7', '+999 1234567', 42, null, '1'.repeat(80)]) {
      expect(normalizeNumber(input, 'US')).toMatchObject({ ok: false });
    }
  });

  it('dials numbers of our region nationally and others internationally, after the outside-line prefix', () => {
    expect(dialStringFor('+12025550101', { prefix: '', region: 'US', rules: [] })).toBe('12025550101');
    expect(dialStringFor('+442079460958', { prefix: '9', region: 'US', rules: [] })).toBe('9011442079460958');
    expect(dialStringFor('+49301234567', { prefix: '', region: 'DE', rules: [] })).toBe('0301234567');
    expect(dialStringFor('+12025550101', { prefix: '0', region: 'DE', rules: [] })).toBe('00012025550101');
  });

  it('applies the first matching dial rule', () => {
    const rules = [
      { match: '^\\+1202555(01\\d\\d)$', dial: '2002' },
      { match: '^\\+1202(\\d{7})$', dial: '$1' },
    ];
    expect(dialStringFor('+12025550101', { prefix: '', region: 'US', rules })).toBe('2002');
    expect(dialStringFor('+12025550999', { prefix: '9', region: 'US', rules })).toBe('95550999');
    expect(dialStringFor('+13125550101', { prefix: '', region: 'US', rules })).toBe('13125550101');
  });

  it("sends a fax's own number as its TSI, in international form with spaces, and the global identity otherwise", () => {
    expect(tsiFor('+12025550100', 'FAXNOTIFY')).toBe('+1 202 555 0100');
    expect(tsiFor('+390612345678', 'FAXNOTIFY')).toBe('+39 06 1234 5678');
    expect(tsiFor('+442079460958', 'FAXNOTIFY')).toBe('+44 20 7946 0958');
    for (const from of ['+12025550100', '+390612345678', '+861012345678901', '+493012345678901']) {
      const tsi = tsiFor(from, 'FAXNOTIFY');
      expect(tsi).toMatch(/^\+[\d ]+$/);
      expect(tsi.length).toBeLessThanOrEqual(MAX_TSI_LENGTH);
      expect(tsi.replace(/ /g, '')).toBe(from);
    }
    for (const from of [null, undefined, '', 'not a number']) expect(tsiFor(from, 'FAXNOTIFY')).toBe('FAXNOTIFY');
  });
});
