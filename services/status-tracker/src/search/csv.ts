import { FINAL_STATUS_INFO, PROGRESS_LABELS, isFinalStatus, type Locale, type ProgressStatus } from '@faxnotify/contracts';
import { plainText } from '@faxnotify/kit';
import { stringify } from 'csv-stringify/sync';
import { INBOX_STRINGS } from '../inbox/strings';
import type { ReceivedSummary } from '../inbox/store';
import { fill } from '../pages/strings';
import type { FaxRow, RecipientRow } from '../schema';
import { SEARCH_STRINGS } from './strings';

/**
 * The CSV exports: UTF-8 with a byte order mark (so spreadsheets read it as UTF-8), every field
 * quoted per RFC 4180 (CRLF between records, a quote doubled), and a cell that a spreadsheet would
 * take for a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) given a leading
 * `'` so it stays text (OWASP's CSV injection advice): a stranger's subject or CSID never runs.
 */
export const CSV_TYPE = 'text/csv; charset=utf-8; header=present';
const BOM = '\uFEFF';

export type CsvCell = string | number | null;

export const toCsv = (rows: readonly CsvCell[][]): string =>
  BOM +
  stringify(
    rows.map((row) => row.map((cell) => cell ?? '')),
    { quoted: true, quoted_empty: true, escape_formulas: true, record_delimiter: 'windows', cast: { number: (n) => String(n) } },
  );

/** A time as a spreadsheet reads it, in the zone: `2026-12-07 09:01:30`; '' for none. */
export function csvTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')}`;
}

/** One fax of the Sent folder's export: the fax, who sent it (a display name, else the user id), its listed recipients in order. */
export interface SentExportFax {
  fax: FaxRow;
  sentBy: string;
  recipients: RecipientRow[];
}

const recipientStatus = (recipient: RecipientRow, locale: Locale): string =>
  recipient.final === 1 && isFinalStatus(recipient.status)
    ? FINAL_STATUS_INFO[recipient.status].text[locale].label
    : (PROGRESS_LABELS[locale][recipient.status as ProgressStatus] ?? recipient.status);

/** The Sent folder as CSV: a header, then a row per recipient (a fax without any still has its row). */
export function sentCsv(faxes: readonly SentExportFax[], locale: Locale, timeZone: string): string {
  const c = SEARCH_STRINGS[locale].sentColumns;
  const header = [c.faxId, c.submitted, c.subject, c.sentBy, c.number, c.csid, c.status, c.pagesSent, c.pagesTotal, c.started, c.ended, c.attempts];
  const rows: CsvCell[][] = [header.map((h) => fill(h, { tz: timeZone }))];
  for (const { fax, sentBy, recipients } of faxes) {
    const common = [fax.id, csvTime(fax.submitted_at, timeZone), plainText(fax.subject, 1000), plainText(sentBy, 200)];
    if (recipients.length === 0) rows.push([...common, '', '', '', '', '', '', '', '']);
    for (const r of recipients) {
      const final = r.final === 1;
      rows.push([
        ...common,
        r.number,
        plainText(r.remote_csid, 64),
        recipientStatus(r, locale),
        r.pages_sent,
        r.pages_total,
        csvTime(r.started_at, timeZone),
        final ? csvTime(r.ended_at, timeZone) : '',
        r.attempts ?? (r.attempt > 0 ? r.attempt : ''),
      ]);
    }
  }
  return toCsv(rows);
}

/** The Inbox as CSV: a header, then a row per received fax. */
export function inboxCsv(faxes: readonly ReceivedSummary[], locale: Locale, timeZone: string): string {
  const s = SEARCH_STRINGS[locale];
  const c = s.inboxColumns;
  const statuses = INBOX_STRINGS[locale].status as Record<string, string>;
  const header = [c.id, c.received, c.started, c.from, c.to, c.csid, c.status, c.pages, c.read];
  const rows: CsvCell[][] = [header.map((h) => fill(h, { tz: timeZone }))];
  for (const fax of faxes) {
    rows.push([
      fax.id,
      csvTime(fax.ended_at, timeZone),
      csvTime(fax.started_at, timeZone),
      plainText(fax.caller_number, 32),
      plainText(fax.called_number, 32),
      plainText(fax.remote_csid, 64),
      statuses[fax.status] ?? fax.status,
      fax.pages,
      fax.read_at !== null ? s.yes : s.no,
    ]);
  }
  return toCsv(rows);
}
