/**
 * Requests checked and decoded, replies signed, attributes read: against packets the `radius`
 * package builds, with a made-up vendor's dictionary.
 */
import { createHash, createHmac } from 'node:crypto';
import { join } from 'node:path';
import { loadDictionary, radiusLibrary } from './dictionary';
import {
  DroppedPacket,
  attribute,
  attributeValues,
  dateAttribute,
  decodeRequest,
  describeAttributes,
  encodeReply,
  enumAttribute,
  integerAttribute,
  named,
  textAttribute,
  vendorAttribute,
  vendorAttributes,
  type DecodedPacket,
  type RequestKind,
} from './packet';
import { encodeRequest, verifyReply } from './sign';
import { MALFORMED_DATAGRAMS } from './testing';

const SECRET = 'packet-test-secret';
const EXAMPLE = { id: 32473, name: 'Example' };

beforeAll(() => {
  loadDictionary(join(__dirname, 'fixtures', 'dictionary.example'));
});

const encode = (code: RequestKind, attributes: unknown[], options: { secret?: string; messageAuthenticator?: boolean } = {}): Buffer =>
  radiusLibrary.encode({
    code,
    identifier: 42,
    secret: options.secret ?? SECRET,
    attributes,
    add_message_authenticator: options.messageAuthenticator ?? false,
  });

/**
 * An Accounting-Request signed as RFC 5080 §2.2.4 and FreeRADIUS sign it: Message-Authenticator
 * over the packet with a zero Request Authenticator, then the Request Authenticator over the result.
 */
function signedAccounting(attributes: unknown[], secret = SECRET): Buffer {
  const packet = encode('Accounting-Request', [...attributes, ['Message-Authenticator', Buffer.alloc(16)]], { secret });
  packet.fill(0, 4, 20);
  createHmac('md5', secret)
    .update(packet)
    .digest()
    .copy(packet, packet.length - 16);
  createHash('md5').update(packet).update(secret).digest().copy(packet, 4);
  return packet;
}

const why = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (error instanceof DroppedPacket) return error.why;
    throw error;
  }
  throw new Error('the packet was not dropped');
};

const command = (value: string | number) => ['Vendor-Specific', 'Example', [['Example-Command', value]]];

describe('requests', () => {
  it('decodes an Access-Request with its vendor attributes and hidden password', () => {
    const packet = decodeRequest(
      encode('Access-Request', [['User-Name', 'alice'], ['User-Password', 'open sesame'], command('Write-Down')]),
      SECRET,
      'Access-Request',
      false,
    );
    expect(packet).toMatchObject({ code: 'Access-Request', identifier: 42 });
    expect(textAttribute(packet, 'User-Name')).toBe('alice');
    expect(textAttribute(packet, 'User-Password')).toBe('open sesame');
    expect(enumAttribute(packet, 'Example-Command')).toBe('Write-Down');
  });

  it('checks Message-Authenticator of an Access-Request, and lets off only a client configured to send none', () => {
    const signed = encode('Access-Request', [['User-Name', 'alice']], { messageAuthenticator: true });
    expect(decodeRequest(signed, SECRET, 'Access-Request', true).identifier).toBe(42);
    expect(why(() => decodeRequest(signed, 'another-secret', 'Access-Request', true))).toBe('wrong-secret');
    const unsigned = encode('Access-Request', [['User-Name', 'alice']]);
    expect(decodeRequest(unsigned, SECRET, 'Access-Request', false).identifier).toBe(42);
    expect(why(() => decodeRequest(unsigned, SECRET, 'Access-Request', true))).toBe('no-message-authenticator');
    // Proxy-State is what a BlastRADIUS forgery needs echoed: not without Message-Authenticator.
    const proxied = encode('Access-Request', [
      ['User-Name', 'alice'],
      ['Proxy-State', Buffer.from('c0ffee', 'hex')],
    ]);
    expect(why(() => decodeRequest(proxied, SECRET, 'Access-Request', false))).toBe('no-message-authenticator');
  });

  it('checks the Request Authenticator of an Accounting-Request', () => {
    const request = encode('Accounting-Request', [
      ['Acct-Status-Type', 'Start'],
      ['Acct-Session-Id', 's-1'],
    ]);
    expect(textAttribute(decodeRequest(request, SECRET, 'Accounting-Request', false), 'Acct-Session-Id')).toBe('s-1');
    expect(why(() => decodeRequest(request, 'another-secret', 'Accounting-Request', false))).toBe('wrong-secret');
  });

  it('checks Message-Authenticator of an Accounting-Request over a zero Request Authenticator (RFC 5080)', () => {
    const request = signedAccounting([
      ['Acct-Status-Type', 'Stop'],
      ['Acct-Session-Id', 's-2'],
    ]);
    expect(enumAttribute(decodeRequest(request, SECRET, 'Accounting-Request', true), 'Acct-Status-Type')).toBe('Stop');
    // The same octets signed over the Request Authenticator, as the `radius` package signs them: refused.
    const librarySigned = encode(
      'Accounting-Request',
      [
        ['Acct-Status-Type', 'Stop'],
        ['Acct-Session-Id', 's-2'],
      ],
      { messageAuthenticator: true },
    );
    expect(why(() => decodeRequest(librarySigned, SECRET, 'Accounting-Request', false))).toBe('wrong-secret');
  });

  it('ignores octets past the length field, and drops a request of the wrong code', () => {
    const request = encode('Access-Request', [['User-Name', 'alice']]);
    expect(textAttribute(decodeRequest(Buffer.concat([request, Buffer.alloc(7, 0xff)]), SECRET, 'Access-Request', false), 'User-Name')).toBe('alice');
    expect(why(() => decodeRequest(request, SECRET, 'Accounting-Request', false))).toBe('unexpected-code');
  });

  it.each(MALFORMED_DATAGRAMS)('drops %s as malformed', (_what, datagram) => {
    expect(why(() => decodeRequest(datagram, SECRET, 'Access-Request', false))).toBe('malformed');
  });
});

