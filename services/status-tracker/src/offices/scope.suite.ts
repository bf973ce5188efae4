import { createLogger } from '@faxnotify/kit';
import { faxVersion, listFaxes, loadFax, type FolderQuery } from '../folder';
import { StatusTracker } from '../tracker';
import { openTestDatabase, outcome, result, submitted, type TestDatabase } from '../testing/events';
import { faxScopeOf, type FaxScope } from './scope';

/**
 * Whose faxes a user sees: their own; every member's of their office when they are its admin or
 * the office shares its Sent folder; nobody else's. Read over the embedded database as the API
 * and the pages read it (listFaxes, loadFax, faxVersion with the scope faxScopeOf gives).
 *
 * Acme (not shared): anna admin, alex and amy members. Bravo (shared): bea and ben members.
 * nora belongs to no office. The same cases on each storage dialect (scope.test.ts, scope.int.test.ts).
 */
export function describeFaxScope(dialect: 'sqlite' | 'postgres'): void {
  let database: TestDatabase;
  const AT = '2026-12-01T10:00:00.000Z';
  const FAXES: Array<[faxId: string, owner: string, submittedAt: string]> = [
    ['fax-anna', 'anna', '2026-11-20T09:00:00Z'],
    ['fax-alex', 'alex', '2026-11-20T10:00:00Z'],
    ['fax-amy', 'amy', '2026-11-20T11:00:00Z'],
    ['fax-amy-2', 'amy', '2026-11-20T11:00:00Z'],
    ['fax-bea', 'bea', '2026-11-20T12:00:00Z'],
    ['fax-ben', 'ben', '2026-11-20T13:00:00Z'],
    ['fax-nora', 'nora', '2026-11-20T14:00:00Z'],
  ];

  const db = () => database.db;
  const member = (user_id: string, office_id: string, role: 'member' | 'admin', display_name: string | null = null) =>
    db().insertInto('office_members').values({ user_id, office_id, role, display_name, created_at: AT, updated_at: AT }).execute();

  /** Every fax id the scope lists, following the cursor page by page. */
  async function listed(scope: FaxScope | string, query: Partial<FolderQuery> = {}, limit = 50): Promise<string[]> {
    const ids: string[] = [];
    let cursor: FolderQuery['cursor'];
    for (;;) {
      const page = await listFaxes(db(), { owner: scope, limit, cursor, ...query });
      ids.push(...page.entries.map((e) => e.fax.id));
      if (!page.nextCursor) return ids;
      const [submittedAt, id] = JSON.parse(Buffer.from(page.nextCursor, 'base64url').toString('utf8')) as [string, string];
      cursor = { submittedAt, id };
    }
  }

  /** What a user sees now: the folder's ids (sorted), and whether each fax opens (page and live stream alike). */
  async function sees(user: string) {
    const scope = await faxScopeOf(db(), user);
    const opens: string[] = [];
    for (const [faxId] of FAXES) {
      const record = await loadFax(db(), scope, faxId);
      const version = await faxVersion(db(), scope, faxId);
      expect({ faxId, record: record !== undefined }).toEqual({ faxId, record: version !== undefined });
      if (record) opens.push(faxId);
    }
    return { folder: (await listed(scope)).sort(), opens: opens.sort() };
  }

  beforeAll(async () => {
    database = await openTestDatabase(dialect, 'office-scope');
    const tracker = new StatusTracker({
      db: database.db,
      faxUrlTemplate: 'https://fax.example.test/faxes/{faxId}',
      logger: createLogger('scope-test', 'silent'),
    });
    for (const [faxId, owner, submittedAt] of FAXES) await tracker.handle(submitted(faxId, owner, ['r1'], { submittedAt, subject: `Subject of ${faxId}` }));
    await tracker.handle(result('fax-alex', 'r1', 1, 1, 'success', 3));
    await tracker.handle(outcome('fax-alex', 'r1', 'alex', 'email', { outcome: 'sent', address: 'alex@example.test' }));
    await db()
      .insertInto('offices')
      .values([
        { id: 'acme', name: 'Acme', share_sent: 0, created_at: AT, updated_at: AT },
        { id: 'bravo', name: 'Bravo', share_sent: 1, created_at: AT, updated_at: AT },
      ])
      .execute();
    await member('anna', 'acme', 'admin');
    await member('alex', 'acme', 'member', 'Alex Petrov');
    await member('amy', 'acme', 'member');
    await member('bea', 'bravo', 'member');
    await member('ben', 'bravo', 'member');
  });

  afterAll(async () => {
    await database?.close();
    await database?.drop();
  });

  describe(`the Sent folder's scope on ${dialect}`, () => {
    it('is their own faxes for a user in no office', async () => {
      expect(await faxScopeOf(db(), 'nora')).toEqual({ userId: 'nora', officeId: null });
      expect(await sees('nora')).toEqual({ folder: ['fax-nora'], opens: ['fax-nora'] });
      // A user id alone (what the pages passed before offices) is the same scope.
      expect(await listed('nora')).toEqual(['fax-nora']);
    });

    it("is their own faxes for a member of an office that does not share its folder: a colleague's fax does not open", async () => {
      expect(await faxScopeOf(db(), 'alex')).toEqual({ userId: 'alex', officeId: null });
      expect(await sees('alex')).toEqual({ folder: ['fax-alex'], opens: ['fax-alex'] });
      expect(await sees('amy')).toEqual({ folder: ['fax-amy', 'fax-amy-2'], opens: ['fax-amy', 'fax-amy-2'] });
    });

    it("is every member's faxes for the office's admin, each with who sent it, and no other office's", async () => {
      expect(await faxScopeOf(db(), 'anna')).toEqual({ userId: 'anna', officeId: 'acme' });
      const acme = ['fax-alex', 'fax-amy', 'fax-amy-2', 'fax-anna'];
      expect(await sees('anna')).toEqual({ folder: acme, opens: acme });
      const { entries } = await listFaxes(db(), { owner: await faxScopeOf(db(), 'anna'), limit: 10 });
      expect(entries.map((e) => [e.fax.id, e.sender])).toEqual([
        ['fax-amy-2', { userId: 'amy', name: null }],
        ['fax-amy', { userId: 'amy', name: null }],
        ['fax-alex', { userId: 'alex', name: 'Alex Petrov' }],
        ['fax-anna', { userId: 'anna', name: null }],
      ]);
    });

    it("is every member's faxes for every member of an office that shares its folder", async () => {
      expect(await sees('bea')).toEqual({ folder: ['fax-bea', 'fax-ben'], opens: ['fax-bea', 'fax-ben'] });
      expect(await sees('ben')).toEqual({ folder: ['fax-bea', 'fax-ben'], opens: ['fax-bea', 'fax-ben'] });
    });

    it("keeps a colleague's notice addresses and webhook deliveries from the viewer; the owner sees them", async () => {
      const byAdmin = await loadFax(db(), await faxScopeOf(db(), 'anna'), 'fax-alex');
      expect(byAdmin).toMatchObject({ own: false, sender: { userId: 'alex', name: 'Alex Petrov' }, webhooks: [] });
      expect(byAdmin!.notices.map((n) => [n.channel, n.outcome, n.address])).toEqual([['email', 'sent', null]]);
      const byOwner = await loadFax(db(), await faxScopeOf(db(), 'alex'), 'fax-alex');
      expect(byOwner).toMatchObject({ own: true });
      expect(byOwner!.notices.map((n) => n.address)).toEqual(['alex@example.test']);
    });

    it('pages stably through an office-wide folder (two faxes at the same second included) and keeps its filters', async () => {
      const anna = await faxScopeOf(db(), 'anna');
      const all = await listed(anna);
      for (const limit of [1, 2, 3]) expect(await listed(anna, {}, limit)).toEqual(all);
      expect(all).toEqual(['fax-amy-2', 'fax-amy', 'fax-alex', 'fax-anna']);
      expect(await listed(anna, { category: 'sent' })).toEqual(['fax-alex']);
      expect(await listed(anna, { category: 'outbox' }, 1)).toEqual(['fax-amy-2', 'fax-amy', 'fax-anna']);
      expect(await listed(anna, { state: 'delivered' })).toEqual(['fax-alex']);
    });

    it('follows a removal at once, even for a scope taken before it: the member is back to their own, the office no longer sees theirs', async () => {
      const benBefore = await faxScopeOf(db(), 'ben');
      const annaBefore = await faxScopeOf(db(), 'anna');
      await db().deleteFrom('office_members').where('user_id', 'in', ['ben', 'amy']).execute();
      try {
        expect(await sees('ben')).toEqual({ folder: ['fax-ben'], opens: ['fax-ben'] });
        expect(await sees('bea')).toEqual({ folder: ['fax-bea'], opens: ['fax-bea'] });
        expect(await sees('amy')).toEqual({ folder: ['fax-amy', 'fax-amy-2'], opens: ['fax-amy', 'fax-amy-2'] });
        expect(await sees('anna')).toEqual({ folder: ['fax-alex', 'fax-anna'], opens: ['fax-alex', 'fax-anna'] });
        // A live stream keeps the scope it started with; its next poll already follows the removal.
        expect(await listed(benBefore)).toEqual(['fax-ben']);
        expect(await faxVersion(db(), benBefore, 'fax-bea')).toBeUndefined();
        expect(await listed(annaBefore)).toEqual(['fax-alex', 'fax-anna']);
      } finally {
        await member('ben', 'bravo', 'member');
        await member('amy', 'acme', 'member');
      }
    });

    it('follows the office ceasing to share its folder, and a demotion, for scopes taken before', async () => {
      const bea = await faxScopeOf(db(), 'bea');
      const anna = await faxScopeOf(db(), 'anna');
      await db().updateTable('offices').set({ share_sent: 0 }).where('id', '=', 'bravo').execute();
      await db().updateTable('office_members').set({ role: 'member' }).where('user_id', '=', 'anna').execute();
      try {
        expect(await listed(bea)).toEqual(['fax-bea']);
        expect(await sees('bea')).toEqual({ folder: ['fax-bea'], opens: ['fax-bea'] });
        expect(await listed(anna)).toEqual(['fax-anna']);
        expect(await loadFax(db(), anna, 'fax-alex')).toBeUndefined();
      } finally {
        await db().updateTable('offices').set({ share_sent: 1 }).where('id', '=', 'bravo').execute();
        await db().updateTable('office_members').set({ role: 'admin' }).where('user_id', '=', 'anna').execute();
      }
    });
  });
}
