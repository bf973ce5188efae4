/**
 * Outbox entries and faxes as the API sees them: created, listed, changed and cancelled while
 * they wait for their send time, and followed per recipient once sent. Every query is scoped to
 * the owner: someone else's entry is simply not found.
 */
import { randomUUID } from 'node:crypto';
import { aggregateState, isFinalStatus, type AggregateState, type FinalStatus, type ProgressStatus } from '@faxnotify/contracts';
import type { Kysely } from 'kysely';
import type { AttemptRow, FaxFileRow, FaxRow, RecipientRow, TransmitterDatabase } from './db/schema';
import type { RecipientLedger } from './ledger/recipient-ledger';

/**
 * The cover page a submission asks for: names shown beside the numbers, a subject line (else the
 * comment's first line), and the language and time zone of its date (the body's, else the token's
 * claims, else en and UTC), fixed when the entry is written.
 */
export interface CoverPageSetting {
  toName?: string;
  fromName?: string;
  subject?: string;
  locale: string;
  timeZone: string;
}

/** A validated submission: numbers in E.164, files the owner uploaded. */
export interface EntryInput {
  from: string | null;
  to: string[];
  files: Array<{ fileId: string; path: string; name: string; bytes: number }>;
  subject: string;
  sendAt: Date | null;
  retry: { count: number; delayMinutes: number };
  /** The cover page; none when null or absent. */
  cover?: CoverPageSetting | null;
}

/** The cover page as the API shows it (Fax.Plus-style field names). */
export interface CoverPageView {
  enabled: boolean;
  to_name?: string;
  from_name?: string;
  subject?: string;
  locale?: string;
  time_zone?: string;
}

const coverPageView = (stored: string | null): CoverPageView => {
  if (!stored) return { enabled: false };
  const cover = JSON.parse(stored) as CoverPageSetting;
  return {
    enabled: true,
    ...(cover.toName !== undefined ? { to_name: cover.toName } : {}),
    ...(cover.fromName !== undefined ? { from_name: cover.fromName } : {}),
    ...(cover.subject !== undefined ? { subject: cover.subject } : {}),
    locale: cover.locale,
    time_zone: cover.timeZone,
  };
};

/** An outbox entry in the API's words (Fax.Plus field names). */
export interface OutboxEntryView {
  id: string;
  uid: string;
  src: string | null;
  to: string[];
  files: string[];
  comment: { text: string };
  cover_page: CoverPageView;
  /** scheduled: waiting for its send time; preparing: documents being converted; submitted: the fax is under way (see fax_id). */
  status: 'scheduled' | 'preparing' | 'submitted';
  submit_time: string;
  send_time: string | null;
  retry: { count: number; delay: number };
  page_count: number | null;
  fax_id: string | null;
  last_updated_status_time: string;
}

export interface AttemptView {
  attempt: number;
  line: string | null;
  status: string;
  reason: { code: string; detail: string };
  pages_sent: number;
  pages_total: number;
  remote_csid: string | null;
  started_at: string | null;
  connected_at: string | null;
  ended_at: string;
}

export interface RecipientView {
  recipient_id: string;
  to: string;
  status: FinalStatus | ProgressStatus;
  final: boolean;
  /** The attempt under way or last made (0 before the first dial). */
  attempt: number;
  max_attempts: number;
  page: { n: number; of: number };
  remote_csid: string | null;
  remote_csid_raw: string | null;
  reason: { code: string; detail: string } | null;
  retry_at: string | null;
  line: string | null;
  started_at: string | null;
  ended_at: string | null;
  attempts: AttemptView[];
}

export interface FaxView {
  id: string;
  outbox_id: string;
  uid: string;
  src: string | null;
  comment: { text: string };
  cover_page: CoverPageView;
  submit_time: string | null;
  send_time: string | null;
  page_count: number;
  files: Array<{ path: string; name: string; pages: number | null }>;
  retry: { count: number; delay: number };
  /** in_progress while any recipient is not final; then delivered, failed or partial. */
  status: AggregateState;
  recipients: RecipientView[];
}

export type ChangeResult<T> = { ok: true; value: T } | { ok: false; error: 'not_found' | 'already_sent' };

const newOutboxId = (): string => `outbox-${randomUUID()}`;

/** An entry named an uploaded file that retention deleted after the request was checked. */
export class FileGoneError extends Error {
  constructor(readonly path: string) {
    super(`the uploaded file ${path} is no longer stored`);
  }
}

