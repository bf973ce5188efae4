import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type CompiledQuery } from 'kysely';
import { createLogger, openDatabase, type Database } from '@faxnotify/kit';
import { SendLedger, type LedgerEntry } from './ledger';
import { noticeIdOf } from './notifier';
import { describeNotice, noticeFacts, outcomeOf } from './outcome';
import { notifierMigrations, type NotifierDatabase } from './schema';

/**
 * The send ledger's storage behaviour, run by ledger.test.ts on the embedded SQLite file and by
 * ledger.int.test.ts on PostgreSQL, through the same query layer.
 */

/** PostgreSQL at TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432); `none` leaves PostgreSQL out. */
export const POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const logger = createLogger('ledger-test', 'silent');

/** A fresh notifier database on this dialect (PostgreSQL: a database of its own, dropped after). */
export async function openTestDatabase(
  dialect: 'sqlite' | 'postgres',
  onStatement?: (query: CompiledQuery) => void,
): Promise<{ database: Database<NotifierDatabase>; drop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'notifier-ledger-'));
  const sqlitePath = join(dir, 'notifier.sqlite');
  if (dialect === 'sqlite') {
    const database = await openDatabase<NotifierDatabase>({ service: 'notifier', url: '', sqlitePath, migrations: notifierMigrations, logger, onStatement });
    return { database, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `notifier_ledger_${randomBytes(4).toString('hex')}`;
  const admin = await openDatabase<unknown>({ service: 'notifier-admin', url: `${POSTGRES}/postgres`, sqlitePath, migrations: {}, logger });
  await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin.db);
  const database = await openDatabase<NotifierDatabase>({
    service: 'notifier',
    url: `${POSTGRES}/${name}`,
    sqlitePath,
    migrations: notifierMigrations,
    logger,
    onStatement,
  });
  return {
    database,
    drop: async () => {
      await sql`DROP DATABASE IF EXISTS ${sql.id(name)}`.execute(admin.db);
      await admin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const describeLedger = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`send ledger delivery reports on ${dialect}`, () => {
    let database: Database<NotifierDatabase>;
    let drop: () => Promise<void>;
    let ledger: SendLedger;

    beforeAll(async () => {
      ({ database, drop } = await openTestDatabase(dialect));
      ledger = new SendLedger(database.db, 30_000);
    });

    afterAll(async () => {
      await database?.close();
      await drop?.();
    });

    const entry = (resultId: string, channel: 'email' | 'sms' | 'xmpp', address: string): LedgerEntry => ({
      resultId,
      channel,
      faxId: resultId.split(':')[0],
      recipientId: 'r1',
      ownerId: 'alice',
      address,
      locale: 'en',
      noticeId: noticeIdOf(resultId, channel),
    });

    it('keeps a receipt that comes before the send is marked, and the marked row says delivered', async () => {
      const xmpp = entry('early:r1', 'xmpp', 'alice@localhost');
      expect((await ledger.claim(xmpp)).kind).toBe('claimed');
      // Someone else's receipt for this notice id changes nothing.
      expect(await ledger.recordDelivery({ channel: 'xmpp', noticeId: xmpp.noticeId, status: 'delivered', fromAddress: 'mallory@localhost' })).toBeUndefined();
      const early = await ledger.recordDelivery({ channel: 'xmpp', noticeId: xmpp.noticeId, status: 'delivered', fromAddress: 'alice@localhost' });
      expect(early).toMatchObject({ status: 'sending', delivery_status: 'delivered' });
      await ledger.markSent('early:r1', 'xmpp', { providerMessageId: xmpp.noticeId });
      const row = (await ledger.get('early:r1', 'xmpp'))!;
      expect(row).toMatchObject({ status: 'sent', delivery_status: 'delivered', provider_message_id: xmpp.noticeId });
      expect(outcomeOf(row)).toBe('delivered');
      expect(describeNotice(row)).toBe('receipt received');
      // A receipt is the recipient's client answering, not a provider's report in words of its own.
      expect(noticeFacts(row)).toEqual({});
    });

    it('records SMS parts and carrier reports, never stepping back from a final report', async () => {
      const sms = entry('sms:r1', 'sms', '+393331234567');
      await ledger.claim(sms);
      await ledger.markSent('sms:r1', 'sms', { providerMessageId: `SM${'a'.repeat(32)}`, segments: 2, encoding: 'UCS-2' });
      expect(outcomeOf((await ledger.get('sms:r1', 'sms'))!)).toBe('sent');
      // A report about another message (an earlier try) is not this one's.
      expect(
        await ledger.recordDelivery({ channel: 'sms', noticeId: sms.noticeId, status: 'failed', providerMessageId: `SM${'b'.repeat(32)}` }),
      ).toBeUndefined();
      expect(
        await ledger.recordDelivery({
          channel: 'sms',
          noticeId: sms.noticeId,
          status: 'undelivered',
          errorCode: '30003',
          providerMessageId: `SM${'a'.repeat(32)}`,
        }),
      ).toMatchObject({
        delivery_status: 'undelivered',
        delivery_error_code: '30003',
      });
      // Late or repeated callbacks after the final one change nothing.
      expect(await ledger.recordDelivery({ channel: 'sms', noticeId: sms.noticeId, status: 'sent' })).toBeUndefined();
      expect(await ledger.recordDelivery({ channel: 'sms', noticeId: sms.noticeId, status: 'delivered' })).toBeUndefined();
      const row = (await ledger.get('sms:r1', 'sms'))!;
      expect(outcomeOf(row)).toBe('failed');
      // The parts and Twilio's report are the outcome's fields, not words in its reason.
      expect(noticeFacts(row)).toEqual({ sms: { segments: 2, encoding: 'UCS-2' }, provider: { status: 'undelivered', errorCode: '30003' } });
      expect(describeNotice(row)).toBeUndefined();
    });

    it("keeps the SMTP server's reply code: of the last failure, then of the accepted send", async () => {
      const email = entry('mail:r1', 'email', 'alice@example.test');
      await ledger.claim(email);
      await ledger.markRetrying('mail:r1', 'email', 'SMTP 451: Try again later', 451);
      expect(noticeFacts((await ledger.get('mail:r1', 'email'))!)).toEqual({ smtp: { code: 451 } });
      await ledger.claim(email);
      await ledger.markSent('mail:r1', 'email', { providerMessageId: '<n1@faxnotify>', smtpCode: 250 });
      expect(noticeFacts((await ledger.get('mail:r1', 'email'))!)).toEqual({ smtp: { code: 250 } });

      const lost = entry('mail:r2', 'email', 'alice@example.test');
      await ledger.claim(lost);
      await ledger.markRetrying('mail:r2', 'email', 'SMTP 421: Service not available', 421);
      // Retries running out is no new reply: the last one stands.
      await ledger.markFailed('mail:r2', 'email', 'retries exhausted: SMTP 421: Service not available');
      expect((await ledger.get('mail:r2', 'email'))!.smtp_code).toBe(421);
      // A failure without a reply (the connection dropped) has no code.
      await ledger.markFailed('mail:r2', 'email', 'SMTP ECONNECTION: connection refused', null);
      const row = (await ledger.get('mail:r2', 'email'))!;
      expect(noticeFacts(row)).toEqual({});
      expect(describeNotice(row)).toBe('SMTP ECONNECTION: connection refused');
    });

    it('writes the new rows of the moment in one statement, and claims a notice asked for twice at once once', async () => {
      const mail = entry('batch:r1', 'email', 'alice@example.test');
      const [first, second, sms] = await Promise.all([
        ledger.claim(mail),
        ledger.claim(mail),
        ledger.skip(entry('batch:r1', 'sms', '+393331234567'), 'sms notices are off'),
      ]);
      expect([first.kind, second.kind].sort()).toEqual(['busy', 'claimed']);
      expect(sms).toMatchObject({ status: 'skipped', error: 'sms notices are off', sends: 0 });
      expect(await ledger.get('batch:r1', 'email')).toMatchObject({ status: 'sending', sends: 1, possible_duplicates: 0 });
      // A row already there is found, not written again.
      expect(await ledger.skip(entry('batch:r1', 'sms', '+393331234567'), 'another reason')).toMatchObject({ error: 'sms notices are off' });
    });

    it('marks several notices at once (one transaction), each caller getting its own row', async () => {
      const keys = ['marks:r1', 'marks:r2', 'marks:r3'];
      for (const key of keys) expect((await ledger.claim(entry(key, 'email', 'alice@example.test'))).kind).toBe('claimed');
      const [sent, failed, retrying] = await Promise.all([
        ledger.markSent('marks:r1', 'email', { providerMessageId: '<m1@example.test>', smtpCode: 250 }),
        ledger.markFailed('marks:r2', 'email', 'SMTP 550: no such user', 550),
        ledger.markRetrying('marks:r3', 'email', 'SMTP 451: try later', 451),
      ]);
      expect(sent).toMatchObject({ result_id: 'marks:r1', status: 'sent', provider_message_id: '<m1@example.test>', smtp_code: 250, claimed_by: null });
      expect(failed).toMatchObject({ result_id: 'marks:r2', status: 'failed', error: 'SMTP 550: no such user', smtp_code: 550 });
      expect(retrying).toMatchObject({ result_id: 'marks:r3', status: 'retrying', smtp_code: 451, claimed_until: null });
      expect(await ledger.get('marks:r2', 'email')).toEqual(failed);
      // A mark of a notice the ledger does not hold changes nothing and says so.
      expect(await ledger.markSent('marks:unknown', 'email', { providerMessageId: 'x' })).toBeUndefined();
    });

    it('ignores a report for a notice it does not know', async () => {
      expect(await ledger.recordDelivery({ channel: 'sms', noticeId: 'unknown', status: 'delivered' })).toBeUndefined();
    });

    it("frees a claim as soon as its process's heartbeat is stale, long before the claim itself runs out", async () => {
      let now = new Date('2026-12-07T10:00:00.000Z');
      const clock = () => now;
      const lease = { leaseMs: 5_000 };
      // Two notifier processes on one database, claims good for 30 s.
      const a = new SendLedger(database.db, 30_000, clock, { id: 'worker-a', ...lease });
      const b = new SendLedger(database.db, 30_000, clock, { id: 'worker-b', ...lease });
      await a.heartbeat();
      await b.heartbeat();
      const mail = entry('lease:r1', 'email', 'alice@example.test');
      expect((await a.claim(mail)).kind).toBe('claimed');
      expect((await a.get('lease:r1', 'email'))!.claimed_by).toBe('worker-a');

      // While A beats, its claim holds.
      now = new Date(now.getTime() + 4_000);
      await a.heartbeat();
      await b.heartbeat();
      expect((await b.claim(mail)).kind).toBe('busy');

      // A is killed: no heartbeat for longer than the lease, though the claim has 25 s to go.
      now = new Date(now.getTime() + 6_000);
      await b.heartbeat();
      const takeover = await b.claim(mail);
      expect(takeover).toMatchObject({ kind: 'claimed', resumedUnfinished: true });
      expect((await b.get('lease:r1', 'email'))!).toMatchObject({ claimed_by: 'worker-b', sends: 2, possible_duplicates: 1 });
      // A process that never wrote a heartbeat holds nothing either; marking the send releases the claim.
      await b.markSent('lease:r1', 'email', { providerMessageId: '<lease@example.test>', smtpCode: 250 });
      expect((await b.get('lease:r1', 'email'))!).toMatchObject({ status: 'sent', claimed_by: null, claimed_until: null });

      // A clean stop leaves the heartbeat table; the ledger of a process without a worker id keeps the old expiry rule.
      await b.retire();
      expect(await database.db.selectFrom('notifier_workers').select('worker_id').execute()).toEqual([{ worker_id: 'worker-a' }]);
      const plain = new SendLedger(database.db, 30_000, clock);
      const other = entry('lease:r2', 'email', 'alice@example.test');
      expect((await plain.claim(other)).kind).toBe('claimed');
      expect((await plain.claim(other)).kind).toBe('busy');
    });
  });
