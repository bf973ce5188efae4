/**
 * The server on loopback ports with handlers of the test's own: per-client secrets, drops that
 * are counted and logged but never answered, retransmissions answered from the cache, and stop.
 */
import { join } from 'node:path';
import { loadDictionary, radiusLibrary } from './dictionary';
import { Overloaded } from './limit';
import { textAttribute, vendorAttribute, type DecodedPacket } from './packet';
import { RadiusServer, type RadiusClient, type RadiusHandlers, type RadiusServerOptions, type RequestOutcome } from './server';
import { encodeRequest, verifyReply } from './sign';
import { datagramClient, sendDatagram } from './testing';

const STRICT = { address: '127.0.0.1', secret: 'strict-secret-0123', name: 'strict' };
const RANGE = { address: '127.0.0.2/31', secret: 'range-secret-01234' };
/** A client let off Message-Authenticator, as a FaxBack port server must be. */
const UNSIGNED = { address: '127.0.0.6', secret: 'unsigned-secret-012', requireMessageAuthenticator: false, name: 'unsigned' };

interface Running {
  server: RadiusServer;
  auth: number;
  acct: number;
  logs: Array<{ level: string; message: string } & Record<string, unknown>>;
  /** What start logged (taken out of logs). */
  startLogs: Running['logs'];
  counted: Array<[string, RequestOutcome]>;
  seen: Array<{ kind: 'auth' | 'acct'; client: string; user: string | undefined }>;
}

const running: Running[] = [];

async function start(handlers: Partial<RadiusHandlers> = {}, options: Partial<RadiusServerOptions> = {}): Promise<Running> {
  const logs: Running['logs'] = [];
  const log = (level: string) => (fields: Record<string, unknown>, message: string) => void logs.push({ ...fields, level, message });
  const counted: Running['counted'] = [];
  const seen: Running['seen'] = [];
  const note = (kind: 'auth' | 'acct', packet: DecodedPacket, client: RadiusClient) =>
    seen.push({ kind, client: client.name, user: textAttribute(packet, 'User-Name') });
  const server = new RadiusServer({
    host: '127.0.0.1',
    authPort: 0,
    acctPort: 0,
    clients: [STRICT, RANGE, UNSIGNED],
    duplicateCacheMs: 30_000,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    count: (kind, outcome) => void counted.push([kind, outcome]),
    handlers: {
      access: async (packet, client) => {
        note('auth', packet, client);
        return { code: 'Access-Accept', attributes: [vendorAttribute('Example', 'Example-Text', `hello ${client.name}`)] };
      },
      accounting: async (packet, client) => void note('acct', packet, client),
      ...handlers,
    },
    ...options,
  });
  const bound = await server.start();
  const entry = { server, auth: bound.auth.port, acct: bound.acct.port, logs, startLogs: logs.splice(0), counted, seen };
  running.push(entry);
  return entry;
}

