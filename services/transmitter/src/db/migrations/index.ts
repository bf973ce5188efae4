import type { Dialect, Migration } from '@faxnotify/kit';
import { outboxMigration } from './2026-11-22-01-jobs';
import { ataRadiusMigration } from './2026-11-22-50-ata-radius';
import { rateLimitsTableMigration } from './2026-12-06-01-rate-limits';
import { receivedFaxesMigration } from './2026-12-07-01-received-faxes';
import { resendsMigration } from './2026-12-08-02-resends';
import { coverPagesMigration } from './2026-12-08-03-cover-pages';

/** Every migration the transmitter runs at start-up, in order of their names (the names are stored: never rename one). */
export const transmitterMigrations = (dialect: Dialect): Record<string, Migration> => ({
  '2026-11-22-01-jobs': outboxMigration(dialect),
  '2026-11-22-50-ata-radius': ataRadiusMigration(),
  '2026-12-06-01-rate-limits': rateLimitsTableMigration(),
  '2026-12-07-01-received-faxes': receivedFaxesMigration(),
  '2026-12-08-02-resends': resendsMigration(),
  '2026-12-08-03-cover-pages': coverPagesMigration(),
});
