import { issueToken, SESSION_COOKIE, signedCookieValue } from '@faxnotify/kit';
import type { FaxListView, FaxView } from '../api';
import { loadStatusTrackerConfig } from '../config';
import { TEST_OFFICES_ADMIN, TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { outcome, result, submitted } from '../testing/events';
import type { OfficeListView, OfficeMemberView, OfficeView, OfficeWithMembersView } from './routes';

/**
 * The offices API: service admins (offices.adminUsers) create, rename and delete offices and set
 * members and roles; an office's admins list, add and remove its members and switch shareSent;
 * everyone else, the admins of another office included, gets 403 and changes nothing. Then the
 * Sent folder and the fax pages as the memberships make them.
 */
let service: TestApp;
const ROOT = TEST_OFFICES_ADMIN;

const call = async <Answer = { error: string; message: string }>(user: string, method: string, path: string, body?: unknown) => {
  const headers: Record<string, string> = { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${service.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Answer };
};
/** A page as the user's browser gets it (the session cookie). */
const page = async (user: string, path: string) => {
  const cookie = `${SESSION_COOKIE}=${encodeURIComponent(signedCookieValue(TEST_SECRET, await issueToken({ secret: TEST_SECRET }, user)))}`;
  const response = await fetch(`${service.url}${path}`, { headers: { cookie }, redirect: 'manual' });
  return { status: response.status, html: await response.text() };
};
const office = async (user: string, id: string) => (await call<OfficeWithMembersView>(user, 'GET', `/v1/offices/${id}`)).body;

let acme: string;
let bravo: string;

beforeAll(async () => {
  service = await startTestApp('offices-api');
  const { tracker } = service;
  await tracker.handle(submitted('fax-anna', 'anna', ['r1'], { subject: 'Anna budget', submittedAt: '2026-11-20T09:00:00Z' }));
  await tracker.handle(submitted('fax-alex', 'alex', ['r1'], { subject: 'Alex contract', submittedAt: '2026-11-20T10:00:00Z' }));
  await tracker.handle(result('fax-alex', 'r1', 1, 1, 'success', 3));
  await tracker.handle(outcome('fax-alex', 'r1', 'alex', 'email', { outcome: 'sent', address: 'alex-private@example.test' }));
  await tracker.handle(submitted('fax-bea', 'bea', ['r2'], { subject: 'Bravo invoice', submittedAt: '2026-11-20T11:00:00Z' }));
});

afterAll(async () => {
  await service?.close();
});

describe('service admins', () => {
  it('create offices, set members and roles, rename, and list every office', async () => {
    const created = await call<OfficeView>(ROOT, 'POST', '/v1/offices', { name: '  Acme   Moscow ' });
    expect(created).toMatchObject({ status: 201, body: { name: 'Acme Moscow', shareSent: false } });
    acme = created.body.id;
    bravo = (await call<OfficeView>(ROOT, 'POST', '/v1/offices', { name: 'Bravo', shareSent: true })).body.id;
    expect((await call<OfficeMemberView>(ROOT, 'PUT', `/v1/offices/${acme}/members/anna`, { role: 'admin' })).body).toMatchObject({
      userId: 'anna',
      role: 'admin',
    });
    expect(await call(ROOT, 'PUT', `/v1/offices/${acme}/members/alex`, { displayName: 'Alex Petrov' })).toMatchObject({
      status: 201,
      body: { userId: 'alex', role: 'member', displayName: 'Alex Petrov' },
    });
    expect((await call(ROOT, 'PUT', `/v1/offices/${bravo}/members/bea`, { role: 'admin' })).status).toBe(201);
    // A change keeps what it does not name.
    expect((await call(ROOT, 'PUT', `/v1/offices/${acme}/members/alex`, {})).body).toMatchObject({ role: 'member', displayName: 'Alex Petrov' });
    expect((await call<OfficeView>(ROOT, 'PATCH', `/v1/offices/${acme}`, { name: 'Acme' })).body).toMatchObject({ name: 'Acme', shareSent: false });
    expect((await call<OfficeListView>(ROOT, 'GET', '/v1/offices')).body.offices.map((o) => o.name)).toEqual(['Acme', 'Bravo']);
    expect((await office(ROOT, acme)).members.map((m) => [m.userId, m.role])).toEqual([
      ['alex', 'member'],
      ['anna', 'admin'],
    ]);
  });

  it('get clear 400s, a 404 for an office that does not exist, and a 409 for a user of another office', async () => {
    const bad: Array<[string, string, unknown, RegExp]> = [
      ['POST', '/v1/offices', {}, /name must be a non-empty text/],
      ['POST', '/v1/offices', { name: 'x'.repeat(201) }, /at most 200/],
      ['POST', '/v1/offices', { name: 'Ok', shareSent: 'yes' }, /shareSent must be true or false/],
      ['POST', '/v1/offices', { name: 'Ok', owner: 'x' }, /unknown field "owner"/],
      ['POST', '/v1/offices', ['Ok'], /must be a JSON object/],
      ['PATCH', `/v1/offices/${acme}`, {}, /give name, shareSent or both/],
      ['PUT', `/v1/offices/${acme}/members/amy`, { role: 'owner' }, /role must be one of member, admin/],
      ['PUT', `/v1/offices/${acme}/members/amy`, { displayName: '' }, /displayName/],
      ['PUT', `/v1/offices/${acme}/members/two%20words`, {}, /user id must be/],
    ];
    for (const [method, path, body, message] of bad) {
      const answer = await call(ROOT, method, path, body);
      expect({ method, path, status: answer.status, error: answer.body.error }).toEqual({ method, path, status: 400, error: 'bad_request' });
      expect(answer.body.message).toMatch(message);
    }
    expect((await call(ROOT, 'GET', '/v1/offices/office-none')).status).toBe(404);
    expect((await call(ROOT, 'PUT', '/v1/offices/office-none/members/amy', {})).status).toBe(404);
    expect(await call(ROOT, 'PUT', `/v1/offices/${bravo}/members/alex`, {})).toMatchObject({ status: 409, body: { error: 'conflict' } });
    // Two offices adding the same user at the same moment: one membership, the other answer 409.
    const raced = await Promise.all([acme, bravo].map((id) => call(ROOT, 'PUT', `/v1/offices/${id}/members/zoe`, {})));
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409]);
    const removed = await Promise.all([acme, bravo].map(async (id) => (await call(ROOT, 'DELETE', `/v1/offices/${id}/members/zoe`)).status));
    expect(removed.sort()).toEqual([204, 404]);
    expect((await office(ROOT, acme)).members.map((m) => m.userId)).toEqual(['alex', 'anna']);
  });
});

