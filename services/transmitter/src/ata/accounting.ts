/**
 * Accounting-Requests from the port server (its BillingDb): Start, Alive (interim) and Stop of
 * every session, the Stop carrying the CDR. A send session of an account we know becomes a fax
 * faxnotify tracks: fax.submitted when it first appears, fax.recipient.progress for its steps and
 * fax.recipient.result from its CDR, so its owner is notified as for a fax sent through a modem.
 * The Stop of a receive session becomes fax.received (received.ts).
 *
 * The port server resends a Stop until it is answered. Every record is stored under a key of its
 * session and kind before anything else happens, in the transaction that writes its events, so a
 * resent record finds the key and changes nothing: one Stop, one result.
 */
import { createHash } from 'node:crypto';
import type { FinalStatus, FaxRecipientProgress } from '@faxnotify/contracts';
import { isUniqueViolation, type Logger } from '@faxnotify/kit';
import { enumAttribute, textAttribute, type DecodedPacket } from '@faxnotify/radius';
import type { Kysely } from 'kysely';
import { FB, type LoadedDictionary } from './dictionary';
import { CSID_MAX, FAX_ERROR_SUCCESS, INTERMEDIATE_STAGES, cleanCsid, outcomeOf, readCdr, recordKey, type Cdr, type CdrOutcome } from './cdr';
import { calledNumberKey, didKey, toE164 } from './numbers';
import { appendEvent } from '../events';
import { claimHandoff, finishHandoff, reclaimOrphan } from './handoff';
import type { RecipientLedger } from '../ledger/recipient-ledger';
import type { AtaAccountRow, TransmitterDatabase, AtaFaxRow, AtaHandoffRow, AtaSessionRow } from '../db/schema';
import { accountNameKey, recordCalledNumber } from './store';
import { recordAtaReceive } from './received';

/** The one recipient of a fax the port server reports. */
const ATA_RECIPIENT_ID = 'r1';

export interface AccountingContext {
  db: Kysely<TransmitterDatabase>;
  dictionary: LoadedDictionary;
  region: string;
  errorStatuses: Readonly<Record<string, FinalStatus>>;
  /** How long a recipient an ATA line handed over waits for its report (ata.reportWithinHours). */
  reportWithinMs: number;
  /** Writes the steps and ends of recipients that ATA lines handed over. */
  ledger: RecipientLedger;
  logger: Logger;
}

export type AccountingResult = 'recorded' | 'duplicate' | 'ignored';

/**
 * Takes one Accounting-Request. Resolves once everything it causes is committed (the caller
 * answers only then, so a record we failed to store is resent); throws when the database fails.
 */
export async function recordAccounting(packet: DecodedPacket, client: string, context: AccountingContext): Promise<AccountingResult> {
  const { db, dictionary, logger } = context;
  const cdr = readCdr(packet, dictionary.vendorId);
  if (!cdr) {
    logger.debug(
      { client, status: String(enumAttribute(packet, 'Acct-Status-Type')), sessionId: textAttribute(packet, 'Acct-Session-Id')?.slice(0, 80) },
      'accounting record not about a session: acknowledged',
    );
    return 'ignored';
  }
  const key = recordKey(cdr, packet, dictionary.vendorId);
  try {
    return await db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('ata_accounting_records')
        .values({ record_key: key, session_id: cdr.sessionId, status_type: cdr.status, client, attributes: cdr.detail, received_at: new Date().toISOString() })
        .onConflict((oc) => oc.column('record_key').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return 'duplicate' as const;
      await applyRecord(trx, packet, cdr, context);
      return 'recorded' as const;
    });
  } catch (error) {
    // Two copies of one record at once on PostgreSQL: the second waits for the first and collides.
    if (isUniqueViolation(error) && /ata_accounting_records/.test((error as Error).message ?? '')) return 'duplicate';
    throw error;
  }
}