describe('replies', () => {
  const request = (messageAuthenticator: boolean, code: RequestKind = 'Access-Request') => {
    const raw = code === 'Access-Request' ? encode(code, [['User-Name', 'alice']], { messageAuthenticator }) : encode(code, [['Acct-Status-Type', 'Start']]);
    return { raw, decoded: decodeRequest(raw, SECRET, code, false) };
  };

  it('signs an Access-Accept with the Response Authenticator and one Vendor-Specific attribute per vendor attribute', () => {
    const { raw, decoded } = request(false);
    const reply = encodeReply(decoded, 'Access-Accept', SECRET, [
      ['Reply-Message', 'welcome'],
      vendorAttribute('Example', 'Example-Text', 'one'),
      vendorAttribute('Example', 'Example-Count', 7),
    ]);
    expect(radiusLibrary.verify_response({ request: raw, response: reply, secret: SECRET })).toBe(true);
    expect(radiusLibrary.verify_response({ request: raw, response: reply, secret: 'another-secret' })).toBe(false);
    const answer = radiusLibrary.decode({ packet: reply, secret: SECRET });
    expect(answer.code).toBe('Access-Accept');
    expect(answer.raw_attributes.filter(([type]) => type === 26)).toHaveLength(2);
    expect(answer.attributes).toMatchObject({ 'Reply-Message': 'welcome', 'Vendor-Specific': { 'Example-Text': 'one', 'Example-Count': 7 } });
  });

  it.each([true, false])('puts Message-Authenticator first in an Access reply (the request had one: %s)', (messageAuthenticator) => {
    const { raw, decoded } = request(messageAuthenticator);
    const reply = encodeReply(decoded, 'Access-Reject', SECRET);
    expect(reply[0]).toBe(3);
    expect([reply[20], reply[21]]).toEqual([80, 18]);
    expect(radiusLibrary.decode({ packet: reply, secret: SECRET }).attributes['Message-Authenticator']).toBeDefined();
    expect(verifyReply(raw, reply, SECRET)).toBe(true);
    if (messageAuthenticator) expect(radiusLibrary.verify_response({ request: raw, response: reply, secret: SECRET })).toBe(true);
  });

  it('signs an Accounting-Response with Message-Authenticator over a zeroed Authenticator field, as FreeRADIUS checks it', () => {
    const { raw, decoded } = request(false, 'Accounting-Request');
    const reply = encodeReply(decoded, 'Accounting-Response', SECRET);
    expect(reply[0]).toBe(5);
    expect(reply.readUInt16BE(2)).toBe(38);
    const signed = Buffer.from(reply);
    signed.fill(0, 4, 20).fill(0, 22, 38);
    expect(reply.subarray(22, 38)).toEqual(createHmac('md5', SECRET).update(signed).digest());
    expect(verifyReply(raw, reply, SECRET)).toBe(true);
    expect(verifyReply(raw, reply, 'another-secret')).toBe(false);
  });

  it('builds requests whose Message-Authenticator the checks above take', () => {
    const access = encodeRequest('Access-Request', SECRET, [
      ['User-Name', 'alice'],
      ['User-Password', 'open sesame'],
    ]);
    expect(textAttribute(decodeRequest(access, SECRET, 'Access-Request', true), 'User-Password')).toBe('open sesame');
    const accounting = encodeRequest('Accounting-Request', SECRET, [['Acct-Status-Type', 'Stop']]);
    expect(enumAttribute(decodeRequest(accounting, SECRET, 'Accounting-Request', true), 'Acct-Status-Type')).toBe('Stop');
    const unsigned = encodeRequest('Accounting-Request', SECRET, [['Acct-Status-Type', 'Stop']], { messageAuthenticator: false });
    expect(why(() => decodeRequest(unsigned, SECRET, 'Accounting-Request', true))).toBe('no-message-authenticator');
    expect(decodeRequest(unsigned, SECRET, 'Accounting-Request', false).code).toBe('Accounting-Request');
  });
});

