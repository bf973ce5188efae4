import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { QUEUES } from '@faxnotify/contracts';
import { createTestVhost, eventually, freePort, type TestVhost } from '@faxnotify/peers';
import { MessageBus, amqpUrls } from './bus';
import { createLogger } from './logger';
import { result } from './testing/events';

const logger = createLogger('bus-failover-test', 'silent');
const queue = QUEUES.trackerFaxEvents;

/**
 * A second "node" in front of the machine's broker: a TCP relay on a port of its own that can be
 * taken down (listener closed, every connection cut), as a cluster node going away looks to a client.
 */
async function startRelay(targetPort: number): Promise<{ port: number; down(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    down: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

let vhost: TestVhost;
let bus: MessageBus | undefined;

beforeEach(async () => {
  vhost = await createTestVhost('bus-failover');
});

afterEach(async () => {
  await bus?.close(2000);
  bus = undefined;
  await vhost.delete();
});

describe('MessageBus with the URLs of several nodes', () => {
  it('reads a list from one comma-separated string', () => {
    expect(amqpUrls(' amqp://a:1/x , amqp://b:2/x,')).toEqual(['amqp://a:1/x', 'amqp://b:2/x']);
    expect(amqpUrls(['amqp://a:1/x'])).toEqual(['amqp://a:1/x']);
    expect(() => amqpUrls(' , ')).toThrow(/no RabbitMQ URL/);
  });

  it('starts on the first node that answers and fails over to another when its node goes away', async () => {
    const deadPort = await freePort();
    const relay = await startRelay(5672);
    const viaRelay = vhost.amqpUrl.replace(':5672/', `:${relay.port}/`);
    // The first node is down from the start; the second is the relay; the third the broker itself.
    bus = new MessageBus({
      url: [vhost.amqpUrl.replace(':5672/', `:${deadPort}/`), viaRelay, vhost.amqpUrl].join(','),
      source: '/faxnotify/test',
      logger,
      reconnect: { initialMs: 100, maxMs: 1000 },
    });
    await bus.start();
    const seen: string[] = [];
    await bus.consume(queue, async (event) => void seen.push(event.data.recipientId), { accepts: ['fax.recipient.result'] });
    await bus.publish('fax.recipient.result', result('first'));
    await eventually(() => seen.includes('first'), 10_000);

    await relay.down();
    await eventually(() => !bus!.ready, 5_000, 2);
    await eventually(() => bus!.ready, 10_000);
    await bus.publish('fax.recipient.result', result('after'));
    await eventually(() => seen.includes('after'), 10_000);
  });
});
