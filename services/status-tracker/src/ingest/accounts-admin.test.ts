import { issueToken } from '@faxnotify/kit';
import { loadStatusTrackerConfig } from '../config';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import type { ProviderAccountsView } from './routes';

/**
 * Provider accounts decide whose Sent folder a provider's results land in, so only the users in
 * ingest.adminUsers set them up, change, delete or query them; an ordinary signed-in user gets 403
 * on each of those routes, changes nothing, and reads only the accounts they own.
 */
const ADMIN = 'operator';
const SECRET = 'acme-shared-secret-0123';

let service: TestApp;

const call = async <Answer = { error: string; message: string }>(user: string, method: string, path: string, body?: unknown) => {
  const headers: Record<string, string> = { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${service.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Answer };
};

/** A provider's post to the account's ingest URL, with the secret it presents. */
const post = async (account: string, secret: string) =>
  (await fetch(`${service.url}/ingest/faxplus/${account}?token=${secret}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }))
    .status;

beforeAll(async () => {
  service = await startTestApp('ingest-admin', { ingestAdminUsers: [ADMIN] });
});

afterAll(async () => {
  await service?.close();
});

describe("provider accounts are the admin users' to set up", () => {
  it('lets an admin user set up an account for an owner, who then reads it and nothing else', async () => {
    const created = await call(ADMIN, 'PUT', '/v1/ingest/accounts/faxplus/acme-fp', { secret: SECRET, ownerId: 'alice' });
    expect(created).toMatchObject({ status: 200, body: { provider: 'faxplus', account: 'acme-fp', ownerId: 'alice' } });
    expect((await call(ADMIN, 'PUT', '/v1/ingest/accounts/faxplus/ops-fp', { secret: SECRET })).body).toMatchObject({ ownerId: ADMIN });
    expect((await call<ProviderAccountsView>('alice', 'GET', '/v1/ingest/accounts')).body.accounts.map((a) => a.account)).toEqual(['acme-fp']);
    expect((await call<ProviderAccountsView>('mallory', 'GET', '/v1/ingest/accounts')).body.accounts).toEqual([]);
    expect((await call<ProviderAccountsView>(ADMIN, 'GET', '/v1/ingest/accounts')).body.accounts.map((a) => a.account)).toEqual(['acme-fp', 'ops-fp']);
    // A change without ownerId keeps the owner; a wrong ownerId is refused.
    expect((await call(ADMIN, 'PUT', '/v1/ingest/accounts/faxplus/acme-fp', { secret: SECRET })).body).toMatchObject({ ownerId: 'alice' });
    expect((await call(ADMIN, 'PUT', '/v1/ingest/accounts/faxplus/acme-fp', { secret: SECRET, ownerId: 'not a user' })).status).toBe(400);
  });

  it('gives an ordinary user 403 on every route that sets up, changes, deletes or queries an account, and changes nothing', async () => {
    const before = (await call<ProviderAccountsView>(ADMIN, 'GET', '/v1/ingest/accounts')).body;
    const attempts: Array<[string, string, string, unknown]> = [
      ['sets up an account of their own', 'PUT', '/v1/ingest/accounts/faxplus/mallory-fp', { secret: 'mallory-secret-0123456' }],
      ['takes over an account of someone else', 'PUT', '/v1/ingest/accounts/faxplus/acme-fp', { secret: 'mallory-secret-0123456' }],
      ['gives themselves an account of someone else', 'PUT', '/v1/ingest/accounts/faxplus/acme-fp', { secret: 'mallory-secret-0123456', ownerId: 'mallory' }],
      ['sends a body the route refuses', 'PUT', '/v1/ingest/accounts/faxplus/acme-fp', { secret: 'short' }],
      [
        'sets up a ReplixFax account the tracker would query',
        'PUT',
        '/v1/ingest/accounts/replixfax/mallory-rpx',
        { secret: 'mallory-secret-0123456', baseUrl: 'https://replix.example/api' },
      ],
      ['deletes an account', 'DELETE', '/v1/ingest/accounts/faxplus/acme-fp', undefined],
      ['queries a provider', 'POST', '/v1/ingest/accounts/replixfax/acme-rpx/poll', undefined],
    ];
    for (const user of ['mallory', 'alice']) {
      for (const [what, method, path, body] of attempts) {
        const answer = await call(user, method, path, body);
        expect({ user, what, status: answer.status, error: answer.body.error }).toEqual({ user, what, status: 403, error: 'forbidden' });
      }
    }
    expect((await call<ProviderAccountsView>(ADMIN, 'GET', '/v1/ingest/accounts')).body).toEqual(before);
    // The provider's posts still need the secret the admin user set.
    expect(await post('acme-fp', 'mallory-secret-0123456')).toBe(401);
    expect(await post('acme-fp', SECRET)).not.toBe(401);
  });

  it('lets an admin user delete an account of any owner', async () => {
    expect((await call(ADMIN, 'DELETE', '/v1/ingest/accounts/faxplus/acme-fp')).status).toBe(204);
    expect((await call(ADMIN, 'DELETE', '/v1/ingest/accounts/faxplus/acme-fp')).status).toBe(404);
    expect((await call<ProviderAccountsView>('alice', 'GET', '/v1/ingest/accounts')).body.accounts).toEqual([]);
    expect(await post('acme-fp', SECRET)).toBe(401);
  });
});

describe('ingest.adminUsers', () => {
  it('is empty by default, read comma-separated from the environment, and refuses what is not a user id', () => {
    expect(loadStatusTrackerConfig({}, {}).ingest.adminUsers).toEqual([]);
    expect(loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ADMIN_USERS: 'operator,root' }).ingest.adminUsers).toEqual(['operator', 'root']);
    expect(() => loadStatusTrackerConfig({ 'ingest.adminUsers': ['operator', 'two words'] }, {})).toThrow(
      'invalid configuration: ingest.adminUsers: "two words" is not a user id',
    );
  });
});