async function applyRecord(trx: Kysely<TransmitterDatabase>, packet: DecodedPacket, cdr: Cdr, context: AccountingContext): Promise<void> {
  const { logger } = context;
  const session = await upsertSession(trx, cdr);
  const direction = cdr.isSend === undefined ? (session.direction ?? (await guessDirection(trx, cdr))) : cdr.isSend ? 'send' : 'receive';
  if (direction === 'receive') return recordAtaReceive(trx, packet, cdr, session, context);

  let outcome: CdrOutcome | undefined;
  const final =
    cdr.status === 'stop' && !(cdr.cdrType && INTERMEDIATE_STAGES.includes(cdr.cdrType) && (cdr.faxErrorCode ?? FAX_ERROR_SUCCESS) === FAX_ERROR_SUCCESS);
  if (final) {
    outcome = outcomeOf(cdr, context.errorStatuses, context.dictionary);
    const number = cdr.dialNumber ?? session.dial_number;
    const numberKey = number ? calledNumberKey(number, context.region) : null;
    if (numberKey && outcome.numberAnswered) await recordCalledNumber(trx, numberKey, outcome.numberAnswered, cdr.at, cdr.sessionId);
  }

  // Without FB-Fax-Error-Code no result can be told, and a guessed one would send owners wrong
  // notices: faxes are tracked only with a dictionary that defines it (the vendor's).
  if (!context.dictionary.has(FB.faxErrorCode)) return;
  const fax = await faxOf(trx, cdr, session, context);
  if (!fax) return;
  if (fax.final_at) {
    logger.info({ sessionId: cdr.sessionId, faxId: fax.fax_id, status: cdr.status }, 'record of a fax already reported final: kept, nothing published');
    return;
  }
  const handoff = await trx
    .selectFrom('ata_handoffs')
    .selectAll()
    .where('fax_id', '=', fax.fax_id)
    .where('recipient_id', '=', fax.recipient_id)
    .where('attempt', '=', fax.attempt)
    .executeTakeFirst();
  // A recipient of ours: the ledger writes its steps in its own sequence. A reported fax has its own.
  let sequence = fax.next_sequence;
  const base = { faxId: fax.fax_id, recipientId: fax.recipient_id, number: fax.number, attempt: fax.attempt };
  const progress = async (data: Omit<FaxRecipientProgress, 'faxId' | 'recipientId' | 'number' | 'attempt' | 'sequence' | 'at'>) => {
    if (handoff) return context.ledger.reportProgress(trx, handoff, fax.fax_id, fax.attempt, data, cdr.at);
    const seq = sequence++;
    await appendEvent(
      trx,
      'fax.recipient.progress',
      { ...base, sequence: seq, at: cdr.at.toISOString(), ...data },
      {
        id: `${fax.fax_id}:${fax.recipient_id}:${fax.attempt}:${seq}`,
        faxId: fax.fax_id,
        recipientId: fax.recipient_id,
        time: cdr.at,
      },
    );
  };
  const remoteCsid = cdr.remoteCsid ? cleanCsid(cdr.remoteCsid) : '';
  let connected = fax.connected === 1;
  let pagesSent = fax.pages_sent;

  if (cdr.status === 'start') {
    await progress({ status: cdr.cdrType === 'SendFromClient' ? 'queued' : 'dialing' });
  } else if (cdr.status === 'interim') {
    // Alive comes when the client reaches the port session server, usually before T.30: only a
    // remote CSID or pages show that a fax machine answered. Pages of an upload stage went to the
    // queue, not to the recipient.
    const delivering = !(cdr.cdrType && INTERMEDIATE_STAGES.includes(cdr.cdrType));
    if (delivering && !connected && (remoteCsid || (cdr.pages ?? 0) > 0)) {
      await progress({ status: 'connected', ...(remoteCsid ? { remoteCsid } : {}) });
      connected = true;
    }
    if (delivering && cdr.pages !== undefined && cdr.pages > pagesSent) {
      pagesSent = cdr.pages;
      await progress({ status: 'sending', page: { n: pagesSent, of: pagesSent } });
    }
  } else if (!final) {
    // A stage of a queued fax ended well (uploaded from the ATA, say): the fax waits for the next stage.
    await progress({ status: 'queued' });
  } else if (outcome) {
    const pages = Math.max(cdr.pages ?? 0, outcome.status === 'success' ? 0 : pagesSent);
    const startedAt = cdr.startTime ?? (session.started_at ? new Date(session.started_at) : undefined);
    if (handoff) {
      await finishHandoff(
        trx,
        context.ledger,
        handoff,
        {
          status: outcome.status,
          reason: outcome.reason,
          pagesSent: pages,
          remoteCsid: remoteCsid || null,
          remoteCsidRaw: cdr.remoteCsid ? cdr.remoteCsid.slice(0, CSID_MAX) : null,
          startedAt: startedAt ?? null,
          endedAt: cdr.at,
        },
        new Date(),
      );
    } else {
      const seq = sequence++;
      await appendEvent(
        trx,
        'fax.recipient.result',
        {
          ...base,
          sequence: seq,
          status: outcome.status,
          reason: outcome.reason,
          pagesSent: pages,
          pagesTotal: pages,
          remoteCsid: remoteCsid || null,
          remoteCsidRaw: cdr.remoteCsid ? cdr.remoteCsid.slice(0, CSID_MAX) : null,
          startedAt: startedAt?.toISOString() ?? null,
          endedAt: cdr.at.toISOString(),
          attempts: fax.attempt,
        },
        { id: `${fax.fax_id}:${fax.recipient_id}:${fax.attempt}:${seq}`, faxId: fax.fax_id, recipientId: fax.recipient_id, time: cdr.at },
      );
    }
    pagesSent = pages;
    logger.info({ sessionId: cdr.sessionId, faxId: fax.fax_id, status: outcome.status, reason: outcome.reason.code, pages }, 'ATA fax result');
  }
  await trx
    .updateTable('ata_faxes')
    .set({
      next_sequence: sequence,
      connected: connected ? 1 : 0,
      pages_sent: pagesSent,
      final_at: outcome ? cdr.at.toISOString() : null,
      updated_at: new Date().toISOString(),
    })
    .where('fax_id', '=', fax.fax_id)
    .where('recipient_id', '=', fax.recipient_id)
    .execute();
}

