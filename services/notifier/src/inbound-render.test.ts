import { LOCALES, RECEIVE_STATUSES, type DeliveryFaxReceived, type Locale, type ReceiveStatus } from '@faxnotify/contracts';
import { SMS_MAX_SEGMENTS, smsSize } from './channels/sms/segments';
import type { Channel } from './channels/types';
import { attachmentName } from './inbound';
import { receivedContext, renderReceivedNotice } from './inbound-render';
import { receivedFax } from './testing/notices';

const SETTINGS_URL = 'http://127.0.0.1:8083/settings';
const render = (channel: Channel, event: DeliveryFaxReceived, locale: Locale = 'en', timeZone = 'Europe/Rome') =>
  renderReceivedNotice(channel, locale, receivedContext(event, { locale, timeZone, settingsUrl: SETTINGS_URL }));

const pagesFor = (status: ReceiveStatus) => (status === 'failed' ? 0 : status === 'partially_received' ? 2 : 3);
const fax = (status: ReceiveStatus, overrides: Partial<DeliveryFaxReceived> = {}) =>
  receivedFax('rx-1', {
    status,
    pagesReceived: pagesFor(status),
    reason: { code: status === 'success' ? 'OK' : 'LINE_DROPPED', detail: 'no carrier' },
    ...overrides,
  });

/** The title each locale gives each status, with the sender's number and CSID. */
const TITLES: Record<Locale, Record<ReceiveStatus, string>> = {
  en: {
    success: 'Fax received from +390612345678 (ACME SALES FAX)',
    partially_received: 'Fax partly received from +390612345678 (ACME SALES FAX)',
    failed: 'Fax not received from +390612345678 (ACME SALES FAX)',
  },
  ru: {
    success: 'Получен факс от +390612345678 (ACME SALES FAX)',
    partially_received: 'Факс от +390612345678 (ACME SALES FAX) принят частично',
    failed: 'Не удалось принять факс от +390612345678 (ACME SALES FAX)',
  },
  it: {
    success: 'Fax ricevuto da +390612345678 (ACME SALES FAX)',
    partially_received: 'Fax ricevuto in parte da +390612345678 (ACME SALES FAX)',
    failed: 'Fax non ricevuto da +390612345678 (ACME SALES FAX)',
  },
};
/** Words that explain a partial reception in each locale. */
const PARTIAL_WORDS: Record<Locale, RegExp> = { en: /some may be missing/, ru: /части может не хватать/, it: /alcune possono mancare/ };
const PAGES: Record<Locale, Record<ReceiveStatus, string>> = {
  en: { success: '3 pages', partially_received: '2 pages', failed: '0 pages' },
  ru: { success: '3 стр.', partially_received: '2 стр.', failed: '0 стр.' },
  it: { success: '3 pagine', partially_received: '2 pagine', failed: '0 pagine' },
};
const cases = LOCALES.flatMap((locale) => RECEIVE_STATUSES.map((status) => [locale, status] as const));

