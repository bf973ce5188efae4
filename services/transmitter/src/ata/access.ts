/**
 * Access-Requests from the port server (its AccountsDb and RcvRoutingDb): each carries an
 * FB-Command (what to do) and an FB-Context (why), and gets Access-Accept with the attributes
 * that pair calls for, or Access-Reject for "unknown or invalid".
 *
 * The traps of the manual: an Access-Reject to Get-DID or to Get-Account/Pre-Send-Session ends the
 * fax, so "nothing to add" is an empty Access-Accept; a known account that may not send or receive
 * is an Accept carrying the "disabled" attribute, where the dictionary defines it.
 */
import type { Logger } from '@faxnotify/kit';
import { enumAttribute, named, textAttribute, type DecodedPacket, type ReplyAttribute, type WorkLimit } from '@faxnotify/radius';
import { ACCOUNT_CALL_AHEAD_MODE, PORT_SERVER_DEFAULT_MODE, decideCallAhead } from './call-ahead';
import { FB, faxback, type LoadedDictionary } from './dictionary';
import type { AtaAccountRow } from '../db/schema';
import { passwordMatches, type AtaStore } from './store';
import { recordPreSession } from './sessions';

/** FB-Command values, as the manual's example packets number them (4 only in a table). */
export const COMMANDS = {
  'Get-Account': 1,
  'Get-Account-From-DID': 2,
  'Get-Account-From-Sender-Email-Address': 3,
  'Get-Load-Balance-Group-Members': 4,
  'Get-Call-Ahead-Mode': 5,
  'Get-Account-From-Serial-Number': 6,
  'Get-Account-From-MAC-Address': 7,
  'Get-DID': 8,
  'Get-DIDs-For-Account': 9,
} as const;
export type Command = keyof typeof COMMANDS;

/** FB-Context values, as the manual's example packets number them. */
export const CONTEXTS = {
  'Account-Login': 1,
  'Account-Validate': 2,
  'Pre-Send-Session': 3,
  'Pre-Receive-Session': 4,
  'For-External-Module': 5,
} as const;
export type Context = keyof typeof CONTEXTS;

/** FB-Transfer-Type of a fax-ATA (queue protocol) session (manual p41). */
const QUEUE_TRANSFER = { value: 2, name: 'queue' } as const;

const isQueueTransfer = (value: number | string | undefined): boolean => named({ [QUEUE_TRANSFER.name]: QUEUE_TRANSFER.value }, value) !== undefined;

export interface AccessReply {
  code: 'Access-Accept' | 'Access-Reject';
  attributes: ReplyAttribute[];
  /** One line for the log: why this answer. */
  why: string;
}

export interface AccessContext {
  store: AtaStore;
  dictionary: LoadedDictionary;
  region: string;
  callAheadInPreSend: boolean;
  /** Bounds the scrypt checks of a flood of logins; over the bound the request is dropped (Overloaded). */
  passwordChecks: WorkLimit;
  logger: Logger;
}

const accept = (why: string, attributes: ReplyAttribute[] = []): AccessReply => ({ code: 'Access-Accept', attributes, why });
const reject = (why: string): AccessReply => ({ code: 'Access-Reject', attributes: [], why });