/** The session row after this record: created if the pre-session requests never announced it. */
async function upsertSession(trx: Kysely<TransmitterDatabase>, cdr: Cdr): Promise<AtaSessionRow> {
  const now = new Date().toISOString();
  const existing = await trx.selectFrom('ata_sessions').selectAll().where('session_id', '=', cdr.sessionId).executeTakeFirst();
  const state: AtaSessionRow['state'] =
    existing?.state === 'stopped' || cdr.status === 'stop' ? 'stopped' : cdr.status === 'interim' ? 'alive' : existing?.state === 'alive' ? 'alive' : 'started';
  const row: AtaSessionRow = {
    session_id: cdr.sessionId,
    account_id: existing?.account_id ?? null,
    account_name: existing?.account_name ?? cdr.account?.slice(0, 255) ?? null,
    direction: cdr.isSend === undefined ? (existing?.direction ?? null) : cdr.isSend ? 'send' : 'receive',
    dial_number: cdr.dialNumber?.slice(0, 64) ?? existing?.dial_number ?? null,
    transfer_type: existing?.transfer_type ?? null,
    related_session_id: cdr.relatedId?.slice(0, 64) ?? existing?.related_session_id ?? null,
    fax_id: existing?.fax_id ?? null,
    recipient_id: existing?.recipient_id ?? null,
    state,
    started_at: existing?.started_at ?? (cdr.status === 'start' ? cdr.at.toISOString() : (cdr.startTime?.toISOString() ?? null)),
    stopped_at: cdr.status === 'stop' ? cdr.at.toISOString() : (existing?.stopped_at ?? null),
    created_at: existing?.created_at ?? now,
    updated_at: now,
  };
  if (existing) await trx.updateTable('ata_sessions').set(row).where('session_id', '=', cdr.sessionId).execute();
  else await trx.insertInto('ata_sessions').values(row).execute();
  return row;
}

