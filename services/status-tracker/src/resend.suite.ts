import { createEvent, type FaxResendOrdered, type ResendVia } from '@faxnotify/contracts';
import { PermanentError, createLogger } from '@faxnotify/kit';
import { StatusTracker } from './tracker';
import { numberOf, openTestDatabase, result, submitted, type TestDatabase } from './testing/events';

/**
 * Resend to the failed (resend.ts) on one storage dialect: who gets the new fax and which pages,
 * the refusals, who may ask, the idempotency of a request, the bus command, and the link both
 * ways. Run by resend.test.ts on SQLite and resend.int.test.ts on PostgreSQL.
 */
const logger = createLogger('status-tracker-test', 'silent');
const LINK = 'https://fax.example.test/faxes/{faxId}';

export const describeResend = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`resend to the failed on ${dialect}`, () => {
    let database: TestDatabase;
    let tracker: StatusTracker;

    beforeAll(async () => {
      database = await openTestDatabase(dialect, 'resend');
      tracker = new StatusTracker({ db: database.db, faxUrlTemplate: LINK, logger });
      const now = new Date().toISOString();
      await database.db.insertInto('offices').values({ id: 'office-1', name: 'Front desk', share_sent: 1, created_at: now, updated_at: now }).execute();
      await database.db
        .insertInto('office_members')
        .values(
          (
            [
              ['alice', 'member'],
              ['olga', 'admin'],
              ['mario', 'member'],
            ] as const
          ).map(([user_id, role]) => ({ user_id, office_id: 'office-1', role, display_name: null, created_at: now, updated_at: now })),
        )
        .execute();
    });

    afterAll(async () => {
      await database?.close();
      await database?.drop();
    });

    const orders = async (faxId: string) =>
      (await database.db.selectFrom('outbox').selectAll().where('routing_key', '=', 'fax.resend.ordered').orderBy('seq').execute())
        .map((row) => JSON.parse(row.event_json) as { id: string; type: string; subject: string; data: FaxResendOrdered })
        .filter((event) => event.data.resendOf === faxId);

    /** A final fax of alice's: r1 success, r2 busy, r3 partially sent (2 of 3 pages). */
    const finalFax = async (faxId: string) => {
      await tracker.handle(submitted(faxId, 'alice', ['r1', 'r2', 'r3']));
      await tracker.handle(result(faxId, 'r1', 1, 5, 'success', 3));
      await tracker.handle(result(faxId, 'r2', 1, 1, 'failed_user_busy', 0));
      await tracker.handle(result(faxId, 'r3', 1, 4, 'partially_sent', 2));
    };
    const ask = (faxId: string, actor: string, onlyMissingPages: boolean, requestId?: string, requestedVia: ResendVia = 'api') =>
      tracker.requestResend(faxId, actor, { onlyMissingPages, requestedVia, ...(requestId ? { requestId } : {}) });

    it('orders a new fax of the same documents for exactly the recipients that did not get every page', async () => {
      const faxId = `fax-resend-all-${dialect}`;
      await finalFax(faxId);
      const outcome = await ask(faxId, 'alice', false, 'req-all');
      expect(outcome).toMatchObject({
        ok: true,
        resendOf: faxId,
        duplicate: false,
        recipients: [{ number: numberOf('r2') }, { number: numberOf('r3') }],
      });
      if (!outcome.ok) return;
      expect(outcome.faxId).toMatch(/^fax-[0-9a-f-]{36}$/);
      expect(outcome.recipients.every((r) => r.pages === undefined)).toBe(true);
      const [order, ...more] = await orders(faxId);
      expect(more).toEqual([]);
      expect(order.type).toBe('faxnotify.fax.resend.ordered.v1');
      expect(order.subject).toBe(`fax/${outcome.faxId}`);
      expect(order.data).toMatchObject({ faxId: outcome.faxId, resendOf: faxId, ownerId: 'alice', requestId: 'req-all', recipients: outcome.recipients });
      const row = await database.db.selectFrom('resends').selectAll().where('fax_id', '=', faxId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ requested_by: 'alice', new_fax_id: outcome.faxId, only_missing_pages: 0, requested_via: 'api' });
    });

    it('gives a partially sent recipient only its missing pages when asked', async () => {
      const faxId = `fax-resend-missing-${dialect}`;
      await finalFax(faxId);
      const outcome = await ask(faxId, 'alice', true);
      expect(outcome).toMatchObject({ ok: true, recipients: [{ number: numberOf('r2') }, { number: numberOf('r3'), pages: { first: 3, last: 3 } }] });
      expect(outcome.ok && outcome.recipients[0].pages).toBeUndefined();
    });

    it('makes one fax per request id however often it comes, and refuses the id for another fax', async () => {
      const faxId = `fax-resend-once-${dialect}`;
      await finalFax(faxId);
      const first = await ask(faxId, 'alice', false, 'req-once');
      const again = await ask(faxId, 'alice', false, 'req-once');
      expect(again).toEqual({ ...first, duplicate: true });
      expect(await orders(faxId)).toHaveLength(1);
      // Two requests with their own ids are two resends.
      expect(await ask(faxId, 'alice', false, 'req-twice')).toMatchObject({ ok: true, duplicate: false });
      expect(await orders(faxId)).toHaveLength(2);
      const other = `fax-resend-other-${dialect}`;
      await finalFax(other);
      expect(await ask(other, 'alice', false, 'req-once')).toMatchObject({ ok: false, error: 'request_reused' });
      expect(await orders(other)).toHaveLength(0);
    });

    it('refuses clearly a fax not final, one where nothing failed, and one the asker does not see', async () => {
      const running = `fax-resend-running-${dialect}`;
      await tracker.handle(submitted(running, 'alice', ['r1', 'r2']));
      await tracker.handle(result(running, 'r1', 1, 1, 'failed_user_busy', 0));
      expect(await ask(running, 'alice', false)).toMatchObject({ ok: false, error: 'not_final', message: expect.stringContaining('still being sent') });
      const delivered = `fax-resend-delivered-${dialect}`;
      await tracker.handle(submitted(delivered, 'alice', ['r1']));
      await tracker.handle(result(delivered, 'r1', 1, 5, 'success', 3));
      expect(await ask(delivered, 'alice', false)).toMatchObject({ ok: false, error: 'nothing_failed' });
      expect(await ask(`fax-nowhere-${dialect}`, 'alice', false)).toMatchObject({ ok: false, error: 'not_found' });
      const bobs = `fax-resend-bob-${dialect}`;
      await tracker.handle(submitted(bobs, 'bob', ['r1']));
      await tracker.handle(result(bobs, 'r1', 1, 1, 'failed_user_busy', 0));
      expect(await ask(bobs, 'alice', false)).toMatchObject({ ok: false, error: 'not_found' });
      for (const faxId of [running, delivered, bobs]) expect(await orders(faxId)).toHaveLength(0);
    });

    it("lets an admin of the owner's office resend, not a colleague who only sees the fax", async () => {
      const faxId = `fax-resend-office-${dialect}`;
      await finalFax(faxId);
      expect(await ask(faxId, 'mario', false)).toMatchObject({ ok: false, error: 'forbidden' });
      const outcome = await ask(faxId, 'olga', false, 'req-admin');
      expect(outcome).toMatchObject({ ok: true });
      // The new fax is the owner's: her documents, her notices.
      expect((await orders(faxId))[0].data.ownerId).toBe('alice');
    });

    it('takes the bus command: one new fax per requestId, a refusal dead-lettered with its reason', async () => {
      const faxId = `fax-resend-bus-${dialect}`;
      await finalFax(faxId);
      const command = createEvent(
        'fax.resend.requested',
        { faxId, ownerId: 'alice', onlyMissingPages: true, requestedVia: 'xmpp', requestId: 'xmpp-msg-1' },
        { source: '/faxnotify/notifier' },
      );
      expect(await tracker.handle(command)).toEqual({ duplicate: false, stale: false, outboxRows: 1 });
      expect(await tracker.handle(command)).toEqual({ duplicate: true, stale: false, outboxRows: 0 });
      const [order, ...more] = await orders(faxId);
      expect(more).toEqual([]);
      expect(order.data.recipients).toEqual([{ number: numberOf('r2') }, { number: numberOf('r3'), pages: { first: 3, last: 3 } }]);
      const stranger = createEvent(
        'fax.resend.requested',
        { faxId, ownerId: 'mallory', onlyMissingPages: false, requestedVia: 'xmpp', requestId: 'xmpp-msg-2' },
        { source: '/faxnotify/notifier' },
      );
      await expect(tracker.handle(stranger)).rejects.toThrow(PermanentError);
      await expect(tracker.handle(stranger)).rejects.toThrow(/refused \(not_found\)/);
      expect(await orders(faxId)).toHaveLength(1);
    });

    it('links the new fax to the old one, and counts a resent recipient’s missing pages in the documents’ numbering', async () => {
      const faxId = `fax-resend-linked-${dialect}`;
      await finalFax(faxId);
      const outcome = await ask(faxId, 'alice', true);
      if (!outcome.ok) throw new Error(outcome.message);
      // The transmitter submits the new fax: r3 is given page 3 only, r2 everything; a five-page document this time.
      await tracker.handle(
        submitted(outcome.faxId, 'alice', ['r2', 'r3'], {
          resendOf: faxId,
          pages: 5,
          recipients: [
            { recipientId: 'r2', number: numberOf('r2') },
            { recipientId: 'r3', number: numberOf('r3'), pages: { first: 3, last: 5 } },
          ],
        }),
      );
      const fax = await database.db.selectFrom('faxes').selectAll().where('id', '=', outcome.faxId).executeTakeFirstOrThrow();
      expect(fax.resend_of).toBe(faxId);
      const r3 = await database.db
        .selectFrom('recipients')
        .selectAll()
        .where('fax_id', '=', outcome.faxId)
        .where('recipient_id', '=', 'r3')
        .executeTakeFirstOrThrow();
      expect(r3).toMatchObject({ first_page: 3, pages_total: 3 });
      await tracker.handle(result(outcome.faxId, 'r2', 1, 3, 'failed_no_answer', 0, { pagesTotal: 5 }));
      await tracker.handle(result(outcome.faxId, 'r3', 1, 3, 'partially_sent', 1, { pagesTotal: 3 }));
      const again = await ask(outcome.faxId, 'alice', true);
      expect(again).toMatchObject({
        ok: true,
        resendOf: outcome.faxId,
        recipients: [{ number: numberOf('r2') }, { number: numberOf('r3'), pages: { first: 4, last: 5 } }],
      });
      // Without "only the missing pages", r3 gets its whole share again.
      expect(await ask(outcome.faxId, 'alice', false)).toMatchObject({
        ok: true,
        recipients: [{ number: numberOf('r2') }, { number: numberOf('r3'), pages: { first: 3, last: 5 } }],
      });
    });
  });
