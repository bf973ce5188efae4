/**
 * Resends to the failed, the transmitter's part. The status tracker decides who failed and orders a
 * new fax (fax.resend.ordered, with the new fax's id): the order becomes an outbox entry with that
 * fax id, the original fax's files, sender number, subject and settings, and exactly the numbers
 * given, each with the pages it is to get. It is then released like any entry; fax.submitted names
 * the fax it resends. Files past files.keepDays are gone: the new fax's documents cannot be
 * prepared and every recipient ends failed, saying the file is no longer stored.
 */
import { randomUUID } from 'node:crypto';
import type { FaxDocument } from '@faxnotify/fax-line';
import type { FaxResendOrdered } from '@faxnotify/contracts';
import { PermanentError } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { RecipientRow, TransmitterDatabase } from './db/schema';
import type { RecipientLedger } from './ledger/recipient-ledger';

export type PageShare = { first: number; last: number };

/**
 * Writes the order as an outbox entry, in one transaction. The same order again (a redelivery)
 * finds its fax id taken and changes nothing; false then.
 */
export async function enterResend(db: Kysely<TransmitterDatabase>, ledger: RecipientLedger, order: FaxResendOrdered, now: Date): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('faxes').select(['owner_id', 'resend_of']).where('fax_id', '=', order.faxId).executeTakeFirst();
    if (existing) {
      if (existing.owner_id !== order.ownerId || existing.resend_of !== order.resendOf)
        throw new PermanentError(`fax ${order.faxId} already exists and is not this resend of ${order.resendOf}`);
      return false;
    }
    const original = await trx.selectFrom('faxes').selectAll().where('fax_id', '=', order.resendOf).executeTakeFirst();
    if (!original) throw new PermanentError(`fax ${order.resendOf} was not sent by this transmitter: its documents are not here to resend`);
    if (original.owner_id !== order.ownerId) throw new PermanentError(`fax ${order.resendOf} belongs to another owner than the resend names`);
    const outboxId = `outbox-${randomUUID()}`;
    const at = now.toISOString();
    // Everything the original asked for carries over (sender number, subject, retry policy, cover page…); it is sent now.
    const {
      outbox_id: _outbox,
      fax_id: _fax,
      state: _state,
      pages: _pages,
      submitted_at: _submitted,
      created_at: _created,
      updated_at: _updated,
      ...asked
    } = original;
    await trx
      .insertInto('faxes')
      .values({
        ...asked,
        outbox_id: outboxId,
        fax_id: order.faxId,
        resend_of: order.resendOf,
        send_at: null,
        state: 'waiting',
        pages: null,
        submitted_at: null,
        created_at: at,
        updated_at: at,
      })
      .execute();
    // The same stored files (kept as long as a fax that is not done uses them); one that retention deleted fails the preparation.
    const files = await trx.selectFrom('fax_files').selectAll().where('outbox_id', '=', original.outbox_id).orderBy('position').execute();
    if (files.length > 0)
      await trx
        .insertInto('fax_files')
        .values(files.map((file) => ({ ...file, outbox_id: outboxId, pages: null })))
        .execute();
    const numbers = order.recipients.map((r) => r.number);
    if (new Set(numbers).size !== numbers.length) throw new PermanentError(`the resend of ${order.resendOf} names a number twice`);
    await ledger.replaceRecipients(trx, outboxId, numbers, now);
    for (const [position, recipient] of order.recipients.entries()) {
      if (!recipient.pages) continue;
      if (recipient.pages.last < recipient.pages.first) throw new PermanentError(`the resend of ${order.resendOf} gives ${recipient.number} no pages`);
      await trx
        .updateTable('recipients')
        .set({ page_first: recipient.pages.first, page_last: recipient.pages.last })
        .where('outbox_id', '=', outboxId)
        .where('position', '=', position)
        .execute();
    }
    return true;
  });
}

/**
 * The pages a recipient gets out of a document of `pages` pages: its share when it has one that
 * fits, else none (all pages). A share reaching past the end is cut to it; one starting after the
 * end means the documents changed, and the recipient gets them whole rather than nothing.
 */
export function pageShare(recipient: Pick<RecipientRow, 'page_first' | 'page_last'>, pages: number): PageShare | undefined {
  if (recipient.page_first === null || recipient.page_last === null) return undefined;
  if (recipient.page_first > pages) return undefined;
  const share = { first: recipient.page_first, last: Math.min(recipient.page_last, pages) };
  return share.first === 1 && share.last === pages ? undefined : share;
}

/** The pages of the document a recipient's call sends. */
export function documentFor(document: FaxDocument, recipient: Pick<RecipientRow, 'page_first' | 'page_last'>): FaxDocument {
  const share = pageShare(recipient, document.pages.length);
  return share ? { ...document, pages: document.pages.slice(share.first - 1, share.last) } : document;
}

/** After the recipients of a released fax were queued with all its pages: those with a share have that many to send. */
export async function queueShares(trx: Kysely<TransmitterDatabase>, recipients: readonly RecipientRow[], pages: number): Promise<void> {
  for (const recipient of recipients) {
    const share = pageShare(recipient, pages);
    await trx
      .updateTable('recipients')
      .set(
        share
          ? { pages_total: share.last - share.first + 1, page_first: share.first, page_last: share.last }
          : { pages_total: pages, page_first: null, page_last: null },
      )
      .where('outbox_id', '=', recipient.outbox_id)
      .where('position', '=', recipient.position)
      .where('state', '=', 'queued')
      .execute();
  }
}