describe("an office's admin", () => {
  it('lists, adds and removes its members and switches shareSent, but sets no roles and renames nothing', async () => {
    expect((await call<OfficeListView>('anna', 'GET', '/v1/offices')).body.offices).toEqual([expect.objectContaining({ id: acme, role: 'admin' })]);
    expect((await office('anna', acme)).members.map((m) => m.userId)).toEqual(['alex', 'anna']);
    expect((await call('anna', 'PUT', `/v1/offices/${acme}/members/amy`, { displayName: 'Amy' })).status).toBe(201);
    expect((await call('anna', 'PUT', `/v1/offices/${acme}/members/amy`, { role: 'admin' })).status).toBe(403);
    expect((await call('anna', 'PUT', `/v1/offices/${acme}/members/anna`, { role: 'member' })).status).toBe(403);
    expect((await call('anna', 'PATCH', `/v1/offices/${acme}`, { name: 'Mine now' })).status).toBe(403);
    expect((await call<OfficeView>('anna', 'PATCH', `/v1/offices/${acme}`, { shareSent: true })).body.shareSent).toBe(true);
    expect((await call<OfficeView>('anna', 'PATCH', `/v1/offices/${acme}`, { shareSent: false })).body.shareSent).toBe(false);
    expect((await call('anna', 'DELETE', `/v1/offices/${acme}/members/amy`)).status).toBe(204);
    expect((await call('anna', 'DELETE', `/v1/offices/${acme}/members/amy`)).status).toBe(404);
    expect((await office(ROOT, acme)).members.map((m) => [m.userId, m.role])).toEqual([
      ['alex', 'member'],
      ['anna', 'admin'],
    ]);
  });
});

