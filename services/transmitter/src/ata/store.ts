/**
 * Accounts, DIDs and called numbers: what the port server asks about, as the admin API keeps it.
 */
import { randomBytes, randomUUID, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import { didKey } from './numbers';
import type { AtaAccountRow, AtaCalledNumberRow, TransmitterDatabase, AtaDidRow, CallAheadMode } from '../db/schema';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, length: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

/** Port-server account names compare case-insensitively ("Abc" is "aBC"). */
export const accountNameKey = (name: string): string => name.normalize('NFC').toLowerCase();

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function passwordMatches(stored: string | null, password: string): Promise<boolean> {
  if (!stored) return false;
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected);
}

export interface AccountInput {
  name: string;
  password?: string | null;
  ownerId: string;
  accountType?: number | null;
  callAheadMode?: CallAheadMode;
  sendEnabled?: boolean;
  receiveEnabled?: boolean;
  sendAni?: string | null;
  sendCsid?: string | null;
  receiveCsid?: string | null;
  receiveEmail?: string | null;
}

export interface DidInput {
  enabled?: boolean;
  sendAni?: string | null;
  queueProfile?: string | null;
  lineId?: string | null;
  lineNum?: number | null;
}

export type AccountChange = Partial<Omit<AccountInput, 'name'>>;

const now = () => new Date().toISOString();
const flag = (value: boolean | undefined, fallback: boolean): number => ((value ?? fallback) ? 1 : 0);

/** Where a send's call-ahead question stands for a number. */
export type CalledNumberKnowledge = 'unknown' | 'fax' | 'voice';

export class AtaStore {
  constructor(readonly db: Kysely<TransmitterDatabase>) {}

  async accountByName(name: string): Promise<AtaAccountRow | undefined> {
    return this.db.selectFrom('ata_accounts').selectAll().where('name_key', '=', accountNameKey(name)).executeTakeFirst();
  }

