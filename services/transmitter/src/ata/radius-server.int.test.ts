/**
 * The RADIUS layer: shared secrets, Message-Authenticator on every request and reply
 * (BlastRADIUS), clients refused at start, the bound on password checks, malformed datagrams,
 * retransmissions, and the manual's byte-exact request with FB-Command and FB-Context packed in
 * one VSA.
 */
import { encodeRequest, radiusLibrary, verifyReply } from '@faxnotify/radius';
import { MALFORMED_DATAGRAMS, sendDatagram } from '@faxnotify/radius/testing';
import { register } from 'prom-client';
import { RecipientLedger } from '../ledger/recipient-ledger';
import { TEST_RETRY_DELAYS } from '../testing/database';
import { defaultAtaConfig, type AtaConfig } from './config';
import { startAtaServer } from './index';
import { TEST_RADIUS_SECRET, memoryLogger, startAtaTestServer, type AtaTestServer } from './testing/port-server';

jest.setTimeout(30_000);

/** A second loopback address, a port server that sends no Message-Authenticator (FaxBack's): let off it. */
const RAW_CLIENT = '127.0.0.2';
const RAW_SECRET = 'raw-client-secret';

let ata: AtaTestServer;

/** Sends one datagram (from the raw client unless told otherwise) and collects the answers. */
const sendRaw = (port: number, datagram: Buffer, options: { from?: string; waitMs?: number; copies?: number } = {}): Promise<Buffer[]> =>
  sendDatagram(port, datagram, { ...options, from: options.from ?? RAW_CLIENT });

const encodeAccess = (attributes: unknown[], options: { identifier?: number; secret?: string; messageAuthenticator?: boolean } = {}): Buffer =>
  radiusLibrary.encode({
    code: 'Access-Request',
    identifier: options.identifier ?? 7,
    secret: options.secret ?? RAW_SECRET,
    attributes,
    add_message_authenticator: options.messageAuthenticator ?? false,
  });

/** How many requests of a kind had an outcome so far, by the server's metric (logs of one address are rate-limited). */
const outcomes = async (kind: 'auth' | 'acct', outcome: string): Promise<number> =>
  (await register.getSingleMetric('faxnotify_ata_radius_requests_total')!.get()).values.find((v) => v.labels.kind === kind && v.labels.outcome === outcome)
    ?.value ?? 0;

const dropped = (why: string) => ata.logLines.filter((line) => String(line.msg).startsWith('RADIUS packet dropped') && line.why === why);

beforeAll(async () => {
  ata = await startAtaTestServer({
    label: 'radius',
    placeholderNumbers: false,
    bus: { publishEvent: async () => undefined },
    config: {
      clients: [
        // radclient (from 127.0.0.1) plays a port server that signs its requests.
        { address: '127.0.0.1', secret: TEST_RADIUS_SECRET, name: 'strict' },
        { address: `${RAW_CLIENT}/32`, secret: RAW_SECRET, requireMessageAuthenticator: false, name: 'raw' },
      ],
    },
  });
  const test = await ata.server.store.createAccount({ name: 'TEST', password: 'test', ownerId: 'owner-2' });
  await ata.server.store.putDid(test!.id, '1111', {});
  await ata.server.store.putDid(test!.id, '2222', {});
});

afterAll(async () => {
  await ata?.close();
});

/** FB-Command Get-Account, FB-Context Account-Login, as one request built here carries them. */
const FAXBACK_LOGIN = [
  'Vendor-Specific',
  'FaxBack',
  [
    ['FB-Command', 'Get-Account'],
    ['FB-Context', 'Account-Login'],
  ],
] as const;

/** FB-Command Get-DIDs-For-Account for the module, of the account TEST: a request any client may make. */
const DIDS_OF_TEST = [
  [
    'Vendor-Specific',
    'FaxBack',
    [
      ['FB-Command', 'Get-DIDs-For-Account'],
      ['FB-Context', 'For-External-Module'],
    ],
  ],
  ['User-Name', 'TEST'],
];