describe('everyone else', () => {
  it('gets 403 from every route that reads members or changes anything, ordinary members and admins of another office alike, and changes nothing', async () => {
    const before = { acme: await office(ROOT, acme), bravo: await office(ROOT, bravo), list: (await call(ROOT, 'GET', '/v1/offices')).body };
    const attempts = (id: string): Array<[string, string, unknown]> => [
      ['POST', '/v1/offices', { name: 'Takeover' }],
      ['GET', `/v1/offices/${id}`, undefined],
      ['PATCH', `/v1/offices/${id}`, { shareSent: true }],
      ['PATCH', `/v1/offices/${id}`, { name: 'Renamed' }],
      ['DELETE', `/v1/offices/${id}`, undefined],
      ['PUT', `/v1/offices/${id}/members/mallory`, {}],
      ['PUT', `/v1/offices/${id}/members/alex`, { role: 'admin' }],
      ['DELETE', `/v1/offices/${id}/members/alex`, undefined],
      ['DELETE', `/v1/offices/${id}/members/anna`, undefined],
      // An office that does not exist answers the same: its id cannot be probed.
      ['GET', '/v1/offices/office-none', undefined],
      ['PUT', '/v1/offices/office-none/members/mallory', {}],
    ];
    // bea is Bravo's admin: Acme is another office to her. alex is an ordinary member, mallory in no office.
    for (const user of ['bea', 'alex', 'mallory']) {
      for (const [method, path, body] of attempts(acme)) {
        const answer = await call(user, method, path, body);
        expect({ user, method, path, status: answer.status, error: answer.body.error }).toEqual({ user, method, path, status: 403, error: 'forbidden' });
      }
    }
    for (const [method, path, body] of attempts(bravo).filter(([, p]) => !p.includes('office-none')))
      expect({ method, path, status: (await call('anna', method, path, body)).status }).toEqual({ method, path, status: 403 });
    expect({ acme: await office(ROOT, acme), bravo: await office(ROOT, bravo), list: (await call(ROOT, 'GET', '/v1/offices')).body }).toEqual(before);
    // A member reads which office they are in, and nothing of others.
    expect((await call<OfficeListView>('alex', 'GET', '/v1/offices')).body.offices).toEqual([
      expect.objectContaining({ id: acme, name: 'Acme', role: 'member' }),
    ]);
    expect((await call<OfficeListView>('mallory', 'GET', '/v1/offices')).body).toEqual({ offices: [] });
  });
});

