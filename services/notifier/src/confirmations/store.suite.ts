import type { Database } from '@faxnotify/kit';
import { openTestDatabase } from '../ledger.suite';
import type { NotifierDatabase } from '../schema';
import { ConfirmationStore, type IssueResult } from './store';

/**
 * Confirmation codes with a clock the tests move, run by store.test.ts on the embedded SQLite file
 * and by store.int.test.ts on PostgreSQL, through the same query layer.
 */

const POLICY = { codeTtlMs: 15 * 60_000, codeIntervalMs: 60_000, codesPerHour: 5, codeMaxAttempts: 5 };
let database: Database<NotifierDatabase>;
let drop: () => Promise<void>;
let now: Date;
let store: ConfirmationStore;

const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};
const issued = (result: IssueResult): string => {
  if (result.kind !== 'issued') throw new Error(`expected a code, got ${JSON.stringify(result)}`);
  return result.code;
};
/** A six-digit code other than this one. */
const other = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

export const describeConfirmationStore = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`confirmation codes on ${dialect}`, () => {
    beforeEach(async () => {
      ({ database, drop } = await openTestDatabase(dialect));
      now = new Date('2026-12-06T10:00:00.000Z');
      store = new ConfirmationStore(database.db, POLICY, 'confirmations-test-secret', () => now);
    });

    afterEach(async () => {
      await database?.close();
      await drop?.();
    });

    it('confirms an address with the code sent to it, once, and keeps only a hash of the code', async () => {
      const code = issued(await store.issue('ann', 'email', 'ann@example.test'));
      expect(code).toMatch(/^\d{6}$/);
      const row = await database.db.selectFrom('channel_confirmations').selectAll().executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain(code);
      expect(await store.status('ann', 'email', 'ann@example.test')).toMatchObject({ confirmed: false, codePending: true, attemptsLeft: 5 });

      expect(await store.check('ann', 'email', 'ann@example.test', ` ${code.slice(0, 3)} ${code.slice(3)} `)).toEqual({ kind: 'confirmed' });
      expect(await store.isConfirmed('ann', 'email', 'ann@example.test')).toBe(true);
      expect(await store.status('ann', 'email', 'ann@example.test')).toMatchObject({ confirmed: true, codePending: false });
      // Used up: the same code again finds nothing pending.
      expect(await store.check('ann', 'email', 'ann@example.test', code)).toEqual({ kind: 'no_code' });
      // Confirmed for this user and channel only.
      expect(await store.isConfirmed('bob', 'email', 'ann@example.test')).toBe(false);
      expect(await store.isConfirmed('ann', 'xmpp', 'ann@example.test')).toBe(false);
    });

    it('refuses a code after it expires', async () => {
      const code = issued(await store.issue('ann', 'sms', '+393331234567'));
      advance(POLICY.codeTtlMs - 1);
      expect(await store.status('ann', 'sms', '+393331234567')).toMatchObject({ codePending: true });
      advance(1);
      expect(await store.status('ann', 'sms', '+393331234567')).toMatchObject({ codePending: false, codeExpiresAt: null });
      expect(await store.check('ann', 'sms', '+393331234567', code)).toEqual({ kind: 'expired' });
      expect(await store.isConfirmed('ann', 'sms', '+393331234567')).toBe(false);
    });

    it('voids a code after five wrong tries, even the right code afterwards', async () => {
      const code = issued(await store.issue('ann', 'xmpp', 'ann@localhost'));
      for (let left = 4; left >= 1; left--) {
        expect(await store.check('ann', 'xmpp', 'ann@localhost', other(code))).toEqual({ kind: 'wrong', attemptsLeft: left });
      }
      expect(await store.check('ann', 'xmpp', 'ann@localhost', other(code))).toEqual({ kind: 'voided' });
      expect(await store.check('ann', 'xmpp', 'ann@localhost', code)).toEqual({ kind: 'no_code' });
      expect(await store.isConfirmed('ann', 'xmpp', 'ann@localhost')).toBe(false);
      // A new code (after the interval) starts with five tries again.
      advance(POLICY.codeIntervalMs);
      const next = issued(await store.issue('ann', 'xmpp', 'ann@localhost'));
      expect(await store.status('ann', 'xmpp', 'ann@localhost')).toMatchObject({ codePending: true, attemptsLeft: 5 });
      expect(await store.check('ann', 'xmpp', 'ann@localhost', next)).toEqual({ kind: 'confirmed' });
    });

    it('wrong tries that come at once are each counted', async () => {
      const code = issued(await store.issue('ann', 'email', 'ann@example.test'));
      const results = await Promise.all(Array.from({ length: 8 }, () => store.check('ann', 'email', 'ann@example.test', other(code))));
      expect(results.filter((r) => r.kind === 'wrong').length).toBeLessThanOrEqual(4);
      expect(await store.check('ann', 'email', 'ann@example.test', code)).toEqual({ kind: 'no_code' });
    });

    it('sends at most one code a minute and five an hour per user and channel, whatever the address', async () => {
      issued(await store.issue('ann', 'email', 'ann@example.test'));
      expect(await store.issue('ann', 'email', 'ann@example.test')).toEqual({ kind: 'rate_limited', retryAfterMs: 60_000 });
      advance(30_000);
      // Another address does not reset the limit; another channel or user has its own.
      expect(await store.issue('ann', 'email', 'other@example.test')).toEqual({ kind: 'rate_limited', retryAfterMs: 30_000 });
      issued(await store.issue('ann', 'sms', '+393331234567'));
      issued(await store.issue('bob', 'email', 'bob@example.test'));
      for (let i = 2; i <= 5; i++) {
        advance(60_000);
        issued(await store.issue('ann', 'email', `ann${i}@example.test`));
      }
      // Five sent within the hour that began at 10:00: the sixth waits for that hour to end.
      advance(60_000);
      const refused = await store.issue('ann', 'email', 'ann@example.test');
      expect(refused).toEqual({ kind: 'rate_limited', retryAfterMs: 3_600_000 - 30_000 - 5 * 60_000 });
      expect((await store.status('ann', 'email', 'ann@example.test')).nextCodeAt).toBe('2026-12-06T11:00:00.000Z');
      advance(refused.kind === 'rate_limited' ? refused.retryAfterMs : 0);
      issued(await store.issue('ann', 'email', 'ann@example.test'));
    });

    it('two requests at once send one code', async () => {
      const results = await Promise.all([store.issue('ann', 'email', 'ann@example.test'), store.issue('ann', 'email', 'ann@example.test')]);
      expect(results.filter((r) => r.kind === 'issued')).toHaveLength(1);
    });

    it('a code confirms only the address it was sent to: a changed address is unconfirmed, a confirmed one stays so', async () => {
      const first = issued(await store.issue('ann', 'email', 'ann@example.test'));
      // The address changed after the code went out: the code does not confirm the new one.
      expect(await store.check('ann', 'email', 'new@example.test', first)).toEqual({ kind: 'no_code' });
      expect(await store.status('ann', 'email', 'new@example.test')).toMatchObject({ confirmed: false, codePending: false });
      expect(await store.check('ann', 'email', 'ann@example.test', first)).toEqual({ kind: 'confirmed' });

      // Switching to a new address: unconfirmed until its own code; switching back: still confirmed.
      expect(await store.isConfirmed('ann', 'email', 'new@example.test')).toBe(false);
      advance(60_000);
      const second = issued(await store.issue('ann', 'email', 'new@example.test'));
      expect(await store.check('ann', 'email', 'new@example.test', second)).toEqual({ kind: 'confirmed' });
      expect(await store.confirmedKeys('ann')).toEqual(new Set(['email ann@example.test', 'email new@example.test']));
    });

    it('a code hashed under another secret does not match', async () => {
      const code = issued(await store.issue('ann', 'email', 'ann@example.test'));
      const otherSecret = new ConfirmationStore(database.db, POLICY, 'another-secret', () => now);
      expect(await otherSecret.check('ann', 'email', 'ann@example.test', code)).toEqual({ kind: 'wrong', attemptsLeft: 4 });
    });
  });
