import type { DeliveryFaxFinal, DeliveryRecipientFinal } from '@faxnotify/contracts';
import { createLogger } from '@faxnotify/kit';
import { StatusTracker, outboxEventId } from './tracker';
import { openTestDatabase, outcome, progress, result, submitted, type TestDatabase } from './testing/events';

/**
 * The storage-level behaviour of the handlers — ordering, duplicates, the outbox — run by
 * tracker.test.ts on the embedded SQLite file and by tracker.int.test.ts on PostgreSQL, through
 * the same query layer.
 */
const logger = createLogger('status-tracker-test', 'silent');
const LINK = 'https://fax.example.test/faxes/{faxId}';

export const describeTracker = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`StatusTracker on ${dialect}`, () => {
    let database: TestDatabase;
    let tracker: StatusTracker;

    beforeAll(async () => {
      database = await openTestDatabase(dialect, 'store');
      tracker = new StatusTracker({ db: database.db, faxUrlTemplate: LINK, logger });
    });

    afterAll(async () => {
      await database?.close();
      await database?.drop();
    });

    const outboxOf = async (faxId: string) => {
      const rows = await database.db.selectFrom('outbox').selectAll().where('fax_id', '=', faxId).orderBy('seq').execute();
      return rows.map((row) => ({
        ...row,
        event: JSON.parse(row.event_json) as { id: string; type: string; data: DeliveryRecipientFinal & DeliveryFaxFinal },
      }));
    };
    const recipientsOf = (faxId: string) => database.db.selectFrom('recipients').selectAll().where('fax_id', '=', faxId).orderBy('recipient_id').execute();
    const faxOf = (faxId: string) => database.db.selectFrom('faxes').selectAll().where('id', '=', faxId).executeTakeFirstOrThrow();

    it('announces each of three recipients once and the fax as partial', async () => {
      const faxId = `fax-three-${dialect}`;
      await tracker.handle(submitted(faxId, 'alice', ['r1', 'r2', 'r3']));
      await tracker.handle(progress(faxId, 'r1', 1, 0, 'dialing'));
      await tracker.handle(progress(faxId, 'r1', 1, 1, 'connected', { remoteCsid: 'ACME SALES FAX' }));
      await tracker.handle(progress(faxId, 'r3', 1, 2, 'sending', { page: { n: 2, of: 3 } }));
      expect((await faxOf(faxId)).state).toBe('in_progress');

      expect((await tracker.handle(result(faxId, 'r1', 1, 5, 'success', 3))).outboxRows).toBe(1);
      expect((await tracker.handle(result(faxId, 'r2', 1, 1, 'failed_user_busy', 0))).outboxRows).toBe(1);
      // The last recipient completes the fax: its own final plus the fax final.
      expect((await tracker.handle(result(faxId, 'r3', 1, 4, 'partially_sent', 2))).outboxRows).toBe(2);

      const fax = await faxOf(faxId);
      expect(fax).toMatchObject({ state: 'partial', owner_id: 'alice' });
      // The fax ended when its last call did (r1's, at attempt 1 sequence 5).
      expect(fax.final_at).toBe(result(faxId, 'r1', 1, 5, 'success', 3).data.endedAt);

      const outbox = await outboxOf(faxId);
      expect(outbox.map((row) => row.routing_key)).toEqual([
        'delivery.recipient.final',
        'delivery.recipient.final',
        'delivery.recipient.final',
        'delivery.fax.final',
      ]);
      expect(outbox.every((row) => row.published_at === null)).toBe(true);
      const finals = outbox.slice(0, 3).map((row) => row.event.data);
      expect(finals.map((d) => [d.resultId, d.status, d.pagesSent, d.pagesTotal])).toEqual([
        [`${faxId}:r1`, 'success', 3, 3],
        [`${faxId}:r2`, 'failed_user_busy', 0, 3],
        [`${faxId}:r3`, 'partially_sent', 2, 3],
      ]);
      expect(finals[0]).toMatchObject({
        ownerId: 'alice',
        subject: 'Q3 report',
        number: '+12025550101',
        reason: { code: 'OK', detail: 'MCF after EOP; DCN' },
        submittedAt: '2026-11-22T09:00:00.000Z',
        links: { fax: `https://fax.example.test/faxes/${faxId}` },
      });
      const faxFinal = outbox[3].event;
      expect(faxFinal.type).toBe('faxnotify.delivery.fax.final.v2');
      expect(faxFinal.data.state).toBe('partial');
      expect(faxFinal.data.recipients.map((r) => r.status)).toEqual(['success', 'failed_user_busy', 'partially_sent']);
      // What the fax summary shows of each recipient, as the tracker keeps it, and the fax's size in every result.
      const rows = await recipientsOf(faxId);
      expect(faxFinal.data.recipients.map((r) => [r.remoteCsid, r.endedAt, r.attempts])).toEqual(rows.map((r) => [r.remote_csid, r.ended_at, r.attempts]));
      expect(faxFinal.data.recipients.map((r) => [r.remoteCsid === null, r.attempts])).toEqual([
        [false, 1],
        [true, 1],
        [false, 1],
      ]);
      expect(finals.map((d) => d.recipientCount)).toEqual([3, 3, 3]);
      expect(faxFinal.id).toBe(outboxEventId(`delivery.fax.final:${faxId}`));
    });

    it('tolerates duplicates and events out of order', async () => {
      const faxId = `fax-order-${dialect}`;
      // Results overtake the submission: stored, not announced (the owner is not known yet).
      const busy = result(faxId, 'r2', 2, 1, 'failed_user_busy', 0);
      expect(await tracker.handle(result(faxId, 'r1', 1, 5, 'success', 3))).toMatchObject({ outboxRows: 0 });
      expect(await tracker.handle(busy)).toMatchObject({ outboxRows: 0 });
      // The same result twice.
      expect(await tracker.handle(busy)).toMatchObject({ duplicate: true, outboxRows: 0 });
      // An older attempt's result after the newer one.
      expect(await tracker.handle(result(faxId, 'r2', 1, 3, 'partially_sent', 1))).toMatchObject({ stale: true, outboxRows: 0 });
      // Progress after the result.
      expect(await tracker.handle(progress(faxId, 'r1', 1, 2, 'sending', { page: { n: 1, of: 3 } }))).toMatchObject({ stale: true });
      expect((await faxOf(faxId)).submitted_at).toBeNull();

      // The submission arrives: what is complete goes out now.
      expect(await tracker.handle(submitted(faxId, 'bob', ['r1', 'r2', 'r3']))).toMatchObject({ outboxRows: 2 });
      // The submission redelivered with a new event id changes nothing.
      expect(await tracker.handle(submitted(faxId, 'bob', ['r1', 'r2', 'r3']))).toMatchObject({ duplicate: true, outboxRows: 0 });
      expect(await tracker.handle(progress(faxId, 'r3', 1, 0, 'dialing'))).toMatchObject({ stale: false });
      expect(await tracker.handle(result(faxId, 'r3', 1, 2, 'failed_no_answer', 0))).toMatchObject({ outboxRows: 2 });
      expect(await tracker.handle(result(faxId, 'r3', 1, 2, 'failed_no_answer', 0))).toMatchObject({ outboxRows: 0 });

      const recipients = await recipientsOf(faxId);
      expect(recipients.map((r) => [r.recipient_id, r.status, r.attempt, r.final, r.pages_sent])).toEqual([
        ['r1', 'success', 1, 1, 3],
        ['r2', 'failed_user_busy', 2, 1, 0],
        ['r3', 'failed_no_answer', 1, 1, 0],
      ]);
      const outbox = await outboxOf(faxId);
      expect(
        outbox
          .filter((row) => row.routing_key === 'delivery.recipient.final')
          .map((row) => row.recipient_id)
          .sort(),
      ).toEqual(['r1', 'r2', 'r3']);
      expect(outbox.filter((row) => row.routing_key === 'delivery.fax.final').map((row) => row.event.data.state)).toEqual(['partial']);
      expect(outbox.find((row) => row.recipient_id === 'r2')!.event.data).toMatchObject({ status: 'failed_user_busy', attempts: 2, ownerId: 'bob' });

      // The history keeps every distinct event once, stale ones marked as not applied.
      const history = await database.db
        .selectFrom('recipient_events')
        .selectAll()
        .where('fax_id', '=', faxId)
        .where('recipient_id', '=', 'r2')
        .orderBy('attempt')
        .execute();
      expect(history.map((h) => [h.kind, h.attempt, h.applied])).toEqual([
        ['result', 1, 0],
        ['result', 2, 1],
      ]);
    });

    it('lets a later attempt win over an earlier final result without announcing it twice', async () => {
      const faxId = `fax-later-${dialect}`;
      await tracker.handle(submitted(faxId, 'carol', ['r1', 'r2']));
      expect(await tracker.handle(result(faxId, 'r1', 1, 1, 'failed_user_busy', 0))).toMatchObject({ outboxRows: 1 });
      expect(await tracker.handle(result(faxId, 'r1', 2, 4, 'success', 3))).toMatchObject({ stale: false, outboxRows: 0 });
      // Progress of a finished recipient is never applied, whatever its attempt.
      expect(await tracker.handle(progress(faxId, 'r1', 3, 0, 'dialing'))).toMatchObject({ stale: true });
      expect((await recipientsOf(faxId))[0]).toMatchObject({ status: 'success', attempt: 2, pages_sent: 3, final: 1 });
      await tracker.handle(result(faxId, 'r2', 1, 4, 'success', 3));
      expect(await faxOf(faxId)).toMatchObject({ state: 'delivered' });
      expect((await outboxOf(faxId)).map((row) => row.routing_key)).toEqual(['delivery.recipient.final', 'delivery.recipient.final', 'delivery.fax.final']);
    });

    it('follows progress: pages, remote CSID, a scheduled retry, then a new attempt', async () => {
      const faxId = `fax-progress-${dialect}`;
      await tracker.handle(submitted(faxId, 'dave', ['r1']));
      await tracker.handle(progress(faxId, 'r1', 1, 1, 'connected', { remoteCsid: 'BRANCH 7' }));
      await tracker.handle(progress(faxId, 'r1', 1, 3, 'sending', { page: { n: 2, of: 3 } }));
      await tracker.handle(progress(faxId, 'r1', 1, 2, 'sending', { page: { n: 1, of: 3 } })); // late: stale
      expect((await recipientsOf(faxId))[0]).toMatchObject({ status: 'sending', pages_sent: 2, pages_total: 3, remote_csid: 'BRANCH 7', sequence: 3 });
      await tracker.handle(
        progress(faxId, 'r1', 1, 4, 'retry_scheduled', { retry: { at: '2026-11-22T10:00:00+01:00', reason: { code: 'NO_CARRIER', detail: 'lost carrier' } } }),
      );
      expect((await recipientsOf(faxId))[0]).toMatchObject({ status: 'retry_scheduled', retry_at: '2026-11-22T09:00:00.000Z', reason_code: 'NO_CARRIER' });
      await tracker.handle(progress(faxId, 'r1', 2, 0, 'dialing'));
      expect((await recipientsOf(faxId))[0]).toMatchObject({ status: 'dialing', attempt: 2, pages_sent: 0, remote_csid: null, retry_at: null });
      expect((await faxOf(faxId)).state).toBe('in_progress');
    });

    it('applies concurrent results of one fax one at a time: exactly one fax final', async () => {
      const faxId = `fax-concurrent-${dialect}`;
      const ids = Array.from({ length: 8 }, (_, i) => `r${i + 1}`);
      await tracker.handle(submitted(faxId, 'erin', ids));
      await Promise.all(ids.map((id) => tracker.handle(result(faxId, id, 1, 1, 'success', 3))));
      const outbox = await outboxOf(faxId);
      expect(outbox.filter((row) => row.routing_key === 'delivery.fax.final')).toHaveLength(1);
      expect(outbox.filter((row) => row.routing_key === 'delivery.recipient.final')).toHaveLength(8);
      expect((await faxOf(faxId)).state).toBe('delivered');
    });

    it('keeps the latest notice outcome per result and channel', async () => {
      const faxId = `fax-notices-${dialect}`;
      await tracker.handle(outcome(faxId, 'r1', 'frank', 'email', { outcome: 'failed', reason: '451 try later', attempts: 1, at: '2026-11-22T09:01:00Z' }));
      await tracker.handle(outcome(faxId, 'r1', 'frank', 'email', { outcome: 'sent', providerMessageId: '<m1@x>', attempts: 2, at: '2026-11-22T09:03:00Z' }));
      // An older outcome arriving late does not win.
      await tracker.handle(outcome(faxId, 'r1', 'frank', 'email', { outcome: 'failed', reason: 'late', attempts: 1, at: '2026-11-22T09:02:00Z' }));
      await tracker.handle(outcome(faxId, 'r1', 'frank', 'sms', { outcome: 'skipped', at: '2026-11-22T09:02:00Z' }));
      const notices = await database.db.selectFrom('notices').selectAll().where('fax_id', '=', faxId).orderBy('channel').execute();
      expect(notices.map((n) => [n.channel, n.outcome, n.provider_message_id, n.attempts])).toEqual([
        ['email', 'sent', '<m1@x>', 2],
        ['sms', 'skipped', null, 1],
      ]);
    });

    it("stores the SMS parts, the provider's status and the SMTP reply code an outcome carries, and what the latest one says", async () => {
      const faxId = `fax-facts-${dialect}`;
      const columns = ['channel', 'sms_segments', 'sms_encoding', 'provider_status', 'provider_error_code', 'smtp_code'] as const;
      const noticesOf = () => database.db.selectFrom('notices').select(columns).where('fax_id', '=', faxId).orderBy('channel').execute();
      await tracker.handle(
        outcome(faxId, 'r1', 'frank', 'sms', {
          outcome: 'sent',
          sms: { segments: 2, encoding: 'UCS-2' },
          provider: { status: 'sent' },
          at: '2026-11-22T09:01:00Z',
        }),
      );
      await tracker.handle(
        outcome(faxId, 'r1', 'frank', 'email', { outcome: 'failed', reason: 'SMTP 550: mailbox unavailable', smtp: { code: 550 }, at: '2026-11-22T09:01:00Z' }),
      );
      await tracker.handle(
        outcome(faxId, 'r1', 'frank', 'sms', {
          outcome: 'failed',
          sms: { segments: 2, encoding: 'UCS-2' },
          provider: { status: 'undelivered', errorCode: '30003' },
          at: '2026-11-22T09:02:00Z',
        }),
      );
      expect(await noticesOf()).toEqual([
        { channel: 'email', sms_segments: null, sms_encoding: null, provider_status: null, provider_error_code: null, smtp_code: 550 },
        { channel: 'sms', sms_segments: 2, sms_encoding: 'UCS-2', provider_status: 'undelivered', provider_error_code: '30003', smtp_code: null },
      ]);
      // A later outcome without the fields (from a notifier still on v1) is what the notice now says.
      await tracker.handle(outcome(faxId, 'r1', 'frank', 'email', { outcome: 'sent', at: '2026-11-22T09:03:00Z' }));
      expect((await noticesOf())[0]).toEqual({
        channel: 'email',
        sms_segments: null,
        sms_encoding: null,
        provider_status: null,
        provider_error_code: null,
        smtp_code: null,
      });
    });

    it('restores a lost outbox row with the same event id', async () => {
      const faxId = `fax-restore-${dialect}`;
      await tracker.handle(submitted(faxId, 'gina', ['r1']));
      await tracker.handle(result(faxId, 'r1', 1, 1, 'success', 3));
      const before = await outboxOf(faxId);
      expect(before).toHaveLength(2);
      await database.db.deleteFrom('outbox').where('fax_id', '=', faxId).execute();
      expect(await tracker.reconcileFax(faxId)).toBe(2);
      expect(await tracker.reconcileFax(faxId)).toBe(0);
      const after = await outboxOf(faxId);
      expect(after.map((row) => row.id)).toEqual(before.map((row) => row.id));
    });
  });
