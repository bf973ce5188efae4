/**
 * RADIUS packets in and out, through the `radius` package: decoding with the loaded dictionary,
 * checking that a request really comes from a client that knows the shared secret, and building
 * replies with correct Response Authenticators.
 *
 * Two checks are done here rather than by the package: the Request Authenticator of an
 * Accounting-Request, and Message-Authenticator, because the package computes the latter over the
 * Request Authenticator for every request, while RFC 5080 §2.2.4 (and FreeRADIUS) compute it for an
 * Accounting-Request with that field zeroed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { radiusLibrary, type DecodedPacket } from './dictionary';
import { MESSAGE_AUTHENTICATOR_PLACEHOLDER, signReply } from './sign';

/** RFC 2865 §3: a packet is 20 to 4096 octets long. */
const MIN_LENGTH = 20;
const MAX_LENGTH = 4096;
const AUTHENTICATOR = { start: 4, end: 20 } as const;

export type RequestKind = 'Access-Request' | 'Accounting-Request';

export type { DecodedPacket } from './dictionary';

/** Why a datagram was dropped, for the log. */
export class DroppedPacket extends Error {
  constructor(
    readonly why: 'malformed' | 'unexpected-code' | 'wrong-secret' | 'no-message-authenticator',
    message: string,
  ) {
    super(message);
  }
}

const attributeId = (name: string): number => Number(radiusLibrary.attr_name_to_id(name));
/** RFC 2869 §5.14 and RFC 2865 §5.33: fixed numbers, so the checks need no dictionary loaded first. */
const MESSAGE_AUTHENTICATOR_TYPE = 80;
const PROXY_STATE_TYPE = 33;

/** Where each attribute starts, walking the attribute list; throws on a broken list. */
function attributeOffsets(packet: Buffer, length: number): Array<{ type: number; offset: number; length: number }> {
  const found: Array<{ type: number; offset: number; length: number }> = [];
  for (let offset = MIN_LENGTH; offset < length;) {
    if (offset + 2 > length) throw new DroppedPacket('malformed', `attribute header cut off at octet ${offset}`);
    const type = packet[offset];
    const size = packet[offset + 1];
    if (size < 2) throw new DroppedPacket('malformed', `attribute ${type} at octet ${offset} has length ${size}`);
    if (offset + size > length) throw new DroppedPacket('malformed', `attribute ${type} at octet ${offset} runs past the packet's end`);
    found.push({ type, offset, length: size });
    offset += size;
  }
  return found;
}

const equal = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/**
 * Checks a datagram's framing and its proof of the shared secret, then decodes it. Throws
 * DroppedPacket for anything to drop silently (RFC 2865 §3: a wrong secret gets no answer).
 * Message-Authenticator must be there and right (BlastRADIUS, CVE-2024-3596) unless
 * `requireMessageAuthenticator` is false for a client that cannot send it; such a client's
 * Access-Requests are still dropped when they carry Proxy-State (FreeRADIUS's limit_proxy_state).
 */
