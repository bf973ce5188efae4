/**
 * The Stop record of a receive session: a fax that reached one of our DIDs through the port
 * server, reported as fax.received (source "ata") to the owner of the account the DID routes to.
 *
 * The port server keeps the document: it hands it to the account's fax ATA or e-mails it to the
 * FB-Rcv-Email address it got before the call; the accounting record carries no image. So the event
 * has no pages and no file: the Inbox shows who sent how many pages and how it went, and the
 * document is where the port server delivered it.
 *
 * A received fax is filed under its first session: a later stage naming it in FB-Related-Id (the
 * hand-over to the ATA) is the same fax, and a resent Stop finds the fax recorded already.
 */
import { createHash } from 'node:crypto';
import { MAX_CSID_LENGTH, MAX_REASON_DETAIL_LENGTH, MAX_RECEIVED_PAGES, type FaxReceived, type ReceiveStatus } from '@faxnotify/contracts';
import type { Logger } from '@faxnotify/kit';
import { textAttribute, type DecodedPacket } from '@faxnotify/radius';
import type { Kysely } from 'kysely';
import type { AtaAccountRow, AtaSessionRow, TransmitterDatabase } from '../db/schema';
import { insertReceivedFax, receivedEvent } from '../receive/record';
import { FAX_ERROR_SUCCESS, cleanCsid, type Cdr } from './cdr';
import { FB, type LoadedDictionary } from './dictionary';
import { didKey } from './numbers';
import { accountNameKey } from './store';

const RECEIVED_ID = /^[A-Za-z0-9._:@-]{1,190}$/;

/** The receivedId of a port-server session: `ata:` and the session id when it fits the contract, else a digest of it. */
export const ataReceivedId = (sessionId: string): string =>
  RECEIVED_ID.test(sessionId) ? `ata:${sessionId}` : `ata:${createHash('sha256').update(sessionId).digest('hex').slice(0, 40)}`;