describe('attribute readers', () => {
  const at = new Date('2026-03-04T05:06:07.000Z');
  let packet: DecodedPacket;
  beforeAll(() => {
    const raw = encode('Accounting-Request', [
      ['Acct-Status-Type', 'Interim-Update'],
      ['Acct-Session-Id', 's-3'],
      ['Acct-Delay-Time', 4],
      ['Class', Buffer.from('first')],
      ['Class', Buffer.from('second')],
      [
        'Vendor-Specific',
        'Example',
        [
          ['Example-Command', 1],
          ['Example-Text', 'hello'],
          ['Example-Time', at],
        ],
      ],
      [
        'Vendor-Specific',
        'Example',
        [
          ['Example-Tag', 'a'],
          ['Example-Tag', 'b'],
        ],
      ],
    ]);
    // Two sub-attributes the dictionary does not define (20 and 21) in a third Vendor-Specific attribute.
    const unknown = Buffer.from('1a1000007ed914040a0b15060c0d0e0f', 'hex');
    const withUnknown = Buffer.concat([raw, unknown]);
    withUnknown.writeUInt16BE(withUnknown.length, 2);
    withUnknown.fill(0, 4, 20);
    createHash('md5').update(withUnknown).update(SECRET).digest().copy(withUnknown, 4);
    packet = decodeRequest(withUnknown, SECRET, 'Accounting-Request', false);
  });

  it('reads standard and vendor attributes by name, typed', () => {
    expect(textAttribute(packet, 'Acct-Session-Id')).toBe('s-3');
    expect(textAttribute(packet, 'Example-Text')).toBe('hello');
    expect(integerAttribute(packet, 'Acct-Delay-Time')).toBe(4);
    expect(integerAttribute(packet, 'Example-Text')).toBeUndefined();
    expect(enumAttribute(packet, 'Example-Command')).toBe('Look-Up');
    expect(enumAttribute(packet, 'Acct-Status-Type')).toBe('Interim-Update');
    expect(dateAttribute(packet, 'Example-Time')).toEqual(at);
    expect(dateAttribute(packet, 'Example-Text')).toBeUndefined();
    expect(textAttribute(packet, 'Example-Count')).toBeUndefined();
    expect(vendorAttributes(packet)).toMatchObject({ 'Example-Text': 'hello' });
  });

  it('gives the first value of a repeated attribute, or all of them', () => {
    expect(textAttribute(packet, 'Class')).toBe('first');
    expect(attributeValues(packet, 'Class').map(String)).toEqual(['first', 'second']);
    expect(attribute(packet, 'Example-Tag')).toBe('a');
    expect(attributeValues(packet, 'Example-Tag')).toEqual(['a', 'b']);
    expect(attributeValues(packet, 'Example-Count')).toEqual([]);
  });

  it('describes everything the packet carried, the vendor attributes the dictionary lacks as octets', () => {
    const text = describeAttributes(packet, EXAMPLE);
    expect(text).toContain('Acct-Session-Id="s-3"');
    expect(text).toContain('Class=0x6669727374 Class=0x7365636f6e64');
    expect(text).toContain(`Example-Time=${at.toISOString()}`);
    expect(text).toContain('Example-Tag="a" Example-Tag="b"');
    expect(text).toContain('Example-Attr-20=0x0a0b Example-Attr-21=0x0c0d0e0f');
    expect(describeAttributes(packet, EXAMPLE, ['Acct-Delay-Time'])).not.toContain('Acct-Delay-Time');
  });

  it('leaves out what a password and Message-Authenticator hold', () => {
    const raw = encode(
      'Access-Request',
      [
        ['User-Name', 'alice'],
        ['User-Password', 'open sesame'],
      ],
      { messageAuthenticator: true },
    );
    expect(describeAttributes(decodeRequest(raw, SECRET, 'Access-Request', true), EXAMPLE)).toBe('User-Name="alice"');
  });
});

describe('named values', () => {
  const COMMANDS = { 'Look-Up': 1, WriteDown: 2 } as const;

  it('matches a number, or a dictionary name without case and punctuation', () => {
    expect(named(COMMANDS, 1)).toBe('Look-Up');
    expect(named(COMMANDS, 'lookup')).toBe('Look-Up');
    expect(named(COMMANDS, 'Write-Down')).toBe('WriteDown');
    expect(named(COMMANDS, 3)).toBeUndefined();
    expect(named(COMMANDS, 'Erase')).toBeUndefined();
    expect(named(COMMANDS, undefined)).toBeUndefined();
  });
});
