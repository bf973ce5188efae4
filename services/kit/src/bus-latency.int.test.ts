import { Socket } from 'node:net';
import { QUEUES } from '@faxnotify/contracts';
import { createTestVhost, eventually, type TestVhost } from '@faxnotify/peers';
import { MessageBus } from './bus';
import { createLogger } from './logger';
import { result } from './testing/events';

const logger = createLogger('bus-latency-test', 'silent');
const queue = QUEUES.trackerFaxEvents;

let vhost: TestVhost;
let bus: MessageBus | undefined;

beforeEach(async () => {
  vhost = await createTestVhost('bus-latency');
});

afterEach(async () => {
  jest.restoreAllMocks();
  await bus?.close(2000);
  bus = undefined;
  await vhost.delete();
});

const startBus = async () => {
  bus = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/test', logger, reconnect: { initialMs: 100, maxMs: 1000 } });
  await bus.start();
  return bus;
};

describe('MessageBus latency', () => {
  it("turns Nagle's algorithm off on its connection to the broker", async () => {
    const setNoDelay = jest.spyOn(Socket.prototype, 'setNoDelay');
    await startBus();
    expect(setNoDelay).toHaveBeenCalled();
    expect(setNoDelay.mock.calls.at(-1)?.[0]).toBe(true);
  });

  it('hands on a message a handler publishes without waiting for the TCP acknowledgement of its last ack', async () => {
    // A relay of one message at a time: each handler publishes the next, then its own message is
    // acknowledged, so every publish follows an ack the broker answers with nothing but TCP's ACK.
    const started = await startBus();
    const hops = 60;
    const publishedAt = new Map<string, number>();
    const hopMs: number[] = [];
    const publishNext = async (n: number) => {
      publishedAt.set(`r${n}`, performance.now());
      await started.publish('fax.recipient.result', result(`r${n}`));
    };
    await started.consume(
      queue,
      async (event) => {
        const n = Number(event.data.recipientId.slice(1));
        hopMs.push(performance.now() - (publishedAt.get(event.data.recipientId) ?? NaN));
        if (n < hops) await publishNext(n + 1);
      },
      { accepts: ['fax.recipient.result'], concurrency: 1 },
    );
    await publishNext(1);
    await eventually(() => hopMs.length === hops, 30_000, 10);
    const sorted = [...hopMs].sort((a, b) => a - b);
    // Held by Nagle, a hop waits for the broker's delayed ACK (about 40 ms on Linux) almost every time.
    expect(sorted[Math.floor(hops / 2)]).toBeLessThan(20);
  });
});

describe('MessageBus writes', () => {
  it('sends the frames written in one turn of the event loop in one write to the socket', async () => {
    const started = await startBus();
    const writev = jest.spyOn(Socket.prototype, '_writev');
    const write = jest.spyOn(Socket.prototype, '_write');
    // Each publish is one write of its frames and waits for its confirm: uncorked, 20 writes.
    await Promise.all(Array.from({ length: 20 }, (_, n) => started.publish('fax.recipient.result', result(`w${n}`))));
    const chunks = writev.mock.calls.map((call) => (call[0] as unknown[]).length);
    expect(Math.max(0, ...chunks)).toBeGreaterThanOrEqual(10);
    expect(write.mock.calls.length + writev.mock.calls.length).toBeLessThanOrEqual(4);
  });
});