/** Without FB-Is-Send or a pre-session request: a record whose number is one of our DIDs is a receive. */
async function guessDirection(trx: Kysely<TransmitterDatabase>, cdr: Cdr): Promise<'send' | 'receive'> {
  const key = cdr.dialNumber ? didKey(cdr.dialNumber) : null;
  if (!key) return 'send';
  const did = await trx.selectFrom('ata_dids').select('did').where('did', '=', key).executeTakeFirst();
  return did ? 'receive' : 'send';
}

const faxIdFor = (sessionId: string): string => `ata-${createHash('sha256').update(sessionId).digest('hex').slice(0, 32)}`;

/**
 * The fax a session belongs to: its own, the one of the earlier stage it names in FB-Related-Id,
 * or a new one (with its fax.submitted) when the billed account is ours. Undefined when the
 * account is not ours or the number cannot be told.
 */
async function faxOf(trx: Kysely<TransmitterDatabase>, cdr: Cdr, session: AtaSessionRow, context: AccountingContext): Promise<AtaFaxRow | undefined> {
  const { logger } = context;
  let faxId = session.fax_id;
  let recipientId = session.recipient_id;
  if (!faxId && session.related_session_id) {
    const related = await trx
      .selectFrom('ata_sessions')
      .select(['fax_id', 'recipient_id'])
      .where('session_id', '=', session.related_session_id)
      .executeTakeFirst();
    faxId = related?.fax_id ?? null;
    recipientId = related?.recipient_id ?? null;
  }
  if (faxId) {
    recipientId ??= ATA_RECIPIENT_ID;
    if (!session.fax_id)
      await trx.updateTable('ata_sessions').set({ fax_id: faxId, recipient_id: recipientId }).where('session_id', '=', cdr.sessionId).execute();
    return trx.selectFrom('ata_faxes').selectAll().where('fax_id', '=', faxId).where('recipient_id', '=', recipientId).executeTakeFirst();
  }

  const accountName = cdr.account ?? session.account_name;
  const account = session.account_id
    ? await trx.selectFrom('ata_accounts').selectAll().where('id', '=', session.account_id).executeTakeFirst()
    : accountName
      ? await trx.selectFrom('ata_accounts').selectAll().where('name_key', '=', accountNameKey(accountName)).executeTakeFirst()
      : undefined;
  if (!account) {
    logger.debug({ sessionId: cdr.sessionId, account: accountName }, 'session of an account we do not know: not tracked');
    return undefined;
  }
  const dialNumber = cdr.dialNumber ?? session.dial_number;
  const number = dialNumber ? toE164(dialNumber, context.region) : null;
  if (!number) {
    logger.warn({ sessionId: cdr.sessionId, account: account.name, dialNumber }, 'send of a known account without a usable fax number: not tracked');
    return undefined;
  }
  const claimed = await claimHandoff(trx, { accountName: account.name, number, region: context.region, sessionId: cdr.sessionId, now: cdr.at });
  let handoff = claimed;
  if (claimed?.state === 'orphan') {
    const reclaimed = await reclaimOrphan(trx, context.ledger, claimed, new Date(), context.reportWithinMs);
    logger.info(
      { sessionId: cdr.sessionId, faxId: claimed.fax_id, recipientId: claimed.recipient_id, reclaimed },
      reclaimed
        ? 'the port server reports the fax of a call cut by a restart: the recipient waits for its report instead of a redial'
        : 'the port server reports the fax of a call cut by a restart, but its redial already started',
    );
    handoff = reclaimed ? { ...claimed, state: 'handed' } : undefined;
  }
  if (handoff) return adoptHandoff(trx, cdr, session, handoff, account, context);
  const now = new Date().toISOString();
  const fax: AtaFaxRow = {
    fax_id: faxIdFor(cdr.sessionId),
    recipient_id: ATA_RECIPIENT_ID,
    owner_id: account.owner_id,
    account_id: account.id,
    number,
    attempt: 1,
    next_sequence: 0,
    connected: 0,
    pages_sent: 0,
    final_at: null,
    created_at: now,
    updated_at: now,
  };
  await trx.insertInto('ata_faxes').values(fax).execute();
  await linkSessions(trx, cdr, session, fax, { account_id: account.id, account_name: account.name });
  const submittedAt = cdr.startTime ?? cdr.at;
  await appendEvent(
    trx,
    'fax.submitted',
    {
      faxId: fax.fax_id,
      ownerId: account.owner_id,
      // The port server knows no subject; the number says which fax it was in any language.
      subject: number,
      recipients: [{ recipientId: fax.recipient_id, number }],
      files: [],
      pages: 0,
      submittedAt: submittedAt.toISOString(),
      retry: { count: 0, delayMinutes: 0 },
    },
    { id: `${fax.fax_id}:submitted`, faxId: fax.fax_id, time: submittedAt },
  );
  logger.info({ sessionId: cdr.sessionId, faxId: fax.fax_id, account: account.name, number }, 'ATA fax tracked');
  return fax;
}

