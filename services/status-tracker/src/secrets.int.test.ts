import { SecretBox } from '@faxnotify/kit';
import { hashSecret } from './ingest/recorder';
import { sealStoredSecrets, secretContext } from './secrets';
import { openTestDatabase, type TestDatabase } from './testing/events';
import { ALICE_SECRET, INGEST_SECRET, KEY_A, KEY_B, KEY_C, LONG_SECRET, PASSWORD, idOf, recordingLogger } from './testing/secrets';

/**
 * Secrets at rest: owners' webhook signing secrets, provider accounts' ingest secrets and ReplixFax
 * passwords are stored encrypted under `secrets.key`, bound to their row; the start-up pass
 * encrypts what was stored in clear and moves values off previous keys; a value under a key the
 * server does not have fails its own webhook, post or poll with a reason, and nothing else. Here
 * the start-up pass; secrets-service.int.test.ts has the service's requests with stored secrets,
 * secrets-restarts.int.test.ts the service across restarts with changing keys.
 */

// PostgreSQL at TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432); `none` runs SQLite only.
const dialects = process.env.TEST_POSTGRES_URL === 'none' ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const);

describe.each(dialects)('the start-up pass over stored secrets on %s', (dialect) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await openTestDatabase(dialect, 'secrets');
  });

  afterEach(async () => {
    await database?.close();
    await database?.drop();
  });

  /** Rows as a tracker without encryption wrote them: the webhook secrets and the password in clear, the ingest secret as its SHA-256. */
  async function seedInClear(): Promise<void> {
    const at = new Date().toISOString();
    await database.db
      .insertInto('webhooks')
      .values([
        { owner_id: 'alice', url: 'https://hooks.example.test/a', secret: ALICE_SECRET, created_at: at, updated_at: at },
        { owner_id: 'bob', url: 'https://hooks.example.test/b', secret: LONG_SECRET, created_at: at, updated_at: at },
      ])
      .execute();
    const account = {
      owner_id: 'carol',
      base_url: null,
      username: null,
      source: 'api',
      last_polled_at: null,
      last_poll_error: null,
      created_at: at,
      updated_at: at,
    };
    await database.db
      .insertInto('provider_accounts')
      .values([
        {
          ...account,
          provider: 'replixfax',
          account: 'carol-rpx',
          secret_hash: hashSecret(INGEST_SECRET),
          password: PASSWORD,
          base_url: 'https://api.replix.test/v1',
          username: 'carol',
        },
        { ...account, provider: 'faxplus', account: 'carol-fp', secret_hash: hashSecret(INGEST_SECRET), password: null },
      ])
      .execute();
  }

  const stored = async () => {
    const hooks = await database.db.selectFrom('webhooks').select(['owner_id', 'secret']).orderBy('owner_id').execute();
    const accounts = await database.db.selectFrom('provider_accounts').select(['provider', 'account', 'secret_hash', 'password']).orderBy('provider').execute();
    return {
      alice: hooks[0].secret,
      bob: hooks[1].secret,
      faxplusDigest: accounts[0].secret_hash,
      replixDigest: accounts[1].secret_hash,
      password: accounts[1].password!,
      faxplusPassword: accounts[0].password,
    };
  };

  /** Every stored value opened with `box`, as the tracker opens them. */
  const opened = async (box: SecretBox) => {
    const s = await stored();
    return {
      alice: box.open(s.alice, secretContext.webhookSecret('alice')),
      bob: box.open(s.bob, secretContext.webhookSecret('bob')),
      faxplusDigest: box.open(s.faxplusDigest, secretContext.ingestSecretDigest('faxplus', 'carol-fp')),
      replixDigest: box.open(s.replixDigest, secretContext.ingestSecretDigest('replixfax', 'carol-rpx')),
      password: box.open(s.password, secretContext.providerPassword('replixfax', 'carol-rpx')),
    };
  };
  const CLEAR = {
    alice: ALICE_SECRET,
    bob: LONG_SECRET,
    faxplusDigest: hashSecret(INGEST_SECRET),
    replixDigest: hashSecret(INGEST_SECRET),
    password: PASSWORD,
  };

  it('without a key: changes nothing, and warns with the count of secrets in clear and how to set the key', async () => {
    await seedInClear();
    const { logger, lines } = recordingLogger();
    expect(await sealStoredSecrets(database.db, new SecretBox(), logger)).toEqual({ encrypted: 0, reencrypted: 0, current: 0, clear: 5, unreadable: 0 });
    expect(await stored()).toEqual({
      alice: ALICE_SECRET,
      bob: LONG_SECRET,
      faxplusDigest: CLEAR.faxplusDigest,
      replixDigest: CLEAR.replixDigest,
      password: PASSWORD,
      faxplusPassword: null,
    });
    expect(lines.map((l) => l.level)).toEqual(['warn']);
    expect(lines[0].msg).toMatch(
      /^5 stored secrets are not encrypted .*set secrets\.key \(STATUS_TRACKER_SECRETS_KEY\) to 32 random bytes as base64 or hex, e\.g\. `openssl rand -base64 32`/,
    );
  });

  it('with a key: encrypts every value from before, once; none is in the database in clear, each opens to what it was', async () => {
    await seedInClear();
    const box = new SecretBox({ key: KEY_A });
    const { logger, lines } = recordingLogger();
    expect(await sealStoredSecrets(database.db, box, logger)).toEqual({ encrypted: 5, reencrypted: 0, current: 0, clear: 0, unreadable: 0 });
    const after = await stored();
    for (const [name, value] of Object.entries(CLEAR)) {
      const now = after[name as keyof typeof CLEAR];
      expect(now.startsWith(`v1:${idOf(KEY_A)}:`)).toBe(true);
      expect(now).not.toContain(value);
      expect(now).not.toContain(value.slice(0, 16));
    }
    expect(after.faxplusPassword).toBeNull();
    expect(await opened(box)).toEqual(CLEAR);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: `stored secrets under key ${idOf(KEY_A)}: 5 encrypted from clear, 0 re-encrypted from a previous key, 0 already current`,
      }),
    ]);

    // Idempotent: a second start finds everything current and rewrites nothing.
    expect(await sealStoredSecrets(database.db, box, recordingLogger().logger)).toEqual({ encrypted: 0, reencrypted: 0, current: 5, clear: 0, unreadable: 0 });
    expect(await stored()).toEqual(after);
  });

  it('rotates: with a new key and the old one as previous, every value moves to the new key; the old key alone reads none', async () => {
    await seedInClear();
    await sealStoredSecrets(database.db, new SecretBox({ key: KEY_A }), recordingLogger().logger);
    const rotated = new SecretBox({ key: KEY_B, previousKeys: [KEY_A] });
    const { logger, lines } = recordingLogger();
    expect(await sealStoredSecrets(database.db, rotated, logger)).toEqual({ encrypted: 0, reencrypted: 5, current: 0, clear: 0, unreadable: 0 });
    expect(lines[0].msg).toBe(
      `stored secrets under key ${idOf(KEY_B)}: 0 encrypted from clear, 5 re-encrypted from a previous key, 0 already current; none is left under a previous key, so secrets.previousKeys may be emptied`,
    );
    const after = await stored();
    expect([after.alice, after.bob, after.faxplusDigest, after.replixDigest, after.password].every((v) => v.startsWith(`v1:${idOf(KEY_B)}:`))).toBe(true);
    expect(await opened(new SecretBox({ key: KEY_B }))).toEqual(CLEAR);
    expect(() => new SecretBox({ key: KEY_A }).open(after.alice, secretContext.webhookSecret('alice'))).toThrow(
      `it is encrypted under key ${idOf(KEY_B)}, which is not configured`,
    );
  });

  it('logs each value it cannot decrypt by row, with the reason, goes on with the others, and never throws', async () => {
    await seedInClear();
    await sealStoredSecrets(database.db, new SecretBox({ key: KEY_A }), recordingLogger().logger);
    // A row written in clear meanwhile, and bob's value copied into dave's row.
    const at = new Date().toISOString();
    const bob = (await stored()).bob;
    await database.db
      .insertInto('webhooks')
      .values([
        { owner_id: 'erin', url: 'https://hooks.example.test/e', secret: 'whsec_erin-secret-0123456789', created_at: at, updated_at: at },
        { owner_id: 'dave', url: 'https://hooks.example.test/d', secret: bob, created_at: at, updated_at: at },
      ])
      .execute();
    const wrongKey = new SecretBox({ key: KEY_C, settings: 'secrets.key / secrets.previousKeys' });
    const { logger, lines } = recordingLogger();
    expect(await sealStoredSecrets(database.db, wrongKey, logger)).toEqual({ encrypted: 1, reencrypted: 0, current: 0, clear: 0, unreadable: 6 });
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(7);
    expect(errors[0].fields).toEqual({
      table: 'webhooks',
      ownerId: 'alice',
      reason: 'unknown_key',
      err: `the webhook signing secret of owner alice cannot be decrypted: it is encrypted under key ${idOf(KEY_A)}, which is not configured (current key ${idOf(KEY_C)}; previous keys none); add that key to secrets.key / secrets.previousKeys`,
    });
    expect(errors.map((e) => e.fields.err)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^the ingest secret of faxplus account carol-fp cannot be decrypted: it is encrypted under key/),
        expect.stringMatching(/^the ReplixFax password of account carol-rpx cannot be decrypted: it is encrypted under key/),
      ]),
    );
    expect(errors[6].msg).toMatch(/^6 stored secrets cannot be decrypted with the configured keys/);
    // Nothing it could not read was rewritten; erin's secret is now under the configured key.
    const hooks = await database.db.selectFrom('webhooks').select(['owner_id', 'secret']).orderBy('owner_id').execute();
    expect(hooks.find((h) => h.owner_id === 'alice')!.secret.startsWith(`v1:${idOf(KEY_A)}:`)).toBe(true);
    expect(wrongKey.open(hooks.find((h) => h.owner_id === 'erin')!.secret, secretContext.webhookSecret('erin'))).toBe('whsec_erin-secret-0123456789');

    // With the right key back, the value moved to dave's row is still refused: it belongs to bob's.
    const { logger: again, lines: later } = recordingLogger();
    expect(await sealStoredSecrets(database.db, new SecretBox({ key: KEY_C, previousKeys: [KEY_A] }), again)).toMatchObject({
      reencrypted: 5,
      current: 1,
      unreadable: 1,
    });
    expect(later.find((l) => l.level === 'error')!.fields).toMatchObject({
      ownerId: 'dave',
      reason: 'tampered',
      err: expect.stringMatching(
        /^the webhook signing secret of owner dave cannot be decrypted: it fails authentication under key [0-9a-f]{8}: the stored value was altered, or copied from another row$/,
      ),
    });
  });
});
