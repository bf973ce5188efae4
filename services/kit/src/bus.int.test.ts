import { connect } from 'amqplib';
import { EXCHANGES, QUEUES, createEvent, type CloudEvent } from '@faxnotify/contracts';
import { MessageBus, HEADERS } from './bus';
import { PermanentError, RetryableError } from './errors';
import { createLogger } from './logger';
import { result } from './testing/events';
import { createTestVhost, eventually, management, peekMessages, queueDepth, type TestVhost } from '@faxnotify/peers';

const logger = createLogger('bus-test', 'silent');
const queue = QUEUES.trackerFaxEvents;

let vhost: TestVhost;
let bus: MessageBus;

beforeEach(async () => {
  vhost = await createTestVhost('bus');
  bus = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/test', logger, reconnect: { initialMs: 100, maxMs: 1000 } });
  await bus.start();
});

afterEach(async () => {
  await bus.close(2000);
  await vhost.delete();
});

/** Publishes raw bytes the way a broken producer would. */
async function publishRaw(body: string): Promise<void> {
  const connection = await connect(vhost.amqpUrl);
  const channel = await connection.createConfirmChannel();
  channel.publish(EXCHANGES.fax, 'fax.recipient.result', Buffer.from(body), { persistent: true });
  await channel.waitForConfirms();
  await connection.close();
}

describe('MessageBus against RabbitMQ', () => {
  it('delivers a published event to its queue and acks after the handler', async () => {
    const seen: string[] = [];
    await bus.consume(queue, async (event) => void seen.push(event.data.recipientId), { accepts: ['fax.recipient.result'] });
    await bus.publish('fax.recipient.result', result('r1'));
    await eventually(() => seen.length === 1);
    await eventually(async () => (await queueDepth(vhost, queue.name)) === 0);
  });

  it('dead-letters garbage with the reason and keeps serving', async () => {
    const seen: string[] = [];
    await bus.consume(queue, async (event) => void seen.push(event.data.recipientId), { accepts: ['fax.recipient.result'] });
    await publishRaw('this is not json');
    await publishRaw(JSON.stringify({ ...createEvent('fax.recipient.result', result('r1'), { source: '/t' }), data: { nope: true } }));
    await bus.publish('fax.recipient.result', result('r2'));
    await eventually(() => seen.includes('r2'));
    const dead = await eventually(async () => {
      const messages = await peekMessages(vhost, `${queue.name}.dead`);
      return messages.length === 2 ? messages : undefined;
    });
    const reasons = dead.map((m) => String(m.properties.headers?.[HEADERS.reason]));
    expect(reasons).toEqual(expect.arrayContaining([expect.stringMatching(/unparseable JSON/), expect.stringMatching(/is invalid/)]));
    expect(seen).toEqual(['r2']);
  });

  it('retries a transient failure through the retry queue, then succeeds once', async () => {
    const attempts: number[] = [];
    await bus.consume(
      queue,
      async (_event, context) => {
        attempts.push(context.attempt);
        if (context.attempt === 0) throw new RetryableError('SMTP 451');
      },
      { accepts: ['fax.recipient.result'] },
    );
    await bus.publish('fax.recipient.result', result('r1'));
    await eventually(() => attempts.length === 2, 10_000);
    expect(attempts).toEqual([0, 1]);
  });

  it('gives up after the bounded retries: onGiveUp once, then the dead-letter queue', async () => {
    const givenUp: CloudEvent[] = [];
    let calls = 0;
    await bus.consume(
      queue,
      async () => {
        calls++;
        throw new RetryableError('still down');
      },
      { accepts: ['fax.recipient.result'], maxRetries: 1, onGiveUp: async (event) => void givenUp.push(event) },
    );
    await bus.publish('fax.recipient.result', result('r1'));
    await eventually(() => givenUp.length === 1, 10_000);
    const [dead] = await eventually(async () => {
      const messages = await peekMessages(vhost, `${queue.name}.dead`);
      return messages.length ? messages : undefined;
    });
    expect(String(dead.properties.headers?.[HEADERS.reason])).toMatch(/retries exhausted after 2 tries: still down/);
    expect(calls).toBe(2);
  });

  it('dead-letters a permanent failure at once', async () => {
    let calls = 0;
    await bus.consume(
      queue,
      async () => {
        calls++;
        throw new PermanentError('550 mailbox unavailable');
      },
      { accepts: ['fax.recipient.result'] },
    );
    await bus.publish('fax.recipient.result', result('r1'));
    const [dead] = await eventually(async () => {
      const messages = await peekMessages(vhost, `${queue.name}.dead`);
      return messages.length ? messages : undefined;
    });
    expect(String(dead.properties.headers?.[HEADERS.reason])).toMatch(/permanent: 550/);
    expect(calls).toBe(1);
  });

  it('reconnects after the broker drops the connection and keeps consuming', async () => {
    const seen: string[] = [];
    await bus.consume(queue, async (event) => void seen.push(event.data.recipientId), { accepts: ['fax.recipient.result'] });
    await bus.publish('fax.recipient.result', result('before'));
    await eventually(() => seen.includes('before'));
    const connections = (await eventually(async () => {
      const list = (await management(`/vhosts/${encodeURIComponent(vhost.name)}/connections`)) as Array<{ name: string }>;
      return list.length ? list : undefined;
    })) as Array<{ name: string }>;
    for (const c of connections) await management(`/connections/${encodeURIComponent(c.name)}`, { method: 'DELETE' });
    await eventually(() => !bus.ready, 5000, 20).catch(() => undefined);
    await bus.publish('fax.recipient.result', result('after'));
    await eventually(() => seen.includes('after'), 15_000);
  });

  it('close() waits for in-flight handlers before disconnecting', async () => {
    let finished = false;
    let started = false;
    await bus.consume(
      queue,
      async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 500));
        finished = true;
      },
      { accepts: ['fax.recipient.result'] },
    );
    await bus.publish('fax.recipient.result', result('r1'));
    await eventually(() => started);
    await bus.close();
    expect(finished).toBe(true);
    await eventually(async () => (await queueDepth(vhost, queue.name)) === 0);
  });
});