/** A number as the contracts take it, or null. */
const reported = (number: string | undefined): string | null => (number !== undefined && /^[0-9+*#() .-]{1,32}$/.test(number.trim()) ? number.trim() : null);

/** How a receive went, from its CDR: FB-Fax-Error-Code 0 with pages is success; an error after pages, partial; else failed. */
export function receiveOutcome(cdr: Cdr, dictionary: Pick<LoadedDictionary, 'has'>): { status: ReceiveStatus; reason: { code: string; detail: string } } {
  const pages = cdr.pages ?? 0;
  const facts = [
    cdr.faxErrorCode !== undefined ? `error ${cdr.faxErrorCode}` : undefined,
    cdr.extendedErrorCode !== undefined ? `extended error ${cdr.extendedErrorCode}` : undefined,
    cdr.description ? `"${cdr.description}"` : undefined,
    `${pages} pages`,
    cdr.totalSeconds !== undefined ? `${cdr.totalSeconds} s` : undefined,
  ].filter(Boolean);
  const detail = (prefix: string) => `${prefix} (${facts.join(', ')}); CDR: ${cdr.detail}`.slice(0, MAX_REASON_DETAIL_LENGTH);
  if (cdr.faxErrorCode === FAX_ERROR_SUCCESS) {
    if (pages > 0) return { status: 'success', reason: { code: 'OK', detail: detail('received') } };
    return { status: 'failed', reason: { code: 'ATA_NO_PAGES', detail: detail('no page came') } };
  }
  if (cdr.faxErrorCode === undefined) {
    const why = dictionary.has(FB.faxErrorCode)
      ? 'the Stop carried no FB-Fax-Error-Code'
      : 'the RADIUS dictionary does not define FB-Fax-Error-Code: load the vendor dictionary';
    return { status: pages > 0 ? 'partially_received' : 'failed', reason: { code: 'ATA_NO_RESULT', detail: detail(why) } };
  }
  const code = `ATA_RECEIVE_ERROR_${cdr.faxErrorCode}`.slice(0, 64);
  return { status: pages > 0 ? 'partially_received' : 'failed', reason: { code, detail: detail(`FaxBack ${code}`) } };
}

/** The account a receive belongs to: the session's (from Pre-Receive), the DID's, else the billed User-Name. */
async function accountOf(trx: Kysely<TransmitterDatabase>, cdr: Cdr, session: AtaSessionRow): Promise<AtaAccountRow | undefined> {
  const accounts = trx.selectFrom('ata_accounts').selectAll();
  if (session.account_id) {
    const account = await accounts.where('id', '=', session.account_id).executeTakeFirst();
    if (account) return account;
  }
  const did = cdr.dialNumber ?? session.dial_number ?? undefined;
  const key = did ? didKey(did) : null;
  if (key) {
    const row =
      (await trx.selectFrom('ata_dids').selectAll().where('did', '=', key).executeTakeFirst()) ??
      (await trx.selectFrom('ata_dids').selectAll().where('did', '=', '*').executeTakeFirst());
    if (row) return accounts.where('id', '=', row.account_id).executeTakeFirst();
  }
  const name = cdr.account ?? session.account_name ?? undefined;
  return name ? accounts.where('name_key', '=', accountNameKey(name)).executeTakeFirst() : undefined;
}

export interface ReceiveRecordContext {
  dictionary: LoadedDictionary;
  logger: Logger;
}

/**
 * Records the fax of a receive session's Stop with its fax.received in the event outbox, in the
 * caller's transaction. Start and Alive records of a receive say nothing yet.
 */
export async function recordAtaReceive(
  trx: Kysely<TransmitterDatabase>,
  packet: DecodedPacket,
  cdr: Cdr,
  session: AtaSessionRow,
  context: ReceiveRecordContext,
): Promise<void> {
  if (cdr.status !== 'stop') return;
  const { logger, dictionary } = context;
  const account = await accountOf(trx, cdr, session);
  if (!account) {
    logger.info({ sessionId: cdr.sessionId, did: cdr.dialNumber }, 'receive of no account of ours: recorded, not reported');
    return;
  }
  const rootSession = session.related_session_id ?? cdr.sessionId;
  const endedAt = cdr.at;
  const startedAt =
    cdr.startTime ??
    (session.started_at ? new Date(session.started_at) : cdr.totalSeconds !== undefined ? new Date(endedAt.getTime() - cdr.totalSeconds * 1000) : endedAt);
  const { status, reason } = receiveOutcome(cdr, dictionary);
  const caller = (dictionary.has(FB.callerId) ? textAttribute(packet, FB.callerId) : undefined) ?? textAttribute(packet, 'Calling-Station-Id');
  const remoteCsid = cdr.remoteCsid ? cleanCsid(cdr.remoteCsid).slice(0, MAX_CSID_LENGTH) : '';
  const data: FaxReceived = {
    receivedId: ataReceivedId(rootSession),
    source: 'ata',
    lineId: null,
    ownerId: account.owner_id,
    callerNumber: reported(caller),
    calledNumber: reported(cdr.dialNumber ?? session.dial_number ?? undefined),
    remoteCsid: remoteCsid || null,
    status,
    reason,
    pagesReceived: Math.min(Math.max(cdr.pages ?? 0, 0), MAX_RECEIVED_PAGES),
    startedAt: (startedAt.getTime() <= endedAt.getTime() ? startedAt : endedAt).toISOString(),
    endedAt: endedAt.toISOString(),
    pages: [],
  };
  const recorded = await insertReceivedFax(trx, receivedEvent(data), { answeredAt: startedAt, now: new Date() });
  logger.info(
    { sessionId: cdr.sessionId, receivedId: data.receivedId, account: account.name, status, pages: data.pagesReceived },
    recorded ? 'fax received through the port server: fax.received queued' : 'receive of a fax already reported: kept, nothing published',
  );
}