export function decodeRequest(datagram: Buffer, secret: string, expected: RequestKind, requireMessageAuthenticator: boolean): DecodedPacket {
  if (datagram.length < MIN_LENGTH) throw new DroppedPacket('malformed', `${datagram.length} octets is shorter than a RADIUS header`);
  const length = datagram.readUInt16BE(2);
  if (length < MIN_LENGTH || length > MAX_LENGTH) throw new DroppedPacket('malformed', `length field ${length} is outside 20..4096`);
  if (datagram.length < length) throw new DroppedPacket('malformed', `length field ${length} but only ${datagram.length} octets arrived`);
  // Octets past the length field are padding (RFC 2865 §3) and are ignored.
  const packet = Buffer.from(datagram.subarray(0, length));
  const codeName = radiusCodeName(packet[0]);
  if (codeName !== expected) throw new DroppedPacket('unexpected-code', `code ${packet[0]} (${codeName ?? 'unknown'}) where ${expected} was expected`);

  const offsets = attributeOffsets(packet, length);
  const messageAuthenticator = offsets.find((a) => a.type === MESSAGE_AUTHENTICATOR_TYPE);
  if (expected === 'Accounting-Request') {
    // RFC 2866 §3: MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret).
    const zeroed = Buffer.from(packet);
    zeroed.fill(0, AUTHENTICATOR.start, AUTHENTICATOR.end);
    const expectedAuthenticator = createHash('md5').update(zeroed).update(secret).digest();
    if (!equal(expectedAuthenticator, packet.subarray(AUTHENTICATOR.start, AUTHENTICATOR.end)))
      throw new DroppedPacket('wrong-secret', 'Request Authenticator does not match the shared secret');
  }
  if (messageAuthenticator) {
    if (messageAuthenticator.length !== 18) throw new DroppedPacket('malformed', `Message-Authenticator of length ${messageAuthenticator.length}`);
    const given = packet.subarray(messageAuthenticator.offset + 2, messageAuthenticator.offset + 18);
    const signed = Buffer.from(packet);
    signed.fill(0, messageAuthenticator.offset + 2, messageAuthenticator.offset + 18);
    if (expected === 'Accounting-Request') signed.fill(0, AUTHENTICATOR.start, AUTHENTICATOR.end);
    if (!equal(createHmac('md5', secret).update(signed).digest(), given))
      throw new DroppedPacket('wrong-secret', 'Message-Authenticator does not match the shared secret');
  } else if (requireMessageAuthenticator) {
    throw new DroppedPacket('no-message-authenticator', `an ${expected} without Message-Authenticator`);
  } else if (expected === 'Access-Request' && offsets.some((a) => a.type === PROXY_STATE_TYPE)) {
    // A client let off Message-Authenticator still may not send what BlastRADIUS needs echoed.
    throw new DroppedPacket('no-message-authenticator', 'an Access-Request with Proxy-State and without Message-Authenticator');
  }

  try {
    // Both proofs were checked above; the package only decodes (and un-hides User-Password).
    return expected === 'Access-Request' ? radiusLibrary.decode({ packet, secret }) : radiusLibrary.decode_without_secret({ packet });
  } catch (error) {
    if (error instanceof radiusLibrary.InvalidSecretError) throw new DroppedPacket('wrong-secret', error.message);
    throw new DroppedPacket('malformed', (error as Error).message ?? String(error));
  }
}

const CODE_NAMES: Record<number, RequestKind> = { 1: 'Access-Request', 4: 'Accounting-Request' };
/** RFC 2865/2866 packet codes of the two requests this server takes. */
function radiusCodeName(code: number): RequestKind | undefined {
  return CODE_NAMES[code];
}

/** Attribute list in the `radius` package's form: [name, value] or ['Vendor-Specific', vendor, [[name, value]]]. */
export type ReplyAttribute = [string, string | number] | ['Vendor-Specific', string, Array<[string, string | number]>];

/**
 * A reply to `request`: Access-Accept/-Reject or Accounting-Response, with Message-Authenticator as
 * its first attribute (always, whether the request had one or not: the BlastRADIUS mitigation), the
 * request's Proxy-State attributes echoed last (RFC 2865 §5.33), and the Response Authenticator.
 * Vendor attributes go as the list gives them: one per Vendor-Specific attribute with
 * `vendorAttribute`.
 */
export function encodeReply(
  request: DecodedPacket,
  code: 'Access-Accept' | 'Access-Reject' | 'Accounting-Response',
  secret: string,
  attributes: ReplyAttribute[] = [],
): Buffer {
  const echoed = request.raw_attributes.filter(([type]) => type === PROXY_STATE_TYPE);
  // The package takes the Authenticator field to start from, though its types do not say so.
  const args = {
    code,
    identifier: request.identifier,
    authenticator: request.authenticator,
    secret,
    attributes: [MESSAGE_AUTHENTICATOR_PLACEHOLDER, ...attributes.map((a) => (a[0] === 'Vendor-Specific' ? a : [...a])), ...echoed],
    add_message_authenticator: false,
  };
  const unsigned = radiusLibrary.encode(args);
  return signReply(unsigned, request.authenticator, MIN_LENGTH, secret);
}

