/**
 * `faxnotify dlq` against a real broker: messages given up by a consumer (a permanent error, an
 * invalid body) and by the broker (the quorum queue's delivery limit) are listed with their
 * reasons, shown, replayed to their original exchange once the cause is fixed, and purged.
 */
import { connect, type ChannelModel } from 'amqplib';
import { EXCHANGES, QUEUES, deadLetterQueueName, eventType, type FaxRecipientResult } from '@faxnotify/contracts';
import { MessageBus, PermanentError, createLogger } from '@faxnotify/kit';
import { createTestVhost, eventually, queueDepth, type TestVhost } from '@faxnotify/peers';
import { runDlq, type DeadLetter } from './dlq';

jest.setTimeout(60_000);

const result = (recipientId: string): FaxRecipientResult => ({
  faxId: 'fax-dlq',
  recipientId,
  number: '+12025550101',
  attempt: 1,
  sequence: 1,
  status: 'success',
  reason: { code: 'OK', detail: '' },
  pagesSent: 1,
  pagesTotal: 1,
  remoteCsid: null,
  startedAt: null,
  endedAt: new Date().toISOString(),
  attempts: 1,
});

let vhost: TestVhost;
let bus: MessageBus;
let raw: ChannelModel;
const handled: string[] = [];
let fixed = false;

beforeAll(async () => {
  vhost = await createTestVhost('dlq-cli');
  bus = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('dlq-test', 'silent') });
  await bus.start();
  await bus.consume(
    QUEUES.trackerFaxEvents,
    async (event) => {
      if (!fixed) throw new PermanentError('no template for this status');
      handled.push(event.id);
    },
    { accepts: ['fax.recipient.result'] },
  );
  raw = await connect(vhost.amqpUrl);
});

afterAll(async () => {
  await raw?.close();
  await bus?.close(2000);
  await vhost?.delete();
});

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, env: { AMQP_URL: vhost.amqpUrl } };
  return runDlq(argv, io).then((code) => ({ code, out: out.join(''), err: err.join('') }));
}

it('lists, shows, replays and purges dead-lettered messages with their reasons', async () => {
  // 1: given up by the consumer with a permanent error.
  const given = await bus.publish('fax.recipient.result', result('r1'));
  // 2: a body that is no event, dead-lettered as invalid.
  const channel = await raw.createChannel();
  channel.sendToQueue(QUEUES.trackerFaxEvents.name, Buffer.from('not json at all'), { messageId: 'garbage-1', persistent: true });
  // 3: dead-lettered by the broker: a consumer that hands every delivery back until the delivery limit.
  const outcomeBody = JSON.stringify({ specversion: '1.0', id: 'outcome-1', type: eventType('notification.outcome'), source: '/faxnotify/notifier', data: {} });
  channel.sendToQueue(QUEUES.trackerNotificationOutcomes.name, Buffer.from(outcomeBody), { messageId: 'outcome-1', persistent: true });
  const { consumerTag } = await channel.consume(QUEUES.trackerNotificationOutcomes.name, (m) => m && channel.nack(m, false, true));
  await eventually(async () => (await queueDepth(vhost, deadLetterQueueName(QUEUES.trackerNotificationOutcomes.name))) === 1, 30_000, 200);
  await channel.cancel(consumerTag);
  await eventually(async () => (await queueDepth(vhost, deadLetterQueueName(QUEUES.trackerFaxEvents.name))) === 2, 30_000, 200);

  const listed = await run('list', '--json');
  expect(listed.code).toBe(0);
  const letters = JSON.parse(listed.out) as DeadLetter[];
  const byId = new Map(letters.map((l) => [l.id, l]));
  expect(byId.get(given.id)).toMatchObject({
    queue: QUEUES.trackerFaxEvents.name,
    reason: 'permanent: no template for this status',
    original: { exchange: EXCHANGES.fax, routingKey: 'fax.recipient.result' },
    eventType: given.type,
  });
  expect(byId.get('garbage-1')).toMatchObject({ queue: QUEUES.trackerFaxEvents.name, original: { exchange: '', routingKey: QUEUES.trackerFaxEvents.name } });
  expect(byId.get('garbage-1')!.reason).toMatch(/not|invalid|JSON/i);
  expect(byId.get('outcome-1')).toMatchObject({
    queue: QUEUES.trackerNotificationOutcomes.name,
    original: { exchange: EXCHANGES.notification, routingKey: 'notification.outcome' },
  });
  expect(byId.get('outcome-1')!.reason).toMatch(/^broker: delivery_limit in status-tracker\.notification-outcomes/);
  expect(letters).toHaveLength(3);
  // Listing takes nothing away.
  expect(await queueDepth(vhost, deadLetterQueueName(QUEUES.trackerFaxEvents.name))).toBe(2);

  const table = await run('list', '--queue', QUEUES.trackerFaxEvents.name);
  expect(table.out).toMatch(/^2 dead-lettered messages\n/);
  expect(table.out).toContain(`${given.id}  ${QUEUES.trackerFaxEvents.name}`);

  const shown = await run('show', given.id);
  expect(shown.code).toBe(0);
  expect(shown.out).toContain('reason: permanent: no template for this status');
  expect(shown.out).toContain('"recipientId":"r1"');

  // After the fix, the replayed one is handled as a first try; the rest stays.
  fixed = true;
  const replayed = await run('replay', given.id);
  expect(replayed).toMatchObject({ code: 0, out: `replayed ${given.id} to faxnotify.fax fax.recipient.result\n` });
  await eventually(() => handled.includes(given.id), 10_000);
  expect((JSON.parse((await run('list', '--json')).out) as DeadLetter[]).map((l) => l.id).sort()).toEqual(['garbage-1', 'outcome-1']);

  expect(await run('replay', 'no-such-id')).toMatchObject({ code: 3, err: 'faxnotify dlq: no dead-lettered message no-such-id\n' });
  expect(await run('purge', 'garbage-1')).toMatchObject({ code: 0, out: `purged garbage-1 from ${deadLetterQueueName(QUEUES.trackerFaxEvents.name)}\n` });
  expect((await run('purge', '--all')).out).toBe(`purged outcome-1 from ${deadLetterQueueName(QUEUES.trackerNotificationOutcomes.name)}\n`);
  expect(JSON.parse((await run('list', '--json')).out)).toEqual([]);
  await channel.close();
});

it('answers a wrong command line with the usage and exit status 2', async () => {
  expect(await run('replay')).toMatchObject({ code: 2, err: expect.stringContaining('replay needs ids or --all') });
  expect(await run('list', '--queue', 'nope')).toMatchObject({ code: 2, err: expect.stringContaining('unknown queue nope') });
  expect(await run('drop')).toMatchObject({ code: 2, err: expect.stringContaining('usage:') });
});