describe('inbound email', () => {
  it.each(cases)('renders %s / %s', (locale, status) => {
    const notice = render('email', fax(status), locale);
    expect(notice.title).toBe(TITLES[locale][status]);
    expect(notice.text.split('\n')[0]).toBe(TITLES[locale][status]);
    expect(notice.text).toContain(PAGES[locale][status]);
    expect(notice.text).toContain('http://127.0.0.1:8082/inbox/rx-1');
    expect(notice.text).toContain(SETTINGS_URL);
    expect(notice.html).toContain('href="http://127.0.0.1:8082/inbox/rx-1"');
    expect(notice.html).toContain(`<html lang="${locale}">`);
    if (status === 'partially_received') {
      expect(notice.text).toMatch(PARTIAL_WORDS[locale]);
      expect(notice.html).toMatch(PARTIAL_WORDS[locale]);
    } else expect(notice.text).not.toMatch(PARTIAL_WORDS[locale]);
    // The line's detail is shown when something went wrong only.
    expect(notice.text.includes('LINE_DROPPED')).toBe(status !== 'success');
  });

  it("gives the receive time in the owner's time zone", () => {
    expect(render('email', fax('success')).text).toContain('Received: 22 Nov 2026, 10:01 (Europe/Rome)');
    expect(render('email', fax('success'), 'ru', 'Europe/Moscow').text).toMatch(/Получен: 22 нояб\. 2026 г\., 12:01 \(Europe\/Moscow\)/);
    expect(render('xmpp', fax('success'), 'it', 'UTC').text).toMatch(/Ricevuto: 22 nov 2026, 09:01 \(UTC\)/);
  });

  it('says the PDF is attached only when the event carries it', () => {
    const withPdf = fax('success', { document: { fileName: 'fax.pdf', contentType: 'application/pdf', sizeBytes: 4, data: 'JVBERg==' } });
    expect(render('email', withPdf).text).toContain('The fax is attached as a PDF.');
    expect(render('email', fax('success')).text).not.toContain('attached');
    expect(render('email', withPdf, 'ru').html).toContain('Факс приложен в формате PDF.');
  });

  it('names a caller the line could not identify', () => {
    const anonymous = fax('success', { callerNumber: null, remoteCsid: null });
    expect(render('email', anonymous).title).toBe('Fax received from an unknown number');
    expect(render('email', anonymous, 'ru').title).toBe('Получен факс от неизвестного номера');
    expect(render('email', anonymous, 'it').title).toBe('Fax ricevuto da numero sconosciuto');
  });

  it("makes a stranger's CSID harmless in every medium", () => {
    const hostile = fax('partially_received', { remoteCsid: '<img src=x onerror=alert(1)>\r\nBcc: x{{y}}' });
    const email = render('email', hostile);
    expect(email.title).not.toMatch(/[\r\n]/);
    expect(email.title).toContain('<img src=x onerror=alert(1)>');
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(email.html).toContain('{{y}}');
    for (const channel of ['email', 'sms', 'xmpp'] as const) {
      // eslint-disable-next-line no-control-regex
      expect(render(channel, hostile).text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      expect(render(channel, hostile).text).not.toContain('\r');
    }
  });
});

describe('inbound SMS and Jabber', () => {
  it.each(cases)('SMS %s / %s carries the essentials within its budget', (locale, status) => {
    const notice = render('sms', fax(status), locale);
    expect(notice.title).toBe('');
    expect(notice.text).toContain('+390612345678 (ACME SALES FAX)');
    expect(notice.text).toContain(PAGES[locale][status]);
    expect(notice.text.endsWith('http://127.0.0.1:8082/inbox/rx-1')).toBe(true);
    expect(notice.sms).toEqual({ encoding: smsSize(notice.text).encoding, segments: smsSize(notice.text).segments });
    expect(notice.sms!.segments).toBeLessThanOrEqual(SMS_MAX_SEGMENTS);
  });

  it('SMS: the CSID, then the time give way, and the link stays whole', () => {
    const link = `https://fax.example.test/inbox/${'x'.repeat(52)}`;
    const notice = render('sms', fax('partially_received', { remoteCsid: 'Щ'.repeat(40), links: { fax: link } }), 'ru');
    expect(notice.sms).toEqual({ encoding: 'UCS-2', segments: SMS_MAX_SEGMENTS });
    expect(notice.text).not.toContain('Щ');
    expect(notice.text).not.toContain('10:01');
    expect(notice.text.startsWith('Частично принят факс от +390612345678\n')).toBe(true);
    expect(notice.text.endsWith(link)).toBe(true);
  });

  it.each(cases)('Jabber %s / %s', (locale, status) => {
    const notice = render('xmpp', fax(status), locale);
    expect(notice.text.split('\n')[0]).toBe(TITLES[locale][status]);
    expect(notice.text).toContain(PAGES[locale][status]);
    expect(notice.text).toContain('http://127.0.0.1:8082/inbox/rx-1');
    if (status === 'partially_received') expect(notice.text).toMatch(PARTIAL_WORDS[locale]);
  });
});

describe('attachment name', () => {
  it('keeps a plain name and makes others safe', () => {
    expect(attachmentName('fax-2026-11-22.pdf', 'rx-1')).toBe('fax-2026-11-22.pdf');
    expect(attachmentName('../../etc/passwd', 'rx-1')).toBe('passwd.pdf');
    expect(attachmentName('a"b\r\n<c>.PDF', 'rx-1')).toBe('a_b _c_.PDF');
    expect(attachmentName('..', 'line:7@x')).toBe('fax-line-7-x.pdf');
  });
});
