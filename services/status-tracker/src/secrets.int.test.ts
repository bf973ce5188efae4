import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox, createLogger, issueToken, type Logger } from '@faxnotify/kit';
import { createTestVhost, eventually, type TestVhost } from '@faxnotify/peers';
import type { ErrorView } from './api';
import { startStatusTracker, type RunningStatusTracker } from './index';
import { hashSecret } from './ingest/recorder';
import { sealStoredSecrets, secretContext } from './secrets';
import { TEST_SECRET, TEST_SECRETS_KEY, startTestApp, type TestApp } from './testing/app';
import { openTestDatabase, result, submitted, type TestDatabase } from './testing/events';
import { FakeReplixFax } from './testing/replixfax';
import { WebhookReceiver } from './testing/webhook-receiver';
import type { WebhookSetView, WebhookView } from './webhook-api';

/**
 * Secrets at rest: owners' webhook signing secrets, provider accounts' ingest secrets and ReplixFax
 * passwords are stored encrypted under `secrets.key`, bound to their row; the start-up pass
 * encrypts what was stored in clear and moves values off previous keys; a value under a key the
 * server does not have fails its own webhook, post or poll with a reason, and nothing else.
 */
const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('hex');
const KEY_C = randomBytes(32).toString('base64url');
const idOf = (key: string) => new SecretBox({ key }).currentKeyId!;

const ALICE_SECRET = 'whsec_alice-signing-secret-0123456789';
/** The longest secret the API takes: its encrypted form must still fit the column. */
const LONG_SECRET = `whsec_${'x'.repeat(194)}`;
const INGEST_SECRET = 'replix-shared-secret-0123456789';
const PASSWORD = 'replix-api-password-0123';

/** A logger that records what it is given, level by level. */
function recordingLogger(): { logger: Logger; lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const logger = createLogger('status-tracker-test', 'silent');
  for (const level of ['info', 'warn', 'error'] as const)
    jest.spyOn(logger, level).mockImplementation(((fields: Record<string, unknown>, msg: string) => {
      lines.push({ level, fields, msg });
    }) as never);
  return { logger, lines };
}

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

