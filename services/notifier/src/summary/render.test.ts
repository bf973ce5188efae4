import { AGGREGATE_LABELS, LOCALES, describeStatus } from '@faxnotify/contracts';
import { SMS_MAX_SEGMENTS, smsSize } from '../channels/sms/segments';
import { renderSummary, summaryContext } from './render';
import { faxFinal } from './testing';

const options = (locale: 'ru' | 'en' | 'it', timeZone = 'Europe/Rome') => ({ locale, timeZone, settingsUrl: 'http://127.0.0.1:8083/settings' });
const render = (channel: 'email' | 'sms' | 'xmpp', locale: 'ru' | 'en' | 'it', fax = faxFinal('fax-40', 40)) =>
  renderSummary(channel, locale, summaryContext(fax, options(locale)));

describe('fax summary rendering', () => {
  it.each(LOCALES)('email in %s: the aggregate state and subject in the title, a row per recipient, the link', (locale) => {
    const fax = faxFinal('fax-40', 40);
    const notice = render('email', locale, fax);
    expect(notice.title).toBe(`${AGGREGATE_LABELS[locale].partial}: Q3 report (31/40)`);
    const rows = notice.html!.match(/<tr class="recipient[^"]*"[^>]*>.*?<\/tr>/g)!;
    expect(rows).toHaveLength(40);
    fax.recipients.forEach((r, i) => {
      expect(rows[i]).toContain(r.number);
      expect(rows[i]).toContain(describeStatus(r.status, locale).label);
      if (r.remoteCsid) expect(rows[i]).toContain(`${r.number} (${r.remoteCsid})`);
      expect(notice.text).toContain(`${r.number}${r.remoteCsid ? ` (${r.remoteCsid})` : ''} | ${describeStatus(r.status, locale).label}`);
    });
    expect(notice.text).toContain('http://127.0.0.1:8082/faxes/fax-40');
    expect(notice.html).toContain('href="http://127.0.0.1:8082/faxes/fax-40"');
    expect(notice.text).toContain('Europe/Rome');
  });

  it("gives each recipient's end time in the owner's zone and pages as n of m when partial", () => {
    const text = render('email', 'en').text;
    expect(text).toContain('+12025551000 (ACME 1) | Delivered | 2 pages | 22 Nov 2026, 10:01');
    expect(text).toContain('+12025551009 (ACME 10) | Partially sent | 1 of 2 pages | 22 Nov 2026, 10:10');
    expect(text).toMatch(/Delivered: 31, partially delivered: 4, not delivered: 5 \(of 40 recipients\)/);
    expect(renderSummary('email', 'ru', summaryContext(faxFinal('f', 1), options('ru', 'Europe/Moscow'))).text).toContain('22 нояб. 2026 г., 12:01');
  });

  it("keeps strangers' text inert: HTML escaped, no line breaks in the title or rows", () => {
    const fax = faxFinal('fax-x', 2, { subject: 'Q3 <script>alert(1)</script>\r\nBcc: evil@example.test' });
    fax.recipients[0].remoteCsid = '<img src=x onerror=alert(1)>\nX';
    const notice = render('email', 'en', fax);
    expect(notice.title).not.toMatch(/[\r\n]/);
    expect(notice.html).not.toContain('<script>');
    expect(notice.html).not.toContain('<img');
    expect(notice.html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; X');
    expect(notice.text.split('\n').filter((line) => line.includes('onerror'))).toEqual([
      '+12025551000 (<img src=x onerror=alert(1)> X) | Delivered | 2 pages | 22 Nov 2026, 10:01',
    ]);
  });

  it.each(LOCALES)('SMS in %s: the counts and the link, within the parts allowed, however long the subject', (locale) => {
    for (const subject of ['Q3 report', 'Отчёт за третий квартал '.repeat(20), '']) {
      const notice = render('sms', locale, faxFinal('fax-40', 40, { subject }));
      expect(smsSize(notice.text).segments).toBeLessThanOrEqual(SMS_MAX_SEGMENTS);
      expect(notice.text).toContain('http://127.0.0.1:8082/faxes/fax-40');
      expect(notice.text).toMatch(/31\D+4\D+5\D+40/);
      expect(notice.sms?.segments).toBe(smsSize(notice.text).segments);
    }
  });

  it.each(LOCALES)('Jabber in %s: the counts and the link, no rows', (locale) => {
    const notice = render('xmpp', locale);
    expect(notice.text).toContain('http://127.0.0.1:8082/faxes/fax-40');
    expect(notice.text).toMatch(/31\D+4\D+5\D+40/);
    expect(notice.text).not.toContain('+12025551000');
  });
});
