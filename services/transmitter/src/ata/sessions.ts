/**
 * Port-server sessions as the pre-session Access-Requests announce them: the requests before a
 * send or receive carry the Acct-Session-Id its accounting records will carry, so what they say
 * (the account, the direction, the number) is kept for the accounting side.
 */
import { enumAttribute, textAttribute, type DecodedPacket } from '@faxnotify/radius';
import type { Kysely } from 'kysely';
import { FB } from './dictionary';
import type { AtaAccountRow, TransmitterDatabase } from '../db/schema';

/** Acct-Session-Id is 0–32 characters on the Access side and 0–48 in accounting (manual p31, p48). */
export const MAX_SESSION_ID = 64;

export const validSessionId = (value: string | undefined): value is string => value !== undefined && value.length > 0 && value.length <= MAX_SESSION_ID;

export async function recordPreSession(
  db: Kysely<TransmitterDatabase>,
  packet: DecodedPacket,
  what: { account: AtaAccountRow | undefined; direction: 'send' | 'receive'; dialNumber?: string | undefined },
): Promise<void> {
  const sessionId = textAttribute(packet, 'Acct-Session-Id');
  if (!validSessionId(sessionId)) return;
  const at = new Date().toISOString();
  const transfer = enumAttribute(packet, FB.transferType);
  const dialNumber = what.dialNumber?.slice(0, 64) ?? null;
  await db
    .insertInto('ata_sessions')
    .values({
      session_id: sessionId,
      account_id: what.account?.id ?? null,
      account_name: what.account?.name ?? null,
      direction: what.direction,
      dial_number: dialNumber,
      transfer_type: transfer === undefined ? null : String(transfer),
      related_session_id: null,
      fax_id: null,
      recipient_id: null,
      state: 'authorized',
      started_at: null,
      stopped_at: null,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.column('session_id').doUpdateSet((eb) => ({
        account_id: what.account ? what.account.id : eb.ref('ata_sessions.account_id'),
        account_name: what.account ? what.account.name : eb.ref('ata_sessions.account_name'),
        direction: what.direction,
        dial_number: dialNumber ?? eb.ref('ata_sessions.dial_number'),
        transfer_type: transfer === undefined ? eb.ref('ata_sessions.transfer_type') : String(transfer),
        updated_at: at,
      })),
    )
    .execute();
}
