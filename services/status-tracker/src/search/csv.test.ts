import type { FaxRow, RecipientRow } from '../schema';
import type { ReceivedSummary } from '../inbox/store';
import { csvTime, inboxCsv, sentCsv, toCsv } from './csv';

/** The CSV exports' writing: a BOM, RFC 4180 quoting, spreadsheet formulas kept as text, times in the zone, localized headers. */
describe('CSV exports', () => {
  it('starts with a BOM, quotes every field and doubles quotes, CRLF between records', () => {
    expect(toCsv([['a', 'say "hi"', 'line\nbreak', 3, null]])).toBe('\uFEFF"a","say ""hi""","line\nbreak","3",""\r\n');
  });

  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1202555', `"'+1202555"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tcmd', `"'\tcmd"`],
    ['\rcmd', `"'\rcmd"`],
    ['safe = text', '"safe = text"'],
  ])('keeps a cell a spreadsheet would run as text: %j', (cell, written) => {
    expect(toCsv([[cell]])).toBe(`\uFEFF${written}\r\n`);
  });

  it('writes times as a spreadsheet reads them, in the zone', () => {
    expect(csvTime('2026-12-07T08:01:30.000Z', 'Europe/Moscow')).toBe('2026-12-07 11:01:30');
    expect(csvTime('2026-12-31T23:30:00.000Z', 'UTC')).toBe('2026-12-31 23:30:00');
    expect(csvTime(null, 'UTC')).toBe('');
  });

  const fax = {
    id: 'fax-1',
    submitted_at: '2026-12-07T08:00:00.000Z',
    subject: '=HYPERLINK("http://evil.example","x")',
  } as FaxRow;
  const recipient = (number: string, extra: Partial<RecipientRow>) =>
    ({
      fax_id: 'fax-1',
      number,
      status: 'success',
      final: 1,
      attempt: 1,
      attempts: 1,
      pages_sent: 3,
      pages_total: 3,
      remote_csid: null,
      started_at: '2026-12-07T08:01:00.000Z',
      ended_at: '2026-12-07T08:03:00.000Z',
      ...extra,
    }) as RecipientRow;

  it('writes the Sent folder a row per recipient, the fax repeated on each', () => {
    const text = sentCsv(
      [
        {
          fax,
          sentBy: 'Анна',
          recipients: [
            recipient('+12025550101', { remote_csid: '@ACME' }),
            recipient('+12025550102', { status: 'dialing', final: 0, pages_sent: 0, attempts: null, ended_at: null, started_at: null }),
          ],
        },
      ],
      'ru',
      'Europe/Moscow',
    );
    const lines = text.slice(1).split('\r\n');
    expect(lines[0]).toBe(
      '"ID факса","Отправлен (Europe/Moscow)","Тема","Отправитель","Номер","CSID","Состояние","Передано страниц","Всего страниц","Начало (Europe/Moscow)","Конец (Europe/Moscow)","Попыток"',
    );
    expect(lines[1]).toBe(
      `"fax-1","2026-12-07 11:00:00","'=HYPERLINK(""http://evil.example"",""x"")","Анна","'+12025550101","'@ACME","Доставлено","3","3","2026-12-07 11:01:00","2026-12-07 11:03:00","1"`,
    );
    expect(lines[2]).toMatch(/^"fax-1",.*,"'\+12025550102","",".+","0","3","","","1"$/);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
  });

  it('writes the Inbox a row per received fax, in Italian', () => {
    const received = {
      id: 'rx-1',
      ended_at: '2026-12-07T08:01:30.000Z',
      started_at: '2026-12-07T08:00:00.000Z',
      caller_number: '+390612345678',
      called_number: '+390698765432',
      remote_csid: '-ACME-',
      status: 'partially_received',
      pages: 1,
      read_at: null,
    } as ReceivedSummary;
    const lines = inboxCsv([received], 'it', 'Europe/Rome').slice(1).split('\r\n');
    expect(lines[0]).toBe(
      '"ID fax ricevuto","Ricevuto (Europe/Rome)","Inizio (Europe/Rome)","Numero del mittente","Numero chiamato","CSID","Stato","Pagine","Letto"',
    );
    expect(lines[1]).toBe(`"rx-1","2026-12-07 09:01:30","2026-12-07 09:00:00","'+390612345678","'+390698765432","'-ACME-","Ricevuto in parte","1","no"`);
  });
});
