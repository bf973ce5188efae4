import { isGsm7, shortenForSms, smsSize } from './segments';

/**
 * The one SMS segment counter: the renderer fits notices into SMS_MAX_SEGMENTS with it and the
 * Twilio-compatible test endpoint answers `num_segments` with it, so it is held here to the counts
 * carriers and Twilio give.
 */
describe('SMS segments', () => {
  it('fits 160 GSM-7 septets in one message and 153 in each concatenated part', () => {
    expect(smsSize('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(smsSize('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
    expect(smsSize('a'.repeat(306))).toMatchObject({ segments: 2 });
    expect(smsSize('a'.repeat(307))).toMatchObject({ segments: 3 });
    expect(smsSize('a'.repeat(459))).toMatchObject({ segments: 3 });
    expect(smsSize('a'.repeat(460))).toMatchObject({ segments: 4 });
  });

  it('fits 70 UCS-2 code units in one message and 67 in each concatenated part', () => {
    expect(smsSize('я'.repeat(70))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(smsSize('я'.repeat(71))).toMatchObject({ segments: 2 });
    expect(smsSize('я'.repeat(134))).toMatchObject({ segments: 2 });
    expect(smsSize('я'.repeat(135))).toMatchObject({ segments: 3 });
    expect(smsSize('я'.repeat(201))).toMatchObject({ segments: 3 });
    expect(smsSize('я'.repeat(202))).toMatchObject({ segments: 4 });
  });

  it('counts each extension-table character twice (an escape septet and the character)', () => {
    for (const extension of ['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€']) {
      expect(smsSize(extension)).toEqual({ encoding: 'GSM-7', segments: 1, units: 2 });
    }
    expect(smsSize('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(smsSize('€'.repeat(81))).toEqual({ encoding: 'GSM-7', segments: 2, units: 162 });
    expect(smsSize(`${'a'.repeat(159)}[`)).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
  });

  it('never splits an escape pair or a surrogate pair across parts', () => {
    // 152 septets then an escape pair: the pair moves whole to the next part.
    expect(smsSize(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toMatchObject({ units: 306, segments: 3 });
    expect(smsSize(`${'a'.repeat(66)}😀`)).toMatchObject({ encoding: 'UCS-2', units: 68, segments: 1 });
    expect(smsSize(`${'a'.repeat(66)}😀${'a'.repeat(3)}`)).toMatchObject({ units: 71, segments: 2 });
  });

  it('switches the whole message to UCS-2 for one character outside the GSM alphabet', () => {
    expect(smsSize(`${'a'.repeat(100)}–`)).toEqual({ encoding: 'UCS-2', segments: 2, units: 101 });
    expect(isGsm7('Fattura 12 è già pagata')).toBe(true);
    expect(isGsm7('Factura pagada en Cádiz')).toBe(false);
    expect(isGsm7('Отчёт')).toBe(false);
  });

  it('counts an English (GSM-7) and a Russian (UCS-2) fax notice', () => {
    const english: string = 'Fax "Quarterly report" to +39 06 1234567 (CSID ACME ROMA): delivered, 3 pages at 14:05. Details: https://fax.example/r/7Gx2';
    const russian: string = 'Факс «Квартальный отчёт» на +7 495 123-45-67 (CSID ООО РОМАШКА): доставлен, 3 стр. в 14:05. Подробнее: https://fax.example/r/7Gx2';
    expect(smsSize(english)).toEqual({ encoding: 'GSM-7', segments: 1, units: [...english].length });
    expect(smsSize(russian)).toEqual({ encoding: 'UCS-2', segments: 2, units: [...russian].length });
  });

  it('shortens with three dots, which keep a GSM-7 text in GSM-7', () => {
    expect(shortenForSms('Quarterly report', 20)).toBe('Quarterly report');
    expect(shortenForSms('Quarterly report', 10)).toBe('Quarter...');
    expect(shortenForSms('Quarterly report', 3)).toBe('Qua');
    expect(isGsm7(shortenForSms('Quarterly report', 10))).toBe(true);
  });
});
