import { createLogger, openServiceDatabase, type DatabaseConfig } from '@faxnotify/kit';
import type { Channel } from '../channels/types';
import { recordConfirmedAddress } from '../confirmations/store';
import { notifierMigrations, type NotifierDatabase } from '../schema';
import { normaliseJid, normalisePhoneNumber } from '../settings';

/** The addresses to record as confirmed, as a user types them (numbers and JIDs are put in the form the settings keep). */
export interface ConfirmedAddresses {
  email?: string | null;
  sms?: string | null;
  xmpp?: string | null;
}

/**
 * Records addresses as confirmed straight in a notifier's database (the one its `db` configuration
 * names, also while that notifier runs), for the tests, the benchmark and the demo whose subject is
 * not confirmation: their notices then go out as soon as the settings are saved. Tests about the
 * channels confirm through the real flow instead (a code sent by the channel and typed back).
 */
export async function seedConfirmedAddresses(target: { db: DatabaseConfig }, userId: string, addresses: ConfirmedAddresses): Promise<void> {
  const normalised: Array<[Channel, string | null]> = [
    ['email', addresses.email?.trim() || null],
    ['sms', addresses.sms ? normalisePhoneNumber(addresses.sms) : null],
    ['xmpp', addresses.xmpp ? normaliseJid(addresses.xmpp) : null],
  ];
  for (const [channel, address] of normalised) {
    const typed = addresses[channel];
    if (typed && !address) throw new Error(`${typed} is not a valid ${channel} address`);
  }
  const database = await openServiceDatabase<NotifierDatabase>({
    service: 'notifier',
    db: target.db,
    migrations: notifierMigrations,
    logger: createLogger('notifier-seed', 'silent'),
  });
  try {
    for (const [channel, address] of normalised) if (address) await recordConfirmedAddress(database.db, { userId, channel, address });
  } finally {
    await database.close();
  }
}
