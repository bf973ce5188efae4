/**
 * Message-Authenticator (RFC 3579 §3.2, RFC 5080 §2.2.4) on every packet, as the BlastRADIUS
 * mitigations (CVE-2024-3596) ask: replies carry it as their first attribute, so a forged reply
 * built from an MD5 collision cannot pass a client that checks it. Requests built here (for tests,
 * benchmarks and tools) carry it too.
 *
 * Which Authenticator field the HMAC covers, as FreeRADIUS computes it: the Request Authenticator
 * for an Access-Request and its replies; sixteen zero octets for an Accounting-Request and for an
 * Accounting-Response.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { radiusLibrary } from './dictionary';

const AUTHENTICATOR = { start: 4, end: 20 } as const;
/** Type 80, length 18. */
const MESSAGE_AUTHENTICATOR = { type: 80, length: 18 } as const;
const ATTRIBUTES_START = 20;

const hmac = (secret: string, packet: Buffer): Buffer => createHmac('md5', secret).update(packet).digest();
const md5 = (packet: Buffer, secret: string): Buffer => createHash('md5').update(packet).update(secret).digest();
const equal = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/** Where the Message-Authenticator attribute of a well-framed packet starts, or -1. */
export function messageAuthenticatorOffset(packet: Buffer): number {
  const length = Math.min(packet.length, packet.readUInt16BE(2));
  for (let offset = ATTRIBUTES_START; offset + 2 <= length;) {
    const size = packet[offset + 1];
    if (size < 2) return -1;
    if (packet[offset] === MESSAGE_AUTHENTICATOR.type && size === MESSAGE_AUTHENTICATOR.length) return offset;
    offset += size;
  }
  return -1;
}

/** True for the codes whose Message-Authenticator covers zeros instead of the Request Authenticator. */
const zeroedForSigning = (code: number): boolean => code === 4 || code === 5;

/**
 * Writes the Message-Authenticator at `offset` and then the Response Authenticator of a reply whose
 * Authenticator field still holds the request's Request Authenticator.
 */
export function signReply(reply: Buffer, requestAuthenticator: Buffer, offset: number, secret: string): Buffer {
  const packet = Buffer.from(reply);
  packet.fill(0, offset + 2, offset + MESSAGE_AUTHENTICATOR.length);
  if (zeroedForSigning(packet[0])) packet.fill(0, AUTHENTICATOR.start, AUTHENTICATOR.end);
  else requestAuthenticator.copy(packet, AUTHENTICATOR.start);
  hmac(secret, packet).copy(packet, offset + 2);
  requestAuthenticator.copy(packet, AUTHENTICATOR.start);
  md5(packet, secret).copy(packet, AUTHENTICATOR.start);
  return packet;
}

/** An empty Message-Authenticator, to put first in an attribute list and fill in when signing. */
export const MESSAGE_AUTHENTICATOR_PLACEHOLDER: [string, Buffer] = ['Message-Authenticator', Buffer.alloc(16)];

/**
 * An Access-Request or Accounting-Request as a careful client sends it: Message-Authenticator
 * first (unless `messageAuthenticator` is false, to play a client that sends none), User-Password
 * hidden, and for accounting the Request Authenticator of RFC 2866 §3.
 */
export function encodeRequest(
  code: 'Access-Request' | 'Accounting-Request',
  secret: string,
  attributes: ReadonlyArray<readonly unknown[]>,
  options: { identifier?: number; messageAuthenticator?: boolean } = {},
): Buffer {
  const sign = options.messageAuthenticator ?? true;
  const list = [...(sign ? [MESSAGE_AUTHENTICATOR_PLACEHOLDER] : []), ...attributes.map((a) => [...a])];
  const packet = radiusLibrary.encode({
    code,
    secret,
    identifier: options.identifier ?? Math.floor(Math.random() * 256),
    attributes: list as never,
    add_message_authenticator: false,
  });
  if (code === 'Access-Request') {
    if (sign) hmac(secret, packet).copy(packet, ATTRIBUTES_START + 2);
    return packet;
  }
  packet.fill(0, AUTHENTICATOR.start, AUTHENTICATOR.end);
  if (sign) hmac(secret, packet).copy(packet, ATTRIBUTES_START + 2);
  md5(packet, secret).copy(packet, AUTHENTICATOR.start);
  return packet;
}

/**
 * Whether `reply` answers `request` and proves the shared secret: identifier, Response
 * Authenticator and a Message-Authenticator, which must be there.
 */
export function verifyReply(request: Buffer, reply: Buffer, secret: string): boolean {
  if (reply.length < ATTRIBUTES_START || reply.readUInt16BE(2) > reply.length || reply[1] !== request[1]) return false;
  const packet = Buffer.from(reply.subarray(0, reply.readUInt16BE(2)));
  const requestAuthenticator = request.subarray(AUTHENTICATOR.start, AUTHENTICATOR.end);
  const given = Buffer.from(packet.subarray(AUTHENTICATOR.start, AUTHENTICATOR.end));
  requestAuthenticator.copy(packet, AUTHENTICATOR.start);
  if (!equal(md5(packet, secret), given)) return false;
  const offset = messageAuthenticatorOffset(packet);
  if (offset < 0) return false;
  const signature = Buffer.from(packet.subarray(offset + 2, offset + MESSAGE_AUTHENTICATOR.length));
  packet.fill(0, offset + 2, offset + MESSAGE_AUTHENTICATOR.length);
  if (zeroedForSigning(packet[0])) packet.fill(0, AUTHENTICATOR.start, AUTHENTICATOR.end);
  return equal(hmac(secret, packet), signature);
}
