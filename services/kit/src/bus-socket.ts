import type { ChannelModel } from 'amqplib';
import { Socket } from 'node:net';

/**
 * amqplib writes every frame to the socket on its own (a publish's method, header and body, each
 * ack, each credit), and with Nagle off (see MessageBus.connectOnce) each write is a TCP segment of
 * its own: a system call here, and a read and a segment for the broker to handle. Corked from the
 * first write of an event-loop turn to the end of that turn, the frames of one turn leave in one
 * writev: the broker gets them at once, no later than Nagle's algorithm would have let them go.
 *
 * amqplib keeps its socket as the connection's `stream`; a connection without one (another
 * transport) is left as it is. Returns whether the socket was corked per turn.
 */
export function coalesceWritesPerTurn(model: ChannelModel): boolean {
  const socket = (model as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  if (!(socket instanceof Socket)) return false;
  const write = socket.write.bind(socket);
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: Parameters<Socket['write']>) => {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Socket['write'];
  return true;
}