beforeAll(() => {
  loadDictionary(join(__dirname, 'fixtures', 'dictionary.example'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((entry) => entry.server.stop()));
});

const accessRequest = (secret: string, options: { identifier?: number; messageAuthenticator?: boolean; user?: string; proxyState?: boolean } = {}): Buffer =>
  encodeRequest(
    'Access-Request',
    secret,
    [['User-Name', options.user ?? 'alice'], ...(options.proxyState ? [['Proxy-State', Buffer.from('c0ffee', 'hex')] as const] : [])],
    {
      identifier: options.identifier ?? 1,
      messageAuthenticator: options.messageAuthenticator ?? true,
    },
  );

const accountingRequest = (secret: string, identifier = 1, messageAuthenticator = true): Buffer =>
  encodeRequest(
    'Accounting-Request',
    secret,
    [
      ['Acct-Status-Type', 'Start'],
      ['Acct-Session-Id', `s-${identifier}`],
    ],
    { identifier, messageAuthenticator },
  );

/** A request whose Message-Authenticator was changed on the way (last octet flipped). */
const tampered = (request: Buffer): Buffer => {
  const copy = Buffer.from(request);
  copy[20 + 17] ^= 0xff;
  return copy;
};

/** Resolves once `done` holds, checking every few milliseconds (fails the test after two seconds). */
async function until(done: () => boolean): Promise<void> {
  for (const started = Date.now(); !done(); await new Promise((resolve) => setTimeout(resolve, 5)))
    if (Date.now() - started > 2000) throw new Error('timed out waiting');
}

const decode = (reply: Buffer, secret: string) => radiusLibrary.decode({ packet: reply, secret });

describe('clients and their secrets', () => {
  it('answers each client with its own secret, telling the handler which client asked', async () => {
    const { auth, seen, counted } = await start();
    const strict = accessRequest(STRICT.secret);
    const [fromStrict] = await sendDatagram(auth, strict, { from: '127.0.0.1' });
    expect(radiusLibrary.verify_response({ request: strict, response: fromStrict, secret: STRICT.secret })).toBe(true);
    expect(decode(fromStrict, STRICT.secret).attributes['Vendor-Specific']).toEqual({ 'Example-Text': 'hello strict' });

    const ranged = accessRequest(RANGE.secret, { identifier: 2 });
    const [fromRange] = await sendDatagram(auth, ranged, { from: '127.0.0.3' });
    expect(radiusLibrary.verify_response({ request: ranged, response: fromRange, secret: RANGE.secret })).toBe(true);
    // A client without a name is named by its address.
    expect(seen).toEqual([
      { kind: 'auth', client: 'strict', user: 'alice' },
      { kind: 'auth', client: '127.0.0.2/31', user: 'alice' },
    ]);
    expect(counted).toEqual([
      ['auth', 'accept'],
      ['auth', 'accept'],
    ]);
  });

  it('answers an Accounting-Request once its handler resolves', async () => {
    const { acct, seen, counted } = await start();
    const request = accountingRequest(RANGE.secret);
    const [reply] = await sendDatagram(acct, request, { from: '127.0.0.2' });
    expect(reply?.[0]).toBe(5);
    expect(verifyReply(request, reply, RANGE.secret)).toBe(true);
    expect(seen).toEqual([{ kind: 'acct', client: '127.0.0.2/31', user: undefined }]);
    expect(counted).toEqual([['acct', 'response']]);
  });

  it('answers an Access-Reject as the handler says', async () => {
    const { auth } = await start({ access: async () => ({ code: 'Access-Reject', attributes: [] }) });
    const [reply] = await sendDatagram(auth, accessRequest(RANGE.secret), { from: '127.0.0.2' });
    expect(reply?.[0]).toBe(3);
  });

  it.each([
    ['a wrong secret', 'acct', () => accountingRequest('not-the-secret'), '127.0.0.2', 'wrong-secret'],
    [
      'no Message-Authenticator on an Access-Request',
      'auth',
      () => accessRequest(STRICT.secret, { messageAuthenticator: false }),
      '127.0.0.1',
      'no-message-authenticator',
    ],
    ['no Message-Authenticator on an Accounting-Request', 'acct', () => accountingRequest(RANGE.secret, 1, false), '127.0.0.2', 'no-message-authenticator'],
    ['a Message-Authenticator changed on the way', 'auth', () => tampered(accessRequest(RANGE.secret)), '127.0.0.3', 'wrong-secret'],
    ['a Message-Authenticator changed on the way, on accounting', 'acct', () => tampered(accountingRequest(RANGE.secret)), '127.0.0.3', 'wrong-secret'],
    [
      'Proxy-State and no Message-Authenticator from a client let off it',
      'auth',
      () => accessRequest(UNSIGNED.secret, { messageAuthenticator: false, proxyState: true }),
      '127.0.0.6',
      'no-message-authenticator',
    ],
    ['an address no client has', 'auth', () => accessRequest(RANGE.secret), '127.0.0.4', 'unknown-client'],
    ['an Access-Request on the accounting port', 'acct', () => accessRequest(RANGE.secret), '127.0.0.2', 'unexpected-code'],
    ['a datagram shorter than a header', 'auth', () => Buffer.from('0102030405', 'hex'), '127.0.0.2', 'malformed'],
    [
      'a broken attribute list',
      'auth',
      () => Buffer.concat([Buffer.from('0109001a', 'hex'), Buffer.alloc(16), Buffer.from('01000000ffff', 'hex')]),
      '127.0.0.2',
      'malformed',
    ],
  ] as const)('drops a request with %s, counts and logs it, and answers nothing', async (_what, kind, datagram, from, why) => {
    const running = await start();
    expect(await sendDatagram(kind === 'auth' ? running.auth : running.acct, datagram(), { from })).toEqual([]);
    expect(running.counted).toEqual([[kind, why]]);
    expect(running.logs).toEqual([expect.objectContaining({ level: 'warn', kind, why, from: expect.stringMatching(new RegExp(`^${from}:\\d+$`)) })]);
    expect(running.logs[0].message).toMatch(/^RADIUS packet dropped: /);
    expect(running.seen).toEqual([]);
  });

  it('logs an address that keeps sending junk once, counting what it left out', async () => {
    const { auth, logs, counted } = await start();
    for (let i = 0; i < 3; i++) await sendDatagram(auth, accessRequest(RANGE.secret), { from: '127.0.0.5', waitMs: 20 });
    expect(counted).toHaveLength(3);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ why: 'unknown-client', suppressedSinceLast: 0 });
  });
});