describe('the Sent folder as memberships make it', () => {
  it("shows an office admin every member's faxes with who sent each, and a member only their own until the office shares", async () => {
    const annaList = (await call<FaxListView>('anna', 'GET', '/v1/faxes')).body.faxes;
    expect(annaList.map((f) => [f.id, f.owner, f.ownerName])).toEqual([
      ['fax-alex', 'alex', 'Alex Petrov'],
      ['fax-anna', 'anna', null],
    ]);
    const folder = await page('anna', '/faxes');
    expect(folder.html).toContain('<th scope="col">Sent by</th>');
    expect(folder.html).toContain('<td class="sent-by">Alex Petrov</td>');
    expect(folder.html).toContain('<td class="sent-by">You</td>');
    expect((await call<FaxListView>('alex', 'GET', '/v1/faxes')).body.faxes.map((f) => f.id)).toEqual(['fax-alex']);
    expect((await page('alex', '/faxes')).html).not.toContain('Sent by');
    await call('anna', 'PATCH', `/v1/offices/${acme}`, { shareSent: true });
    expect((await call<FaxListView>('alex', 'GET', '/v1/faxes')).body.faxes.map((f) => f.id)).toEqual(['fax-alex', 'fax-anna']);
    await call('anna', 'PATCH', `/v1/offices/${acme}`, { shareSent: false });
  });

  it("opens a colleague's fax for the office admin (without the owner's notice addresses), in the page, the API and the live stream", async () => {
    const fax = await call<FaxView>('anna', 'GET', '/v1/faxes/fax-alex');
    expect(fax.body).toMatchObject({ id: 'fax-alex', owner: 'alex', ownerName: 'Alex Petrov', webhookDeliveries: [] });
    expect(fax.body.recipients[0].notices.email).toMatchObject({ outcome: 'sent', address: null });
    const shown = await page('anna', '/faxes/fax-alex');
    expect(shown.status).toBe(200);
    expect(shown.html).toContain('<dd class="sent-by">Alex Petrov</dd>');
    expect(shown.html).not.toContain('alex-private@example.test');
    // The notices went to the sender; the webhook section is the owner's own.
    expect(shown.html).toContain('Notices sent to the fax');
    expect(shown.html).not.toContain('Webhook deliveries');
    const owners = (await page('alex', '/faxes/fax-alex')).html;
    expect(owners).toContain('alex-private@example.test');
    expect(owners).toContain('Webhook deliveries');
    expect(owners).not.toContain('Sent by');
    const stream = await fetch(`${service.url}/v1/faxes/fax-alex/events`, {
      headers: { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, 'anna')}` },
    });
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
  });

  it("answers another office's fax exactly like one that does not exist, naming neither its subject nor its number", async () => {
    const csrfless = (html: string) => html.replace(/name="csrf" value="[\w-]+"/g, 'name="csrf" value="TOKEN"');
    for (const [user, faxId] of [
      ['bea', 'fax-alex'],
      ['anna', 'fax-bea'],
      ['alex', 'fax-anna'],
    ]) {
      const theirs = await page(user, `/faxes/${faxId}`);
      const none = await page(user, '/faxes/fax-none');
      expect(theirs.status).toBe(404);
      expect(csrfless(theirs.html.replaceAll(faxId, 'ID'))).toBe(csrfless(none.html.replaceAll('fax-none', 'ID')));
      expect(theirs.html).not.toMatch(/Alex contract|Bravo invoice|Anna budget|\+1202555/);
      const api = await call(user, 'GET', `/v1/faxes/${faxId}`);
      expect(api).toEqual(await call(user, 'GET', '/v1/faxes/fax-none'));
      expect(api.status).toBe(404);
      expect((await call(user, 'GET', `/v1/faxes/${faxId}/events`)).status).toBe(404);
    }
  });

  it('takes a removed member out of the office at once, and a deleted office back to everyone their own', async () => {
    expect((await call(ROOT, 'DELETE', `/v1/offices/${acme}/members/alex`)).status).toBe(204);
    expect((await call<FaxListView>('anna', 'GET', '/v1/faxes')).body.faxes.map((f) => f.id)).toEqual(['fax-anna']);
    expect((await page('anna', '/faxes/fax-alex')).status).toBe(404);
    expect((await call(ROOT, 'DELETE', `/v1/offices/${bravo}`)).status).toBe(204);
    expect((await call(ROOT, 'DELETE', `/v1/offices/${bravo}`)).status).toBe(404);
    expect((await call<OfficeListView>('bea', 'GET', '/v1/offices')).body).toEqual({ offices: [] });
    // bea may now join another office.
    expect((await call(ROOT, 'PUT', `/v1/offices/${acme}/members/bea`, {})).status).toBe(201);
  });
});

describe('offices.adminUsers', () => {
  it('is empty by default, read comma-separated from the environment, and refuses what is not a user id', () => {
    expect(loadStatusTrackerConfig({}, {}).offices.adminUsers).toEqual([]);
    expect(loadStatusTrackerConfig({}, { STATUS_TRACKER_OFFICES_ADMIN_USERS: 'operator,root' }).offices.adminUsers).toEqual(['operator', 'root']);
    expect(() => loadStatusTrackerConfig({ 'offices.adminUsers': ['operator', 'two words'] }, {})).toThrow(
      'invalid configuration: offices.adminUsers: "two words" is not a user id',
    );
  });
});
