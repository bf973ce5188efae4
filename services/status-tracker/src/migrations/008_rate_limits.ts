import { rateLimitsMigration, type Migration } from '@faxnotify/kit';

/** The counters of the limits against abuse (provider posts per account, sign-in attempts per client address), shared by every replica on one database. */
export const rateLimits = (): Migration => rateLimitsMigration();