describe('secrets at rest through the service', () => {
  const LOOPBACK = ['127.0.0.0/8', '::1/128'];
  let service: TestApp;
  const receiver = new WebhookReceiver();
  const replix = new FakeReplixFax('zoe-user', PASSWORD);

  beforeAll(async () => {
    // zoe and victor set up their provider accounts themselves: they are this tracker's ingest admin users.
    service = await startTestApp('secrets-at-rest', {
      allowedPrivateRanges: LOOPBACK,
      webhooks: { firstRetryMs: 150, maxRetryMs: 400 },
      ingestAdminUsers: ['zoe', 'victor'],
    });
    await receiver.start();
    await replix.start();
    service.webhooks.start();
  });

  afterAll(async () => {
    await receiver.stop();
    await replix.stop();
    await service?.close();
  });

  const api = async <Answer = ErrorView>(method: string, path: string, user: string, body?: unknown) => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (response.status === 204 ? null : await response.json()) as Answer };
  };
  const webhookRow = (owner: string) => service.database.db.selectFrom('webhooks').selectAll().where('owner_id', '=', owner).executeTakeFirstOrThrow();
  const accountRow = (account: string) =>
    service.database.db.selectFrom('provider_accounts').selectAll().where('account', '=', account).executeTakeFirstOrThrow();
  const deliver = async (faxId: string, owner: string) => {
    await service.tracker.handle(submitted(faxId, owner, ['r1']));
    await service.tracker.handle(result(faxId, 'r1', 1, 3, 'success', 3));
    service.webhooks.kick();
  };
  const replixPost = (account: string, token: string, faxId: string) =>
    fetch(`${service.url}/ingest/replixfax/${account}?token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        FaxId: faxId,
        FaxStatus: 'sent',
        ErrorCode: '0',
        ErrorText: '',
        DestFaxNumber: '+12025550170',
        CSI: 'FAR END',
        CompleteTime: '2026-11-22T10:00:00Z',
        PagesSent: '2',
        TotalPages: '2',
      }).toString(),
    });

  it('keeps the webhook secret the owner got out of the database, and every POST verifies with it', async () => {
    const set = await api<WebhookSetView>('PUT', '/v1/webhooks', 'yuri', { url: receiver.url });
    expect(set.status).toBe(200);
    const secret = set.body.secret;
    expect(secret).toMatch(/^whsec_/);
    const row = await webhookRow('yuri');
    expect(row.secret.startsWith(`v1:${idOf(TEST_SECRETS_KEY)}:`)).toBe(true);
    expect(row.secret).not.toContain(secret);
    expect(row.secret).not.toContain(secret.slice(6, 20));
    expect((await api('GET', '/v1/webhooks', 'yuri')).body).toMatchObject({ secretHint: `…${secret.slice(-4)}` });

    receiver.secret = secret;
    await deliver('fax-sealed-hook', 'yuri');
    await eventually(() => receiver.received.some((r) => r.body.includes('fax-sealed-hook')));
    expect(receiver.received.filter((r) => r.body.includes('fax-sealed-hook')).map((r) => r.verified)).toEqual([true]);
  });

  it('still signs with a secret stored in clear before the key was set', async () => {
    const at = new Date().toISOString();
    receiver.secret = 'whsec_stored-before-the-key-0123';
    await service.database.db
      .insertInto('webhooks')
      .values({ owner_id: 'xena', url: receiver.url, secret: receiver.secret, created_at: at, updated_at: at })
      .execute();
    await deliver('fax-clear-hook', 'xena');
    await eventually(() => receiver.received.some((r) => r.body.includes('fax-clear-hook')));
    expect(receiver.received.filter((r) => r.body.includes('fax-clear-hook')).map((r) => r.verified)).toEqual([true]);
  });

  it('stores the ingest secret and the ReplixFax password encrypted; takes the right secret, refuses a wrong one, and polls with the password', async () => {
    const set = await api('PUT', '/v1/ingest/accounts/replixfax/zoe-rpx', 'zoe', {
      secret: INGEST_SECRET,
      baseUrl: replix.url,
      username: 'zoe-user',
      password: PASSWORD,
    });
    expect(set.status).toBe(200);
    expect(JSON.stringify(set.body)).not.toContain(PASSWORD);
    const row = await accountRow('zoe-rpx');
    for (const value of [row.secret_hash, row.password!]) {
      expect(value.startsWith(`v1:${idOf(TEST_SECRETS_KEY)}:`)).toBe(true);
      for (const clear of [INGEST_SECRET, hashSecret(INGEST_SECRET), PASSWORD]) expect(value).not.toContain(clear);
    }

    expect((await replixPost('zoe-rpx', INGEST_SECRET, 'ZR-1')).status).toBe(200);
    expect((await replixPost('zoe-rpx', `${INGEST_SECRET}x`, 'ZR-2')).status).toBe(401);
    expect((await replixPost('zoe-rpx', INGEST_SECRET.slice(0, -1), 'ZR-2')).status).toBe(401);
    // The fake provider answers 401 to any other password, which would fail the poll.
    replix.add({
      FaxId: 'ZR-3',
      FaxStatus: 'sent',
      ErrorCode: '0',
      ErrorText: '',
      DestFaxNumber: '+12025550171',
      CSI: 'FAR END',
      CompleteTime: '2026-11-22T11:00:00Z',
      PagesSent: '1',
    });
    const poll = await api('POST', '/v1/ingest/accounts/replixfax/zoe-rpx/poll', 'zoe');
    expect(poll).toMatchObject({ status: 200, body: { seen: 1, recorded: 1 } });
    expect((await accountRow('zoe-rpx')).last_poll_error).toBeNull();
  });

  it('a secret under a key the server does not have fails its own delivery, post, poll and view with the reason, and nothing else', async () => {
    const foreign = new SecretBox({ key: KEY_C });
    const at = new Date().toISOString();
    receiver.secret = 'whsec_victor-secret-0123456789';
    await service.database.db
      .insertInto('webhooks')
      .values({
        owner_id: 'victor',
        url: receiver.url,
        secret: foreign.seal(receiver.secret, secretContext.webhookSecret('victor')),
        created_at: at,
        updated_at: at,
      })
      .execute();
    expect(
      (
        await api('PUT', '/v1/ingest/accounts/replixfax/victor-rpx', 'victor', {
          secret: INGEST_SECRET,
          baseUrl: replix.url,
          username: 'zoe-user',
          password: PASSWORD,
        })
      ).status,
    ).toBe(200);
    await service.database.db
      .updateTable('provider_accounts')
      .set({
        secret_hash: foreign.seal(hashSecret(INGEST_SECRET), secretContext.ingestSecretDigest('replixfax', 'victor-rpx')),
        password: foreign.seal(PASSWORD, secretContext.providerPassword('replixfax', 'victor-rpx')),
      })
      .where('account', '=', 'victor-rpx')
      .execute();
    const reason = `it is encrypted under key ${idOf(KEY_C)}, which is not configured (current key ${idOf(TEST_SECRETS_KEY)}; previous keys none)`;

    // The view: no hint, and why.
    expect((await api('GET', '/v1/webhooks', 'victor')).body).toMatchObject({
      secretHint: null,
      secretProblem: expect.stringMatching(/^the secret cannot be decrypted by the server.*\(unknown_key\)$/),
    });

    // The delivery: nothing POSTed, the attempt recorded with the reason, retried later (the operator may restore the key).
    await deliver('fax-foreign-hook', 'victor');
    const delivery = () => service.database.db.selectFrom('webhook_deliveries').selectAll().where('fax_id', '=', 'fax-foreign-hook').executeTakeFirstOrThrow();
    await eventually(async () => (await delivery()).attempts >= 1);
    expect(await delivery()).toMatchObject({
      status: 'pending',
      last_status_code: null,
      last_error: `the webhook signing secret of owner victor cannot be decrypted: ${reason}; add that key to secrets.key / secrets.previousKeys (STATUS_TRACKER_SECRETS_KEY / STATUS_TRACKER_SECRETS_PREVIOUS_KEYS)`,
    });
    const attempts = await service.database.db.selectFrom('webhook_attempts').selectAll().where('fax_id', '=', 'fax-foreign-hook').execute();
    expect(attempts[0]).toMatchObject({ outcome: 'retry', status_code: null, error: expect.stringContaining('cannot be decrypted') });
    expect(receiver.received.some((r) => r.body.includes('fax-foreign-hook'))).toBe(false);

    // The post: not treated as a wrong (or empty) secret, but as the server's problem.
    const post = await replixPost('victor-rpx', INGEST_SECRET, 'VR-1');
    expect(post.status).toBe(503);
    expect(await post.json()).toEqual({
      error: 'secret_unreadable',
      message: "the account's stored secret cannot be decrypted by the server; try again later",
    });
    expect((await replixPost('victor-rpx', '', 'VR-1')).status).toBe(503);

    // The poll: nothing sent to the provider without the password; the account's poll error says why.
    const requests = replix.requests.length;
    const poll = await api('POST', '/v1/ingest/accounts/replixfax/victor-rpx/poll', 'victor');
    expect(poll).toEqual({
      status: 503,
      body: {
        error: 'secret_unreadable',
        message: `the ReplixFax password of account victor-rpx cannot be decrypted: ${reason}; add that key to secrets.key / secrets.previousKeys (STATUS_TRACKER_SECRETS_KEY / STATUS_TRACKER_SECRETS_PREVIOUS_KEYS)`,
      },
    });
    expect(replix.requests.length).toBe(requests);
    expect((await accountRow('victor-rpx')).last_poll_error).toBe(poll.body.message);

    // Everyone else is served as before.
    expect((await replixPost('zoe-rpx', INGEST_SECRET, 'ZR-4')).status).toBe(200);
    expect((await api<WebhookView>('GET', '/v1/webhooks', 'yuri')).body.secretHint).toMatch(/^…/);
  });
});

describe('without a key', () => {
  let service: TestApp;

  beforeAll(async () => {
    service = await startTestApp('secrets-in-clear', { secrets: { key: '' }, ingestAdminUsers: ['uma'] });
  });

  afterAll(async () => {
    await service?.close();
  });

  const api = async <Answer = ErrorView>(method: string, path: string, user: string, body: unknown) => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Answer };
  };

  it('stores secrets in clear, and refuses one it could not tell from an encrypted value', async () => {
    expect((await api('PUT', '/v1/webhooks', 'uma', { url: 'https://hooks.example.test/uma', secret: ALICE_SECRET })).status).toBe(200);
    expect((await service.database.db.selectFrom('webhooks').select('secret').where('owner_id', '=', 'uma').executeTakeFirstOrThrow()).secret).toBe(
      ALICE_SECRET,
    );
    const lookalike = 'v1:0a1b2c3d:AAAAAAAAAAAAAAAA:AAAA:AAAAAAAAAAAAAAAAAAAAAA';
    expect(await api('PUT', '/v1/webhooks', 'uma', { url: 'https://hooks.example.test/uma', secret: lookalike })).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/^secret has the form of an encrypted value/) },
    });
    expect(await api('PUT', '/v1/ingest/accounts/replixfax/uma-rpx', 'uma', { secret: INGEST_SECRET, username: 'uma', password: lookalike })).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/^password has the form of an encrypted value .*secrets\.key/) },
    });
    expect((await api('PUT', '/v1/ingest/accounts/replixfax/uma-rpx', 'uma', { secret: INGEST_SECRET, username: 'uma', password: PASSWORD })).status).toBe(200);
    const account = await service.database.db.selectFrom('provider_accounts').selectAll().where('account', '=', 'uma-rpx').executeTakeFirstOrThrow();
    expect(account).toMatchObject({ secret_hash: hashSecret(INGEST_SECRET), password: PASSWORD });
  });
});

describe('the service across restarts', () => {
  jest.setTimeout(30_000);
  let vhost: TestVhost;
  let dataDir: string;
  let service: RunningStatusTracker | undefined;
  const SERVICE_JWT_SECRET = 'status-tracker-secrets-jwt-0123456789';
  const WEBHOOK_SECRET = 'whsec_wendy-signing-secret-0123456789';

  beforeAll(async () => {
    vhost = await createTestVhost('status-tracker-secrets');
    dataDir = mkdtempSync(join(tmpdir(), 'status-tracker-secrets-'));
  });

  afterAll(async () => {
    await service?.stop();
    await vhost?.delete();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts the service on the same SQLite file with these secrets settings (after stopping the one running). */
  const restart = async (secrets: Record<string, unknown>) => {
    await service?.stop();
    service = undefined;
    service = await startStatusTracker({
      'log.level': 'silent',
      'amqp.url': vhost.amqpUrl,
      'db.sqlitePath': join(dataDir, 'tracker.sqlite'),
      'http.port': 0,
      'auth.jwtSecret': SERVICE_JWT_SECRET,
      'ingest.accounts': JSON.stringify([{ provider: 'faxplus', account: 'ops-fp', ownerId: 'ops', secret: INGEST_SECRET }]),
      'ingest.adminUsers': ['wendy'],
      ...secrets,
    });
    return service;
  };
  const api = async <Answer = ErrorView>(method: string, path: string, user: string, body?: unknown) => {
    const response = await fetch(`${service!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await issueToken({ secret: SERVICE_JWT_SECRET }, user)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (response.status === 204 ? null : await response.json()) as Answer };
  };
  const faxPlusPost = (token: string) =>
    fetch(`${service!.url}/ingest/faxplus/ops-fp?token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        hook: { id: 'restart-fax', event: 'fax_sent', event_time: '2026-11-22 10:44:39' },
        data: { id: 'restart-session', pages: 1, to: '+12025550172', start_time: '2026-11-22 10:43:10', status: 'success' },
      }),
    });
  const storedValues = async () => {
    const hook = await service!.db.selectFrom('webhooks').select('secret').where('owner_id', '=', 'wendy').executeTakeFirstOrThrow();
    const accounts = await service!.db.selectFrom('provider_accounts').select(['account', 'secret_hash', 'password']).orderBy('account').execute();
    return [hook.secret, ...accounts.flatMap((a) => [a.secret_hash, a.password]).filter((v): v is string => v !== null)];
  };

  it('stores in clear without a key; encrypts everything at the first start with one; moves it to a new key; and starts with a wrong key too', async () => {
    // The embedded default: no key, no setup, secrets in clear.
    await restart({});
    expect((await api('PUT', '/v1/webhooks', 'wendy', { url: 'https://hooks.example.test/wendy', secret: WEBHOOK_SECRET })).status).toBe(200);
    expect(
      (await api('PUT', '/v1/ingest/accounts/replixfax/wendy-rpx', 'wendy', { secret: INGEST_SECRET, username: 'wendy', password: PASSWORD })).status,
    ).toBe(200);
    expect(await storedValues()).toEqual([WEBHOOK_SECRET, hashSecret(INGEST_SECRET), hashSecret(INGEST_SECRET), PASSWORD]);
    expect((await faxPlusPost(INGEST_SECRET)).status).toBe(200);

    // A key set: the start encrypts what is there, and what configuration writes is encrypted too.
    await restart({ 'secrets.key': KEY_A });
    expect((await storedValues()).map((v) => v.slice(0, 12))).toEqual(Array(4).fill(`v1:${idOf(KEY_A)}:`));
    expect((await api('GET', '/v1/webhooks', 'wendy')).body).toMatchObject({ secretHint: `…${WEBHOOK_SECRET.slice(-4)}` });
    expect((await faxPlusPost(INGEST_SECRET)).status).toBe(200);
    expect((await faxPlusPost('not-the-ingest-secret-at-all')).status).toBe(401);

    // Rotation: the new key current, the old one previous.
    await restart({ 'secrets.key': KEY_B, 'secrets.previousKeys': [KEY_A] });
    expect((await storedValues()).map((v) => v.slice(0, 12))).toEqual(Array(4).fill(`v1:${idOf(KEY_B)}:`));
    expect((await api('GET', '/v1/webhooks', 'wendy')).body).toMatchObject({ secretHint: `…${WEBHOOK_SECRET.slice(-4)}` });

    // A wrong key: the service starts; what it cannot read fails with the reason. (The configured
    // account is written afresh from configuration, so it works.)
    await restart({ 'secrets.key': KEY_C });
    expect((await api('GET', '/v1/webhooks', 'wendy')).body).toMatchObject({ secretHint: null, secretProblem: expect.stringContaining('cannot be decrypted') });
    const replixPost = await fetch(`${service!.url}/ingest/replixfax/wendy-rpx?token=${encodeURIComponent(INGEST_SECRET)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        FaxId: 'WR-1',
        FaxStatus: 'sent',
        DestFaxNumber: '+12025550173',
        CompleteTime: '2026-11-22T10:00:00Z',
        PagesSent: '1',
      }).toString(),
    });
    expect(replixPost.status).toBe(503);
    expect((await faxPlusPost(INGEST_SECRET)).status).toBe(200);

    // The right key back: everything reads again.
    await restart({ 'secrets.key': KEY_B });
    expect((await api('GET', '/v1/webhooks', 'wendy')).body).toMatchObject({ secretHint: `…${WEBHOOK_SECRET.slice(-4)}` });
  });
});
