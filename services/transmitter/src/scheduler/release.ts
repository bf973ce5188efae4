/**
 * Outbox entries become faxes when their send time comes: the entry is claimed, its documents are
 * prepared (so the page count is known before anyone dials), a fax id is minted and fax.submitted
 * written (with a small picture of the first page, for the confirmation report), and its
 * recipients wait for a line — or, when the documents cannot be prepared, every recipient ends at
 * once with the preparation's failure.
 */
import { randomUUID } from 'node:crypto';
import type { FaxSubmitted } from '@faxnotify/contracts';
import type { Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { FaxRow, TransmitterDatabase } from '../db/schema';
import { appendEvent } from '../events';
import type { RecipientLedger } from '../ledger/recipient-ledger';
import { pageShare, queueShares } from '../resend';
import type { DocumentCache, Prepared } from './document-cache';
import { firstPagePicture } from './first-page';

export interface ReleaseOptions {
  db: Kysely<TransmitterDatabase>;
  ledger: RecipientLedger;
  documents: DocumentCache;
  logger: Logger;
  now: () => Date;
  /** True once the scheduler stops: an entry not yet submitted waits for the next start. */
  stopped: () => boolean;
  /** After a commit that wrote events, and when a fax has recipients to dial. */
  released: () => void;
}

export class EntryReleaser {
  constructor(private readonly options: ReleaseOptions) {}

  /** Releases every entry whose send time has come, oldest first. */
  async releaseDue(): Promise<void> {
    const { db, now, stopped } = this.options;
    while (!stopped()) {
      const nowIso = now().toISOString();
      const due = await db
        .selectFrom('faxes')
        .selectAll()
        .where('state', '=', 'waiting')
        .where((eb) => eb.or([eb('send_at', 'is', null), eb('send_at', '<=', nowIso)]))
        .orderBy('created_at')
        .limit(10)
        .execute();
      if (due.length === 0) return;
      for (const entry of due) {
        if (stopped()) return;
        await this.release(entry);
      }
    }
  }

  private async release(entry: FaxRow): Promise<void> {
    const { db, now, logger } = this.options;
    const claimed = await db
      .updateTable('faxes')
      .set({ state: 'preparing', updated_at: now().toISOString() })
      .where('outbox_id', '=', entry.outbox_id)
      .where('state', '=', 'waiting')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return; // changed or cancelled meanwhile
    const prepared = await this.options.documents.get(entry.outbox_id);
    if (this.options.stopped()) {
      // Not submitted yet: the next start prepares it again.
      await db.updateTable('faxes').set({ state: 'waiting' }).where('outbox_id', '=', entry.outbox_id).execute();
      return;
    }
    // A resend comes with the id the status tracker minted for it; any other entry gets one now.
    const faxId = entry.fax_id ?? `fax-${randomUUID()}`;
    // Drawn before the transaction, which then holds its locks no longer than the writes take.
    const firstPage = prepared.ok ? firstPagePicture(prepared.document) : undefined;
    await db.transaction().execute((trx) => this.submit(trx, entry.outbox_id, faxId, prepared, firstPage, now()));
    if (!prepared.ok) {
      this.options.documents.forget(entry.outbox_id);
      logger.warn({ faxId, status: prepared.status, detail: prepared.detail }, 'the fax documents could not be prepared');
    } else {
      logger.info({ faxId, outboxId: entry.outbox_id, pages: prepared.document.pages.length }, 'fax submitted');
    }
    this.options.released();
  }

  /** The entry becomes fax `faxId`: fax.submitted, then its recipients queued or ended. */
  private async submit(
    trx: Kysely<TransmitterDatabase>,
    outboxId: string,
    faxId: string,
    prepared: Prepared,
    firstPage: FaxSubmitted['firstPage'],
    now: Date,
  ): Promise<void> {
    const fax = await trx.selectFrom('faxes').selectAll().where('outbox_id', '=', outboxId).executeTakeFirstOrThrow();
    const files = await trx.selectFrom('fax_files').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute();
    const recipients = await trx.selectFrom('recipients').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute();
    const pages = prepared.ok ? prepared.document.pages.length : 0;
    const pagesOf = (position: number): number => (prepared.ok ? (prepared.pagesPerFile[position] ?? 0) : 0);
    await trx
      .updateTable('faxes')
      .set({ fax_id: faxId, state: prepared.ok ? 'sending' : 'done', pages, submitted_at: now.toISOString(), updated_at: now.toISOString() })
      .where('outbox_id', '=', outboxId)
      .execute();
    for (const file of files)
      await trx
        .updateTable('fax_files')
        .set({ pages: prepared.ok ? pagesOf(file.position) : null })
        .where('outbox_id', '=', file.outbox_id)
        .where('position', '=', file.position)
        .execute();
    await appendEvent(
      trx,
      'fax.submitted',
      {
        faxId,
        outboxId: fax.outbox_id,
        ownerId: fax.owner_id,
        ...(fax.from_number ? { from: fax.from_number } : {}),
        subject: fax.subject,
        recipients: recipients.map((r) => {
          const share = prepared.ok ? pageShare(r, pages) : undefined;
          return { recipientId: r.recipient_id, number: r.number, ...(share ? { pages: share } : {}) };
        }),
        ...(fax.resend_of ? { resendOf: fax.resend_of } : {}),
        files: files.map((f) => ({ name: f.name, pages: pagesOf(f.position) })),
        pages,
        submittedAt: now.toISOString(),
        ...(fax.send_at ? { sendAt: fax.send_at } : {}),
        retry: { count: fax.retry_count, delayMinutes: fax.retry_delay_minutes },
        ...(firstPage ? { firstPage } : {}),
      },
      { faxId, time: now },
    );
    if (prepared.ok) await this.options.ledger.queueAll(trx, outboxId, pages, now);
    else for (const recipient of recipients) await this.options.ledger.endWithoutCall(trx, faxId, recipient, prepared, now);
    // Recipients given only some pages (a resend's missing pages) have that many to send.
    if (prepared.ok && recipients.some((r) => r.page_first !== null)) await queueShares(trx, recipients, pages);
  }
}