const login = (extra: ReadonlyArray<readonly [string, string]> = []) =>
  [['FB-Command', 'Get-Account'], ['FB-Context', 'Account-Login'], ['User-Name', 'test'], ['User-Password', 'test'], ...extra] as const;

describe('shared secret and Message-Authenticator', () => {
  it('answers a request signed with Message-Authenticator, and signs the answer (radclient checks both authenticators)', async () => {
    const reply = await ata.send('auth', login());
    expect(reply.code).toBe('Access-Accept');
    // radclient drops a reply whose Message-Authenticator is wrong; this one it printed.
    expect(reply.messageAuthenticator).toMatch(/^0x[0-9a-f]{32}$/);
    const record = await ata.send('acct', [
      ['Acct-Status-Type', 'Start'],
      ['Acct-Session-Id', 'signed-reply-1'],
      ['User-Name', 'nobody'],
    ]);
    expect(record.code).toBe('Accounting-Response');
    expect(record.messageAuthenticator).toMatch(/^0x[0-9a-f]{32}$/);
  });

  it.each(['auth', 'acct'] as const)('drops a request to the %s port without Message-Authenticator, and answers nothing', async (kind) => {
    const before = await outcomes(kind, 'no-message-authenticator');
    const attributes =
      kind === 'auth'
        ? login()
        : ([
            ['Acct-Status-Type', 'Start'],
            ['Acct-Session-Id', 'unsigned-1'],
            ['User-Name', 'nobody'],
          ] as const);
    const reply = await ata.send(kind, attributes, { retries: 1, timeoutSeconds: 1, messageAuthenticator: false });
    expect(reply.code).toBeNull();
    expect(await outcomes(kind, 'no-message-authenticator')).toBeGreaterThan(before);
  });

  it('drops a request whose Message-Authenticator does not match', async () => {
    const request = encodeRequest('Access-Request', TEST_RADIUS_SECRET, [FAXBACK_LOGIN, ['User-Name', 'test'], ['User-Password', 'test']], { identifier: 90 });
    const before = await outcomes('auth', 'wrong-secret');
    request[20 + 9] ^= 0x5a;
    expect(await sendRaw(ata.server.address.authPort, request, { from: '127.0.0.1' })).toEqual([]);
    expect(await outcomes('auth', 'wrong-secret')).toBe(before + 1);
    // The same request unchanged is answered.
    request[20 + 9] ^= 0x5a;
    expect((await sendRaw(ata.server.address.authPort, request, { from: '127.0.0.1', waitMs: 3000 }))[0]?.[0]).toBe(2);
  });

  it('gives no reply to an Access-Request signed with a wrong secret', async () => {
    const reply = await ata.send('auth', login(), { secret: 'not-the-secret-either', retries: 1, timeoutSeconds: 1 });
    expect(reply.code).toBeNull();
    expect(dropped('wrong-secret').length).toBeGreaterThan(0);
  });

  it('gives no reply to an Accounting-Request with a wrong secret, and answers one with the right secret and Message-Authenticator', async () => {
    const record = [
      ['Acct-Status-Type', 'Start'],
      ['Acct-Session-Id', 'secret-check-1'],
      ['User-Name', 'nobody'],
    ] as const;
    expect((await ata.send('acct', record, { secret: 'not-the-secret-either', retries: 1, timeoutSeconds: 1 })).code).toBeNull();
    expect((await ata.send('acct', record)).code).toBe('Accounting-Response');
  });

  it('lets a port server that signs nothing be verified only by its replies: with a wrong secret it accepts none of ours', async () => {
    // RADIUS cannot tell a wrong secret from an Access-Request without Message-Authenticator; the
    // client can, because our Response Authenticator is made with our secret.
    const request = encodeAccess(DIDS_OF_TEST, {
      secret: 'not-the-secret',
    });
    const [reply] = await sendRaw(ata.server.address.authPort, request);
    expect(reply).toBeDefined();
    expect(radiusLibrary.verify_response({ request, response: Buffer.from(reply), secret: 'not-the-secret' })).toBe(false);
    expect(radiusLibrary.verify_response({ request, response: Buffer.from(reply), secret: RAW_SECRET })).toBe(true);
    // Its reply carries Message-Authenticator all the same.
    expect(verifyReply(request, reply, RAW_SECRET)).toBe(true);
  });

  it('drops an Access-Request with Proxy-State from the port server let off Message-Authenticator', async () => {
    const request = encodeAccess(
      [
        ['User-Name', 'TEST'],
        ['Proxy-State', Buffer.from('0badc0de', 'hex')],
      ],
      { identifier: 91 },
    );
    const before = dropped('no-message-authenticator').length;
    expect(await sendRaw(ata.server.address.authPort, request)).toEqual([]);
    expect(dropped('no-message-authenticator').length).toBeGreaterThan(before);
  });
});