export class Outbox {
  constructor(
    private readonly db: Kysely<TransmitterDatabase>,
    private readonly ledger: RecipientLedger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async createEntry(ownerId: string, input: EntryInput): Promise<string> {
    const outboxId = newOutboxId();
    const now = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('faxes')
        .values({
          outbox_id: outboxId,
          fax_id: null,
          owner_id: ownerId,
          from_number: input.from,
          subject: input.subject,
          send_at: input.sendAt?.toISOString() ?? null,
          retry_count: input.retry.count,
          retry_delay_minutes: input.retry.delayMinutes,
          state: 'waiting',
          pages: null,
          submitted_at: null,
          created_at: now,
          updated_at: now,
          cover_page: input.cover ? JSON.stringify(input.cover) : null,
        })
        .execute();
      await this.writeParts(trx, outboxId, input, now);
    });
    return outboxId;
  }

  private async writeParts(trx: Kysely<TransmitterDatabase>, outboxId: string, input: Pick<EntryInput, 'files' | 'to'>, now: string): Promise<void> {
    await trx.deleteFrom('fax_files').where('outbox_id', '=', outboxId).execute();
    if (input.files.length > 0) {
      // The files were looked up before this transaction; retention may have deleted one since.
      const stored = new Set(
        (
          await trx
            .selectFrom('files')
            .select('id')
            .where(
              'id',
              'in',
              input.files.map((file) => file.fileId),
            )
            .execute()
        ).map((row) => row.id),
      );
      const gone = input.files.find((file) => !stored.has(file.fileId));
      if (gone) throw new FileGoneError(gone.path);
    }
    if (input.files.length > 0)
      await trx
        .insertInto('fax_files')
        .values(
          input.files.map((file, position) => ({
            outbox_id: outboxId,
            position,
            file_id: file.fileId,
            path: file.path,
            name: file.name,
            bytes: file.bytes,
            pages: null,
          })),
        )
        .execute();
    await this.ledger.replaceRecipients(trx, outboxId, input.to, new Date(now));
  }

  /** Entries not sent yet, oldest first. */
  async listEntries(ownerId: string): Promise<OutboxEntryView[]> {
    const rows = await this.db
      .selectFrom('faxes')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .where('state', 'in', ['waiting', 'preparing'])
      .orderBy('created_at')
      .orderBy('outbox_id')
      .execute();
    return Promise.all(rows.map((row) => this.entryView(row)));
  }

  async getEntry(ownerId: string, outboxId: string): Promise<OutboxEntryView | null> {
    const row = await this.db.selectFrom('faxes').selectAll().where('outbox_id', '=', outboxId).where('owner_id', '=', ownerId).executeTakeFirst();
    return row ? this.entryView(row) : null;
  }

  /** Replaces what `changes` names, while the entry still waits for its send time. */
  async updateEntry(ownerId: string, outboxId: string, changes: Partial<EntryInput>): Promise<ChangeResult<OutboxEntryView>> {
    const outcome = await this.db.transaction().execute(async (trx) => {
      const now = this.now().toISOString();
      const set: Partial<FaxRow> = { updated_at: now };
      if (changes.from !== undefined) set.from_number = changes.from;
      if (changes.subject !== undefined) set.subject = changes.subject;
      if (changes.cover !== undefined) set.cover_page = changes.cover ? JSON.stringify(changes.cover) : null;
      if (changes.sendAt !== undefined) set.send_at = changes.sendAt?.toISOString() ?? null;
      if (changes.retry !== undefined) {
        set.retry_count = changes.retry.count;
        set.retry_delay_minutes = changes.retry.delayMinutes;
      }
      // Conditional on the state: the scheduler claims an entry the same way, so one of the two wins.
      const updated = await trx
        .updateTable('faxes')
        .set(set)
        .where('outbox_id', '=', outboxId)
        .where('owner_id', '=', ownerId)
        .where('state', '=', 'waiting')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return this.whyUnchangeable(trx, ownerId, outboxId);
      if (changes.files !== undefined || changes.to !== undefined) {
        const current = await this.parts(trx, outboxId);
        await this.writeParts(
          trx,
          outboxId,
          {
            files: changes.files ?? current.files.map((f) => ({ fileId: f.file_id, path: f.path, name: f.name, bytes: f.bytes })),
            to: changes.to ?? current.recipients.map((r) => r.number),
          },
          now,
        );
      }
      return { ok: true as const, value: null };
    });
    if (!outcome.ok) return outcome;
    return { ok: true, value: (await this.getEntry(ownerId, outboxId))! };
  }

  /** Deletes an entry that has not been sent. */
  async cancelEntry(ownerId: string, outboxId: string): Promise<ChangeResult<null>> {
    return this.db.transaction().execute(async (trx) => {
      const deleted = await trx
        .deleteFrom('faxes')
        .where('outbox_id', '=', outboxId)
        .where('owner_id', '=', ownerId)
        .where('state', '=', 'waiting')
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return this.whyUnchangeable(trx, ownerId, outboxId);
      // Also without foreign-key enforcement (SQLite's is per connection), nothing of it stays behind.
      await trx.deleteFrom('fax_files').where('outbox_id', '=', outboxId).execute();
      await this.ledger.replaceRecipients(trx, outboxId, [], this.now());
      return { ok: true as const, value: null };
    });
  }

  private async whyUnchangeable(
    trx: Kysely<TransmitterDatabase>,
    ownerId: string,
    outboxId: string,
  ): Promise<{ ok: false; error: 'not_found' | 'already_sent' }> {
    const row = await trx.selectFrom('faxes').select('state').where('outbox_id', '=', outboxId).where('owner_id', '=', ownerId).executeTakeFirst();
    return { ok: false, error: row ? 'already_sent' : 'not_found' };
  }

  async getFax(ownerId: string, faxId: string): Promise<FaxView | null> {
    const fax = await this.db.selectFrom('faxes').selectAll().where('fax_id', '=', faxId).where('owner_id', '=', ownerId).executeTakeFirst();
    if (!fax) return null;
    const { files, recipients } = await this.parts(this.db, fax.outbox_id);
    const attempts = await this.db.selectFrom('attempts').selectAll().where('outbox_id', '=', fax.outbox_id).orderBy('position').orderBy('attempt').execute();
    const recipientViews = recipients.map((r) =>
      recipientView(
        r,
        fax,
        attempts.filter((a) => a.position === r.position),
      ),
    );
    return {
      id: faxId,
      outbox_id: fax.outbox_id,
      uid: fax.owner_id,
      src: fax.from_number,
      comment: { text: fax.subject },
      cover_page: coverPageView(fax.cover_page),
      submit_time: fax.submitted_at,
      send_time: fax.send_at,
      page_count: fax.pages ?? 0,
      files: files.map((f) => ({ path: f.path, name: f.name, pages: f.pages })),
      retry: { count: fax.retry_count, delay: fax.retry_delay_minutes },
      status: aggregateState(recipientViews.map((r) => ({ status: r.status, pagesSent: r.page.n, pagesTotal: r.page.of }))),
      recipients: recipientViews,
    };
  }

  private async parts(db: Kysely<TransmitterDatabase>, outboxId: string): Promise<{ files: FaxFileRow[]; recipients: RecipientRow[] }> {
    const [files, recipients] = await Promise.all([
      db.selectFrom('fax_files').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute(),
      db.selectFrom('recipients').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute(),
    ]);
    return { files, recipients };
  }

  private async entryView(row: FaxRow): Promise<OutboxEntryView> {
    const { files, recipients } = await this.parts(this.db, row.outbox_id);
    return {
      id: row.outbox_id,
      uid: row.owner_id,
      src: row.from_number,
      to: recipients.map((r) => r.number),
      files: files.map((f) => f.path),
      comment: { text: row.subject },
      cover_page: coverPageView(row.cover_page),
      status: row.state === 'waiting' ? 'scheduled' : row.state === 'preparing' ? 'preparing' : 'submitted',
      submit_time: row.created_at,
      send_time: row.send_at,
      retry: { count: row.retry_count, delay: row.retry_delay_minutes },
      page_count: row.pages,
      fax_id: row.fax_id,
      last_updated_status_time: row.updated_at,
    };
  }
}

function recipientView(r: RecipientRow, fax: FaxRow, attempts: AttemptRow[]): RecipientView {
  const final = r.state === 'final';
  const status = (isFinalStatus(r.status) || !final ? r.status : 'failed') as FinalStatus | ProgressStatus;
  return {
    recipient_id: r.recipient_id,
    to: r.number,
    status,
    final,
    attempt: r.attempt,
    max_attempts: 1 + fax.retry_count,
    page: { n: r.pages_confirmed, of: r.pages_total },
    remote_csid: r.remote_csid,
    remote_csid_raw: r.remote_csid_raw,
    reason: r.reason_code ? { code: r.reason_code, detail: r.reason_detail ?? '' } : null,
    retry_at: r.state === 'queued' && r.status === 'retry_scheduled' ? r.next_attempt_at : null,
    line: r.line_id,
    started_at: r.connected_at,
    ended_at: r.ended_at,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      line: a.line_id,
      status: a.status,
      reason: { code: a.reason_code, detail: a.reason_detail },
      pages_sent: a.pages_confirmed,
      pages_total: a.pages_total,
      remote_csid: a.remote_csid,
      started_at: a.started_at,
      connected_at: a.connected_at,
      ended_at: a.ended_at,
    })),
  };
}
