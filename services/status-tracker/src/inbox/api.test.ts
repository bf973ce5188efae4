import { createHttpServer, createLogger, issueToken, listen } from '@faxnotify/kit';
import { readTiff } from '@faxnotify/fax-line';
import { StatusTracker } from '../tracker';
import { openTestDatabase, type TestDatabase } from '../testing/events';
import { received } from '../testing/received';
import { registerInboxApi } from './api';

/** The Inbox API over a real HTTP server and the embedded database: who may read which received fax. */
const SECRET = 'inbox-api-test-secret-0123456789abcdef';
const logger = createLogger('status-tracker-test', 'silent');

let database: TestDatabase;
let app: ReturnType<typeof createHttpServer>;
let url: string;

beforeAll(async () => {
  database = await openTestDatabase('sqlite', 'inbox-api');
  const tracker = new StatusTracker({
    db: database.db,
    faxUrlTemplate: 'https://fax.example.test/faxes/{faxId}',
    inbox: { urlTemplate: 'https://fax.example.test/inbox/{receivedId}', attachMaxBytes: 5_000_000 },
    logger,
  });
  await tracker.handle(received('rx-alice-1', 'alice', { endedAt: '2026-12-07T08:00:00.000Z' }));
  await tracker.handle(received('rx-alice-2', 'alice', { endedAt: '2026-12-07T09:00:00.000Z', remoteCsid: null }));
  await tracker.handle(received('rx-bob-1', 'bob'));
  await tracker.handle(received('rx-carol-1', 'carol'));
  const at = '2026-12-07T00:00:00.000Z';
  // An office with alice as admin and bob as a member, not shared: alice sees bob's faxes, bob not alice's; carol is outside.
  await database.db.insertInto('offices').values({ id: 'office-1', name: 'Office', share_sent: 0, created_at: at, updated_at: at }).execute();
  await database.db
    .insertInto('office_members')
    .values([
      { user_id: 'alice', office_id: 'office-1', role: 'admin', display_name: 'Alice', created_at: at, updated_at: at },
      { user_id: 'bob', office_id: 'office-1', role: 'member', display_name: null, created_at: at, updated_at: at },
    ])
    .execute();
  app = createHttpServer({ host: '127.0.0.1', port: 0, logger, ready: () => ({ database: true }) });
  registerInboxApi(app, { db: database.db, auth: { secret: SECRET } });
  url = await listen(app, '127.0.0.1', 0);
});

afterAll(async () => {
  await app?.close();
  await database?.close();
  await database?.drop();
});

const get = async (path: string, user?: string) => {
  const response = await fetch(`${url}${path}`, user ? { headers: { authorization: `Bearer ${await issueToken({ secret: SECRET }, user)}` } } : {});
  return { status: response.status, type: response.headers.get('content-type'), body: Buffer.from(await response.arrayBuffer()) };
};
const json = (body: Buffer) => JSON.parse(body.toString('utf8')) as Record<string, unknown>;

describe('Inbox API', () => {
  it('needs a token', async () => {
    for (const path of ['/v1/received', '/v1/received/rx-alice-1', '/v1/received/rx-alice-1/pdf', '/v1/received/rx-alice-1/tiff']) {
      expect((await get(path)).status).toBe(401);
    }
  });

  it('lists the caller scope, newest first: an office admin sees a member’s faxes, the member only their own', async () => {
    const alice = json((await get('/v1/received', 'alice')).body) as { received: Array<{ id: string; read: boolean; remoteCsid: string | null }> };
    expect(alice.received.map((r) => r.id)).toEqual(['rx-alice-2', 'rx-bob-1', 'rx-alice-1']);
    expect(alice.received[2]).toMatchObject({ remoteCsid: 'ACME <SALES> FAX', read: false });
    const bob = json((await get('/v1/received', 'bob')).body) as { received: Array<{ id: string }> };
    expect(bob.received.map((r) => r.id)).toEqual(['rx-bob-1']);
    const paged = json((await get('/v1/received?limit=1', 'alice')).body) as { received: Array<{ id: string }>; nextCursor: string };
    const next = json((await get(`/v1/received?limit=1&cursor=${paged.nextCursor}`, 'alice')).body) as { received: Array<{ id: string }> };
    expect(next.received.map((r) => r.id)).toEqual(['rx-bob-1']);
    expect((await get('/v1/received?limit=0', 'alice')).status).toBe(400);
    expect((await get('/v1/received?cursor=nonsense', 'alice')).status).toBe(400);
  });

  it('answers a fax outside the scope exactly as one that does not exist', async () => {
    const missing = await get('/v1/received/rx-nobody', 'bob');
    expect(missing.status).toBe(404);
    for (const path of ['/v1/received/rx-alice-1', '/v1/received/rx-alice-1/pdf', '/v1/received/rx-alice-1/tiff', '/v1/received/rx-carol-1']) {
      const answer = await get(path, 'bob');
      expect({ status: answer.status, body: json(answer.body) }).toEqual({ status: 404, body: json(missing.body) });
    }
    expect((await get('/v1/received/rx-carol-1/pdf', 'alice')).status).toBe(404);
    expect((await get('/v1/received/bad%20id', 'alice')).status).toBe(404);
  });

  it('gives the owner and their office admin the fax, its PDF and its TIFF', async () => {
    const one = json((await get('/v1/received/rx-bob-1', 'bob')).body);
    expect(one).toMatchObject({ id: 'rx-bob-1', owner: 'bob', status: 'success', pages: 2, callerNumber: '+390612345678' });
    expect(one.pageList).toEqual([
      { page: 1, width: 1728, rows: 2200, resolution: 'fine', badRows: 0 },
      { page: 2, width: 1728, rows: 1100, resolution: 'standard', badRows: 0 },
    ]);
    const pdf = await get('/v1/received/rx-bob-1/pdf', 'alice');
    expect(pdf.status).toBe(200);
    expect(pdf.type).toBe('application/pdf');
    expect(pdf.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const tiff = await get('/v1/received/rx-bob-1/tiff', 'bob');
    expect(tiff.type).toBe('image/tiff');
    expect(readTiff(tiff.body).map((p) => p.height)).toEqual([2200, 1100]);
  });
});