describe("the manual's byte-exact request (p29)", () => {
  it('decodes FB-Command and FB-Context packed in one VSA and answers with two FB-DID in 44 octets', async () => {
    const request = Buffer.from('0103002cc9ec4f8daa6d6b43a254e3ae5eb9e60a1a12000077e6010600000009020600000005010654455354', 'hex');
    const [reply] = await sendRaw(ata.server.address.authPort, request);
    expect(reply).toBeDefined();
    expect(reply[0]).toBe(2); // Access-Accept
    expect(reply[1]).toBe(3); // the request's identifier
    // The manual's 44 octets, with Message-Authenticator (18 octets) put first.
    expect(reply.readUInt16BE(2)).toBe(44 + 18);
    expect(reply.subarray(20, 22).toString('hex')).toBe('5012');
    expect(reply.subarray(38).toString('hex')).toBe('1a0c000077e64b06313131311a0c000077e64b0632323232');
    expect(verifyReply(request, reply, RAW_SECRET)).toBe(true);
    expect(radiusLibrary.verify_response({ request, response: Buffer.from(reply), secret: RAW_SECRET })).toBe(true);
  });
});

describe('malformed datagrams', () => {
  const good = () => encodeAccess(DIDS_OF_TEST);

  it.each<readonly [string, Buffer]>([
    ...MALFORMED_DATAGRAMS,
    [
      'a vendor attribute with a broken sub-attribute',
      Buffer.concat([Buffer.from('0109001e', 'hex'), Buffer.alloc(16), Buffer.from('1a0a000077e601016161', 'hex')]),
    ],
    ['an integer sub-attribute of one octet', Buffer.concat([Buffer.from('0109001d', 'hex'), Buffer.alloc(16), Buffer.from('1a09000077e6010301', 'hex')])],
  ])('drops %s, logs it, and keeps answering', async (_what, datagram) => {
    expect(await sendRaw(ata.server.address.authPort, datagram)).toEqual([]);
    expect(dropped('malformed').length).toBeGreaterThan(0);
    const [reply] = await sendRaw(ata.server.address.authPort, good());
    expect(reply?.[0]).toBe(2);
  });

  it('drops an answer code sent to the server, an Access-Request sent to the accounting port, and datagrams from unknown addresses', async () => {
    const accept = Buffer.from(good());
    accept[0] = 2;
    expect(await sendRaw(ata.server.address.authPort, accept)).toEqual([]);
    expect(await sendRaw(ata.server.address.acctPort, good())).toEqual([]);
    expect(dropped('unexpected-code').length).toBeGreaterThan(0);
    expect(await sendRaw(ata.server.address.authPort, good(), { from: '127.0.0.3' })).toEqual([]);
    expect(dropped('unknown-client').length).toBeGreaterThan(0);
  });
});

