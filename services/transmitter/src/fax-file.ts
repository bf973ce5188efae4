/**
 * A sent fax's file by its fax id (Fax.Plus: "this fax id can be used to retrieve the fax file"):
 * the pages as they went on the line — cover page and header line included — made again from the
 * kept files through the conversion pool, as a PDF whose images are the G3 pages themselves or as
 * a G3 TIFF. Once retention deleted the files (files.keepDays after the fax was done) there is
 * nothing left to make it from.
 */
import { pagesToG3Tiff, pagesToPdf } from '@faxnotify/fax-line';
import type { Kysely } from 'kysely';
import type { TransmitterDatabase } from './db/schema';
import type { Preparer } from './scheduler/document-cache';

export type FaxFileFormat = 'pdf' | 'tiff';

export type FaxFileOutcome =
  { ok: true; body: Buffer; contentType: string; fileName: string } | { ok: false; statusCode: 404 | 409 | 410; error: string; description: string };

export interface FaxFileOptions {
  db: Kysely<TransmitterDatabase>;
  /** Where an uploaded file is on disk, null once deleted. */
  storedPath: (fileId: string) => Promise<string | null>;
  /** Makes an outbox entry's pages as they are sent (the scheduler's own preparation). */
  prepare: Preparer;
  keepDays: number;
}

export async function faxFile(options: FaxFileOptions, ownerId: string, faxId: string, format: FaxFileFormat): Promise<FaxFileOutcome> {
  const { db } = options;
  const fax = await db.selectFrom('faxes').select(['outbox_id', 'pages']).where('fax_id', '=', faxId).where('owner_id', '=', ownerId).executeTakeFirst();
  if (!fax) return { ok: false, statusCode: 404, error: 'not_found', description: 'no such fax' };
  const files = await db.selectFrom('fax_files').select(['file_id', 'name']).where('outbox_id', '=', fax.outbox_id).orderBy('position').execute();
  for (const file of files) {
    if ((await options.storedPath(file.file_id)) === null) {
      const days = `${options.keepDays} day${options.keepDays === 1 ? '' : 's'}`;
      return {
        ok: false,
        statusCode: 410,
        error: 'file_deleted',
        description: `the fax's documents were deleted (files of done faxes are kept ${days}, files.keepDays): its pages can no longer be made`,
      };
    }
  }
  if (!fax.pages) {
    return {
      ok: false,
      statusCode: 409,
      error: 'no_pages',
      description: 'the fax has no pages: its documents could not be prepared (see its recipients’ status)',
    };
  }
  const prepared = await options.prepare(fax.outbox_id);
  if (!prepared.ok) return { ok: false, statusCode: 409, error: prepared.status, description: `the fax's pages could not be made again: ${prepared.detail}` };
  const pages = prepared.document.pages;
  return format === 'pdf'
    ? { ok: true, body: pagesToPdf(pages, `Fax ${faxId}`), contentType: 'application/pdf', fileName: `${faxId}.pdf` }
    : { ok: true, body: pagesToG3Tiff(pages), contentType: 'image/tiff', fileName: `${faxId}.tif` };
}