/** Answers one Access-Request. */
export async function answerAccessRequest(packet: DecodedPacket, context: AccessContext): Promise<AccessReply> {
  const command = named(COMMANDS, enumAttribute(packet, FB.command));
  const ctx = named(CONTEXTS, enumAttribute(packet, FB.context));
  if (!command || !ctx)
    return reject(`no known FB-Command/FB-Context (${String(enumAttribute(packet, FB.command))}/${String(enumAttribute(packet, FB.context))})`);
  const userName = textAttribute(packet, 'User-Name');
  if (!userName) return reject(`${command}/${ctx} without User-Name`);
  const { store, dictionary } = context;
  /** A FaxBack attribute, if the loaded dictionary defines it (documented attributes without a confirmed number may be absent). */
  const optional = (name: string, value: string | number | null | undefined): ReplyAttribute[] =>
    value === null || value === undefined || value === '' || !dictionary.has(name) ? [] : [faxback(name, value)];

  switch (command) {
    case 'Get-Account': {
      const account = await store.accountByName(userName);
      switch (ctx) {
        case 'Account-Login':
        case 'Account-Validate': {
          const password = textAttribute(packet, 'User-Password');
          if (!account) return reject(`unknown account ${userName}`);
          if (password === undefined || !(await context.passwordChecks.run(() => passwordMatches(account.password_hash, password))))
            return reject(`wrong password for ${account.name}`);
          const attributes = [...optional(FB.accountType, account.account_type)];
          // Dynamic is what the port server assumes without the attribute.
          if (ctx === 'Account-Login' && account.call_ahead_mode !== PORT_SERVER_DEFAULT_MODE)
            attributes.push(...optional(FB.callAheadMode, ACCOUNT_CALL_AHEAD_MODE[account.call_ahead_mode]));
          return accept(`${ctx === 'Account-Login' ? 'login' : 'credentials'} of ${account.name}`, attributes);
        }
        case 'Pre-Send-Session':
          return preSend(packet, context, account, userName, optional);
        case 'Pre-Receive-Session': {
          if (!account) return reject(`unknown account ${userName}`);
          await recordPreSession(store.db, packet, { account, direction: 'receive' });
          if (account.receive_enabled !== 1) {
            if (dictionary.has(FB.rcvToAccount)) return accept(`${account.name} may not receive`, [faxback(FB.rcvToAccount, 0)]);
            return reject(`${account.name} may not receive (the dictionary has no ${FB.rcvToAccount} to say so)`);
          }
          return accept(`receive for ${account.name}`, optional(FB.rcvCsid, account.receive_csid));
        }
        case 'For-External-Module':
          if (!account) return reject(`unknown account ${userName}`);
          return accept(`account ${account.name} for an external module`, [
            ...optional(FB.accountType, account.account_type),
            ...optional(FB.rcvEmail, account.receive_email),
          ]);
      }
      break;
    }
    case 'Get-Account-From-DID': {
      if (ctx !== 'Pre-Receive-Session' && ctx !== 'For-External-Module') break;
      const did = await store.routeDid(userName);
      const account = did ? await store.accountById(did.account_id) : undefined;
      if (!did || !account) return reject(`DID ${userName} routes nowhere`);
      if (ctx === 'Pre-Receive-Session') await recordPreSession(store.db, packet, { account, direction: 'receive', dialNumber: userName });
      if (did.enabled !== 1) {
        if (dictionary.has(FB.didEnabled)) return accept(`DID ${userName} is disabled`, [['User-Name', account.name], faxback(FB.didEnabled, 0)]);
        return reject(`DID ${userName} is disabled (the dictionary has no ${FB.didEnabled} to say so)`);
      }
      if (ctx === 'Pre-Receive-Session') return accept(`DID ${userName} routes to ${account.name}`, [['User-Name', account.name]]);
      // The e-mail gateway needs the address: it is required in this reply.
      if (!account.receive_email) return reject(`DID ${userName} routes to ${account.name}, which has no receive e-mail address`);
      return accept(`DID ${userName} routes to ${account.name} <${account.receive_email}>`, [
        ['User-Name', account.name],
        faxback(FB.rcvEmail, account.receive_email),
      ]);
    }
    case 'Get-Call-Ahead-Mode': {
      if (ctx !== 'Pre-Send-Session') break;
      // User-Name is the number after send routing; the account is the session's (from Get-Account/Pre-Send-Session).
      const sessionId = textAttribute(packet, 'Acct-Session-Id');
      const session = sessionId
        ? await store.db.selectFrom('ata_sessions').select(['account_id']).where('session_id', '=', sessionId).executeTakeFirst()
        : undefined;
      const account = session?.account_id ? await store.accountById(session.account_id) : undefined;
      const decision = await decideCallAhead(store, account, userName, context.region);
      if (sessionId) await recordPreSession(store.db, packet, { account, direction: 'send', dialNumber: userName });
      return accept(`call-ahead ${decision.flag} for ${userName}: ${decision.why}`, [faxback(FB.callAheadMode, decision.flag)]);
    }
    case 'Get-DID': {
      if (ctx !== 'Pre-Send-Session' && ctx !== 'For-External-Module') break;
      // Optional support, but the port server always asks, and a Reject here ends the fax.
      const did = await store.did(userName);
      const account = did && did.enabled === 1 ? await store.accountById(did.account_id) : undefined;
      if (!did || !account) return accept(`no line settings for ${userName}`);
      const settings: ReplyAttribute[] = [...optional(FB.queueProfile, did.queue_profile), ...optional(FB.sndAni, did.send_ani)];
      if (ctx === 'For-External-Module') settings.push(...optional(FB.lineNum, did.line_num), ...optional(FB.lineId, did.line_id));
      if (settings.length === 0) return accept(`no line settings for ${userName}`);
      if (ctx === 'Pre-Send-Session') {
        // The port server refuses the fax when this account is not the sending one; say so in the log.
        const sessionId = textAttribute(packet, 'Acct-Session-Id');
        const session = sessionId
          ? await store.db.selectFrom('ata_sessions').select(['account_id']).where('session_id', '=', sessionId).executeTakeFirst()
          : undefined;
        if (session?.account_id && session.account_id !== account.id)
          context.logger.warn(
            { ani: userName, account: account.name, sessionId },
            'the ATA line belongs to another account than the one sending: the port server will refuse the fax',
          );
      }
      return accept(`line settings of ${userName} (${account.name})`, [['User-Name', account.name], ...settings]);
    }
    case 'Get-DIDs-For-Account': {
      if (ctx !== 'For-External-Module') break;
      const account = await store.accountByName(userName);
      if (!account) return reject(`unknown account ${userName}`);
      const dids = (await store.didsOf(account.id)).filter((d) => d.did !== '*');
      return accept(
        `${dids.length} DIDs of ${account.name}`,
        dids.map((d) => faxback(FB.did, d.did)),
      );
    }
    default:
      return reject(`${command} is not supported`);
  }
  return reject(`${command} is not valid with ${ctx}`);
}

async function preSend(
  packet: DecodedPacket,
  context: AccessContext,
  account: AtaAccountRow | undefined,
  userName: string,
  optional: (name: string, value: string | number | null | undefined) => ReplyAttribute[],
): Promise<AccessReply> {
  if (!account) return reject(`unknown account ${userName}`);
  const dialNumber = textAttribute(packet, FB.dialNumber);
  await recordPreSession(context.store.db, packet, { account, direction: 'send', dialNumber });
  if (account.send_enabled !== 1) {
    if (context.dictionary.has(FB.sndFromAccount)) return accept(`${account.name} may not send`, [faxback(FB.sndFromAccount, 0)]);
    return reject(`${account.name} may not send (the dictionary has no ${FB.sndFromAccount} to say so)`);
  }
  const attributes = [...optional(FB.sndAni, account.send_ani), ...optional(FB.sndTsid, account.send_csid)];
  let why = `send from ${account.name}`;
  if (context.callAheadInPreSend && isQueueTransfer(enumAttribute(packet, FB.transferType))) {
    const decision = await decideCallAhead(context.store, account, dialNumber, context.region);
    attributes.push(faxback(FB.callAheadMode, decision.flag));
    why += `; call-ahead ${decision.flag}: ${decision.why}`;
  }
  return accept(why, attributes);
}