describe('retransmissions', () => {
  it('answers copies of one request (same identifier and authenticator) from the cache, handling it once', async () => {
    const request = encodeAccess(DIDS_OF_TEST, {
      identifier: 201,
    });
    const replies = await sendRaw(ata.server.address.authPort, request, { copies: 3, waitMs: 600 });
    expect(replies.length).toBeGreaterThanOrEqual(1);
    for (const reply of replies) expect(reply.equals(replies[0])).toBe(true);
    const handled = ata.logLines.filter((line) => line.msg === 'Access-Request answered' && line.identifier === 201);
    expect(handled).toHaveLength(1);
  });
});

describe('clients refused at start', () => {
  const start = (config: Partial<AtaConfig>) =>
    startAtaServer({
      config: defaultAtaConfig({ dictionary: ata.dictionaries.faxback, ...config }),
      db: ata.database.db,
      logger: memoryLogger().logger,
      eventsWritten: () => undefined,
      ledger: new RecipientLedger(TEST_RETRY_DELAYS),
    });

  it('refuses a shared secret under the minimum, naming the client', async () => {
    await expect(start({ clients: [{ address: '192.0.2.7', secret: 'short-secret', name: 'port-7' }] })).rejects.toThrow(
      'RADIUS client port-7 (192.0.2.7): the shared secret has 12 characters; at least 16 are needed',
    );
    await expect(start({ minSecretLength: 32, clients: [{ address: '192.0.2.7', secret: TEST_RADIUS_SECRET }] })).rejects.toThrow(
      /RADIUS client 192\.0\.2\.7: .* at least 32/,
    );
  });

  it.each(['0.0.0.0/0', '::/0'])('refuses the range %s, naming the client', async (address) => {
    await expect(start({ clients: [{ address, secret: TEST_RADIUS_SECRET, name: 'everyone' }] })).rejects.toThrow(
      `RADIUS client everyone (${address}): a /0 range`,
    );
  });
});

describe('the bound on password checks', () => {
  const overloaded = () => outcomes('auth', 'overloaded');

  it('drops and counts the logins past the bound, answers those within it, and answers a dropped one asked again', async () => {
    const bounded = await startAtaTestServer({
      label: 'radius-bound',
      placeholderNumbers: false,
      bus: { publishEvent: async () => undefined },
      config: { passwordChecks: { concurrent: 1, queued: 1 } },
    });
    try {
      await bounded.server.store.createAccount({ name: 'FLOOD', password: 'flood', ownerId: 'owner-3' });
      const before = await overloaded();
      const requests = Array.from({ length: 12 }, (_, i) =>
        encodeRequest('Access-Request', TEST_RADIUS_SECRET, [FAXBACK_LOGIN, ['User-Name', 'flood'], ['User-Password', 'flood']], {
          identifier: i,
        }),
      );
      const replies = await Promise.all(requests.map((request) => sendRaw(bounded.server.address.authPort, request, { from: '127.0.0.1', waitMs: 5000 })));
      const answered = replies.filter((r) => r.length > 0);
      const dropped = (await overloaded()) - before;
      expect(answered.length).toBeGreaterThanOrEqual(1);
      expect(dropped).toBeGreaterThanOrEqual(1);
      expect(answered.length + dropped).toBe(12);
      for (const [reply] of answered) expect(reply[0]).toBe(2);
      expect(bounded.logLines.some((line) => line.why === 'overloaded' && String(line.msg).includes('too many password checks at once'))).toBe(true);
      // The port server asks again: with the flood over, the dropped login is answered.
      const again = requests[replies.findIndex((r) => r.length === 0)];
      const [reply] = await sendRaw(bounded.server.address.authPort, again, { from: '127.0.0.1', waitMs: 5000 });
      expect(reply?.[0]).toBe(2);
      expect(verifyReply(again, reply, TEST_RADIUS_SECRET)).toBe(true);
    } finally {
      await bounded.close();
    }
  });
});