describe('retransmissions', () => {
  it('answers copies of one request from the cache and handles it once', async () => {
    let entered!: () => void;
    const handling = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    let handled = 0;
    const running = await start({
      accounting: async () => {
        handled++;
        entered();
        await new Promise<void>((resolve) => (release = resolve));
      },
    });
    const client = await datagramClient('127.0.0.2');
    try {
      const request = accountingRequest(RANGE.secret, 9);
      client.send(running.acct, request);
      await handling;
      // A copy while the first is being handled: the first copy's answer serves it.
      client.send(running.acct, request);
      await until(() => running.counted.length === 1);
      expect(running.counted).toEqual([['acct', 'duplicate']]);
      release();
      await until(() => client.replies.length === 1);
      // A copy after the answer: the same answer again.
      client.send(running.acct, request);
      await until(() => client.replies.length === 2);
      expect(client.replies[1].equals(client.replies[0])).toBe(true);
      expect(running.counted).toEqual([
        ['acct', 'duplicate'],
        ['acct', 'response'],
        ['acct', 'duplicate'],
      ]);
      expect(handled).toBe(1);
    } finally {
      client.close();
    }
  });

  it('leaves a request whose handler failed unanswered, and handles its next copy afresh', async () => {
    let calls = 0;
    const running = await start({
      access: async () => {
        calls++;
        if (calls === 1) throw new Error('database away');
        return { code: 'Access-Accept', attributes: [] };
      },
    });
    const request = accessRequest(RANGE.secret, { identifier: 12 });
    expect(await sendDatagram(running.auth, request, { from: '127.0.0.2' })).toEqual([]);
    expect(running.logs).toEqual([expect.objectContaining({ level: 'error', err: 'database away', kind: 'auth', identifier: 12 })]);
    const [reply] = await sendDatagram(running.auth, request, { from: '127.0.0.2' });
    expect(reply?.[0]).toBe(2);
    expect(calls).toBe(2);
    expect(running.counted).toEqual([
      ['auth', 'error'],
      ['auth', 'accept'],
    ]);
  });

  it('handles a request again once its cached answer expired', async () => {
    const running = await start({}, { duplicateCacheMs: 0 });
    const request = accessRequest(RANGE.secret, { identifier: 13 });
    await sendDatagram(running.auth, request, { from: '127.0.0.2', waitMs: 50 });
    await sendDatagram(running.auth, request, { from: '127.0.0.2', waitMs: 50 });
    expect(running.seen).toHaveLength(2);
  });
});

