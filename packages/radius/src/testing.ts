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
