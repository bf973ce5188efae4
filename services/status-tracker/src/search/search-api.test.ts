import { issueToken } from '@faxnotify/kit';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { result, submitted } from '../testing/events';
import { received } from '../testing/received';

/**
 * The search over HTTP: GET /v1/faxes and /v1/received with filters, and the CSV exports' answers
 * (attachment, type, BOM, language and zone asked for, refusals), within the caller's office scope.
 */
jest.setTimeout(60_000);
let service: TestApp;

const get = async (path: string, user: string, claims: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
  const token = await issueToken({ secret: TEST_SECRET }, user, 3600, claims);
  return fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
};

beforeAll(async () => {
  service = await startTestApp('search-api');
  const { tracker } = service;
  await tracker.handle(submitted('fax-1', 'alex', ['r1'], { subject: 'Offerta 2026', submittedAt: '2026-12-06T23:30:00.000Z' }));
  await tracker.handle(result('fax-1', 'r1', 1, 1, 'success', 3, { remoteCsid: 'ACME' }));
  await tracker.handle(submitted('fax-2', 'alex', ['r2'], { subject: 'Other', submittedAt: '2026-12-05T09:00:00.000Z' }));
  await tracker.handle(submitted('fax-anna', 'anna', ['r3'], { subject: 'Offerta anna', submittedAt: '2026-12-04T09:00:00.000Z' }));
  await tracker.handle(received('rx-1', 'alex', { remoteCsid: 'ACME RX' }));
  const AT = '2026-12-01T00:00:00.000Z';
  await service.database.db.insertInto('offices').values({ id: 'acme', name: 'Acme', share_sent: 0, created_at: AT, updated_at: AT }).execute();
  await service.database.db
    .insertInto('office_members')
    .values([
      { user_id: 'anna', office_id: 'acme', role: 'admin', display_name: null, created_at: AT, updated_at: AT },
      { user_id: 'alex', office_id: 'acme', role: 'member', display_name: null, created_at: AT, updated_at: AT },
    ])
    .execute();
});

afterAll(async () => service?.close());

const ids = async (response: Response) => ((await response.json()) as { faxes: Array<{ id: string }> }).faxes.map((f) => f.id);

it('filters the Sent folder, reading days in tz, else the token’s zone, else UTC', async () => {
  expect(await ids(await get('/v1/faxes?subject=OFFERTA', 'alex'))).toEqual(['fax-1']);
  expect(await ids(await get('/v1/faxes?subject=OFFERTA', 'anna'))).toEqual(['fax-1', 'fax-anna']);
  expect(await ids(await get('/v1/faxes?csid=acme&state=delivered', 'alex'))).toEqual(['fax-1']);
  // fax-1 is 2026-12-06 23:30 UTC: the 6th in UTC, the 7th in Rome.
  expect(await ids(await get('/v1/faxes?from=2026-12-07', 'alex'))).toEqual([]);
  expect(await ids(await get('/v1/faxes?from=2026-12-07&tz=Europe/Rome', 'alex'))).toEqual(['fax-1']);
  expect(await ids(await get('/v1/faxes?from=2026-12-07', 'alex', { tz: 'Europe/Rome' }))).toEqual(['fax-1']);
  expect(await ids(await get('/v1/faxes?limit=1&number=1202', 'anna'))).toEqual(['fax-1']);
});

it.each([
  ['/v1/faxes?state=lost', /^state must be one of /],
  ['/v1/faxes?from=tomorrow', /^from must be a date/],
  ['/v1/faxes?tz=Mars/Olympus', /^tz must be/],
  ['/v1/faxes.csv?number=abc', /^number must contain digits$/],
  ['/v1/faxes.csv?category=drafts', /^category must be one of/],
  ['/v1/received?status=delivered', /^status must be one of/],
  ['/v1/received.csv?to=2026-02-30', /^to must be a date/],
])('refuses %s with a sentence', async (path, message) => {
  const response = await get(path, 'alex');
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({ error: 'bad_request', message: expect.stringMatching(message) });
});

it('answers the Sent folder CSV as an attachment in the language and zone asked for', async () => {
  const response = await get('/v1/faxes.csv?subject=offerta&tz=Europe/Rome&lang=ru', 'anna');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
  expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="faxes-\d{4}-\d{2}-\d{2}\.csv"$/);
  expect(response.headers.get('cache-control')).toBe('private, no-store');
  const bytes = Buffer.from(await response.arrayBuffer());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = bytes.toString('utf8').slice(1).split('\r\n');
  expect(lines[0]).toMatch(/^"ID факса","Отправлен \(Europe\/Rome\)",/);
  expect(lines.slice(1, -1).map((l) => l.split('","').slice(0, 5))).toEqual([
    ['"fax-1', '2026-12-07 00:30:00', 'Offerta 2026', 'alex', "'+12025550101"],
    ['"fax-anna', '2026-12-04 10:00:00', 'Offerta anna', 'anna', "'+12025550103"],
  ]);
  // The token's claims when nothing is asked: Italian, in Tokyo.
  const claimed = await (await get('/v1/faxes.csv?csid=acme', 'alex', { locale: 'it', tz: 'Asia/Tokyo' })).text();
  expect(claimed.split('\r\n')[0]).toMatch(/^"ID fax","Inviato \(Asia\/Tokyo\)",/);
  expect(claimed.split('\r\n')[1]).toMatch(/^"fax-1","2026-12-07 08:30:00",/);
});

it('answers the Inbox CSV and searches the Inbox, the caller’s own only', async () => {
  const mine = await get('/v1/received.csv?csid=acme', 'alex', {}, { 'accept-language': 'it-IT,it;q=0.9' });
  expect(mine.headers.get('content-disposition')).toMatch(/^attachment; filename="inbox-\d{4}-\d{2}-\d{2}\.csv"$/);
  // (A decoder reading it as UTF-8 takes the byte order mark away.)
  const lines = (await mine.text()).split('\r\n');
  expect(lines[0]).toBe('"ID fax ricevuto","Ricevuto (UTC)","Inizio (UTC)","Numero del mittente","Numero chiamato","CSID","Stato","Pagine","Letto"');
  expect(lines[1]).toMatch(/^"rx-1","2026-12-07 08:01:30",.*"ACME RX","Ricevuto","2","no"$/);
  const list = async (user: string) => ((await (await get('/v1/received?csid=ACME%20rx', user)).json()) as { received: Array<{ id: string }> }).received;
  expect((await list('alex')).map((r) => r.id)).toEqual(['rx-1']);
  expect(await list('nora')).toEqual([]);
});
