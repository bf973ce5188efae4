/**
 * The request checks before any dictionary is loaded (a caller that only registered one with the
 * package, as a bare responder does): Message-Authenticator and Proxy-State are found by their
 * fixed numbers. Packets are built by hand here, since building them through the package would
 * load its dictionaries.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { DroppedPacket, decodeRequest } from './packet';

const SECRET = 'unloaded-test-secret';

function accessRequest(options: { messageAuthenticator: boolean; proxyState?: boolean }): Buffer {
  const attributes = [Buffer.from([1, 7, ...Buffer.from('alice')])];
  if (options.proxyState) attributes.push(Buffer.from([33, 5, 0xc0, 0xff, 0xee]));
  if (options.messageAuthenticator) attributes.unshift(Buffer.concat([Buffer.from([80, 18]), Buffer.alloc(16)]));
  const body = Buffer.concat(attributes);
  const packet = Buffer.concat([Buffer.from([1, 9, 0, 0]), randomBytes(16), body]);
  packet.writeUInt16BE(packet.length, 2);
  if (options.messageAuthenticator) createHmac('md5', SECRET).update(packet).digest().copy(packet, 22);
  return packet;
}

const why = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    if (error instanceof DroppedPacket) return error.why;
    throw error;
  }
  return undefined;
};

describe('request checks with no dictionary loaded yet', () => {
  it('finds and checks Message-Authenticator', () => {
    expect(why(() => decodeRequest(accessRequest({ messageAuthenticator: true }), SECRET, 'Access-Request', true))).toBeUndefined();
    expect(why(() => decodeRequest(accessRequest({ messageAuthenticator: true }), 'another-secret', 'Access-Request', true))).toBe('wrong-secret');
    expect(why(() => decodeRequest(accessRequest({ messageAuthenticator: false }), SECRET, 'Access-Request', true))).toBe('no-message-authenticator');
  });

  it('finds Proxy-State in a request without Message-Authenticator', () => {
    expect(why(() => decodeRequest(accessRequest({ messageAuthenticator: false, proxyState: true }), SECRET, 'Access-Request', false))).toBe(
      'no-message-authenticator',
    );
  });
});
