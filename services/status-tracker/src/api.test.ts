import { createHttpServer, createLogger, issueToken, listen } from '@faxnotify/kit';
import { registerFaxApi, type ErrorView, type FaxListView, type FaxView } from './api';
import { StatusTracker } from './tracker';
import { openTestDatabase, outcome, progress, result, submitted, type TestDatabase } from './testing/events';

/** The polling API over a real HTTP server and the embedded database. */
const SECRET = 'api-test-secret-0123456789abcdef';
const logger = createLogger('status-tracker-test', 'silent');

let database: TestDatabase;
let app: ReturnType<typeof createHttpServer>;
let url: string;

beforeAll(async () => {
  database = await openTestDatabase('sqlite', 'api');
  const tracker = new StatusTracker({ db: database.db, faxUrlTemplate: 'https://fax.example.test/faxes/{faxId}', logger });
  await tracker.handle(submitted('fax-a1', 'alice', ['r1', 'r2'], { submittedAt: '2026-11-20T08:00:00Z' }));
  await tracker.handle(submitted('fax-a2', 'alice', ['r1'], { submittedAt: '2026-11-21T08:00:00Z', subject: '<b>hi</b>' }));
  await tracker.handle(submitted('fax-a3', 'alice', ['r1'], { submittedAt: '2026-11-22T08:00:00Z' }));
  await tracker.handle(submitted('fax-b1', 'bob', ['r1'], { submittedAt: '2026-11-22T07:00:00Z' }));
  await tracker.handle(progress('fax-a1', 'r1', 1, 0, 'dialing'));
  await tracker.handle(result('fax-a1', 'r1', 1, 3, 'success', 3, { remoteCsid: 'ACME' }));
  await tracker.handle(result('fax-a1', 'r2', 1, 1, 'failed_user_busy', 0));
  await tracker.handle(
    outcome('fax-a1', 'r1', 'alice', 'email', { outcome: 'sent', address: 'alice@example.test', providerMessageId: '<m1@x>', smtp: { code: 250 } }),
  );
  await tracker.handle(
    outcome('fax-a1', 'r1', 'alice', 'sms', {
      outcome: 'delivered',
      address: '+393331234567',
      sms: { segments: 1, encoding: 'GSM-7' },
      provider: { status: 'delivered' },
    }),
  );
  // Only events, no submission: not a fax anyone can list yet.
  await tracker.handle(result('fax-orphan', 'r1', 1, 1, 'success', 3));
  app = createHttpServer({ host: '127.0.0.1', port: 0, logger, ready: () => ({ database: true }) });
  registerFaxApi(app, { db: database.db, jwtSecret: SECRET });
  url = await listen(app, '127.0.0.1', 0);
});

afterAll(async () => {
  await app?.close();
  await database?.close();
  await database?.drop();
});

/** A GET and its JSON answer, read as the answer the test expects (a fax, a page of the folder, an error). */
const get = async <Answer = ErrorView>(path: string, token?: string) => {
  const response = await fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: (await response.json()) as Answer };
};
const tokenFor = (user: string) => issueToken({ secret: SECRET }, user);

describe('authentication', () => {
  it.each([
    ['no token', async () => undefined],
    ['an expired token', () => issueToken({ secret: SECRET }, 'alice', -60)],
    ['a token signed with another secret', () => issueToken({ secret: 'someone-elses-secret-0123456789' }, 'alice')],
    ['a token from another issuer', () => issueToken({ secret: SECRET, issuer: 'elsewhere' }, 'alice')],
    ['garbage', async () => 'not.a.jwt'],
  ])('answers 401 to %s', async (_label, token) => {
    for (const path of ['/v1/faxes', '/v1/faxes/fax-a1']) {
      const { status, body } = await get(path, await token());
      expect(status).toBe(401);
      expect(body.error).toBe('unauthorized');
    }
  });
});

describe('GET /v1/faxes/:faxId', () => {
  it('shows the owner the fax with recipients, their history and notices', async () => {
    const { status, body } = await get<FaxView>('/v1/faxes/fax-a1', await tokenFor('alice'));
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: 'fax-a1',
      state: 'partial',
      subject: 'Q3 report',
      submittedAt: '2026-11-20T08:00:00.000Z',
      retry: { count: 1, delayMinutes: 1 },
    });
    expect(body.recipients).toHaveLength(2);
    const [r1, r2] = body.recipients;
    expect(r1).toMatchObject({
      recipientId: 'r1',
      number: '+12025550101',
      status: 'success',
      final: true,
      pagesSent: 3,
      remoteCsid: 'ACME',
      reason: { code: 'OK' },
    });
    expect(r1.history.map((h: { kind: string; status: string }) => [h.kind, h.status])).toEqual([
      ['progress', 'dialing'],
      ['result', 'success'],
    ]);
    expect(r1.notices.email).toMatchObject({
      outcome: 'sent',
      address: 'alice@example.test',
      providerMessageId: '<m1@x>',
      sms: null,
      provider: null,
      smtp: { code: 250 },
    });
    expect(r1.notices.sms).toMatchObject({
      outcome: 'delivered',
      sms: { segments: 1, encoding: 'GSM-7' },
      provider: { status: 'delivered', errorCode: null },
      smtp: null,
    });
    expect(r2).toMatchObject({ status: 'failed_user_busy', pagesSent: 0, notices: {} });
  });

  it("answers 404 for another user's fax, as for one that does not exist", async () => {
    const bob = await tokenFor('bob');
    const theirs = await get('/v1/faxes/fax-a1', bob);
    const missing = await get('/v1/faxes/fax-nope', bob);
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(missing.body);
    expect((await get('/v1/faxes/fax-orphan', bob)).status).toBe(404);
    expect((await get(`/v1/faxes/${encodeURIComponent('../fax-a1')}`, bob)).status).toBe(404);
  });
});

describe('GET /v1/faxes', () => {
  it("lists only the caller's faxes, newest first, a page at a time", async () => {
    const alice = await tokenFor('alice');
    const first = await get<FaxListView>('/v1/faxes?limit=2', alice);
    expect(first.status).toBe(200);
    expect(first.body.faxes.map((f: { id: string }) => f.id)).toEqual(['fax-a3', 'fax-a2']);
    expect(first.body.faxes[1]).toMatchObject({ subject: '<b>hi</b>', state: 'in_progress', recipients: { total: 1, final: 0 } });
    const second = await get<FaxListView>(`/v1/faxes?limit=2&cursor=${first.body.nextCursor}`, alice);
    expect(second.body.faxes.map((f: { id: string }) => f.id)).toEqual(['fax-a1']);
    expect(second.body.faxes[0]).toMatchObject({ state: 'partial', recipients: { total: 2, final: 2 } });
    expect(second.body.nextCursor).toBeNull();

    const bob = await get<FaxListView>('/v1/faxes', await tokenFor('bob'));
    expect(bob.body.faxes.map((f: { id: string }) => f.id)).toEqual(['fax-b1']);
    expect((await get<FaxListView>('/v1/faxes?state=partial', alice)).body.faxes.map((f: { id: string }) => f.id)).toEqual(['fax-a1']);
  });

  it('refuses a bad page request', async () => {
    const alice = await tokenFor('alice');
    expect((await get('/v1/faxes?limit=0', alice)).status).toBe(400);
    expect((await get('/v1/faxes?limit=abc', alice)).status).toBe(400);
    expect((await get('/v1/faxes?cursor=%%%', alice)).status).toBe(400);
    expect((await get('/v1/faxes?state=lost', alice)).status).toBe(400);
  });
});
