import { createSocket } from 'node:dgram';
import { decodeRequest, encodeReply, radiusLibrary as radius } from '@faxnotify/radius';

/**
 * The raw limit `npm run bench:ata` compares the transmitter's RADIUS server with: the same packet
 * library and dictionary, each request checked with the shared secret (Message-Authenticator
 * included) and answered (Access-Accept or Accounting-Response, no attributes but the
 * Message-Authenticator every reply carries), nothing stored. Usage: radius-responder
 * <dictionary> <secret>; prints {"authPort","acctPort"} once listening.
 */
const [dictionary, secret] = process.argv.slice(2);
if (!dictionary || !secret) throw new Error('usage: radius-responder <dictionary> <secret>');
radius.add_dictionary(dictionary);

async function listen(code: 'Access-Accept' | 'Accounting-Response'): Promise<number> {
  const socket = createSocket('udp4');
  socket.on('message', (message, peer) => {
    try {
      const packet = decodeRequest(message, secret, code === 'Access-Accept' ? 'Access-Request' : 'Accounting-Request', true);
      socket.send(encodeReply(packet, code, secret), peer.port, peer.address);
    } catch {
      // a malformed or unsigned datagram: dropped, as a server would
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket.address().port;
}

void (async () => {
  const [authPort, acctPort] = [await listen('Access-Accept'), await listen('Accounting-Response')];
  process.stdout.write(`${JSON.stringify({ authPort, acctPort })}\n`);
})();
