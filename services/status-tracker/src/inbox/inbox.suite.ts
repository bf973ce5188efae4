import type { DeliveryFaxReceived } from '@faxnotify/contracts';
import { createLogger } from '@faxnotify/kit';
import { decodeMh } from '@faxnotify/fax-line';
import { StatusTracker } from '../tracker';
import { openTestDatabase, type TestDatabase } from '../testing/events';
import { received, testPage } from '../testing/received';
import { listReceived, loadPage, loadReceived, markRead, pruneReceived } from './store';

/** The Inbox's storage: run by inbox.test.ts on SQLite and inbox.int.test.ts on PostgreSQL. */
const logger = createLogger('status-tracker-test', 'silent');

export const describeInbox = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`Inbox on ${dialect}`, () => {
    let database: TestDatabase;
    let tracker: StatusTracker;
    const now = new Date('2026-12-07T09:00:00.000Z');

    beforeAll(async () => {
      database = await openTestDatabase(dialect, 'inbox');
      tracker = new StatusTracker({
        db: database.db,
        faxUrlTemplate: 'https://fax.example.test/faxes/{faxId}',
        inbox: { urlTemplate: 'https://fax.example.test/inbox/{receivedId}', attachMaxBytes: 5_000_000 },
        logger,
        now: () => now,
      });
    });

    afterAll(async () => {
      await database?.close();
      await database?.drop();
    });

    const outboxOf = async (receivedId: string) =>
      (await database.db.selectFrom('outbox').selectAll().where('fax_id', '=', receivedId).execute()).map(
        (row) => JSON.parse(row.event_json) as { id: string; type: string; data: DeliveryFaxReceived },
      );

    it('records a fax reported twice once, with its pages as binary, and announces it once with the PDF', async () => {
      const event = received(`rx-twice-${dialect}`, 'alice');
      expect(await tracker.handle(event)).toEqual({ duplicate: false, stale: false, outboxRows: 1 });
      // The same fax again (a redelivery, or the transmitter publishing it again after a restart): nothing changes.
      expect(await tracker.handle({ ...event, id: 'another-event-id' })).toEqual({ duplicate: true, stale: false, outboxRows: 0 });
      // Two deliveries at once: one records, the other sees it.
      const racing = received(`rx-race-${dialect}`, 'alice');
      const outcomes = await Promise.all([tracker.handle(racing), tracker.handle(racing)]);
      expect(outcomes.map((o) => o.outboxRows).sort()).toEqual([0, 1]);

      const faxes = await database.db.selectFrom('received_faxes').selectAll().where('id', 'in', [event.data.receivedId, racing.data.receivedId]).execute();
      expect(faxes).toHaveLength(2);
      expect(faxes.find((f) => f.id === event.data.receivedId)).toMatchObject({
        owner_id: 'alice',
        source: 'line',
        caller_number: '+390612345678',
        remote_csid: 'ACME <SALES> FAX',
        status: 'success',
        pages: 2,
        read_at: null,
        ended_at: '2026-12-07T08:01:30.000Z',
      });
      const pages = await database.db.selectFrom('received_pages').selectAll().where('fax_id', '=', event.data.receivedId).orderBy('page').execute();
      expect(pages.map((p) => [p.page, p.rows, p.resolution])).toEqual([
        [1, 2200, 'fine'],
        [2, 1100, 'standard'],
      ]);
      // The blob / bytea holds the MH data as sent, and it decodes to the page.
      expect(Buffer.from(pages[0].data).toString('base64')).toBe(event.data.pages[0].data);
      expect(decodeMh(Buffer.from(pages[1].data), 1728, { maxRows: 1100 }).bitmap.data).toEqual(testPage(1100, 'standard', 2).bitmap.data);

      const outbox = await outboxOf(event.data.receivedId);
      expect(outbox).toHaveLength(1);
      expect(outbox[0].type).toBe('faxnotify.delivery.fax.received.v1');
      const data = outbox[0].data;
      expect(data).toMatchObject({
        receivedId: event.data.receivedId,
        ownerId: 'alice',
        status: 'success',
        pagesReceived: 2,
        receivedAt: '2026-12-07T08:01:30.000Z',
        links: { fax: `https://fax.example.test/inbox/rx-twice-${dialect}` },
      });
      const pdf = Buffer.from(data.document!.data, 'base64');
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(data.document).toMatchObject({ fileName: 'fax.pdf', contentType: 'application/pdf', sizeBytes: pdf.length });
    });

    it('announces a fax whose PDF is above the cap with the link alone', async () => {
      const small = new StatusTracker({
        db: database.db,
        faxUrlTemplate: 'https://fax.example.test/faxes/{faxId}',
        inbox: { urlTemplate: 'https://fax.example.test/inbox/{receivedId}', attachMaxBytes: 1000 },
        logger,
      });
      const event = received(`rx-big-${dialect}`, 'bob');
      expect((await small.handle(event)).outboxRows).toBe(1);
      const [notice] = await outboxOf(event.data.receivedId);
      expect(notice.data.document).toBeUndefined();
      expect(notice.data.links.fax).toBe(`https://fax.example.test/inbox/rx-big-${dialect}`);
    });

    it('keeps a provider file as it came and refuses the same id for another owner', async () => {
      const file = Buffer.from('%PDF-1.4\n% a provider document\n%%EOF\n');
      const event = received(`rx-file-${dialect}`, 'carol', {
        source: 'faxplus',
        lineId: null,
        pages: [],
        file: { contentType: 'application/pdf', data: file.toString('base64') },
      });
      expect((await tracker.handle(event)).outboxRows).toBe(1);
      const row = await database.db.selectFrom('received_faxes').selectAll().where('id', '=', event.data.receivedId).executeTakeFirstOrThrow();
      expect(Buffer.from(row.file_data!)).toEqual(file);
      const [notice] = await outboxOf(event.data.receivedId);
      expect(Buffer.from(notice.data.document!.data, 'base64')).toEqual(file);
      await expect(tracker.handle(received(`rx-file-${dialect}`, 'mallory'))).rejects.toThrow(/another owner/);
    });

    it('reads the Inbox in the viewer scope: own faxes, an office admin also a member’s; marks read once', async () => {
      await tracker.handle(received(`rx-scope-erin-${dialect}`, `erin-${dialect}`));
      await tracker.handle(received(`rx-scope-fred-${dialect}`, `fred-${dialect}`, { endedAt: '2026-12-07T10:00:00.000Z' }));
      const at = now.toISOString();
      await database.db
        .insertInto('offices')
        .values({ id: `office-${dialect}`, name: 'Office', share_sent: 0, created_at: at, updated_at: at })
        .execute();
      await database.db
        .insertInto('office_members')
        .values([
          { user_id: `erin-${dialect}`, office_id: `office-${dialect}`, role: 'admin', display_name: null, created_at: at, updated_at: at },
          { user_id: `fred-${dialect}`, office_id: `office-${dialect}`, role: 'member', display_name: null, created_at: at, updated_at: at },
        ])
        .execute();
      const erin = { userId: `erin-${dialect}`, officeId: `office-${dialect}` };
      const fred = { userId: `fred-${dialect}`, officeId: `office-${dialect}` };
      expect((await listReceived(database.db, erin, 10)).entries.map((e) => e.id)).toEqual([`rx-scope-fred-${dialect}`, `rx-scope-erin-${dialect}`]);
      // A member of an office that does not share its folder: their own only (the condition reads the role again).
      expect((await listReceived(database.db, fred, 10)).entries.map((e) => e.id)).toEqual([`rx-scope-fred-${dialect}`]);
      expect(await loadReceived(database.db, fred, `rx-scope-erin-${dialect}`)).toBeUndefined();
      expect(await loadPage(database.db, fred, `rx-scope-erin-${dialect}`, 1)).toBeUndefined();
      expect((await loadPage(database.db, erin, `rx-scope-fred-${dialect}`, 2))?.rows).toBe(1100);
      expect((await loadReceived(database.db, erin, `rx-scope-fred-${dialect}`))?.pages.map((p) => p.page)).toEqual([1, 2]);
      await markRead(database.db, `rx-scope-fred-${dialect}`, new Date('2026-12-07T11:00:00.000Z'));
      await markRead(database.db, `rx-scope-fred-${dialect}`, new Date('2026-12-07T12:00:00.000Z'));
      expect((await loadReceived(database.db, fred, `rx-scope-fred-${dialect}`))?.fax.read_at).toBe('2026-12-07T11:00:00.000Z');
    });

    it('deletes received faxes and their pages past retention', async () => {
      const old = received(`rx-old-${dialect}`, 'dave');
      const past = new StatusTracker({
        db: database.db,
        faxUrlTemplate: 'https://fax.example.test/faxes/{faxId}',
        inbox: { urlTemplate: 'https://fax.example.test/inbox/{receivedId}', attachMaxBytes: 0 },
        logger,
        now: () => new Date('2025-01-01T00:00:00.000Z'),
      });
      await past.handle(old);
      expect(await pruneReceived(database.db, new Date('2025-06-01T00:00:00.000Z'))).toBe(1);
      expect(await database.db.selectFrom('received_pages').select('page').where('fax_id', '=', old.data.receivedId).execute()).toEqual([]);
      expect(await database.db.selectFrom('received_faxes').select('id').where('id', '=', `rx-twice-${dialect}`).execute()).toHaveLength(1);
    });
  });
