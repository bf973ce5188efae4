import { MAX_TSI_LENGTH, blockedNumber, dialStringFor, normalizeNumber, tsiFor } from './numbers';

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

  it('blocks numbers on a blocked prefix as written by the operator, and premium-rate numbers when asked to', () => {
    const blocks = { blockedPrefixes: ['+44 (20) 7946', '+1-242'], blockPremiumRate: true };
    expect(blockedNumber('+442079460958', blocks)).toBe(
      '+442079460958 may not be dialled: numbers starting +44207946 are blocked by the operator (dial.blockedPrefixes)',
    );
    expect(blockedNumber('+12423571234', blocks)).toMatch(/starting \+1242 are blocked/);
    expect(blockedNumber('+441632960001', blocks)).toBeNull();
    expect(blockedNumber('+12025550101', blocks)).toBeNull();
    for (const premium of ['+19002345678', '+449012345678', '+499001234567', '+39899123456'])
      expect(blockedNumber(premium, blocks)).toBe(`${premium} may not be dialled: it is a premium-rate number (dial.blockPremiumRate)`);
    expect(blockedNumber('+19002345678', { blockedPrefixes: [], blockPremiumRate: false })).toBeNull();
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
