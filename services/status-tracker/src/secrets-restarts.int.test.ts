import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestVhost, type TestVhost } from '@faxnotify/peers';
import { startStatusTracker, type RunningStatusTracker } from './index';
import { hashSecret } from './ingest/recorder';
import { INGEST_SECRET, KEY_A, KEY_B, KEY_C, PASSWORD, idOf, trackerApi } from './testing/secrets';

/** Secrets at rest across restarts of the whole service: in clear, encrypted, rotated, under a wrong key and back. */

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
  const api = trackerApi(() => service!.url, SERVICE_JWT_SECRET);
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
