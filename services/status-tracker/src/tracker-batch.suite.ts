import { PermanentError, createLogger } from '@faxnotify/kit';
import type { CloudEvent } from '@faxnotify/contracts';
import { StatusTracker, type BatchResult } from './tracker';
import { openTestDatabase, outcome, progress, result, submitted, type TestDatabase } from './testing/events';

/**
 * Batches (StatusTracker.handleBatch) on the embedded SQLite file (tracker.test.ts) and on
 * PostgreSQL (tracker.int.test.ts): one transaction for the batch gives what one per event gives.
 */
const logger = createLogger('status-tracker-test', 'silent');
const LINK = 'https://fax.example.test/faxes/{faxId}';

export const describeTrackerBatches = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`StatusTracker batches on ${dialect}`, () => {
    let database: TestDatabase;
    let tracker: StatusTracker;

    beforeAll(async () => {
      database = await openTestDatabase(dialect, 'batch');
      tracker = new StatusTracker({ db: database.db, faxUrlTemplate: LINK, logger });
    });

    afterAll(async () => {
      await database?.close();
      await database?.drop();
    });

    /** Everything the tracker keeps of a fax, with the fax id written as F so two faxes compare. */
    const stateOf = async (faxId: string) => {
      const db = database.db;
      const fax = await db.selectFrom('faxes').select(['state', 'final_at', 'owner_id', 'submitted_at']).where('id', '=', faxId).executeTakeFirstOrThrow();
      const recipients = await db
        .selectFrom('recipients')
        .select(['recipient_id', 'status', 'attempt', 'sequence', 'pages_sent', 'final', 'position', 'remote_csid'])
        .where('fax_id', '=', faxId)
        .orderBy('recipient_id')
        .execute();
      const outbox = await db.selectFrom('outbox').select(['routing_key', 'recipient_id', 'event_json']).where('fax_id', '=', faxId).orderBy('seq').execute();
      const history = await db
        .selectFrom('recipient_events')
        .select(['recipient_id', 'kind', 'attempt', 'sequence', 'applied'])
        .where('fax_id', '=', faxId)
        .orderBy('recipient_id')
        .orderBy('attempt')
        .orderBy('sequence')
        .orderBy('kind')
        .execute();
      const notices = await db
        .selectFrom('notices')
        .select(['recipient_id', 'channel', 'outcome', 'attempts'])
        .where('fax_id', '=', faxId)
        .orderBy('recipient_id')
        .orderBy('channel')
        .execute();
      const text = JSON.stringify({
        fax,
        recipients,
        outbox: outbox.map((row) => ({ ...row, event_json: undefined, data: (JSON.parse(row.event_json) as CloudEvent).data })),
        history,
        notices,
      });
      return JSON.parse(text.replaceAll(faxId, 'F')) as unknown;
    };

    /** A fax's life as the bus brings it: submission, progress, both results, notice outcomes. */
    const lifeOf = (faxId: string): CloudEvent[] => [
      submitted(faxId, 'alice', ['r1', 'r2']),
      progress(faxId, 'r1', 1, 1, 'connected', { remoteCsid: 'ACME' }),
      progress(faxId, 'r1', 1, 2, 'sending', { page: { n: 1, of: 3 } }),
      result(faxId, 'r1', 1, 5, 'success', 3),
      progress(faxId, 'r2', 1, 1, 'dialing'),
      result(faxId, 'r2', 1, 3, 'failed_user_busy', 0),
      outcome(faxId, 'r1', 'alice', 'email', { at: '2026-11-22T09:05:00Z' }),
      outcome(faxId, 'r2', 'alice', 'email', { outcome: 'failed', reason: '451', at: '2026-11-22T09:06:00Z' }),
    ];

    /** The lives of several faxes interleaved, as one queue delivers them (each fax's events in its order). */
    const interleave = (lives: CloudEvent[][]): CloudEvent[] =>
      Array.from({ length: Math.max(...lives.map((l) => l.length)) }, (_, i) => lives.map((l) => l[i]).filter(Boolean)).flat();

    const outcomesOf = (results: BatchResult[]) => results.map((r) => (r.ok ? r.outcome : { error: String(r.error) }));

    it('a batch of several faxes leaves the same state, history, notices and outbox as one event at a time', async () => {
      const names = ['c', 'a', 'b'];
      const single = names.map((n) => lifeOf(`fax-single-${n}-${dialect}`));
      const batched = names.map((n) => lifeOf(`fax-batched-${n}-${dialect}`));
      const one: BatchResult[] = [];
      for (const event of interleave(single)) one.push({ ok: true, outcome: await tracker.handle(event) });
      const together = await tracker.handleBatch(interleave(batched).map((event) => ({ event })));
      expect(together.every((r) => r.ok)).toBe(true);
      // Each event reports what it did, in the batch's order, as it would alone.
      expect(outcomesOf(together)).toEqual(outcomesOf(one));
      expect(together.filter((r) => r.ok && r.outcome.outboxRows > 0)).toHaveLength(6);
      for (const n of names) {
        const alone = await stateOf(`fax-single-${n}-${dialect}`);
        expect(alone).toMatchObject({ fax: { state: 'partial' }, outbox: [{}, {}, {}] });
        expect(await stateOf(`fax-batched-${n}-${dialect}`)).toEqual(alone);
      }
    });

    it("one event failing in a batch leaves the others committed and reports only that one's error", async () => {
      const taken = `fax-taken-${dialect}`;
      const good = `fax-good-${dialect}`;
      await tracker.handle(submitted(taken, 'owner', ['r1']));
      const events = [
        submitted(good, 'gina', ['r1', 'r2']),
        result(good, 'r1', 1, 2, 'success', 3),
        // Another owner's submission of a fax already submitted: a permanent failure.
        submitted(taken, 'intruder', ['r1']),
        result(good, 'r2', 1, 2, 'success', 3),
        outcome(good, 'r1', 'gina', 'email'),
      ];
      const results = await tracker.handleBatch(events.map((event) => ({ event })));
      expect(results.map((r) => r.ok)).toEqual([true, true, false, true, true]);
      const failed = results[2] as { ok: false; error: unknown };
      expect(failed.error).toBeInstanceOf(PermanentError);
      expect(String(failed.error)).toMatch(/already submitted by another owner/);
      expect(await stateOf(good)).toMatchObject({
        fax: { state: 'delivered', owner_id: 'gina' },
        outbox: [{ routing_key: 'delivery.recipient.final' }, { routing_key: 'delivery.recipient.final' }, { routing_key: 'delivery.fax.final' }],
        notices: [{ recipient_id: 'r1', channel: 'email', outcome: 'sent' }],
      });
      expect(await stateOf(taken)).toMatchObject({ fax: { owner_id: 'owner' } });
    });

    it('records an event delivered twice within one batch once', async () => {
      const faxId = `fax-twice-${dialect}`;
      const submission = submitted(faxId, 'hal', ['r1']);
      const done = result(faxId, 'r1', 1, 4, 'success', 3);
      const notice = outcome(faxId, 'r1', 'hal', 'email', { at: '2026-11-22T09:05:00Z' });
      const results = await tracker.handleBatch([submission, done, notice, submission, done, notice].map((event) => ({ event })));
      expect(outcomesOf(results)).toEqual([
        { duplicate: false, stale: false, outboxRows: 0 },
        { duplicate: false, stale: false, outboxRows: 2 },
        { duplicate: false, stale: false, outboxRows: 0 },
        { duplicate: true, stale: false, outboxRows: 0 },
        { duplicate: true, stale: false, outboxRows: 0 },
        { duplicate: false, stale: false, outboxRows: 0 },
      ]);
      expect(await stateOf(faxId)).toMatchObject({
        fax: { state: 'delivered' },
        history: [{ recipient_id: 'r1', kind: 'result', applied: 1 }],
        outbox: [{ routing_key: 'delivery.recipient.final' }, { routing_key: 'delivery.fax.final' }],
        notices: [{ channel: 'email' }],
      });
      const { history, outbox, notices } = (await stateOf(faxId)) as { history: unknown[]; outbox: unknown[]; notices: unknown[] };
      expect([history.length, outbox.length, notices.length]).toEqual([1, 2, 1]);
    });

    it('two batches at once over the same faxes in opposite orders both commit', async () => {
      const faxes = ['x', 'y', 'z'].map((n) => `fax-both-${n}-${dialect}`);
      for (const faxId of faxes) await tracker.handle(submitted(faxId, 'ivy', ['r1', 'r2']));
      const first = faxes.map((faxId) => result(faxId, 'r1', 1, 2, 'success', 3));
      const second = [...faxes].reverse().map((faxId) => result(faxId, 'r2', 1, 2, 'success', 3));
      const [a, b] = await Promise.all([first, second].map((events) => tracker.handleBatch(events.map((event) => ({ event })))));
      expect([...a, ...b].every((r) => r.ok)).toBe(true);
      for (const faxId of faxes) expect(await stateOf(faxId)).toMatchObject({ fax: { state: 'delivered' }, outbox: [{}, {}, {}] });
    });
  });
