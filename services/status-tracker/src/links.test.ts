import { LINK_TOKEN_LENGTH, LinkTokens, tokenUrlTemplateOf } from './links';
import { openTestDatabase, type TestDatabase } from './testing/events';

/** Link tokens on their own: what a token is, what opens with it, and when it stops. */
const SECRET = 'link-token-test-secret-0123456789';
const DAY = 86_400_000;
let database: TestDatabase;
let clock: Date;
let tokens: LinkTokens;

beforeAll(async () => {
  database = await openTestDatabase('sqlite', 'link-tokens');
});

beforeEach(() => {
  clock = new Date('2026-12-01T10:00:00.000Z');
  tokens = new LinkTokens({ db: database.db, secret: SECRET, ttlMs: 30 * DAY, now: () => clock });
});

afterAll(async () => {
  await database?.close();
  await database?.drop();
});

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

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

it('places token links beside the fax pages unless a template is set', () => {
  expect(tokenUrlTemplateOf('http://127.0.0.1:8082/faxes/{faxId}', '')).toBe('http://127.0.0.1:8082/l/{token}');
  expect(tokenUrlTemplateOf('https://fax.example.test/app/faxes/{faxId}', '')).toBe('https://fax.example.test/app/l/{token}');
  expect(tokenUrlTemplateOf('https://fax.example.test/f/{faxId}', '')).toBe('https://fax.example.test/l/{token}');
  expect(tokenUrlTemplateOf('https://fax.example.test/f/{faxId}', 'https://x.example.test/{token}')).toBe('https://x.example.test/{token}');
});
