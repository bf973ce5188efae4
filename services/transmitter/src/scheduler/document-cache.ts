/**
 * A fax's pages, prepared once: the files of its outbox entry converted in order, the first failure
 * deciding for all. Kept while any recipient of the fax may still be dialled, so a redial or a
 * second line does not convert the documents again.
 */
import type { FaxDocument, FaxPage } from '@faxnotify/fax-line';
import { errorMessage } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { TransmitterDatabase } from '../db/schema';
import { composeFax, prepareDocument, type ComposeOptions, type PreparationFailureStatus } from '../documents';
import type { CoverPageSetting } from '../outbox';

/** What a document preparation gave: the pages with their count per file, or the failure. */
export type Prepared = { ok: true; document: FaxDocument; pagesPerFile: number[] } | { ok: false; status: PreparationFailureStatus; detail: string };

export type PreparationFailure = Extract<Prepared, { ok: false }>;

/** Prepares an outbox entry's documents. */
export type Preparer = (outboxId: string) => Promise<Prepared>;

interface Slot {
  promise: Promise<Prepared>;
  value?: Prepared;
}

export class DocumentCache {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly prepare: Preparer) {}

  /** The fax's pages, prepared now or earlier. */
  get(outboxId: string): Promise<Prepared> {
    let slot = this.slots.get(outboxId);
    if (!slot) {
      const fresh: Slot = { promise: this.prepare(outboxId) };
      fresh.promise = fresh.promise.then((value) => (fresh.value = value));
      this.slots.set(outboxId, fresh);
      slot = fresh;
    }
    return slot.promise;
  }

  /** What is known without waiting: absent (never asked), preparing, or the result. */
  peek(outboxId: string): { state: 'absent' } | { state: 'preparing' } | { state: 'ready'; prepared: Prepared } {
    const slot = this.slots.get(outboxId);
    if (!slot) return { state: 'absent' };
    return slot.value ? { state: 'ready', prepared: slot.value } : { state: 'preparing' };
  }

  /** Nobody will dial the fax again (or its documents failed): its pages go. */
  forget(outboxId: string): void {
    this.slots.delete(outboxId);
  }
}

/** The header line printed at the top of every page (off when absent); `localId` stands in for a fax without a `from`. */
export interface PageHeaderSetting {
  format: string;
  locale: string;
  timeZone: string;
  localId: string;
}

/**
 * Prepares the files of an outbox entry from the database and the file store: the cover page first
 * when the entry asks for one (from, to, subject, comment, pages with itself, the date in its locale
 * and time zone), then the header line on every page when it is on.
 */
export function storedDocuments(
  db: Kysely<TransmitterDatabase>,
  storedPath: (fileId: string) => Promise<string | null>,
  headerLine?: PageHeaderSetting,
  now: () => Date = () => new Date(),
): Preparer {
  return async (outboxId) => {
    try {
      const files = await db.selectFrom('fax_files').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute();
      if (files.length === 0) return { ok: false, status: 'failed_image_preparation', detail: 'the fax has no files' };
      const pages: FaxPage[] = [];
      const pagesPerFile: number[] = [];
      for (const [index, file] of files.entries()) {
        const which = `file ${index + 1} of ${files.length} (${file.name})`;
        const path = await storedPath(file.file_id);
        if (!path) return { ok: false, status: 'failed_internal_process_error', detail: `${which} is no longer stored` };
        const result = await prepareDocument(path);
        if (!result.ok) return { ok: false, status: result.status, detail: `${which}: ${result.detail}` };
        pages.push(...result.document.pages);
        pagesPerFile.push(result.document.pages.length);
      }
      const fax = await db
        .selectFrom('faxes')
        .select(['from_number', 'subject', 'cover_page', 'submitted_at'])
        .where('outbox_id', '=', outboxId)
        .executeTakeFirst();
      if (!fax?.cover_page && !headerLine) return { ok: true, document: { pages }, pagesPerFile };
      const compose: ComposeOptions = {};
      if (fax?.cover_page) {
        const cover = JSON.parse(fax.cover_page) as CoverPageSetting;
        const recipients = await db.selectFrom('recipients').select('number').where('outbox_id', '=', outboxId).orderBy('position').execute();
        const numbers = recipients.map((r) => r.number).join(', ');
        const sender = fax.from_number ?? headerLine?.localId ?? '';
        compose.cover = {
          request: {
            from: cover.fromName ? `${cover.fromName}${sender ? ` (${sender})` : ''}` : sender,
            to: cover.toName ? `${cover.toName} (${numbers})` : numbers,
            subject: cover.subject ?? fax.subject.split('\n')[0],
            comment: fax.subject,
          },
          locale: cover.locale,
          timeZone: cover.timeZone,
          // Prepared again later (after a restart, or for the fax's file), the cover keeps the date it was sent with.
          date: fax.submitted_at ? new Date(fax.submitted_at) : now(),
        };
      }
      if (headerLine)
        compose.headerLine = { ...headerLine, from: fax?.from_number ?? headerLine.localId, date: fax?.submitted_at ? new Date(fax.submitted_at) : now() };
      return { ok: true, document: { pages: await composeFax(pages, compose) }, pagesPerFile };
    } catch (error) {
      return { ok: false, status: 'failed_internal_process_error', detail: `document preparation failed: ${errorMessage(error)}` };
    }
  };
}
