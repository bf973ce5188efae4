/**
 * The RADIUS layer: shared secrets, Message-Authenticator, malformed datagrams, retransmissions,
 * and the manual's byte-exact request with FB-Command and FB-Context packed in one VSA.
 */
import { radiusLibrary } from '@faxnotify/radius';
import { MALFORMED_DATAGRAMS, sendDatagram } from '@faxnotify/radius/testing';
import { TEST_RADIUS_SECRET, startAtaTestServer, type AtaTestServer } from './testing/port-server';

jest.setTimeout(30_000);

/** A second loopback address: its client entry does not require Message-Authenticator. */
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

const dropped = (why: string) => ata.logLines.filter((line) => String(line.msg).startsWith('RADIUS packet dropped') && line.why === why);

beforeAll(async () => {
  ata = await startAtaTestServer({
    label: 'radius',
    placeholderNumbers: false,
    bus: { publishEvent: async () => undefined },
    config: {
      clients: [
        // radclient (from 127.0.0.1) plays a port server configured to send Message-Authenticator.
        { address: '127.0.0.1', secret: TEST_RADIUS_SECRET, requireMessageAuthenticator: true, name: 'strict' },
        { address: `${RAW_CLIENT}/32`, secret: RAW_SECRET, name: 'raw' },
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

const login = (extra: ReadonlyArray<readonly [string, string]> = []) =>
  [['FB-Command', 'Get-Account'], ['FB-Context', 'Account-Login'], ['User-Name', 'test'], ['User-Password', 'test'], ...extra] as const;

describe('shared secret and Message-Authenticator', () => {
  it('answers a request signed with Message-Authenticator, and signs the answer (radclient checks both authenticators)', async () => {
    const reply = await ata.send('auth', login([['Message-Authenticator', '0x00']]));
    expect(reply.code).toBe('Access-Accept');
  });

  it('drops an Access-Request without Message-Authenticator from a client configured to send it', async () => {
    const reply = await ata.send('auth', login(), { retries: 1, timeoutSeconds: 1 });
    expect(reply.code).toBeNull();
    expect(dropped('no-message-authenticator').length).toBeGreaterThan(0);
  });

  it('gives no reply to an Access-Request signed with a wrong secret', async () => {
    const reply = await ata.send('auth', login([['Message-Authenticator', '0x00']]), { secret: 'not-the-secret', retries: 1, timeoutSeconds: 1 });
    expect(reply.code).toBeNull();
    expect(dropped('wrong-secret').length).toBeGreaterThan(0);
  });

  it('gives no reply to an Accounting-Request with a wrong secret, and answers one with the right secret and Message-Authenticator', async () => {
    const record = [['Acct-Status-Type', 'Start'], ['Acct-Session-Id', 'secret-check-1'], ['User-Name', 'nobody']] as const;
    expect((await ata.send('acct', record, { secret: 'not-the-secret', retries: 1, timeoutSeconds: 1 })).code).toBeNull();
    expect((await ata.send('acct', [...record, ['Message-Authenticator', '0x00']])).code).toBe('Accounting-Response');
  });

  it('lets a port server that signs nothing be verified only by its replies: with a wrong secret it accepts none of ours', async () => {
    // RADIUS cannot tell a wrong secret from an Access-Request without Message-Authenticator; the
    // client can, because our Response Authenticator is made with our secret.
    const request = encodeAccess([['Vendor-Specific', 'FaxBack', [['FB-Command', 'Get-DIDs-For-Account'], ['FB-Context', 'For-External-Module']]], ['User-Name', 'TEST']], {
      secret: 'not-the-secret',
    });
    const [reply] = await sendRaw(ata.server.address.authPort, request);
    expect(reply).toBeDefined();
    expect(radiusLibrary.verify_response({ request, response: Buffer.from(reply), secret: 'not-the-secret' })).toBe(false);
    expect(radiusLibrary.verify_response({ request, response: Buffer.from(reply), secret: RAW_SECRET })).toBe(true);
  });
});

describe('the manual\'s byte-exact request (p29)', () => {
  it('decodes FB-Command and FB-Context packed in one VSA and answers with two FB-DID in 44 octets', async () => {
    const request = Buffer.from('0103002cc9ec4f8daa6d6b43a254e3ae5eb9e60a1a12000077e6010600000009020600000005010654455354', 'hex');
    const [reply] = await sendRaw(ata.server.address.authPort, request);
    expect(reply).toBeDefined();
    expect(reply[0]).toBe(2); // Access-Accept
    expect(reply[1]).toBe(3); // the request's identifier
    expect(reply.readUInt16BE(2)).toBe(44);
    expect(reply.subarray(20).toString('hex')).toBe('1a0c000077e64b06313131311a0c000077e64b0632323232');
    expect(radiusLibrary.verify_response({ request, response: Buffer.from(reply), secret: RAW_SECRET })).toBe(true);
  });
});

describe('malformed datagrams', () => {
  const good = () => encodeAccess([['Vendor-Specific', 'FaxBack', [['FB-Command', 'Get-DIDs-For-Account'], ['FB-Context', 'For-External-Module']]], ['User-Name', 'TEST']]);

  it.each<readonly [string, Buffer]>([
    ...MALFORMED_DATAGRAMS,
    ['a vendor attribute with a broken sub-attribute', Buffer.concat([Buffer.from('0109001e', 'hex'), Buffer.alloc(16), Buffer.from('1a0a000077e601016161', 'hex')])],
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
    const request = encodeAccess([['Vendor-Specific', 'FaxBack', [['FB-Command', 'Get-DIDs-For-Account'], ['FB-Context', 'For-External-Module']]], ['User-Name', 'TEST']], {
      identifier: 201,
    });
    const replies = await sendRaw(ata.server.address.authPort, request, { copies: 3, waitMs: 600 });
    expect(replies.length).toBeGreaterThanOrEqual(1);
    for (const reply of replies) expect(reply.equals(replies[0])).toBe(true);
    const handled = ata.logLines.filter((line) => line.msg === 'Access-Request answered' && line.identifier === 201);
    expect(handled).toHaveLength(1);
  });
});
