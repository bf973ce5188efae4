import { CoalescedPasses, errorMessage, type Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { TrackerDatabase } from '../schema';
import { pruneReceived } from './store';

export { recordReceived, type InboxOptions } from './store';
export { registerInboxApi } from './api';
export { receivedPdf, receivedTiff, pagePng } from './documents';

const HOUR_MS = 3_600_000;

/** Deletes received faxes older than inbox.retentionDays: at start, then every hour. */
export class InboxRetention {
  private readonly passes: CoalescedPasses;

  constructor(options: { db: Kysely<TrackerDatabase>; retentionDays: number; logger: Logger; pollMs?: number; now?: () => Date }) {
    const now = options.now ?? (() => new Date());
    this.passes = new CoalescedPasses({
      pass: async () => {
        const deleted = await pruneReceived(options.db, new Date(now().getTime() - options.retentionDays * 86_400_000));
        if (deleted > 0) options.logger.info({ deleted, retentionDays: options.retentionDays }, 'old received faxes deleted');
      },
      onError: (error) => options.logger.warn({ err: errorMessage(error) }, 'received fax retention pass failed'),
      pollMs: options.pollMs ?? HOUR_MS,
    });
  }

  start(): void {
    this.passes.start();
  }

  kick(): void {
    this.passes.kick();
  }

  stop(): Promise<void> {
    return this.passes.stop();
  }
}
