import type { Database } from '@faxnotify/kit';
import { SendLedger, type LedgerEntry } from './ledger';
import { POSTGRES, openTestDatabase } from './ledger.suite';
import { noticeIdOf } from './notifier';
import type { NotifierDatabase } from './schema';

/**
 * Notices held through quiet hours in the send ledger, on SQLite and on PostgreSQL: durable, due
 * at their time, and claimed by one of two notifiers sharing the database when they fall due.
 */

const dialects = POSTGRES === 'none' ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const);

describe.each(dialects)('held notices on %s', (dialect) => {
  let database: Database<NotifierDatabase>;
  let drop: () => Promise<void>;
  const clock = { now: new Date('2026-12-07T22:30:00.000Z') };
  const replica = (id: string) => new SendLedger(database.db, 30_000, () => clock.now, { id, leaseMs: 5_000 });

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase(dialect));
  });

  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  const entry = (resultId: string): LedgerEntry => ({
    resultId,
    channel: 'sms',
    faxId: resultId.split(':')[0],
    recipientId: 'r1',
    ownerId: 'alice',
    address: '+393331234567',
    locale: 'en',
    noticeId: noticeIdOf(resultId, 'sms'),
  });

  it('keeps a held notice until its time, then lets only one of two notifiers claim it', async () => {
    const [a, b] = [replica('worker-a'), replica('worker-b')];
    await a.heartbeat();
    await b.heartbeat();
    const until = new Date('2026-12-08T06:00:00.000Z');
    expect(await a.hold(entry('held-1:r1'), until, '{"resultId":"held-1:r1"}')).toBe(true);
    // Holding it again (the result redelivered) keeps one held row.
    expect(await b.hold(entry('held-1:r1'), until, '{"resultId":"held-1:r1"}')).toBe(true);
    expect(await a.get('held-1:r1', 'sms')).toMatchObject({ status: 'held', not_before: until.toISOString(), sends: 0, held_json: '{"resultId":"held-1:r1"}' });
    expect(await a.dueHeld(10)).toEqual([]);

    clock.now = new Date('2026-12-08T06:00:00.000Z');
    // Both notifiers are alive at that time (their heartbeats run every second or so).
    await a.heartbeat();
    await b.heartbeat();
    expect((await b.dueHeld(10)).map((row) => row.result_id)).toEqual(['held-1:r1']);
    const claims = await Promise.all([a.claim(entry('held-1:r1')), b.claim(entry('held-1:r1'))]);
    expect(claims.map((claim) => claim.kind).sort()).toEqual(['busy', 'claimed']);
    const winner = claims[0].kind === 'claimed' ? a : b;
    await winner.markSent('held-1:r1', 'sms', { providerMessageId: `SM${'c'.repeat(32)}` });
    expect(await a.dueHeld(10)).toEqual([]);
    // A final notice is never held again.
    expect(await a.hold(entry('held-1:r1'), new Date('2026-12-09T06:00:00.000Z'), '{}')).toBe(false);
    expect(await a.get('held-1:r1', 'sms')).toMatchObject({ status: 'sent', sends: 1 });
  });

  it('skips a held notice its owner no longer wants, and postpones one that failed when due', async () => {
    const ledger = replica('worker-c');
    clock.now = new Date('2026-12-08T22:30:00.000Z');
    await ledger.hold(entry('held-2:r1'), new Date('2026-12-09T06:00:00.000Z'), '{}');
    expect(await ledger.skip(entry('held-2:r1'), 'the owner turned SMS notices of results off')).toMatchObject({ status: 'skipped' });

    await ledger.hold(entry('held-3:r1'), new Date('2026-12-09T06:00:00.000Z'), '{}');
    clock.now = new Date('2026-12-09T06:00:00.000Z');
    expect((await ledger.claim(entry('held-3:r1'))).kind).toBe('claimed');
    await ledger.markRetrying('held-3:r1', 'sms', 'Twilio 503');
    expect((await ledger.dueHeld(10)).map((row) => row.result_id)).toEqual(['held-3:r1']);
    await ledger.postpone('held-3:r1', 'sms', new Date('2026-12-09T06:01:00.000Z'));
    expect(await ledger.dueHeld(10)).toEqual([]);
    clock.now = new Date('2026-12-09T06:01:00.000Z');
    expect((await ledger.dueHeld(10)).map((row) => row.status)).toEqual(['retrying']);
  });
});
