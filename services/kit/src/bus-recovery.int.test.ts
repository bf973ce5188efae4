import { connect } from 'amqplib';
import { EXCHANGES, QUEUES, TopologyMismatchError } from '@faxnotify/contracts';
import { MessageBus } from './bus';
import { createLogger } from './logger';
import { result } from './testing/events';
import { createTestVhost, eventually, management, type TestVhost } from '@faxnotify/peers';

const logger = createLogger('bus-recovery-test', 'silent');
const queue = QUEUES.trackerFaxEvents;

let vhost: TestVhost;
let bus: MessageBus | undefined;

beforeEach(async () => {
  vhost = await createTestVhost('bus-recovery');
});

afterEach(async () => {
  await bus?.close(2000);
  bus = undefined;
  await vhost.delete();
});

const startBus = async () => {
  bus = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/test', logger, reconnect: { initialMs: 100, maxMs: 1000 } });
  await bus.start();
  return bus;
};

/** Samples `ready` every few milliseconds until stopped; returns every value seen. */
function watchReadiness(target: MessageBus): { seen: boolean[]; stop: () => boolean[] } {
  const seen: boolean[] = [];
  const timer = setInterval(() => seen.push(target.ready), 2);
  return {
    seen,
    stop: () => {
      clearInterval(timer);
      return seen;
    },
  };
}

const vhostPath = () => encodeURIComponent(vhost.name);

describe('MessageBus after channel-level broker errors', () => {
  it('a publish to an exchange deleted under it fails clearly, readiness is false until the channel is back, then publishing and consuming resume', async () => {
    const target = await startBus();
    const seen: string[] = [];
    await target.consume(queue, async (event) => void seen.push(event.data.recipientId), { accepts: ['fax.recipient.result'] });
    await target.publish('fax.recipient.result', result('before'));
    await eventually(() => seen.includes('before'));

    await management(`/exchanges/${vhostPath()}/${encodeURIComponent(EXCHANGES.fax)}`, { method: 'DELETE' });
    const readiness = watchReadiness(target);
    await expect(target.publish('fax.recipient.result', result('lost'))).rejects.toThrow(/RabbitMQ did not confirm the publish to faxnotify\.fax/);
    expect(target.ready).toBe(false);

    await eventually(() => target.ready, 10_000);
    await target.publish('fax.recipient.result', result('after'));
    await eventually(() => seen.includes('after'), 10_000);
    const states = readiness.stop();
    expect(states).toContain(false);
    expect(states[states.length - 1]).toBe(true);
    expect(seen).not.toContain('lost');
  });

  it('a queue deleted under its consumer is re-declared and consumed again, with readiness false meanwhile', async () => {
    const target = await startBus();
    const seen: string[] = [];
    await target.consume(queue, async (event) => void seen.push(event.data.recipientId), { accepts: ['fax.recipient.result'] });
    await target.publish('fax.recipient.result', result('before'));
    await eventually(() => seen.includes('before'));

    const readiness = watchReadiness(target);
    await management(`/queues/${vhostPath()}/${encodeURIComponent(queue.name)}`, { method: 'DELETE' });
    await eventually(() => readiness.seen.includes(false), 5000, 5);
    await eventually(() => target.ready, 10_000);
    const states = readiness.stop();
    expect(states).toContain(false);

    await target.publish('fax.recipient.result', result('after'));
    await eventually(() => seen.includes('after'), 10_000);
  });

  it('a handler that succeeded while its channel went away is not retried: the broker delivers it again, once', async () => {
    const target = await startBus();
    const calls: boolean[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await target.consume(
      queue,
      async (_event, context) => {
        calls.push(context.redelivered);
        if (calls.length === 1) await held;
      },
      { accepts: ['fax.recipient.result'] },
    );
    await target.publish('fax.recipient.result', result('r1'));
    await eventually(() => calls.length === 1);
    const connections = (await eventually(async () => {
      const list = (await management(`/vhosts/${vhostPath()}/connections`)) as Array<{ name: string }>;
      return list.length ? list : undefined;
    })) as Array<{ name: string }>;
    for (const c of connections) await management(`/connections/${encodeURIComponent(c.name)}`, { method: 'DELETE' });
    await eventually(() => !target.ready, 5000, 5);
    release();
    await eventually(() => calls.length === 2, 10_000);
    // Past the first retry tier's delay: a copy wrongly put on a retry queue would be back by now.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(calls).toEqual([false, true]);
  }, 20_000);

  it('declares the work and retry queues with at-least-once dead-lettering and reject-publish overflow', async () => {
    await startBus();
    for (const name of [queue.name, `${queue.name}.retry.1`]) {
      const info = (await management(`/queues/${vhostPath()}/${encodeURIComponent(name)}`)) as { arguments: Record<string, unknown> };
      expect(info.arguments).toMatchObject({ 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' });
    }
  });

  it('refuses to start with a clear message when a queue exists with the arguments of an older version', async () => {
    const connection = await connect(vhost.amqpUrl);
    const channel = await connection.createChannel();
    await channel.assertQueue(queue.name, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': queue.deliveryLimit,
        'x-dead-letter-exchange': EXCHANGES.deadLetter,
        'x-dead-letter-routing-key': queue.name,
      },
    });
    await connection.close();

    const started = startBus();
    const outcome = await Promise.race([started.then(() => 'started'), new Promise((resolve) => setTimeout(resolve, 5000, 'still retrying'))]).catch(
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(TopologyMismatchError);
    expect(String((outcome as Error).message)).toMatch(/status-tracker\.fax-events exists on the broker with other arguments.*delete and re-declare/);
  });
});

describe('MessageBus drain', () => {
  it('starts no handler once close() began, finishes the ones in flight, and leaves the rest on the queue', async () => {
    const target = await startBus();
    let closeBegan = false;
    const startedAfterClose: string[] = [];
    const started: string[] = [];
    const finished: string[] = [];
    await target.consume(
      queue,
      async (event) => {
        const id = event.data.recipientId;
        if (closeBegan) startedAfterClose.push(id);
        started.push(id);
        await new Promise((resolve) => setTimeout(resolve, 400));
        finished.push(id);
      },
      { accepts: ['fax.recipient.result'], concurrency: 1 },
    );
    for (const id of ['m1', 'm2', 'm3', 'm4']) await target.publish('fax.recipient.result', result(id));
    await eventually(() => started.length === 1);
    // Let the broker send the next ones too (prefetch is twice the concurrency): one waits in the wrapper.
    await new Promise((resolve) => setTimeout(resolve, 150));

    closeBegan = true;
    await target.close(5000);
    expect(startedAfterClose).toEqual([]);
    expect(finished).toEqual(started);
    // Asked over AMQP: the management API's counts lag by seconds.
    const connection = await connect(vhost.amqpUrl);
    const { messageCount } = await (await connection.createChannel()).checkQueue(queue.name);
    await connection.close();
    expect(messageCount).toBe(4 - finished.length);
  }, 30_000);
});