describe('stop', () => {
  it('waits for the requests being handled, sends their answers nowhere, and takes no more', async () => {
    let release!: () => void;
    let finished = false;
    const running = await start({
      accounting: async () => {
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
      },
    });
    const replies = sendDatagram(running.acct, accountingRequest(RANGE.secret), { from: '127.0.0.2', waitMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = running.server.stop();
    setTimeout(() => release(), 50);
    await stopped;
    expect(finished).toBe(true);
    expect(await replies).toEqual([]);
  });

  it('reports a port it cannot bind', async () => {
    const first = await start();
    const second = new RadiusServer({
      host: '127.0.0.1',
      authPort: first.auth,
      acctPort: 0,
      clients: [],
      duplicateCacheMs: 1000,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      handlers: { access: async () => ({ code: 'Access-Reject', attributes: [] }), accounting: async () => undefined },
    });
    await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
    await second.stop();
  });
});

describe('Message-Authenticator on every reply (BlastRADIUS)', () => {
  const firstAttribute = (reply: Buffer) => ({ type: reply[20], length: reply[21] });

  it('signs an Access-Accept with Message-Authenticator as its first attribute, and echoes Proxy-State after', async () => {
    const { auth } = await start();
    const request = encodeRequest(
      'Access-Request',
      STRICT.secret,
      [
        ['User-Name', 'alice'],
        ['Proxy-State', Buffer.from('c0ffee', 'hex')],
      ],
      { identifier: 30 },
    );
    const [reply] = await sendDatagram(auth, request, { from: '127.0.0.1' });
    expect(firstAttribute(reply)).toEqual({ type: 80, length: 18 });
    expect(verifyReply(request, reply, STRICT.secret)).toBe(true);
    expect(verifyReply(request, reply, RANGE.secret)).toBe(false);
    // The package's own check of both authenticators agrees.
    expect(radiusLibrary.verify_response({ request, response: reply, secret: STRICT.secret })).toBe(true);
    expect(decode(reply, STRICT.secret).raw_attributes.map(([type]) => type)).toEqual([80, 26, 33]);
  });

  it('signs an Accounting-Response, whose Message-Authenticator covers a zeroed Authenticator field', async () => {
    const { acct } = await start();
    const request = accountingRequest(RANGE.secret, 31);
    const [reply] = await sendDatagram(acct, request, { from: '127.0.0.2' });
    expect(reply[0]).toBe(5);
    expect(firstAttribute(reply)).toEqual({ type: 80, length: 18 });
    expect(verifyReply(request, reply, RANGE.secret)).toBe(true);
    const forged = Buffer.from(reply);
    forged[20 + 2] ^= 0x01;
    expect(verifyReply(request, forged, RANGE.secret)).toBe(false);
  });

  it('answers a client let off Message-Authenticator, and still signs the answer', async () => {
    const { auth, acct, counted } = await start();
    const request = accessRequest(UNSIGNED.secret, { messageAuthenticator: false, identifier: 32 });
    const [reply] = await sendDatagram(auth, request, { from: '127.0.0.6' });
    expect(verifyReply(request, reply, UNSIGNED.secret)).toBe(true);
    const accounting = accountingRequest(UNSIGNED.secret, 33, false);
    const [response] = await sendDatagram(acct, accounting, { from: '127.0.0.6' });
    expect(verifyReply(accounting, response, UNSIGNED.secret)).toBe(true);
    expect(counted).toEqual([
      ['auth', 'accept'],
      ['acct', 'response'],
    ]);
  });

  it('warns at start about each client let off Message-Authenticator', async () => {
    const { startLogs } = await start();
    expect(startLogs).toEqual([expect.objectContaining({ level: 'warn', client: 'unsigned' })]);
  });
});

describe('clients the server refuses to start with', () => {
  const serve = (clients: RadiusServerOptions['clients'], minSecretLength?: number) =>
    new RadiusServer({
      host: '127.0.0.1',
      authPort: 0,
      acctPort: 0,
      clients,
      ...(minSecretLength === undefined ? {} : { minSecretLength }),
      duplicateCacheMs: 1000,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      handlers: { access: async () => ({ code: 'Access-Reject', attributes: [] }), accounting: async () => undefined },
    });

  it.each([
    [
      'a secret under 16 characters',
      [STRICT, { address: '10.0.0.7', secret: 'fifteen-chars-x', name: 'ps-7' }],
      /RADIUS client ps-7 \(10\.0\.0\.7\): the shared secret has 15 characters; at least 16/,
    ],
    ['a /0 range', [{ address: '0.0.0.0/0', secret: RANGE.secret }], /RADIUS client 0\.0\.0\.0\/0: a \/0 range/],
    ['an IPv6 /0 range', [{ address: '::/0', secret: RANGE.secret, name: 'everyone' }], /RADIUS client everyone \(::\/0\): a \/0 range/],
    ['an address that is none', [{ address: 'port-server.example', secret: RANGE.secret }], /not an IP address/],
  ] as const)('refuses %s, naming the client', (_what, clients, message) => {
    expect(() => serve(clients)).toThrow(message);
  });

  it('takes another minimum when told', () => {
    expect(() => serve([{ address: '10.0.0.7', secret: 'x'.repeat(23) }], 24)).toThrow(/has 23 characters; at least 24/);
    expect(() => serve([{ address: '10.0.0.7', secret: 'x'.repeat(24) }], 24)).not.toThrow();
  });
});

describe('a handler over its bound', () => {
  it('drops a request its handler refused with Overloaded, counts it, and answers its next copy', async () => {
    let calls = 0;
    const running = await start({
      access: async () => {
        if (++calls === 1) throw new Overloaded('password checks');
        return { code: 'Access-Accept', attributes: [] };
      },
    });
    const request = accessRequest(RANGE.secret, { identifier: 40 });
    expect(await sendDatagram(running.auth, request, { from: '127.0.0.2' })).toEqual([]);
    expect(running.counted).toEqual([['auth', 'overloaded']]);
    expect(running.logs).toEqual([expect.objectContaining({ level: 'warn', why: 'overloaded' })]);
    const [reply] = await sendDatagram(running.auth, request, { from: '127.0.0.2' });
    expect(reply[0]).toBe(2);
  });
});
