import { FINAL_STATUSES, LOCALES, OUTCOME_LABELS, FINAL_STATUS_INFO, type DeliveryRecipientFinal, type Locale } from '@faxnotify/contracts';
import { SMS_MAX_SEGMENTS, smsSize } from './channels/sms/segments';
import { noticeContext, pagesPhrase, renderNotice } from './render';
import { sampleResult } from './testing/notices';

const result = (overrides: Partial<DeliveryRecipientFinal> = {}) => sampleResult({ reason: { code: 'OK', detail: 'MCF after EOP' }, ...overrides });

const render = (r: DeliveryRecipientFinal, locale: 'ru' | 'en' | 'it' = 'en', timeZone = 'Europe/Rome') =>
  renderNotice('email', locale, noticeContext(r, { locale, timeZone, settingsUrl: 'http://127.0.0.1:8083/settings' }));

describe('email rendering', () => {
  it.each(LOCALES.flatMap((locale) => FINAL_STATUSES.map((status) => [locale, status] as const)))('renders %s / %s', (locale, status) => {
    const partial = FINAL_STATUS_INFO[status].outcome === 'partial';
    const notice = render(result({ status, pagesSent: partial ? 1 : status === 'success' ? 3 : 0 }), locale);
    expect(notice.title.startsWith(`${OUTCOME_LABELS[locale][FINAL_STATUS_INFO[status].outcome]}: Q3 report`)).toBe(true);
    expect(notice.text).toContain('+12025550101 (ACME SALES FAX)');
    expect(notice.text).toContain('http://127.0.0.1:8082/faxes/fax-1');
    expect(notice.text).toContain('http://127.0.0.1:8083/settings');
    expect(notice.html).toContain('href="http://127.0.0.1:8082/faxes/fax-1"');
    if (FINAL_STATUS_INFO[status].outcome !== 'delivered') expect(notice.text).toContain(FINAL_STATUS_INFO[status].text[locale].advice);
  });

  it("titles a fax without subject in the owner's language", () => {
    expect(render(result({ subject: '' }), 'ru').title).toBe('Доставлено: без темы');
    expect(render(result({ subject: '   ' }), 'en').title).toBe('Delivered: no subject');
    expect(render(result({ subject: '' }), 'it').title).toBe('Consegnato: senza oggetto');
  });

  it("gives send and delivery times in the owner's time zone", () => {
    const text = render(result(), 'en', 'Europe/Rome').text;
    expect(text).toMatch(/Submitted: 22 Nov 2026, 10:00/);
    expect(text).toMatch(/Delivered: 22 Nov 2026, 10:01 \(Europe\/Rome\)/);
    expect(render(result(), 'ru', 'Europe/Moscow').text).toMatch(/Доставлен: 22 нояб\. 2026 г\., 12:01/);
  });

  it('counts pages: all of them, or n of m when partial', () => {
    expect(pagesPhrase('ru', 1, 1)).toBe('1 стр.');
    expect(pagesPhrase('en', 1, 1)).toBe('1 page');
    expect(pagesPhrase('en', 2, 3)).toBe('2 of 3 pages');
    expect(pagesPhrase('ru', 2, 3)).toBe('2 из 3 стр.');
    expect(pagesPhrase('it', 2, 3)).toBe('2 di 3 pagine');
  });

  it('makes hostile CSID and subject harmless', () => {
    const hostile = result({
      subject: `<script>alert(1)</script> "quoted" 'single'\r\nBcc: evil@example.test {{x}} ${'A'.repeat(10_000)}`,
      remoteCsid: '<img src=x onerror=alert(1)>\r\nX',
      status: 'partially_sent',
      pagesSent: 1,
    });
    const notice = render(hostile);
    expect(notice.title).not.toMatch(/[\r\n]/);
    expect(notice.title.length).toBeLessThanOrEqual(150);
    expect(notice.title).toContain('{{x}}');
    expect(notice.title.endsWith('…')).toBe(true);
    expect(notice.html).not.toContain('<script>');
    expect(notice.html).toContain('&lt;script&gt;');
    expect(notice.html).not.toContain('<img');
    expect(notice.html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(notice.text).not.toMatch(/Bcc: evil@example.test\n/);
    expect(notice.text.length).toBeLessThan(3000);
  });
});

describe('XMPP rendering', () => {
  const renderXmpp = (r: DeliveryRecipientFinal, locale: 'ru' | 'en' | 'it' = 'en') =>
    renderNotice('xmpp', locale, noticeContext(r, { locale, timeZone: 'Europe/Rome', settingsUrl: 'http://127.0.0.1:8083/settings' }));

  it.each(LOCALES.flatMap((locale) => FINAL_STATUSES.map((status) => [locale, status] as const)))('renders %s / %s as plain text', (locale, status) => {
    const info = FINAL_STATUS_INFO[status];
    const notice = renderXmpp(result({ status, pagesSent: info.outcome === 'partial' ? 1 : status === 'success' ? 3 : 0 }), locale);
    expect(notice.text.startsWith(`${OUTCOME_LABELS[locale][info.outcome]}: Q3 report\n`)).toBe(true);
    expect(notice.text).toContain('+12025550101 (ACME SALES FAX)');
    expect(notice.text).toContain(info.text[locale].label);
    expect(notice.text).toContain('http://127.0.0.1:8082/faxes/fax-1');
    expect(notice.text).toContain('http://127.0.0.1:8083/settings');
    if (info.outcome !== 'delivered') expect(notice.text).toContain(info.text[locale].advice);
    expect(notice.html).toBeUndefined();
    expect(notice.text).not.toMatch(/\n{3}/);
  });

  it("keeps strangers' text plain: no control characters, markup left as text", () => {
    const notice = renderXmpp(result({ subject: 'a\u0000b<c>&d\r\ne', remoteCsid: '\u001b]0;x\u0007' }));
    // eslint-disable-next-line no-control-regex
    expect(notice.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(notice.text.startsWith('Delivered: a b<c>&d e\n')).toBe(true);
  });
});

describe('SMS rendering', () => {
  const renderSms = (r: DeliveryRecipientFinal, locale: Locale = 'en', timeZone = 'Europe/Rome') =>
    renderNotice('sms', locale, noticeContext(r, { locale, timeZone, settingsUrl: 'http://127.0.0.1:8083/settings' }));
  // eslint-disable-next-line no-control-regex
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/;

  it('gives status, subject, recipient number and CSID, pages, delivery time and the link', () => {
    const sms = renderSms(sampleResult());
    expect(sms.text).toBe(
      'Delivered: Q3 report\nTo: +12025550101 (ACME SALES FAX), 3 pages, 22/11/2026, 10:01\nhttp://127.0.0.1:8082/faxes/fax-1'.replace(
        '22/11/2026, ',
        '22/11, ',
      ),
    );
    expect(sms.sms).toEqual({ encoding: 'GSM-7', segments: 1 });
    const busy = renderSms(sampleResult({ status: 'failed_user_busy', pagesSent: 0 }), 'ru', 'Europe/Moscow');
    expect(busy.text).toBe(
      'Не доставлено: Q3 report\nЛиния занята\n+12025550101 (ACME SALES FAX), 0 из 3 стр., 22.11, 12:01\nhttp://127.0.0.1:8082/faxes/fax-1',
    );
  });

  it.each(LOCALES.flatMap((locale) => FINAL_STATUSES.map((status) => [locale, status] as const)))(
    'fits %s / %s with a long subject into 2 segments',
    (locale, status) => {
      const partial = FINAL_STATUS_INFO[status].outcome === 'partial';
      const long = `Quarterly report for the board of directors, with appendices A to F ${'and more '.repeat(30)}`;
      const sms = renderSms(sampleResult({ status, subject: long, pagesSent: partial ? 1 : status === 'success' ? 3 : 0 }), locale);
      const size = smsSize(sms.text);
      expect(size.segments).toBeLessThanOrEqual(SMS_MAX_SEGMENTS);
      expect(sms.sms).toEqual({ encoding: size.encoding, segments: size.segments });
      // Russian is always UCS-2; English and Italian stay GSM-7.
      expect(size.encoding).toBe(locale === 'ru' ? 'UCS-2' : 'GSM-7');
      // The subject was shortened (keeping at least its start), not the number or the link.
      expect(sms.text).toMatch(/: Quarterly.*\.\.\.\n/);
      expect(sms.text).toContain('+12025550101');
      expect(sms.text.endsWith('http://127.0.0.1:8082/faxes/fax-1')).toBe(true);
    },
  );

  it('switches to UCS-2 only when the text needs it', () => {
    expect(renderSms(sampleResult({ subject: 'Fattura n° 12 – è già pagata' }), 'it').sms?.encoding).toBe('UCS-2');
    expect(renderSms(sampleResult({ subject: 'Fattura 12 è già pagata' }), 'it').sms?.encoding).toBe('GSM-7');
    expect(renderSms(sampleResult({ subject: 'Factura pagada en Cádiz' }), 'it').sms?.encoding).toBe('UCS-2');
    expect(renderSms(sampleResult({ subject: 'Отчёт' }), 'en').sms?.encoding).toBe('UCS-2');
  });

  it('makes a hostile subject and CSID harmless', () => {
    const sms = renderSms(sampleResult({ subject: 'Hi\r\n\u0007\u001b[31mSTOP\u202e{{x}}', remoteCsid: '\u0000EVIL\r\nCSID\u0085' }));
    expect(sms.text).not.toMatch(CONTROL);
    expect(sms.text.split('\n')).toHaveLength(3);
    expect(sms.text).toContain('{{x}}');
    expect(sms.text).toContain('(EVIL CSID)');
  });

  // The status tracker's fax link with a link token (links.tokens): the base and 24 URL-safe characters.
  const TOKEN_LINK = 'https://faxes.example-company.test/l/Zx9_aQ3-Lm7RtY2kVb8NcW0e';

  it.each(LOCALES)('keeps a token link whole and within one segment for a usual notice in %s', (locale) => {
    const sms = renderSms(sampleResult({ links: { fax: TOKEN_LINK } }), locale);
    expect(sms.text.endsWith(`\n${TOKEN_LINK}`)).toBe(true);
    expect(sms.sms).toEqual({ encoding: locale === 'ru' ? 'UCS-2' : 'GSM-7', segments: smsSize(sms.text).segments });
    // GSM-7 keeps a usual notice in one part; Russian (UCS-2, 70 characters a part) takes two.
    expect(sms.sms!.segments).toBe(locale === 'ru' ? 2 : 1);
  });

  it.each(LOCALES.flatMap((locale) => FINAL_STATUSES.map((status) => [locale, status] as const)))(
    'fits %s / %s with a long subject and a token link into the segment budget, the link whole',
    (locale, status) => {
      const partial = FINAL_STATUS_INFO[status].outcome === 'partial';
      const long = `Quarterly report for the board of directors ${'and more '.repeat(30)}`;
      const sms = renderSms(sampleResult({ status, subject: long, pagesSent: partial ? 1 : status === 'success' ? 3 : 0, links: { fax: TOKEN_LINK } }), locale);
      expect(smsSize(sms.text).segments).toBeLessThanOrEqual(SMS_MAX_SEGMENTS);
      expect(sms.text.endsWith(`\n${TOKEN_LINK}`)).toBe(true);
    },
  );
});
