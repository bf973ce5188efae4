/**
 * Test support: raw datagrams to a RADIUS server from a chosen loopback address, for what a
 * well-behaved client would never send (junk, wrong secrets, retransmissions).
 */
import { createSocket } from 'node:dgram';

export interface DatagramClient {
  /** Every datagram that came back, in order. */
  replies: Buffer[];
  /** Sends to a port on 127.0.0.1, always from the same source port (as a client retransmits). */
  send(port: number, datagram: Buffer): void;
  close(): void;
}

/** A UDP socket bound to `from`, keeping what it receives. */
export async function datagramClient(from: string): Promise<DatagramClient> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, from, resolve));
  const replies: Buffer[] = [];
  socket.on('message', (message) => replies.push(message));
  return { replies, send: (port, datagram) => socket.send(datagram, port, '127.0.0.1'), close: () => socket.close() };
}

/** Sends `datagram` (`copies` times at once) from `from`; resolves with every answer that came within `waitMs`. */
export async function sendDatagram(port: number, datagram: Buffer, options: { from: string; waitMs?: number; copies?: number }): Promise<Buffer[]> {
  const client = await datagramClient(options.from);
  for (let i = 0; i < (options.copies ?? 1); i++) client.send(port, datagram);
  await new Promise((resolve) => setTimeout(resolve, options.waitMs ?? 250));
  client.close();
  return client.replies;
}

/** Access-Requests no server may answer, each with what is wrong with its framing. */
export const MALFORMED_DATAGRAMS: ReadonlyArray<readonly [string, Buffer]> = [
  ['a few octets of junk', Buffer.from('0102030405', 'hex')],
  ['a length field longer than the datagram', Buffer.concat([Buffer.from('010901f4', 'hex'), Buffer.alloc(26)])],
  ['a length field below 20', Buffer.concat([Buffer.from('0109000a', 'hex'), Buffer.alloc(16)])],
  ['a length field above 4096', Buffer.concat([Buffer.from('01091001', 'hex'), Buffer.alloc(4097)])],
  ['an attribute of length 0', Buffer.concat([Buffer.from('0109001a', 'hex'), Buffer.alloc(16), Buffer.from('01000000ffff', 'hex')])],
  ['an attribute header cut off', Buffer.concat([Buffer.from('01090015', 'hex'), Buffer.alloc(16), Buffer.from('01', 'hex')])],
  ['an attribute running past the end', Buffer.concat([Buffer.from('01090018', 'hex'), Buffer.alloc(16), Buffer.from('01106161', 'hex')])],
  ['a Message-Authenticator of the wrong length', Buffer.concat([Buffer.from('01090018', 'hex'), Buffer.alloc(16), Buffer.from('50040000', 'hex')])],
];
