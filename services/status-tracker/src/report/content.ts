import {
  AGGREGATE_LABELS,
  FINAL_STATUS_INFO,
  NO_SUBJECT,
  PROGRESS_LABELS,
  isFinalStatus,
  type AggregateState,
  type Locale,
  type ProgressStatus,
} from '@faxnotify/contracts';
import { plainText, type Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { FaxRecord } from '../folder';
import type { TrackerDatabase } from '../schema';
import type { ReportContent } from './pdf';
import { REPORT_STRINGS } from './strings';

const PNG_SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');

/**
 * Keeps the picture of a fax's first page that fax.submitted carried, if it is the PNG it says it
 * is (signature, and the header's size the one given); anything else is logged and left out: the
 * report then says it has no picture, and the fax is recorded all the same.
 */
export async function saveFirstPage(
  db: Kysely<TrackerDatabase>,
  faxId: string,
  picture: { png: string; width: number; height: number },
  logger: Logger,
): Promise<void> {
  const png = Buffer.from(picture.png, 'base64');
  const isPng =
    png.length > 24 &&
    png.subarray(0, 8).equals(PNG_SIGNATURE) &&
    png.toString('latin1', 12, 16) === 'IHDR' &&
    png.readUInt32BE(16) === picture.width &&
    png.readUInt32BE(20) === picture.height;
  if (!isPng) {
    logger.warn({ faxId }, "fax.submitted's first page picture is not a PNG of the size it gives; the report goes without it");
    return;
  }
  await db
    .insertInto('fax_thumbnails')
    .values({ fax_id: faxId, png, width: picture.width, height: picture.height })
    .onConflict((oc) => oc.column('fax_id').doNothing())
    .execute();
}

/** The first page's picture stored for a fax, or null. */
export async function loadFirstPage(db: Kysely<TrackerDatabase>, faxId: string): Promise<ReportContent['firstPage']> {
  const row = await db.selectFrom('fax_thumbnails').select(['png', 'width', 'height']).where('fax_id', '=', faxId).executeTakeFirst();
  return row ? { png: Buffer.from(row.png), width: row.width, height: row.height } : null;
}

/** The report of a fax as the viewer reads it: their language, their time zone, the time it is made. */
export function reportContent(record: FaxRecord, firstPage: ReportContent['firstPage'], view: { locale: Locale; timeZone: string; now: Date }): ReportContent {
  const { locale, timeZone } = view;
  const t = REPORT_STRINGS[locale];
  const format = new Intl.DateTimeFormat(t.dateLocale, { dateStyle: 'short', timeStyle: 'medium', timeZone });
  const time = (iso: string | null | undefined) => (iso ? format.format(new Date(iso)) : t.dash);
  const { fax } = record;
  // Only the recipients the submission named are the fax's: events for others are kept, never reported.
  const listed = record.recipients.filter((r) => r.position !== null);
  let files: string[] = [];
  try {
    files = fax.files_json ? (JSON.parse(fax.files_json) as Array<{ name: string }>).map((f) => plainText(f.name, 120)) : [];
  } catch {
    files = [];
  }
  const subject = plainText(fax.subject, 300);
  const facts = [
    { label: t.faxId, value: fax.id },
    { label: t.subject, value: subject || NO_SUBJECT[locale] },
    ...(fax.from_number ? [{ label: t.from, value: fax.from_number }] : []),
    { label: t.submitted, value: time(fax.submitted_at) },
    { label: t.state, value: AGGREGATE_LABELS[locale][fax.state as AggregateState] ?? fax.state },
    { label: t.finished, value: `${listed.filter((r) => r.final === 1).length} / ${listed.length}` },
    { label: t.pages, value: fax.pages === null ? t.dash : String(fax.pages) },
    ...(files.length > 0 ? [{ label: t.files, value: files.join(', ') }] : []),
    { label: t.generated, value: time(view.now.toISOString()) },
  ];
  const rows = listed.map((r) => {
    const final = r.final === 1 && isFinalStatus(r.status);
    const text = final ? FINAL_STATUS_INFO[r.status as keyof typeof FINAL_STATUS_INFO].text[locale] : undefined;
    return {
      number: r.number,
      csid: plainText(r.remote_csid, 64) || t.dash,
      pages: `${r.pages_sent} / ${r.pages_total}`,
      started: time(r.started_at),
      ended: final ? time(r.ended_at) : t.dash,
      statusLabel: text?.label ?? PROGRESS_LABELS[locale][r.status as ProgressStatus] ?? plainText(r.status, 64),
      statusText: text?.description ?? '',
      attempts: String(r.attempts ?? (r.attempt > 0 ? r.attempt : t.dash)),
    };
  });
  return { locale, faxId: fax.id, facts, rows, firstPage, timesIn: t.timesIn.replace('{tz}', timeZone) };
}
