import { createLogger } from '@faxnotify/kit';
import { LINK_TOKEN_LENGTH, LinkTokens } from './links';
import { StatusTracker } from './tracker';
import { openTestDatabase, result, submitted, type TestDatabase } from './testing/events';

/**
 * Link tokens on their own (what a token is, what opens with it, and when it stops) and as the
 * tracker mints them, run by links.test.ts on the embedded SQLite file and by links.int.test.ts
 * on PostgreSQL.
 */
const SECRET = 'link-token-test-secret-0123456789';
const DAY = 86_400_000;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export const describeLinkTokens = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`link tokens on ${dialect}`, () => {
    let database: TestDatabase;
    let clock: Date;
    let tokens: LinkTokens;

    beforeAll(async () => {
      database = await openTestDatabase(dialect, 'link-tokens');
    });

    beforeEach(() => {
      clock = new Date('2026-12-01T10:00:00.000Z');
      tokens = new LinkTokens({ db: database.db, secret: SECRET, ttlMs: 30 * DAY, now: () => clock });
    });

    afterAll(async () => {
      await database?.close();
      await database?.drop();
    });

    it('is 24 URL-safe characters and opens its fax for its owner, until it expires', async () => {
      const token = await tokens.mint(database.db, 'alice', 'fax-1');
      expect(token).toHaveLength(LINK_TOKEN_LENGTH);
      expect(token).toMatch(/^[A-Za-z0-9_-]{24}$/);
      await expect(tokens.check(token)).resolves.toEqual({ ok: true, grant: { faxId: 'fax-1', ownerId: 'alice', expiresAt: '2026-12-31T10:00:00.000Z' } });
      // A second token for the same fax is another token.
      expect(await tokens.mint(database.db, 'alice', 'fax-1')).not.toBe(token);

      clock = new Date('2026-12-31T09:59:59.999Z');
      await expect(tokens.check(token)).resolves.toMatchObject({ ok: true });
      clock = new Date('2026-12-31T10:00:00.000Z');
      await expect(tokens.check(token)).resolves.toEqual({ ok: false, reason: 'expired' });
    });

    it('refuses a token with any one character changed', async () => {
      const token = await tokens.mint(database.db, 'alice', 'fax-2');
      for (let i = 0; i < token.length; i += 1) {
        const other = ALPHABET[(ALPHABET.indexOf(token[i]) + 1 + i) % ALPHABET.length];
        const changed = `${token.slice(0, i)}${other}${token.slice(i + 1)}`;
        const check = await tokens.check(changed);
        // A changed id names no row (or, by a 1 in 2^72 chance, another one whose MAC does not fit); a changed MAC does not fit.
        expect(check).toEqual({ ok: false, reason: i < 12 ? 'unknown' : 'tampered' });
      }
      for (const bad of ['', token.slice(0, 23), `${token}A`, `${token.slice(0, 23)}=`, `${token.slice(0, 23)}.`, '../../etc/passwd']) {
        await expect(tokens.check(bad)).resolves.toEqual({ ok: false, reason: 'malformed' });
      }
      await expect(tokens.check(token)).resolves.toMatchObject({ ok: true });
    });

    it('opens only the fax and owner it was minted for: a row edited to another fax, owner or expiry fails its MAC', async () => {
      const token = await tokens.mint(database.db, 'alice', 'fax-3');
      const id = token.slice(0, 12);
      for (const change of [{ fax_id: 'fax-4' }, { owner_id: 'mallory' }, { expires_at: '2036-12-01T10:00:00.000Z' }]) {
        const before = await database.db.selectFrom('link_tokens').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        await database.db.updateTable('link_tokens').set(change).where('id', '=', id).execute();
        await expect(tokens.check(token)).resolves.toEqual({ ok: false, reason: 'tampered' });
        await database.db.updateTable('link_tokens').set(before).where('id', '=', id).execute();
      }
      await expect(tokens.check(token)).resolves.toMatchObject({ ok: true, grant: { faxId: 'fax-3' } });
      // The same id under another secret's MAC does not verify either: the key is the service's own.
      const elsewhere = new LinkTokens({ db: database.db, secret: 'another-secret-0123456789abcdef', ttlMs: DAY, now: () => clock });
      await expect(elsewhere.check(token)).resolves.toEqual({ ok: false, reason: 'tampered' });
    });

    it("signs out every link of the owner issued until now, and only the owner's", async () => {
      const first = await tokens.mint(database.db, 'bob', 'fax-5');
      const second = await tokens.mint(database.db, 'bob', 'fax-6');
      const carol = await tokens.mint(database.db, 'carol', 'fax-7');
      clock = new Date(clock.getTime() + 60_000);
      const { revoked, revokedAt } = await tokens.revokeAll('bob');
      expect(revoked).toBe(2);
      expect(revokedAt).toBe('2026-12-01T10:01:00.000Z');
      await expect(tokens.check(first)).resolves.toEqual({ ok: false, reason: 'revoked' });
      await expect(tokens.check(second)).resolves.toEqual({ ok: false, reason: 'revoked' });
      await expect(tokens.check(carol)).resolves.toMatchObject({ ok: true });
      // A link minted afterwards (a later result's notice) works.
      clock = new Date(clock.getTime() + 1000);
      const later = await tokens.mint(database.db, 'bob', 'fax-5');
      await expect(tokens.check(later)).resolves.toMatchObject({ ok: true, grant: { faxId: 'fax-5' } });
      // Revoking again counts only what still worked.
      await expect(tokens.revokeAll('bob')).resolves.toMatchObject({ revoked: 1 });
    });

    it('is minted by the tracker once per pass that writes delivery events; the webhook body keeps the plain fax link', async () => {
      const now = new Date('2026-12-01T10:00:00.000Z');
      const tracker = new StatusTracker({
        db: database.db,
        faxUrlTemplate: 'https://fax.example.test/faxes/{faxId}',
        linkTokens: { tokens, urlTemplate: 'https://fax.example.test/l/{token}' },
        logger: createLogger('status-tracker-test', 'silent'),
        now: () => now,
      });
      await database.db
        .insertInto('webhooks')
        .values({
          owner_id: 'dora',
          url: 'https://hooks.example.test/fax',
          secret: 'a-webhook-secret-of-length',
          created_at: now.toISOString(),
          updated_at: now.toISOString(),
        })
        .execute();
      await tracker.handle(submitted('fax-T1', 'dora', ['r1', 'r2'], { subject: 'Two', submittedAt: '2026-12-01T09:00:00Z' }));
      await tracker.handle(result('fax-T1', 'r1', 1, 3, 'success', 1));
      await tracker.handle(result('fax-T1', 'r2', 1, 3, 'success', 1));
      // A redelivered result writes nothing, so mints nothing.
      await tracker.handle(result('fax-T1', 'r2', 1, 3, 'success', 1));
      const rows = await database.db.selectFrom('outbox').select(['routing_key', 'event_json']).where('fax_id', '=', 'fax-T1').orderBy('seq').execute();
      const links = rows.map((r) => (JSON.parse(r.event_json) as { data: { links: { fax: string } } }).data.links.fax);
      expect(rows.map((r) => r.routing_key)).toEqual(['delivery.recipient.final', 'delivery.recipient.final', 'delivery.fax.final']);
      for (const link of links) expect(link).toMatch(/^https:\/\/fax\.example\.test\/l\/[A-Za-z0-9_-]{24}$/);
      // r1's pass, then r2's pass with the fax's final event: two tokens, both opening the fax.
      expect(links[1]).toBe(links[2]);
      expect(links[0]).not.toBe(links[1]);
      expect(await database.db.selectFrom('link_tokens').select('id').where('fax_id', '=', 'fax-T1').execute()).toHaveLength(2);
      for (const link of links) await expect(tokens.check(link.slice(-24))).resolves.toMatchObject({ ok: true, grant: { faxId: 'fax-T1', ownerId: 'dora' } });
      const hooks = await database.db.selectFrom('webhook_deliveries').select('data_json').where('fax_id', '=', 'fax-T1').execute();
      expect(hooks).toHaveLength(2);
      for (const hook of hooks) {
        expect(hook.data_json).toContain('"link":"https://fax.example.test/faxes/fax-T1"');
        expect(hook.data_json).not.toContain('/l/');
      }
    });
  });
