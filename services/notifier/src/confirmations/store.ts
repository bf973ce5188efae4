import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { compiledQuery, isUniqueViolation } from '@faxnotify/kit';
import type { Channel } from '../channels/types';
import type { ChannelConfirmationTable, NotifierDatabase } from '../schema';

/** How codes are limited (the `channels` section of the configuration). */
export interface ConfirmationPolicy {
  codeTtlMs: number;
  codeIntervalMs: number;
  codesPerHour: number;
  codeMaxAttempts: number;
}

const HOUR_MS = 3_600_000;
export const CODE_PATTERN = /^\d{6}$/;

/** A code typed by a person: spaces and dashes between the digits are dropped. */
export const cleanCode = (typed: string): string => typed.replace(/[\s-]/g, '');

/** What a user and channel stand at for one address. */
export interface ConfirmationStatus {
  confirmed: boolean;
  /** A code sent to this address that can still be used. */
  codePending: boolean;
  codeExpiresAt: string | null;
  /** When another code may be sent (null: now). */
  nextCodeAt: string | null;
  /** Wrong tries left at the pending code. */
  attemptsLeft: number | null;
}

export type IssueResult = { kind: 'issued'; code: string; expiresAt: string } | { kind: 'rate_limited'; retryAfterMs: number };

export type CheckResult =
  | { kind: 'confirmed' }
  | { kind: 'wrong'; attemptsLeft: number }
  /** Too many wrong tries: the code is void. */
  | { kind: 'voided' }
  | { kind: 'expired' }
  /** No code was sent to this address, or it was used. */
  | { kind: 'no_code' };

const confirmedAddress = compiledQuery((db: Kysely<NotifierDatabase>, p: { userId: string; channel: string; address: string }) =>
  db.selectFrom('confirmed_addresses').select('address').where('user_id', '=', p.userId).where('channel', '=', p.channel).where('address', '=', p.address),
);
/** Read once per owner by the notifier, for every channel of its notices. */
const confirmedAddresses = compiledQuery((db: Kysely<NotifierDatabase>, p: { userId: string }) =>
  db.selectFrom('confirmed_addresses').select(['channel', 'address']).where('user_id', '=', p.userId),
);

/**
 * Confirmation codes and confirmed addresses. A code is six random digits, stored only as an
 * HMAC bound to the user, the channel and the address it was sent to (a leaked table gives no
 * code away, and a code confirms nothing else). Sends are limited per user and channel, whatever
 * the address, so switching addresses does not reset the limit. An address once confirmed stays
 * confirmed for that user and channel, so switching back to it needs no new code.
 */
export class ConfirmationStore {
  private readonly key: Buffer;

  constructor(
    private readonly db: Kysely<NotifierDatabase>,
    private readonly policy: ConfirmationPolicy,
    secret: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.key = createHmac('sha256', secret).update('faxnotify confirmation codes').digest();
  }

  private hash(userId: string, channel: Channel, address: string, code: string): string {
    return createHmac('sha256', this.key).update(`${userId}\n${channel}\n${address}\n${code}`).digest('base64url');
  }

  private row(userId: string, channel: Channel): Promise<ChannelConfirmationTable | undefined> {
    return this.db.selectFrom('channel_confirmations').selectAll().where('user_id', '=', userId).where('channel', '=', channel).executeTakeFirst();
  }

  async isConfirmed(userId: string, channel: Channel, address: string): Promise<boolean> {
    return (await confirmedAddress.first(this.db, { userId, channel, address })) !== undefined;
  }

  /** Every address the user confirmed, as `channel address` keys: one query for all of a notice's channels. */
  async confirmedKeys(userId: string): Promise<Set<string>> {
    const rows = await confirmedAddresses.rows(this.db, { userId });
    return new Set(rows.map((row) => confirmedKey(row.channel as Channel, row.address)));
  }

  async status(userId: string, channel: Channel, address: string): Promise<ConfirmationStatus> {
    const [confirmed, row] = await Promise.all([this.isConfirmed(userId, channel, address), this.row(userId, channel)]);
    const now = this.now().getTime();
    const pending = row && pendingCode(row, address, now, this.policy.codeMaxAttempts);
    const wait = row ? this.waitBeforeSend(row, now) : 0;
    return {
      confirmed,
      codePending: Boolean(pending),
      codeExpiresAt: pending ? row.code_expires_at : null,
      nextCodeAt: wait > 0 ? new Date(now + wait).toISOString() : null,
      attemptsLeft: pending ? this.policy.codeMaxAttempts - row.attempts : null,
    };
  }

  /** Milliseconds before another code may go to this user on this channel (0: now). */
  private waitBeforeSend(row: ChannelConfirmationTable, now: number): number {
    const sinceLast = row.last_sent_at ? now - Date.parse(row.last_sent_at) : Infinity;
    const intervalWait = Math.max(0, this.policy.codeIntervalMs - sinceLast);
    const windowStart = row.window_started_at ? Date.parse(row.window_started_at) : -Infinity;
    const hourWait = now - windowStart < HOUR_MS && row.window_sends >= this.policy.codesPerHour ? windowStart + HOUR_MS - now : 0;
    return Math.max(intervalWait, hourWait);
  }

