/**
 * File retention: uploaded documents are deleted once nothing needs them. An upload no outbox
 * entry refers to goes `unusedDays` after it was uploaded; a file whose every entry is done goes
 * `keepDays` after the last of those entries ended. A file that an entry not yet done uses is never
 * touched. The sweep runs at start and then every few minutes; what it cannot delete (a disk error)
 * stays as it is and is tried again on the next sweep.
 */
import { unlink } from 'node:fs/promises';
import { CoalescedPasses, errorMessage, type Logger } from '@faxnotify/kit';
import type { ExpressionBuilder, Kysely } from 'kysely';
import { Counter } from 'prom-client';
import type { TransmitterDatabase } from './db/schema';

const metrics = {
  deleted: new Counter({
    name: 'faxnotify_transmitter_files_deleted_total',
    help: 'Uploaded documents deleted by retention, by reason: unused (no fax referred to it) or done (every fax using it was done).',
    labelNames: ['reason'],
  }),
};

const DAY_MS = 24 * 3600_000;
const DEFAULT_INTERVAL_MS = 5 * 60_000;
const BATCH = 200;

export interface FileRetentionOptions {
  db: Kysely<TransmitterDatabase>;
  /** Days a file is kept after every entry that uses it is done. */
  keepDays: number;
  /** Days an uploaded file that no entry refers to is kept. */
  unusedDays: number;
  logger: Logger;
  intervalMs?: number;
  now?: () => Date;
}

/** What one sweep did. */
export interface SweepOutcome {
  /** Files whose row was removed, whether or not they were still on disk. */
  files: number;
  /** Bytes freed on disk. */
  bytes: number;
  /** Rows removed whose file was already gone from disk. */
  missing: number;
  /** Files left for the next sweep after a disk or database error. */
  failed: number;
}

/** The times before which a file counts as expired, as ISO text like every stored time. */
interface Cutoffs {
  doneBefore: string;
  uploadedBefore: string;
}

/**
 * Whether a `files` row may go: no entry that still needs it (not done, or done within keepDays),
 * and either some entry used it (all of them done long enough ago) or it is an old unused upload.
 * Checked again in the DELETE itself, so an entry submitted meanwhile keeps its file.
 */
function expired(eb: ExpressionBuilder<TransmitterDatabase, 'files'>, cutoffs: Cutoffs) {
  const uses = eb.selectFrom('fax_files').select('fax_files.file_id').whereRef('fax_files.file_id', '=', 'files.id');
  const needed = eb
    .selectFrom('fax_files')
    .innerJoin('faxes', 'faxes.outbox_id', 'fax_files.outbox_id')
    .select('fax_files.file_id')
    .whereRef('fax_files.file_id', '=', 'files.id')
    .where((w) => w.or([w('faxes.state', '!=', 'done'), w('faxes.updated_at', '>=', cutoffs.doneBefore)]));
  return eb.and([eb.not(eb.exists(needed)), eb.or([eb.exists(uses), eb('files.created_at', '<', cutoffs.uploadedBefore)])]);
}

export class FileRetention {
  private readonly now: () => Date;
  /** One sweep at a time, at start and then every interval. */
  private readonly passes: CoalescedPasses;

  constructor(private readonly options: FileRetentionOptions) {
    this.now = options.now ?? (() => new Date());
    this.passes = new CoalescedPasses({
      pass: async () => {
        await this.sweep();
      },
      onError: (error) => options.logger.error({ err: errorMessage(error) }, 'file retention sweep failed; trying again on the next sweep'),
      pollMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
    });
  }

  /** Sweeps now and then every interval. */
  start(): void {
    this.passes.start();
  }

  /** Stops sweeping and waits for a running sweep to end (it stops between files). */
  stop(): Promise<void> {
    return this.passes.stop();
  }

  /** Deletes every expired file, its row and its bytes on disk, and logs what was freed. */
  async sweep(): Promise<SweepOutcome> {
    const now = this.now().getTime();
    const cutoffs: Cutoffs = {
      doneBefore: new Date(now - this.options.keepDays * DAY_MS).toISOString(),
      uploadedBefore: new Date(now - this.options.unusedDays * DAY_MS).toISOString(),
    };
    const outcome: SweepOutcome = { files: 0, bytes: 0, missing: 0, failed: 0 };
    let after = '';
    for (;;) {
      const batch = await this.options.db
        .selectFrom('files')
        .select(['id', 'stored_path', 'bytes'])
        .select((eb) => eb.exists(eb.selectFrom('fax_files').select('fax_files.file_id').whereRef('fax_files.file_id', '=', 'files.id')).as('used'))
        .where('id', '>', after)
        .where((eb) => expired(eb, cutoffs))
        .orderBy('id')
        .limit(BATCH)
        .execute();
      for (const file of batch) {
        if (this.passes.stopped) break;
        const result = await this.remove(file, cutoffs);
        if (result === 'kept') continue;
        if (result === 'failed') {
          outcome.failed += 1;
          continue;
        }
        outcome.files += 1;
        if (result === 'missing') outcome.missing += 1;
        else outcome.bytes += file.bytes;
        metrics.deleted.inc({ reason: Number(file.used) ? 'done' : 'unused' });
      }
      if (batch.length < BATCH || this.passes.stopped) break;
      after = batch[batch.length - 1].id;
    }
    if (outcome.files > 0 || outcome.failed > 0)
      this.options.logger.info(
        { files: outcome.files, bytes: outcome.bytes, missing: outcome.missing, failed: outcome.failed },
        `retention deleted ${outcome.files} stored file(s), ${outcome.bytes} bytes freed`,
      );
    return outcome;
  }

  /**
   * Removes one file's row and then the file, in one transaction: a disk error rolls the row back
   * so the next sweep tries again; a file already gone from disk only loses its row.
   */
  private async remove(file: { id: string; stored_path: string }, cutoffs: Cutoffs): Promise<'deleted' | 'missing' | 'kept' | 'failed'> {
    try {
      return await this.options.db.transaction().execute(async (trx) => {
        const { numDeletedRows } = await trx
          .deleteFrom('files')
          .where('id', '=', file.id)
          .where((eb) => expired(eb, cutoffs))
          .executeTakeFirst();
        if (Number(numDeletedRows) === 0) return 'kept';
        try {
          await unlink(file.stored_path);
          return 'deleted';
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
          throw error;
        }
      });
    } catch (error) {
      this.options.logger.warn(
        { file: file.id, path: file.stored_path, err: errorMessage(error) },
        'could not delete a stored file; trying again on the next sweep',
      );
      return 'failed';
    }
  }
}