  async accountById(id: string): Promise<AtaAccountRow | undefined> {
    return this.db.selectFrom('ata_accounts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listAccounts(ownerId?: string): Promise<AtaAccountRow[]> {
    let query = this.db.selectFrom('ata_accounts').selectAll().orderBy('name_key');
    if (ownerId !== undefined) query = query.where('owner_id', '=', ownerId);
    return query.execute();
  }

  /** Creates an account; returns undefined when the name (in any case) is taken. */
  async createAccount(input: AccountInput): Promise<AtaAccountRow | undefined> {
    const at = now();
    const row: AtaAccountRow = {
      id: randomUUID(),
      name: input.name,
      name_key: accountNameKey(input.name),
      password_hash: input.password ? await hashPassword(input.password) : null,
      owner_id: input.ownerId,
      account_type: input.accountType ?? null,
      call_ahead_mode: input.callAheadMode ?? 'dynamic',
      send_enabled: flag(input.sendEnabled, true),
      receive_enabled: flag(input.receiveEnabled, true),
      send_ani: input.sendAni ?? null,
      send_csid: input.sendCsid ?? null,
      receive_csid: input.receiveCsid ?? null,
      receive_email: input.receiveEmail ?? null,
      created_at: at,
      updated_at: at,
    };
    const inserted = await this.db
      .insertInto('ata_accounts')
      .values(row)
      .onConflict((oc) => oc.column('name_key').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 ? row : undefined;
  }

  async updateAccount(id: string, change: AccountChange): Promise<AtaAccountRow | undefined> {
    const set: Partial<AtaAccountRow> = { updated_at: now() };
    if (change.password !== undefined) set.password_hash = change.password ? await hashPassword(change.password) : null;
    if (change.ownerId !== undefined) set.owner_id = change.ownerId;
    if (change.accountType !== undefined) set.account_type = change.accountType;
    if (change.callAheadMode !== undefined) set.call_ahead_mode = change.callAheadMode;
    if (change.sendEnabled !== undefined) set.send_enabled = change.sendEnabled ? 1 : 0;
    if (change.receiveEnabled !== undefined) set.receive_enabled = change.receiveEnabled ? 1 : 0;
    if (change.sendAni !== undefined) set.send_ani = change.sendAni;
    if (change.sendCsid !== undefined) set.send_csid = change.sendCsid;
    if (change.receiveCsid !== undefined) set.receive_csid = change.receiveCsid;
    if (change.receiveEmail !== undefined) set.receive_email = change.receiveEmail;
    await this.db.updateTable('ata_accounts').set(set).where('id', '=', id).execute();
    return this.accountById(id);
  }

  async deleteAccount(id: string): Promise<boolean> {
    await this.db.deleteFrom('ata_dids').where('account_id', '=', id).execute();
    const deleted = await this.db.deleteFrom('ata_accounts').where('id', '=', id).executeTakeFirst();
    return Number(deleted.numDeletedRows) > 0;
  }

  async didsOf(accountId: string): Promise<AtaDidRow[]> {
    return this.db.selectFrom('ata_dids').selectAll().where('account_id', '=', accountId).orderBy('did').execute();
  }

  async did(did: string): Promise<AtaDidRow | undefined> {
    const key = didKey(did);
    if (!key) return undefined;
    return this.db.selectFrom('ata_dids').selectAll().where('did', '=', key).executeTakeFirst();
  }

  /** The DID's row, else the catch-all `*` if there is one (inbound routing only). */
  async routeDid(did: string): Promise<AtaDidRow | undefined> {
    return (await this.did(did)) ?? (await this.db.selectFrom('ata_dids').selectAll().where('did', '=', '*').executeTakeFirst());
  }

  /** Adds or changes a DID of an account; undefined if the DID belongs to another account. */
  async putDid(accountId: string, did: string, input: DidInput): Promise<AtaDidRow | undefined> {
    const key = didKey(did);
    if (!key) throw new RangeError(`${JSON.stringify(did)} is not a DID`);
    const existing = await this.db.selectFrom('ata_dids').selectAll().where('did', '=', key).executeTakeFirst();
    if (existing && existing.account_id !== accountId) return undefined;
    const at = now();
    const row: AtaDidRow = {
      did: key,
      account_id: accountId,
      enabled: flag(input.enabled, existing ? existing.enabled === 1 : true),
      send_ani: input.sendAni !== undefined ? input.sendAni : (existing?.send_ani ?? null),
      queue_profile: input.queueProfile !== undefined ? input.queueProfile : (existing?.queue_profile ?? null),
      line_id: input.lineId !== undefined ? input.lineId : (existing?.line_id ?? null),
      line_num: input.lineNum !== undefined ? input.lineNum : (existing?.line_num ?? null),
      created_at: existing?.created_at ?? at,
      updated_at: at,
    };
    if (existing) await this.db.updateTable('ata_dids').set(row).where('did', '=', key).execute();
    else await this.db.insertInto('ata_dids').values(row).execute();
    return row;
  }

  async deleteDid(accountId: string, did: string): Promise<boolean> {
    const key = didKey(did);
    if (!key) return false;
    const deleted = await this.db.deleteFrom('ata_dids').where('did', '=', key).where('account_id', '=', accountId).executeTakeFirst();
    return Number(deleted.numDeletedRows) > 0;
  }

  async calledNumber(key: string): Promise<AtaCalledNumberRow | undefined> {
    return this.db.selectFrom('ata_called_numbers').selectAll().where('number_key', '=', key).executeTakeFirst();
  }

  async forgetCalledNumber(key: string): Promise<boolean> {
    const deleted = await this.db.deleteFrom('ata_called_numbers').where('number_key', '=', key).executeTakeFirst();
    return Number(deleted.numDeletedRows) > 0;
  }
}

/** What the called-numbers table says about a number. A voice answer is sticky (the manual's advice). */
export const knowledgeOf = (row: AtaCalledNumberRow | undefined): CalledNumberKnowledge =>
  !row ? 'unknown' : row.voice_answered_at ? 'voice' : row.fax_reached_at ? 'fax' : 'unknown';

/**
 * Records what a send taught about a number, in the caller's transaction: a fax machine answered
 * (the fax protocol engaged, successful or not) or a voice did.
 */
export async function recordCalledNumber(
  db: Kysely<TransmitterDatabase>,
  key: string,
  outcome: 'fax' | 'voice',
  at: Date,
  sessionId: string | null = null,
): Promise<void> {
  const time = at.toISOString();
  await db
    .insertInto('ata_called_numbers')
    .values({
      number_key: key,
      fax_reached_at: outcome === 'fax' ? time : null,
      voice_answered_at: outcome === 'voice' ? time : null,
      faxes: outcome === 'fax' ? 1 : 0,
      last_session_id: sessionId,
      updated_at: time,
    })
    .onConflict((oc) =>
      oc
        .column('number_key')
        .doUpdateSet((eb) =>
          outcome === 'fax'
            ? { fax_reached_at: time, faxes: eb('ata_called_numbers.faxes', '+', 1), last_session_id: sessionId, updated_at: time }
            : { voice_answered_at: time, last_session_id: sessionId, updated_at: time },
        ),
    )
    .execute();
}