  /**
   * A new code for this address, replacing any pending one, unless the limits refuse it. The send
   * is counted here, before the code goes out, so two requests at once cannot both pass.
   */
  async issue(userId: string, channel: Channel, address: string): Promise<IssueResult> {
    const nowDate = this.now();
    const now = nowDate.getTime();
    const nowIso = nowDate.toISOString();
    await this.db
      .insertInto('channel_confirmations')
      .values({
        user_id: userId,
        channel,
        pending_address: null,
        code_hash: null,
        code_expires_at: null,
        attempts: 0,
        last_sent_at: null,
        window_started_at: null,
        window_sends: 0,
        updated_at: nowIso,
      })
      .onConflict((oc) => oc.columns(['user_id', 'channel']).doNothing())
      .execute();
    const row = (await this.row(userId, channel))!;
    const wait = this.waitBeforeSend(row, now);
    if (wait > 0) return { kind: 'rate_limited', retryAfterMs: wait };
    const windowOpen = row.window_started_at !== null && now - Date.parse(row.window_started_at) < HOUR_MS;
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(now + this.policy.codeTtlMs).toISOString();
    const updated = await this.db
      .updateTable('channel_confirmations')
      .set({
        pending_address: address,
        code_hash: this.hash(userId, channel, address, code),
        code_expires_at: expiresAt,
        attempts: 0,
        last_sent_at: nowIso,
        window_started_at: windowOpen ? row.window_started_at : nowIso,
        window_sends: windowOpen ? row.window_sends + 1 : 1,
        updated_at: nowIso,
      })
      .where('user_id', '=', userId)
      .where('channel', '=', channel)
      // Only over the row as read: a request that got in first wins, this one waits its turn.
      .where((eb) => (row.last_sent_at === null ? eb('last_sent_at', 'is', null) : eb('last_sent_at', '=', row.last_sent_at)))
      .where('window_sends', '=', row.window_sends)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return { kind: 'rate_limited', retryAfterMs: this.policy.codeIntervalMs };
    return { kind: 'issued', code, expiresAt };
  }

  /** Checks a typed code against the one sent to this address; the right one confirms the address and is used up. */
  async check(userId: string, channel: Channel, address: string, typed: string): Promise<CheckResult> {
    const row = await this.row(userId, channel);
    if (!row?.code_hash || row.pending_address !== address || !row.code_expires_at) return { kind: 'no_code' };
    const nowDate = this.now();
    if (Date.parse(row.code_expires_at) <= nowDate.getTime()) return { kind: 'expired' };
    if (row.attempts >= this.policy.codeMaxAttempts) return { kind: 'voided' };
    const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
    const nowIso = nowDate.toISOString();
    const code = cleanCode(typed);
    if (CODE_PATTERN.test(code) && same(this.hash(userId, channel, address, code), row.code_hash)) {
      const used = await this.db
        .updateTable('channel_confirmations')
        .set({ code_hash: null, code_expires_at: null, pending_address: null, attempts: 0, updated_at: nowIso })
        .where('user_id', '=', userId)
        .where('channel', '=', channel)
        .where('code_hash', '=', row.code_hash)
        .executeTakeFirst();
      // Used by a request that came first: that one confirmed the address.
      if (Number(used.numUpdatedRows) !== 1) return { kind: 'no_code' };
      await this.markConfirmed(userId, channel, address);
      return { kind: 'confirmed' };
    }
    // One wrong try counted per request, also when several come at once.
    await this.db
      .updateTable('channel_confirmations')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), updated_at: nowIso }))
      .where('user_id', '=', userId)
      .where('channel', '=', channel)
      .where('code_hash', '=', row.code_hash)
      .execute();
    const after = await this.row(userId, channel);
    const attempts = after?.code_hash === row.code_hash ? after.attempts : this.policy.codeMaxAttempts;
    if (attempts >= this.policy.codeMaxAttempts) {
      await this.db
        .updateTable('channel_confirmations')
        .set({ code_hash: null, code_expires_at: null, pending_address: null, updated_at: nowIso })
        .where('user_id', '=', userId)
        .where('channel', '=', channel)
        .where('code_hash', '=', row.code_hash)
        .execute();
      return { kind: 'voided' };
    }
    return { kind: 'wrong', attemptsLeft: this.policy.codeMaxAttempts - attempts };
  }

  /** Records an address as confirmed (after the right code). */
  markConfirmed(userId: string, channel: Channel, address: string): Promise<void> {
    return recordConfirmedAddress(this.db, { userId, channel, address, at: this.now() });
  }
}

/** Writes one confirmed address (again: a no-op); the store after a right code, and the seeding helper of tests and the demo. */
export async function recordConfirmedAddress(
  db: Kysely<NotifierDatabase>,
  confirmed: { userId: string; channel: Channel; address: string; at?: Date },
): Promise<void> {
  try {
    await db
      .insertInto('confirmed_addresses')
      .values({ user_id: confirmed.userId, channel: confirmed.channel, address: confirmed.address, confirmed_at: (confirmed.at ?? new Date()).toISOString() })
      .onConflict((oc) => oc.columns(['user_id', 'channel', 'address']).doNothing())
      .execute();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
}

export const confirmedKey = (channel: Channel, address: string): string => `${channel} ${address}`;

/** The row's code, when it was sent to this address and can still be used. */
function pendingCode(row: ChannelConfirmationTable, address: string, now: number, maxAttempts: number): boolean {
  return (
    row.code_hash !== null &&
    row.pending_address === address &&
    row.code_expires_at !== null &&
    Date.parse(row.code_expires_at) > now &&
    row.attempts < maxAttempts
  );
}