/**
 * A vendor's attribute for a reply, in a Vendor-Specific attribute of its own: some clients read
 * only the first sub-attribute of each.
 */
export const vendorAttribute = (vendor: string, name: string, value: string | number): ReplyAttribute => ['Vendor-Specific', vendor, [[name, value]]];

/** The decoded vendor attributes of a packet, by name. */
export const vendorAttributes = (packet: DecodedPacket): Record<string, unknown> =>
  (packet.attributes['Vendor-Specific'] as Record<string, unknown> | undefined) ?? {};

/** A standard or vendor attribute's single value (the first, if repeated). */
export function attribute(packet: DecodedPacket, name: string): unknown {
  const value = packet.attributes[name] ?? vendorAttributes(packet)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a repeatable attribute. */
export function attributeValues(packet: DecodedPacket, name: string): unknown[] {
  const value = packet.attributes[name] ?? vendorAttributes(packet)[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export const textAttribute = (packet: DecodedPacket, name: string): string | undefined => {
  const value = attribute(packet, name);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'string' || typeof value === 'number' || value instanceof Date) return String(value);
  return undefined;
};

/** An integer attribute as a number, or its VALUE name when the dictionary names it. */
export const enumAttribute = (packet: DecodedPacket, name: string): number | string | undefined => {
  const value = attribute(packet, name);
  return typeof value === 'number' || typeof value === 'string' ? value : undefined;
};

export const integerAttribute = (packet: DecodedPacket, name: string): number | undefined => {
  const value = attribute(packet, name);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

export const dateAttribute = (packet: DecodedPacket, name: string): Date | undefined => {
  const value = attribute(packet, name);
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : undefined;
};

/** A vendor as dictionaries name it, with its enterprise number. */
export interface Vendor {
  id: number;
  name: string;
}

/**
 * Everything a packet carried, as readable text for logs and stored records: each decoded
 * attribute as name=value, and attributes of `vendor` the dictionary does not define as
 * `<vendor>-Attr-<number>` with their hex octets, so nothing the client said is lost.
 */
export function describeAttributes(packet: DecodedPacket, vendor: Vendor, skip: readonly string[] = ['User-Password', 'Message-Authenticator']): string {
  const parts: string[] = [];
  const show = (value: unknown): string =>
    value instanceof Date ? value.toISOString() : Buffer.isBuffer(value) ? `0x${value.toString('hex')}` : JSON.stringify(value);
  const add = (name: string, value: unknown) => {
    if (skip.includes(name)) return;
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${name}=${show(v)}`);
  };
  for (const [name, value] of Object.entries(packet.attributes)) if (name !== 'Vendor-Specific') add(name, value);
  for (const [name, value] of Object.entries(vendorAttributes(packet))) add(name, value);
  const vsa = attributeId('Vendor-Specific');
  for (const [type, value] of packet.raw_attributes) {
    if (type !== vsa || value.length < 4 || value.readUInt32BE(0) !== vendor.id) continue;
    for (let offset = 4; offset + 2 <= value.length;) {
      const subType = value[offset];
      const size = value[offset + 1];
      if (size < 2) break;
      if (radiusLibrary.attr_id_to_name(subType, vendor.id) === undefined)
        parts.push(`${vendor.name}-Attr-${subType}=0x${value.subarray(offset + 2, offset + size).toString('hex')}`);
      offset += size;
    }
  }
  return parts.join(' ');
}

const fold = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * A decoded enumerated value, a number or the dictionary's VALUE name for it, as one of `table`'s
 * names. Names compare without case and punctuation, so a dictionary spelling "GetAccount" or
 * "Get-Account" means the same.
 */
export function named<T extends Record<string, number>>(table: T, value: number | string | undefined): keyof T | undefined {
  if (value === undefined) return undefined;
  for (const [name, number] of Object.entries(table)) {
    if (typeof value === 'number' ? value === number : fold(value) === fold(name)) return name;
  }
  return undefined;
}
