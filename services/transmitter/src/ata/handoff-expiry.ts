/**
 * Handed-over recipients whose report is overdue fail (ATA_NO_REPORT), checked on a timer of its
 * own: a hand-over runs out with time, not with anything a kick reports.
 */
import { CoalescedPasses, errorMessage, type Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { TransmitterDatabase } from '../db/schema';
import type { RecipientLedger } from '../ledger/recipient-ledger';
import { expireHandoffs } from './handoff';

/** How often handed-over recipients are checked for an overdue report. */
const CHECK_MS = 10_000;

export function handoffExpiry(options: {
  db: Kysely<TransmitterDatabase>;
  ledger: RecipientLedger;
  logger: Logger;
  eventsWritten: () => void;
  now?: () => Date;
}): CoalescedPasses {
  const { logger } = options;
  return new CoalescedPasses({
    pollMs: CHECK_MS,
    pass: async () => {
      const ended = await expireHandoffs(options.db, options.ledger, options.now?.() ?? new Date());
      if (ended === 0) return;
      logger.warn({ recipients: ended }, 'handed-over recipients failed: the port server did not report them in time');
      options.eventsWritten();
    },
    onError: (error) => logger.error({ err: errorMessage(error) }, 'ending handed-over recipients without a report failed; trying again on the next poll'),
  });
}
