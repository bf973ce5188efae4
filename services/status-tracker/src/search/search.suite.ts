import { createLogger } from '@faxnotify/kit';
import { listFaxes, type FolderQuery } from '../folder';
import { listReceived } from '../inbox/store';
import { faxScopeOf, type FaxScope } from '../offices/scope';
import { StatusTracker } from '../tracker';
import { openTestDatabase, result, submitted, type TestDatabase } from '../testing/events';
import { received, testPage } from '../testing/received';
import { inboxExport, sentExport } from './export';
import { parseSearch, type SearchFilters, type SearchKind } from './filters';

/**
 * Searching the Sent folder and the Inbox over a real database, as the API, the pages and the
 * exports search them: text anywhere in the field whatever its case (Cyrillic and accents too),
 * `%` and `_` taken literally, a CSID of any recipient, a number by its digits, days in the
 * viewer's time zone, a state; paged like the folder; and never outside the viewer's scope.
 * Run by search.test.ts on SQLite and search.int.test.ts on PostgreSQL.
 *
 * Acme (not shared): anna its admin, alex a member. nora is in no office.
 */
export function describeSearch(dialect: 'sqlite' | 'postgres'): void {
  jest.setTimeout(60_000);
  let database: TestDatabase;
  const db = () => database.db;
  const AT = '2026-12-01T10:00:00.000Z';

  const SENT: Array<{ id: string; owner: string; subject: string; at: string; recipients: string[]; csids?: Record<string, string>; failed?: string[] }> = [
    { id: 'sent-invoice', owner: 'alex', subject: 'Счёт за ДЕКАБРЬ', at: '2026-12-06T21:30:00Z', recipients: ['r1', 'r2'], csids: { r2: 'ACME Légal' } },
    { id: 'sent-sale', owner: 'alex', subject: '50% off_sale', at: '2026-12-05T10:00:00Z', recipients: ['r3'], csids: { r3: 'Bravo 100%' } },
    { id: 'sent-units', owner: 'alex', subject: '500 units offxsale', at: '2026-12-04T10:00:00Z', recipients: ['r4'], failed: ['r4'] },
    { id: 'sent-anna', owner: 'anna', subject: 'Città di Roma', at: '2026-12-03T10:00:00Z', recipients: ['r5'], csids: { r5: 'ACME ROMA' } },
    { id: 'sent-nora', owner: 'nora', subject: 'Счёт nora', at: '2026-12-06T21:30:00Z', recipients: ['r1'], csids: { r1: 'ACME Légal' } },
  ];

  /** What a search finds for a viewer, following the cursor page by page (the folder's own paging). */
  async function found(viewer: string, query: Record<string, string>, limit = 50, tz = 'Europe/Moscow', extra: Partial<FolderQuery> = {}): Promise<string[]> {
    const filters = filtersOf('sent', query, tz);
    const scope = await faxScopeOf(db(), viewer);
    const ids: string[] = [];
    let cursor: FolderQuery['cursor'];
    for (;;) {
      const page = await listFaxes(db(), { owner: scope, limit, cursor, filters, ...extra });
      ids.push(...page.entries.map((e) => e.fax.id));
      if (!page.nextCursor) return ids;
      const [submittedAt, id] = JSON.parse(Buffer.from(page.nextCursor, 'base64url').toString('utf8')) as [string, string];
      cursor = { submittedAt, id };
    }
  }

  async function foundReceived(viewer: string, query: Record<string, string>, limit = 50, tz = 'UTC'): Promise<string[]> {
    const filters = filtersOf('inbox', query, tz);
    const scope: FaxScope = await faxScopeOf(db(), viewer);
    const ids: string[] = [];
    let cursor: { endedAt: string; id: string } | undefined;
    for (;;) {
      const page = await listReceived(db(), scope, limit, cursor, filters);
      ids.push(...page.entries.map((e) => e.id));
      if (!page.nextCursor) return ids;
      const [endedAt, id] = JSON.parse(Buffer.from(page.nextCursor, 'base64url').toString('utf8')) as [string, string];
      cursor = { endedAt, id };
    }
  }

  function filtersOf(kind: SearchKind, query: Record<string, string>, tz: string): SearchFilters {
    const parsed = parseSearch(kind, query, tz);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.filters;
  }

  beforeAll(async () => {
    database = await openTestDatabase(dialect, 'search');
    const tracker = new StatusTracker({
      db: database.db,
      faxUrlTemplate: 'https://fax.example.test/faxes/{faxId}',
      inbox: { urlTemplate: 'https://fax.example.test/inbox/{receivedId}', attachMaxBytes: 5_000_000 },
      logger: createLogger('search-test', 'silent'),
    });
    for (const fax of SENT) {
      await tracker.handle(submitted(fax.id, fax.owner, fax.recipients, { subject: fax.subject, submittedAt: fax.at }));
      for (const r of fax.recipients) {
        if (fax.failed?.includes(r)) await tracker.handle(result(fax.id, r, 1, 1, 'failed_user_busy', 0));
        else if (fax.csids?.[r]) await tracker.handle(result(fax.id, r, 1, 1, 'success', 3, { remoteCsid: fax.csids[r] }));
      }
    }
    const page = testPage(40, 'standard').page;
    const inbound = [
      { id: 'rx-acme', owner: 'alex', caller: '+390612345678', csid: 'ACME Ünïcode', status: 'success' as const, at: '2026-12-07T08:00:00.000Z' },
      { id: 'rx-other', owner: 'alex', caller: '+12025550199', csid: 'OTHER_FAX', status: 'failed' as const, at: '2026-12-06T08:00:00.000Z' },
      { id: 'rx-nora', owner: 'nora', caller: '+390612345678', csid: 'ACME Ünïcode', status: 'success' as const, at: '2026-12-07T09:00:00.000Z' },
    ];
    for (const r of inbound) {
      await tracker.handle(
        received(r.id, r.owner, {
          callerNumber: r.caller,
          remoteCsid: r.csid,
          status: r.status,
          startedAt: r.at,
          endedAt: r.at,
          pagesReceived: r.status === 'failed' ? 0 : 1,
          pages: r.status === 'failed' ? [] : [page],
        }),
      );
    }
    await db().insertInto('offices').values({ id: 'acme', name: 'Acme', share_sent: 0, created_at: AT, updated_at: AT }).execute();
    await db()
      .insertInto('office_members')
      .values([
        { user_id: 'anna', office_id: 'acme', role: 'admin', display_name: 'Anna A.', created_at: AT, updated_at: AT },
        { user_id: 'alex', office_id: 'acme', role: 'member', display_name: 'Alex P.', created_at: AT, updated_at: AT },
      ])
      .execute();
  });

  afterAll(async () => {
    await database?.close();
    await database?.drop();
  });

  describe(`searching the Sent folder on ${dialect}`, () => {
    it('finds a subject anywhere in it, whatever its case, Cyrillic and accents included', async () => {
      expect(await found('alex', { subject: 'декабрь' })).toEqual(['sent-invoice']);
      expect(await found('alex', { subject: 'СЧЁТ' })).toEqual(['sent-invoice']);
      expect(await found('anna', { subject: 'CITTÀ' })).toEqual(['sent-anna']);
      expect(await found('alex', { subject: 'OFF' })).toEqual(['sent-sale', 'sent-units']);
    });

    it('takes % and _ literally', async () => {
      expect(await found('alex', { subject: '50%' })).toEqual(['sent-sale']);
      expect(await found('alex', { subject: 'off_sale' })).toEqual(['sent-sale']);
      expect(await found('alex', { csid: '100%' })).toEqual(['sent-sale']);
      expect(await found('alex', { subject: '%' })).toEqual(['sent-sale']);
    });

    it('finds a fax by the CSID of any of its recipients, and by the digits of a number', async () => {
      expect(await found('alex', { csid: 'acme légal' })).toEqual(['sent-invoice']);
      expect(await found('alex', { number: '555 0104' })).toEqual(['sent-units']);
      expect(await found('alex', { number: '+1 202 555' })).toEqual(['sent-invoice', 'sent-sale', 'sent-units']);
      expect(await found('alex', { number: '555 0102', csid: 'Légal' })).toEqual(['sent-invoice']);
      expect(await found('alex', { number: '555 0103', csid: 'Légal' })).toEqual([]);
    });

    it('reads a date range as whole days in the time zone', async () => {
      // sent-invoice is 2026-12-06 21:30 UTC: the 6th in London, already the 7th in Moscow.
      expect(await found('alex', { from: '2026-12-07' }, 50, 'Europe/Moscow')).toEqual(['sent-invoice']);
      expect(await found('alex', { from: '2026-12-07' }, 50, 'Europe/London')).toEqual([]);
      expect(await found('alex', { from: '2026-12-05', to: '2026-12-06' }, 50, 'Europe/London')).toEqual(['sent-invoice', 'sent-sale']);
      expect(await found('alex', { to: '2026-12-04' }, 50, 'Europe/London')).toEqual(['sent-units']);
    });

    it('filters by aggregate state and category, together with the text', async () => {
      expect(await found('alex', { state: 'failed' })).toEqual(['sent-units']);
      expect(await found('alex', { state: 'delivered' })).toEqual(['sent-sale']);
      expect(await found('alex', { subject: 'off' }, 50, 'UTC', { category: 'outbox' })).toEqual([]);
      expect(await found('alex', { subject: 'off' }, 50, 'UTC', { category: 'sent' })).toEqual(['sent-sale', 'sent-units']);
    });

    it('pages a search the way the folder pages', async () => {
      const all = await found('anna', { number: '1202555' });
      expect(all).toEqual(['sent-invoice', 'sent-sale', 'sent-units', 'sent-anna']);
      for (const limit of [1, 2, 3]) expect(await found('anna', { number: '1202555' }, limit)).toEqual(all);
    });

    it("never finds a fax outside the viewer's scope", async () => {
      // nora's fax has the same CSID and a subject alike; each finds only what their folder holds.
      expect(await found('nora', { csid: 'ACME' })).toEqual(['sent-nora']);
      expect(await found('alex', { csid: 'ACME' })).toEqual(['sent-invoice']);
      expect(await found('anna', { csid: 'ACME' })).toEqual(['sent-invoice', 'sent-anna']);
      expect(await found('anna', { subject: 'счёт' })).toEqual(['sent-invoice']);
      expect(await found('mallory', { subject: 'счёт' })).toEqual([]);
    });

    it('exports what a search finds with a row per listed recipient, and who sent each fax', async () => {
      const filters = filtersOf('sent', { csid: 'acme' }, 'UTC');
      const exported = await sentExport(db(), { owner: await faxScopeOf(db(), 'anna'), filters });
      expect(exported.map((f) => [f.fax.id, f.sentBy, f.recipients.map((r) => [r.number, r.remote_csid, r.status])])).toEqual([
        [
          'sent-invoice',
          'Alex P.',
          [
            ['+12025550101', null, 'queued'],
            ['+12025550102', 'ACME Légal', 'success'],
          ],
        ],
        ['sent-anna', 'Anna A.', [['+12025550105', 'ACME ROMA', 'success']]],
      ]);
      // Batches follow the folder's cursor and stop at the limit.
      const everything = await sentExport(db(), { owner: await faxScopeOf(db(), 'anna'), filters: {} }, 3);
      expect(everything.map((f) => f.fax.id)).toEqual(['sent-invoice', 'sent-sale', 'sent-units']);
    });
  });

  describe(`searching the Inbox on ${dialect}`, () => {
    it("finds by the caller's digits, the CSID whatever its case, the status and the day", async () => {
      expect(await foundReceived('alex', { number: '06 1234' })).toEqual(['rx-acme']);
      expect(await foundReceived('alex', { csid: 'ünïcode' })).toEqual(['rx-acme']);
      expect(await foundReceived('alex', { csid: 'other_' })).toEqual(['rx-other']);
      expect(await foundReceived('alex', { csid: 'othe_' })).toEqual([]);
      expect(await foundReceived('alex', { status: 'failed' })).toEqual(['rx-other']);
      expect(await foundReceived('alex', { from: '2026-12-07' })).toEqual(['rx-acme']);
      expect(await foundReceived('alex', { to: '2026-12-06' }, 1)).toEqual(['rx-other']);
      expect(await foundReceived('alex', {}, 1)).toEqual(['rx-acme', 'rx-other']);
    });

    it("never finds a received fax outside the viewer's scope, and exports what it finds", async () => {
      expect(await foundReceived('nora', { csid: 'acme' })).toEqual(['rx-nora']);
      expect(await foundReceived('anna', { csid: 'acme' })).toEqual(['rx-acme']);
      expect(await foundReceived('mallory', { csid: 'acme' })).toEqual([]);
      const exported = await inboxExport(db(), await faxScopeOf(db(), 'anna'), filtersOf('inbox', { number: '39' }, 'UTC'));
      expect(exported.map((f) => [f.id, f.caller_number, f.remote_csid])).toEqual([['rx-acme', '+390612345678', 'ACME Ünïcode']]);
    });
  });
}
