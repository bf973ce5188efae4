import { SecretBox } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { hashSecret } from './ingest/recorder';
import { secretContext } from './secrets';
import { TEST_SECRET, TEST_SECRETS_KEY, startTestApp, type TestApp } from './testing/app';
import { result, submitted } from './testing/events';
import { FakeReplixFax } from './testing/replixfax';
import { ALICE_SECRET, INGEST_SECRET, KEY_C, PASSWORD, idOf, trackerApi } from './testing/secrets';
import { WebhookReceiver } from './testing/webhook-receiver';
import type { WebhookSetView, WebhookView } from './webhook-api';

/**
 * Secrets at rest in the service's requests: webhook signing secrets, ingest secrets and ReplixFax
 * passwords stored encrypted and used for deliveries, posts and polls; a value under a key the
 * server does not have fails only its own; without a key, secrets are stored in clear.
 */

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

  const api = trackerApi(() => service.url, TEST_SECRET);
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

  const api = trackerApi(() => service.url, TEST_SECRET);

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
