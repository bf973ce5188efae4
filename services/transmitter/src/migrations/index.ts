import type { Dialect, Migration } from '@faxnotify/kit';
import { ataMigrations } from '../ata/migrations';
import { jobsMigration } from './2026-11-22-01-jobs';

/**
 * The job tables' migrations. Names sort by date so that other modules' migrations (the ATA
 * lines', say) merge into one ordered record beside them.
 */
export const jobMigrations = (dialect: Dialect): Record<string, Migration> => ({
  '2026-11-22-01-jobs': jobsMigration(dialect),
});

/** Every migration the transmitter runs at start-up, in order of their names. */
export const transmitterMigrations = (dialect: Dialect): Record<string, Migration> => ({
  ...jobMigrations(dialect),
  ...ataMigrations(dialect),
});