/** The session, and the earlier stage it names, belong to `fax` from now on. */
async function linkSessions(
  trx: Kysely<TransmitterDatabase>,
  cdr: Cdr,
  session: AtaSessionRow,
  fax: AtaFaxRow,
  account: { account_id: string; account_name: string },
): Promise<void> {
  await trx
    .updateTable('ata_sessions')
    .set({ fax_id: fax.fax_id, recipient_id: fax.recipient_id, ...account })
    .where('session_id', '=', cdr.sessionId)
    .execute();
  // Later stages naming the same earlier one join this fax too.
  if (session.related_session_id)
    await trx
      .updateTable('ata_sessions')
      .set({ fax_id: fax.fax_id, recipient_id: fax.recipient_id })
      .where('session_id', '=', session.related_session_id)
      .where('fax_id', 'is', null)
      .execute();
}

/**
 * The first session of an ATA line's account to the number of a recipient it handed over: the
 * recipient's own fax, attempt and owner, no fax.submitted (the fax was submitted through us).
 */
async function adoptHandoff(
  trx: Kysely<TransmitterDatabase>,
  cdr: Cdr,
  session: AtaSessionRow,
  handoff: AtaHandoffRow,
  account: Pick<AtaAccountRow, 'id' | 'name'>,
  context: AccountingContext,
): Promise<AtaFaxRow> {
  const entry = await trx
    .selectFrom('recipients')
    .innerJoin('faxes', 'faxes.outbox_id', 'recipients.outbox_id')
    .select(['faxes.owner_id', 'recipients.number'])
    .where('recipients.outbox_id', '=', handoff.outbox_id)
    .where('recipients.position', '=', handoff.position)
    .executeTakeFirstOrThrow();
  const now = new Date().toISOString();
  const fax: AtaFaxRow = {
    fax_id: handoff.fax_id,
    recipient_id: handoff.recipient_id,
    owner_id: entry.owner_id,
    account_id: account.id,
    number: entry.number,
    attempt: handoff.attempt,
    next_sequence: 0,
    connected: 0,
    pages_sent: 0,
    // A report that comes after the recipient failed for want of one is kept and changes nothing.
    final_at: handoff.state === 'final' ? (handoff.final_at ?? now) : null,
    created_at: now,
    updated_at: now,
  };
  await trx
    .insertInto('ata_faxes')
    .values(fax)
    .onConflict((oc) =>
      oc.columns(['fax_id', 'recipient_id']).doUpdateSet({ attempt: fax.attempt, connected: 0, pages_sent: 0, final_at: fax.final_at, updated_at: now }),
    )
    .execute();
  await linkSessions(trx, cdr, session, fax, { account_id: account.id, account_name: account.name });
  context.logger.info(
    { sessionId: cdr.sessionId, faxId: fax.fax_id, recipientId: fax.recipient_id, line: handoff.line_id },
    'port-server session of a fax an ATA line handed over',
  );
  return fax;
}
