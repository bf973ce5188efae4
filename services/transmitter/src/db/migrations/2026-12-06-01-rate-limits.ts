import { rateLimitsMigration, type Migration } from '@faxnotify/kit';

/** The counters of the limits against abuse (faxes submitted per account), shared by every replica on one database. */
export const rateLimitsTableMigration = (): Migration => rateLimitsMigration();
