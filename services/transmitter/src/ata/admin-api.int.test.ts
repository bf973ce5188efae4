/**
 * The admin API, mounted on a Fastify server beside a running ATA server: what an operator changes
 * there is what the port server is answered.
 */
import { issueToken } from '@faxnotify/kit';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAtaAdminRoutes, type AtaAccountListView, type AtaDidListView } from './admin-api';
import { recordCalledNumber } from './store';
import { startAtaTestServer, type AtaTestServer } from './testing/port-server';

jest.setTimeout(30_000);

const JWT = { secret: 'ata-admin-test-secret-0123456789' };
let ata: AtaTestServer;
let app: FastifyInstance;
const tokens: Record<string, string> = {};

let base: string;

/** A request and its JSON answer, read as the answer the test expects (undefined when there was none). */
async function call<Answer = unknown>(user: string | null, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, body?: unknown) {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { ...(user ? { authorization: `Bearer ${tokens[user]}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Answer) : undefined };
}

const login = (name: string, password: string) =>
  ata.send('auth', [
    ['FB-Command', 'Get-Account'],
    ['FB-Context', 'Account-Login'],
    ['User-Name', name],
    ['User-Password', password],
  ]);

beforeAll(async () => {
  ata = await startAtaTestServer({ label: 'admin', placeholderNumbers: false, bus: { publishEvent: async () => undefined } });
  app = Fastify();
  registerAtaAdminRoutes(app, { db: ata.database.db, auth: JWT, adminUsers: ['operator'], region: 'US' });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  for (const user of ['alice', 'bob', 'operator']) tokens[user] = await issueToken(JWT, user);
});

afterAll(async () => {
  await app?.close();
  await ata?.close();
});

describe('ATA admin API', () => {
  it('needs a token', async () => {
    expect((await call(null, 'GET', '/ata/accounts')).status).toBe(401);
  });

  it('creates an account the port server can log in with, names compared without case', async () => {
    const created = await call('operator', 'POST', '/ata/accounts', { name: 'Acme', ownerId: 'alice', password: 's3cret', accountType: 4 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Acme', ownerId: 'alice', hasPassword: true, accountType: 4, callAheadMode: 'dynamic', sendEnabled: true });
    expect(JSON.stringify(created.body)).not.toContain('scrypt');
    expect((await call('operator', 'POST', '/ata/accounts', { name: 'ACME', ownerId: 'bob', password: 'x' })).status).toBe(409);
    const reply = await login('acme', 's3cret');
    expect(reply.code).toBe('Access-Accept');
    expect(reply.get('FB-Account-Type')).toBe('Private-Send-Receive-Queue');
  });

  it('scopes accounts to their owner; admin users see and assign all', async () => {
    expect((await call('operator', 'POST', '/ata/accounts', { name: 'bobs', ownerId: 'bob', password: 'pw' })).status).toBe(201);
    expect((await call<AtaAccountListView>('alice', 'GET', '/ata/accounts')).body!.accounts.map((a) => a.name)).toEqual(['Acme']);
    expect((await call<AtaAccountListView>('bob', 'GET', '/ata/accounts')).body!.accounts.map((a) => a.name)).toEqual(['bobs']);
    expect((await call<AtaAccountListView>('operator', 'GET', '/ata/accounts')).body!.accounts).toHaveLength(2);
    expect((await call('bob', 'GET', '/ata/accounts/acme')).status).toBe(404);
    expect((await call('alice', 'GET', '/ata/accounts/ACME')).status).toBe(200);
  });

  it('changes the call-ahead mode and what the port server is told', async () => {
    expect((await call('operator', 'PATCH', '/ata/accounts/acme', { callAheadMode: 'sometimes' })).status).toBe(400);
    const changed = await call('operator', 'PATCH', '/ata/accounts/acme', { callAheadMode: 'always', sendAni: '2025550100' });
    expect(changed.body).toMatchObject({ callAheadMode: 'always', sendAni: '2025550100' });
    const reply = await login('ACME', 's3cret');
    expect(reply.get('FB-Call-Ahead-Mode')).toBe('Always');
    const preSend = await ata.send('auth', [
      ['FB-Command', 'Get-Account'],
      ['FB-Context', 'Pre-Send-Session'],
      ['User-Name', 'acme'],
      ['Acct-Session-Id', 'admin-1'],
      ['FB-Dial-Number', '2025550111'],
      ['FB-Transfer-Type', 'Queue'],
    ]);
    expect(preSend.attributes).toEqual([
      { name: 'FB-Snd-ANI', value: '2025550100' },
      { name: 'FB-Call-Ahead-Mode', value: 'Dynamic' },
    ]);
  });

  it('manages DIDs: one account per DID, routed by the port server', async () => {
    expect((await call('operator', 'PUT', '/ata/accounts/acme/dids/800-555-0100', { sendAni: '8005550100' })).body).toMatchObject({
      did: '8005550100',
      enabled: true,
      sendAni: '8005550100',
    });
    expect((await call('operator', 'PUT', '/ata/accounts/bobs/dids/8005550100', {})).status).toBe(409);
    expect((await call('operator', 'PUT', '/ata/accounts/acme/dids/not-a-did', {})).status).toBe(400);
    expect((await call<AtaDidListView>('alice', 'GET', '/ata/accounts/acme/dids')).body!.dids.map((d) => d.did)).toEqual(['8005550100']);
    const routed = await ata.send('auth', [
      ['FB-Command', 'Get-Account-From-DID'],
      ['FB-Context', 'Pre-Receive-Session'],
      ['User-Name', '8005550100'],
      ['Acct-Session-Id', 'admin-2'],
    ]);
    expect(routed.get('User-Name')).toBe('Acme');
    expect((await call('operator', 'DELETE', '/ata/accounts/acme/dids/8005550100')).status).toBe(204);
    expect((await call('operator', 'DELETE', '/ata/accounts/acme/dids/8005550100')).status).toBe(404);
  });

  it('gives an ordinary user 403 on every route that creates or changes accounts, numbers, the catch-all and caller ids, and changes nothing', async () => {
    expect((await call('operator', 'PUT', '/ata/accounts/acme/dids/2125550142', { sendAni: '2125550100' })).status).toBe(200);
    const before = { accounts: (await call('operator', 'GET', '/ata/accounts')).body, dids: (await call('operator', 'GET', '/ata/accounts/acme/dids')).body };
    const attempts: Array<[string, 'POST' | 'PATCH' | 'PUT' | 'DELETE', string, unknown]> = [
      ['creates an account of their own', 'POST', '/ata/accounts', { name: 'mine', password: 'pw' }],
      ['creates an account for someone else', 'POST', '/ata/accounts', { name: 'theirs', ownerId: 'bob' }],
      ['creates an account with a body the schema refuses', 'POST', '/ata/accounts', { name: '' }],
      ['changes the caller id of their account', 'PATCH', '/ata/accounts/acme', { sendAni: '2025559999' }],
      ['changes the password of their account', 'PATCH', '/ata/accounts/acme', { password: 'guess' }],
      ['gives their account away', 'PATCH', '/ata/accounts/acme', { ownerId: 'bob' }],
      ['changes what their account may do', 'PATCH', '/ata/accounts/acme', { receiveEnabled: false, callAheadMode: 'never' }],
      ['deletes their account', 'DELETE', '/ata/accounts/acme', undefined],
      ['claims a number for their account', 'PUT', '/ata/accounts/acme/dids/8005550111', {}],
      ['claims the * catch-all, every unrouted inbound fax', 'PUT', '/ata/accounts/acme/dids/*', {}],
      ['changes the caller id of a line of their account', 'PUT', '/ata/accounts/acme/dids/2125550142', { sendAni: '2025559999' }],
      ['takes a number off their account', 'DELETE', '/ata/accounts/acme/dids/2125550142', undefined],
      ['changes an account of someone else', 'PATCH', '/ata/accounts/bobs', { sendAni: '2025559999' }],
      ['claims a number for an account of someone else', 'PUT', '/ata/accounts/bobs/dids/*', {}],
    ];
    for (const [what, method, url, body] of attempts) {
      const answer = await call<{ error: string }>('alice', method, url, body);
      expect({ what, status: answer.status, error: answer.body?.error }).toEqual({ what, status: 403, error: 'forbidden' });
    }
    expect((await call('operator', 'GET', '/ata/accounts')).body).toEqual(before.accounts);
    expect((await call('operator', 'GET', '/ata/accounts/acme/dids')).body).toEqual(before.dids);
    const unrouted = await ata.send('auth', [
      ['FB-Command', 'Get-Account-From-DID'],
      ['FB-Context', 'Pre-Receive-Session'],
      ['User-Name', '8005550111'],
      ['Acct-Session-Id', 'admin-3'],
    ]);
    expect(unrouted.code).toBe('Access-Reject');
    expect((await login('acme', 's3cret')).code).toBe('Access-Accept');
    // The owner still reads what is theirs.
    expect((await call('alice', 'GET', '/ata/accounts/acme')).status).toBe(200);
    expect((await call('alice', 'GET', '/ata/accounts/acme/dids')).status).toBe(200);
  });

  it('shows and resets what call-ahead knows about a number, for admin users only', async () => {
    await recordCalledNumber(ata.database.db, '+12025550177', 'voice', new Date());
    expect((await call('alice', 'GET', '/ata/called-numbers/2025550177')).status).toBe(404);
    expect((await call('operator', 'GET', '/ata/called-numbers/2025550177')).body).toMatchObject({ number: '+12025550177', knowledge: 'voice' });
    expect((await call('operator', 'DELETE', '/ata/called-numbers/2025550177')).status).toBe(204);
    expect((await call('operator', 'GET', '/ata/called-numbers/2025550177')).body).toMatchObject({ knowledge: 'unknown' });
  });

  it('deletes an account: the port server is refused from then on', async () => {
    expect((await call('bob', 'DELETE', '/ata/accounts/acme')).status).toBe(403);
    expect((await call('operator', 'DELETE', '/ata/accounts/acme')).status).toBe(204);
    expect((await call('operator', 'DELETE', '/ata/accounts/acme')).status).toBe(404);
    expect((await login('acme', 's3cret')).code).toBe('Access-Reject');
  });
});
