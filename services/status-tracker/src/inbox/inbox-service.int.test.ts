import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import type { CloudEvent } from '@faxnotify/contracts';
import { MessageBus, createLogger, issueToken } from '@faxnotify/kit';
import { createTestVhost, eventually, type TestVhost } from '@faxnotify/peers';
import { startStatusTracker, type RunningStatusTracker } from '../index';
import { received } from '../testing/received';

/**
 * The service as it runs, on real RabbitMQ (a private vhost) and the embedded SQLite file: a
 * `fax.received` published as the transmitter publishes it (twice) becomes one Inbox record and one
 * `delivery.fax.received`, with the PDF, read from the notifier's queue.
 */
jest.setTimeout(30_000);

const SECRET = 'status-tracker-inbox-secret-0123456789';
let vhost: TestVhost;
let dataDir: string;
let service: RunningStatusTracker;
let transmitter: MessageBus;
let connection: ChannelModel;
let channel: Channel;

beforeAll(async () => {
  vhost = await createTestVhost('status-tracker-inbox');
  dataDir = mkdtempSync(join(tmpdir(), 'status-tracker-inbox-'));
  service = await startStatusTracker({
    'log.level': 'silent',
    'amqp.url': vhost.amqpUrl,
    'db.sqlitePath': join(dataDir, 'tracker.sqlite'),
    'http.port': 0,
    'auth.jwtSecret': SECRET,
    'links.faxUrlTemplate': 'https://fax.example.test/faxes/{faxId}',
  });
  transmitter = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('transmitter', 'silent') });
  await transmitter.start();
  connection = await connect(vhost.amqpUrl);
  channel = await connection.createChannel();
});

afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await transmitter?.close(2000);
  await service?.stop();
  await vhost?.delete();
  rmSync(dataDir, { recursive: true, force: true });
});

it('records a fax.received published twice once and publishes one delivery.fax.received with the PDF and the Inbox link', async () => {
  const event = received('rx-bus-1', 'paula');
  await transmitter.publishEvent('fax.received', event);
  await transmitter.publishEvent('fax.received', { ...event, id: '0b7c5f8e-2d7f-4d52-9a51-2b8f3e0c9a11' });
  // What the notifier's queue (bound to delivery.fax.received) holds: one event, the second copy added nothing.
  const NOTIFIER_QUEUE = 'notifier.fax-received';
  await eventually(async () => (await channel.checkQueue(NOTIFIER_QUEUE)).messageCount === 1, 15_000);
  await eventually(async () => (await channel.checkQueue('status-tracker.fax-events')).messageCount === 0, 5_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect((await channel.checkQueue(NOTIFIER_QUEUE)).messageCount).toBe(1);
  const message = await channel.get(NOTIFIER_QUEUE, { noAck: true });
  if (!message) throw new Error('no message on the notifier queue');
  const notice = { routingKey: message.fields.routingKey, event: JSON.parse(message.content.toString()) as CloudEvent<'delivery.fax.received'> };
  expect(notice.routingKey).toBe('delivery.fax.received');
  expect(notice.event.type).toBe('faxnotify.delivery.fax.received.v1');
  expect(notice.event.data).toMatchObject({
    receivedId: 'rx-bus-1',
    ownerId: 'paula',
    remoteCsid: 'ACME <SALES> FAX',
    links: { fax: 'https://fax.example.test/inbox/rx-bus-1' },
  });
  expect(Buffer.from(notice.event.data.document!.data, 'base64').subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(await service.db.selectFrom('received_faxes').select('id').execute()).toEqual([{ id: 'rx-bus-1' }]);

  // The owner reads it through the service's API.
  const response = await fetch(`${service.url}/v1/received/rx-bus-1`, {
    headers: { authorization: `Bearer ${await issueToken({ secret: SECRET }, 'paula')}` },
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ id: 'rx-bus-1', pages: 2, status: 'success' });
});
