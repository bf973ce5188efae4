import { connect } from 'amqplib';
import { EXCHANGES, QUEUES, createEvent, type CloudEvent } from '@faxnotify/contracts';
import { MessageBus, HEADERS, type BatchHandler, type EventOutcome } from './bus';
import { PermanentError, RetryableError } from './errors';
import { createLogger } from './logger';
import { result } from './testing/events';
import { createTestVhost, eventually, peekMessages, queueDepth, type TestVhost } from '@faxnotify/peers';

const logger = createLogger('bus-batch-test', 'silent');
const queue = QUEUES.trackerFaxEvents;

let vhost: TestVhost;
let bus: MessageBus;
const others: MessageBus[] = [];

const newBus = () => new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/test', logger, reconnect: { initialMs: 100, maxMs: 1000 } });

beforeEach(async () => {
  vhost = await createTestVhost('bus-batch');
  bus = newBus();
  await bus.start();
});

afterEach(async () => {
  await bus.close(2000);
  for (const other of others.splice(0)) await other.close(2000);
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

/** Results of two recipients, interleaved, each with a rising sequence: `a1 b1 a2 b2 ...`. */
async function publishBacklog(perKey: number): Promise<string[]> {
  const names: string[] = [];
  for (let n = 1; n <= perKey; n++) {
    for (const key of ['a', 'b']) {
      await bus.publish('fax.recipient.result', { ...result(key), sequence: n });
      names.push(`${key}${n}`);
    }
  }
  return names;
}

const allOk = (n: number): EventOutcome[] => Array.from({ length: n }, () => ({ ok: true }));

describe('MessageBus.consumeBatch against RabbitMQ', () => {
  it('hands a backlog over in batches of at most maxBatch, in delivery order, and acknowledges each', async () => {
    const published = await publishBacklog(10);
    const batches: string[][] = [];
    const handler: BatchHandler<'fax.recipient.result'> = async (items) => {
      batches.push(items.map(({ event }) => `${event.data.recipientId}${event.data.sequence}`));
      await new Promise((resolve) => setTimeout(resolve, 20));
      return allOk(items.length);
    };
    await bus.consumeBatch(queue, handler, { accepts: ['fax.recipient.result'], concurrency: 1, maxBatch: 8 });
    await eventually(() => batches.flat().length === 20);
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
    expect(batches.every((b) => b.length <= 8)).toBe(true);
    // One slot: the batches come in delivery order, so each recipient's results keep theirs.
    expect(batches.flat()).toEqual(published);
    await eventually(async () => (await queueDepth(vhost, queue.name)) === 0, 20_000, 200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(batches.flat()).toHaveLength(20);
  });

  it('a single event at low load is a batch of one', async () => {
    const batches: number[] = [];
    await bus.consumeBatch(queue, async (items) => (batches.push(items.length), allOk(items.length)), { accepts: ['fax.recipient.result'], maxBatch: 50 });
    await bus.publish('fax.recipient.result', result('r1'));
    await eventually(() => batches.length === 1);
    expect(batches).toEqual([1]);
  });

  it('retries only the event that failed; the others of its batch are acknowledged once', async () => {
    await publishBacklog(4);
    const seen: Array<{ name: string; attempt: number; batch: number }> = [];
    let batch = 0;
    await bus.consumeBatch<'fax.recipient.result'>(
      queue,
      async (items) => {
        batch++;
        return items.map(({ event, context }) => {
          const name = `${event.data.recipientId}${event.data.sequence}`;
          seen.push({ name, attempt: context.attempt, batch });
          return name === 'b2' && context.attempt === 0 ? { ok: false, error: new RetryableError('database busy') } : { ok: true };
        });
      },
      { accepts: ['fax.recipient.result'], concurrency: 1, maxBatch: 8 },
    );
    await eventually(() => seen.length === 9, 10_000);
    const firstBatch = seen.filter((s) => s.batch === seen.find((x) => x.name === 'b2')!.batch);
    expect(firstBatch.length).toBeGreaterThan(1);
    expect(seen.filter((s) => s.name === 'b2').map((s) => s.attempt)).toEqual([0, 1]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(seen).toHaveLength(9);
    expect(new Set(seen.map((s) => s.name)).size).toBe(8);
    const [retried] = seen.filter((s) => s.attempt === 1);
    expect(retried.name).toBe('b2');
  });

  it('gives up a permanent failure (onGiveUp, then the dead-letter queue) and acknowledges the rest of its batch', async () => {
    await publishBacklog(3);
    const handled: string[] = [];
    const givenUp: CloudEvent[] = [];
    await bus.consumeBatch<'fax.recipient.result'>(
      queue,
      async (items) =>
        items.map(({ event }) => {
          const name = `${event.data.recipientId}${event.data.sequence}`;
          handled.push(name);
          return name === 'a2' ? { ok: false, error: new PermanentError('fax belongs to another owner') } : { ok: true };
        }),
      { accepts: ['fax.recipient.result'], concurrency: 1, maxBatch: 10, onGiveUp: async (event) => void givenUp.push(event) },
    );
    const [dead] = await eventually(async () => {
      const messages = await peekMessages(vhost, `${queue.name}.dead`);
      return messages.length ? messages : undefined;
    });
    expect(String(dead.properties.headers?.[HEADERS.reason])).toMatch(/permanent: fax belongs to another owner/);
    expect(givenUp.map((e) => (e as CloudEvent<'fax.recipient.result'>).data.sequence)).toEqual([2]);
    await eventually(async () => (await queueDepth(vhost, queue.name)) === 0, 20_000, 200);
    expect(handled.sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
  });

  it('dead-letters invalid messages of a batch one by one with the reason; the handler sees only the valid ones', async () => {
    await bus.publish('fax.recipient.result', result('v1'));
    await publishRaw('this is not json');
    await bus.publish('fax.recipient.result', result('v2'));
    await publishRaw(JSON.stringify({ ...createEvent('fax.recipient.result', result('x'), { source: '/t' }), data: { nope: true } }));
    await bus.publish('fax.recipient.result', result('v3'));
    const batches: string[][] = [];
    await bus.consumeBatch<'fax.recipient.result'>(queue, async (items) => (batches.push(items.map((i) => i.event.data.recipientId)), allOk(items.length)), {
      accepts: ['fax.recipient.result'],
      concurrency: 1,
      maxBatch: 10,
    });
    const dead = await eventually(async () => {
      const messages = await peekMessages(vhost, `${queue.name}.dead`);
      return messages.length === 2 ? messages : undefined;
    });
    const reasons = dead.map((m) => String(m.properties.headers?.[HEADERS.reason]));
    expect(reasons).toEqual(expect.arrayContaining([expect.stringMatching(/unparseable JSON/), expect.stringMatching(/is invalid/)]));
    expect(batches.flat()).toEqual(['v1', 'v2', 'v3']);
  });

  it('a handler that throws fails its whole batch: every event goes to its retry tier, none is lost', async () => {
    await publishBacklog(2);
    const attempts: number[] = [];
    await bus.consumeBatch<'fax.recipient.result'>(
      queue,
      async (items) => {
        attempts.push(...items.map((i) => i.context.attempt));
        if (items.some((i) => i.context.attempt === 0)) throw new Error('connection reset');
        return allOk(items.length);
      },
      { accepts: ['fax.recipient.result'], concurrency: 1, maxBatch: 10 },
    );
    await eventually(() => attempts.filter((a) => a === 1).length === 4, 10_000);
    expect(attempts.filter((a) => a === 0)).toHaveLength(4);
  });

  it('close() lets the running batch finish and hands the messages not started back to the queue', async () => {
    const published = await publishBacklog(5);
    const first: string[] = [];
    let started = false;
    await bus.consumeBatch<'fax.recipient.result'>(
      queue,
      async (items) => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 500));
        first.push(...items.map((i) => `${i.event.data.recipientId}${i.event.data.sequence}`));
        return allOk(items.length);
      },
      { accepts: ['fax.recipient.result'], concurrency: 1, maxBatch: 3 },
    );
    await eventually(() => started, 10_000, 10);
    await bus.close();
    // The running batch is what had been delivered when it started (up to maxBatch), and it finished.
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.length).toBeLessThanOrEqual(3);
    const next = newBus();
    others.push(next);
    await next.start();
    const rest: string[] = [];
    await next.consumeBatch<'fax.recipient.result'>(
      queue,
      async (items) => (rest.push(...items.map((i) => `${i.event.data.recipientId}${i.event.data.sequence}`)), allOk(items.length)),
      { accepts: ['fax.recipient.result'], maxBatch: 10 },
    );
    await eventually(() => rest.length === published.length - first.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...first, ...rest].sort()).toEqual([...published].sort());
  });
});
