import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { EXCHANGES, createEvent, type CloudEvent } from '@faxnotify/contracts';
import { HEADERS, MessageBus, createLogger, issueToken, signedCookieValue } from '@faxnotify/kit';
import { createTestVhost, eventually, peekMessages, queueDepth, type TestVhost } from '@faxnotify/peers';
import { startStatusTracker, type RunningStatusTracker } from './index';
import { progress, result, submitted } from './testing/events';
import { FakeReplixFax } from './testing/replixfax';

/**
 * The service as it runs: real RabbitMQ (a private vhost), the embedded SQLite file, the outbox
 * relay and the sweep. What it publishes is read from a test queue bound to faxnotify.delivery.
 */
jest.setTimeout(30_000);

const SECRET = 'status-tracker-test-secret-0123456789';
const DEAD = 'status-tracker.fax-events.dead';

let vhost: TestVhost;
let dataDir: string;
let service: RunningStatusTracker;
let transmitter: MessageBus;
let connection: ChannelModel;
let channel: Channel;
const replix = new FakeReplixFax('svc-user', 'svc-password');
const REPLIX_SECRET = 'service-replix-secret-0123';
interface Delivered {
  routingKey: string;
  messageId: string;
  /** Set for delivery.recipient.final. */
  recipientId: string | undefined;
  event: CloudEvent<'delivery.recipient.final'> | CloudEvent<'delivery.fax.final'>;
}
const delivered: Delivered[] = [];

beforeAll(async () => {
  vhost = await createTestVhost('status-tracker');
  dataDir = mkdtempSync(join(tmpdir(), 'status-tracker-service-'));
  await replix.start();
  service = await startStatusTracker({
    'log.level': 'silent',
    'amqp.url': vhost.amqpUrl,
    'db.sqlitePath': join(dataDir, 'tracker.sqlite'),
    'http.port': 0,
    'auth.jwtSecret': SECRET,
    'links.faxUrlTemplate': 'https://fax.example.test/faxes/{faxId}',
    // Only the after-commit kick and the sweep hand events over here, so the sweep test sees the sweep at work.
    'outbox.pollMs': 3_600_000,
    'reconcile.intervalMs': 200,
    'reconcile.minAgeMs': 3_000,
    // The ReplixFax stand-in listens on 127.0.0.1: the operator allows loopback for provider base URLs (and webhooks).
    'webhooks.allowedPrivateRanges': ['127.0.0.0/8'],
    'ingest.accounts': JSON.stringify([
      {
        provider: 'replixfax',
        account: 'svc-rpx',
        ownerId: 'henry',
        secret: REPLIX_SECRET,
        baseUrl: replix.url,
        username: 'svc-user',
        password: 'svc-password',
      },
    ]),
  });
  transmitter = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('transmitter', 'silent') });
  await transmitter.start();
  connection = await connect(vhost.amqpUrl);
  channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, EXCHANGES.delivery, '#');
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const event = JSON.parse(message.content.toString()) as Delivered['event'];
      const recipientId = 'recipientId' in event.data ? event.data.recipientId : undefined;
      delivered.push({ routingKey: message.fields.routingKey, messageId: String(message.properties.messageId), recipientId, event });
    },
    { noAck: true },
  );
});

afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await transmitter?.close(2000);
  await service?.stop();
  await replix.stop();
  await vhost?.delete();
  rmSync(dataDir, { recursive: true, force: true });
});

const send = async (...events: CloudEvent[]) => {
  for (const event of events) await transmitter.publishEvent(keyOf(event), event);
};
const keyOf = (event: CloudEvent) => event.type.replace(/^faxnotify\./, '').replace(/\.v\d+$/, '') as Parameters<MessageBus['publishEvent']>[0];
const deliveredFor = (faxId: string) => delivered.filter((d) => d.event.data.faxId === faxId);
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

async function publishRaw(body: string, routingKey = 'fax.recipient.result'): Promise<void> {
  const raw = await connect(vhost.amqpUrl);
  const confirm = await raw.createConfirmChannel();
  confirm.publish(EXCHANGES.fax, routingKey, Buffer.from(body), { persistent: true });
  await confirm.waitForConfirms();
  await raw.close();
}

it('turns a three-recipient fax into three recipient finals and one partial fax final', async () => {
  const faxId = 'fax-sample';
  await send(
    submitted(faxId, 'alice', ['r1', 'r2', 'r3']),
    progress(faxId, 'r1', 1, 0, 'dialing'),
    progress(faxId, 'r1', 1, 1, 'connected', { remoteCsid: 'ACME SALES FAX' }),
    result(faxId, 'r1', 1, 5, 'success', 3, { remoteCsid: 'ACME SALES FAX' }),
    result(faxId, 'r2', 2, 1, 'failed_user_busy', 0, { attempts: 2 }),
    progress(faxId, 'r3', 1, 3, 'sending', { page: { n: 2, of: 3 } }),
    result(faxId, 'r3', 1, 4, 'partially_sent', 2, { remoteCsid: 'BRANCH OFFICE 7' }),
  );
  await eventually(() => deliveredFor(faxId).length >= 4);
  await settle();
  const events = deliveredFor(faxId);
  expect(
    events
      .filter((d) => d.routingKey === 'delivery.recipient.final')
      .map((d) => [d.recipientId, (d.event as CloudEvent<'delivery.recipient.final'>).data.status])
      .sort(),
  ).toEqual([
    ['r1', 'success'],
    ['r2', 'failed_user_busy'],
    ['r3', 'partially_sent'],
  ]);
  const faxFinals = events.filter((d) => d.routingKey === 'delivery.fax.final');
  expect(faxFinals).toHaveLength(1);
  expect((faxFinals[0].event as CloudEvent<'delivery.fax.final'>).data).toMatchObject({
    state: 'partial',
    ownerId: 'alice',
    // The notices' link: a link token beside the fax pages (links.tokens is on by default).
    links: { fax: expect.stringMatching(/^https:\/\/fax\.example\.test\/l\/[A-Za-z0-9_-]{24}$/) },
  });
  expect(events.every((d) => d.messageId === d.event.id)).toBe(true);
  const first = events.find((d) => d.recipientId === 'r1')!.event as CloudEvent<'delivery.recipient.final'>;
  expect(first.data).toMatchObject({ resultId: `${faxId}:r1`, number: '+12025550101', remoteCsid: 'ACME SALES FAX', pagesSent: 3, subject: 'Q3 report' });
  // Everything handed over is marked so.
  await eventually(
    async () => (await service.db.selectFrom('outbox').select('id').where('fax_id', '=', faxId).where('published_at', 'is', null).execute()).length === 0,
  );
});

it('announces once per recipient when results repeat, overtake the submission or arrive stale', async () => {
  const faxId = 'fax-disorder';
  const busy = result(faxId, 'r2', 2, 1, 'failed_user_busy', 0, { attempts: 2 });
  await send(result(faxId, 'r1', 1, 5, 'success', 3), busy, busy);
  await eventually(
    async () => (await service.db.selectFrom('recipients').select('recipient_id').where('fax_id', '=', faxId).where('final', '=', 1).execute()).length === 2,
  );
  expect(deliveredFor(faxId)).toHaveLength(0); // the owner is not known yet
  await send(
    result(faxId, 'r2', 1, 3, 'partially_sent', 1), // an older attempt after the newer one
    progress(faxId, 'r1', 1, 2, 'sending', { page: { n: 1, of: 3 } }), // progress after the result
    submitted(faxId, 'bob', ['r1', 'r2', 'r3']),
  );
  await eventually(() => deliveredFor(faxId).length >= 2);
  await send(result(faxId, 'r3', 1, 2, 'success', 3), busy);
  await eventually(() => deliveredFor(faxId).some((d) => d.routingKey === 'delivery.fax.final'));
  await settle();
  const finals = deliveredFor(faxId).filter((d) => d.routingKey === 'delivery.recipient.final');
  expect(finals.map((d) => [d.recipientId, (d.event as CloudEvent<'delivery.recipient.final'>).data.status]).sort()).toEqual([
    ['r1', 'success'],
    ['r2', 'failed_user_busy'],
    ['r3', 'success'],
  ]);
  expect(
    deliveredFor(faxId)
      .filter((d) => d.routingKey === 'delivery.fax.final')
      .map((d) => (d.event as CloudEvent<'delivery.fax.final'>).data.state),
  ).toEqual(['partial']);
  const r1 = await service.db.selectFrom('recipients').selectAll().where('fax_id', '=', faxId).where('recipient_id', '=', 'r1').executeTakeFirstOrThrow();
  expect(r1).toMatchObject({ status: 'success', pages_sent: 3, final: 1 });
});

it('dead-letters garbage with the reason and keeps serving', async () => {
  const valid = result('fax-garbage', 'r1', 1, 1, 'success', 3);
  await publishRaw('this is not json {');
  await publishRaw(JSON.stringify({ ...valid, type: 'faxnotify.fax.recipient.teleported.v1' }));
  await publishRaw(JSON.stringify({ ...valid, id: 'bad-data', data: { ...valid.data, pagesSent: -1, status: 'maybe' } }));
  const faxId = 'fax-after-garbage';
  await send(submitted(faxId, 'carol', ['r1']), result(faxId, 'r1', 1, 1, 'success', 3));
  await eventually(() => deliveredFor(faxId).some((d) => d.routingKey === 'delivery.fax.final'));

  const dead = await eventually(async () => {
    const messages = await peekMessages(vhost, DEAD, 10);
    return messages.length >= 3 ? messages : undefined;
  });
  const reasons = dead.map((m) => String(m.properties.headers?.[HEADERS.reason]));
  expect(reasons).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/unparseable JSON/),
      expect.stringMatching(/unknown event type/),
      expect.stringMatching(/fax\.recipient\.result\.v1 is invalid/),
    ]),
  );
  expect(await queueDepth(vhost, 'status-tracker.fax-events')).toBe(0);
  expect(await service.db.selectFrom('recipient_events').select('event_id').where('event_id', '=', 'bad-data').executeTakeFirst()).toBeUndefined();
});

it('re-publishes a final result the broker never confirmed, and restores a lost one, from the sweep', async () => {
  const faxId = 'fax-sweep';
  await send(submitted(faxId, 'dave', ['r1', 'r2']), result(faxId, 'r1', 1, 1, 'success', 3), result(faxId, 'r2', 1, 1, 'failed_no_answer', 0));
  await eventually(() => deliveredFor(faxId).length >= 3);
  await settle();
  const firstRound = deliveredFor(faxId).map((d) => d.event.id);
  expect(firstRound).toHaveLength(3);

  // As if the relay had died between publishing r1's final and the broker's confirm: only the sweep can hand it over now.
  const r1 = deliveredFor(faxId).find((d) => d.recipientId === 'r1')!;
  await service.db
    .updateTable('outbox')
    .set({ published_at: null, created_at: new Date(Date.now() - 60_000).toISOString() })
    .where('id', '=', r1.event.id)
    .execute();
  await eventually(() => deliveredFor(faxId).length >= 4, 10_000);
  expect(deliveredFor(faxId)[3].event.id).toBe(r1.event.id); // the same event again, not a new one

  // As if the fax final's outbox row had been lost: the sweep writes it again, with the same id.
  const faxFinal = deliveredFor(faxId).find((d) => d.routingKey === 'delivery.fax.final')!;
  await service.db.deleteFrom('outbox').where('id', '=', faxFinal.event.id).execute();
  await eventually(() => deliveredFor(faxId).length >= 5, 10_000);
  await settle();
  expect(
    deliveredFor(faxId)
      .slice(4)
      .map((d) => d.event.id),
  ).toEqual([faxFinal.event.id]);
  const rows = await service.db.selectFrom('outbox').selectAll().where('fax_id', '=', faxId).execute();
  expect(rows).toHaveLength(3);
  expect(rows.every((row) => row.published_at !== null)).toBe(true);
});

it('serves the fax to its owner only', async () => {
  const faxId = 'fax-sample';
  const own = await fetch(`${service.url}/v1/faxes/${faxId}`, { headers: { authorization: `Bearer ${await issueToken({ secret: SECRET }, 'alice')}` } });
  expect(own.status).toBe(200);
  const body = (await own.json()) as { state: string; recipients: Array<{ number: string; status: string; history: unknown[] }> };
  expect(body.state).toBe('partial');
  expect(body.recipients.map((r) => [r.number, r.status])).toEqual([
    ['+12025550101', 'success'],
    ['+12025550102', 'failed_user_busy'],
    ['+12025550103', 'partially_sent'],
  ]);
  expect(body.recipients[0].history.length).toBeGreaterThan(1);
  const other = await fetch(`${service.url}/v1/faxes/${faxId}`, { headers: { authorization: `Bearer ${await issueToken({ secret: SECRET }, 'mallory')}` } });
  expect(other.status).toBe(404);
  expect((await fetch(`${service.url}/v1/faxes/${faxId}`)).status).toBe(401);
  const ready = await fetch(`${service.url}/readyz`);
  expect(await ready.json()).toMatchObject({ status: 'ready', checks: { rabbitmq: true, database: true } });
});

it('stores notification outcomes beside the fax', async () => {
  const outcome = createEvent(
    'notification.outcome',
    {
      resultId: 'fax-sample:r1',
      faxId: 'fax-sample',
      recipientId: 'r1',
      ownerId: 'alice',
      channel: 'email',
      outcome: 'sent',
      address: 'alice@example.test',
      providerMessageId: '<n1@faxnotify>',
      attempts: 1,
      at: new Date().toISOString(),
    },
    { source: '/faxnotify/notifier' },
  );
  const notifier = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/notifier', logger: createLogger('notifier', 'silent') });
  await notifier.start();
  await notifier.publishEvent('notification.outcome', outcome);
  await notifier.close(2000);
  const token = await issueToken({ secret: SECRET }, 'alice');
  const fax = await eventually(async () => {
    const response = await fetch(`${service.url}/v1/faxes/fax-sample`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as {
      recipients: Array<{ recipientId: string; notices: Record<string, { outcome: string; providerMessageId: string }> }>;
    };
    return body.recipients[0]?.notices.email ? body : undefined;
  });
  expect(fax.recipients[0].notices.email).toMatchObject({ outcome: 'sent', providerMessageId: '<n1@faxnotify>' });
});

it('still records a v1 outcome from a notifier not yet upgraded, and dead-letters a version it does not know', async () => {
  // Exactly what a notifier of the previous release publishes: the SMS parts and carrier report only in words.
  const v1 = {
    id: 'e2f0b7a4-1c1d-4d55-9a51-3f0c0de0f0a1',
    source: '/faxnotify/notifier',
    specversion: '1.0',
    type: 'faxnotify.notification.outcome.v1',
    time: '2026-11-22T10:05:00.000Z',
    subject: 'fax/fax-sample/recipient/r1/sms',
    datacontenttype: 'application/json',
    data: {
      resultId: 'fax-sample:r1',
      faxId: 'fax-sample',
      recipientId: 'r1',
      ownerId: 'alice',
      channel: 'sms',
      outcome: 'delivered',
      reason: '2 segments (UCS-2); carrier: delivered',
      address: '+393331234567',
      locale: 'it',
      providerMessageId: `SM${'0'.repeat(32)}`,
      attempts: 1,
      at: '2026-11-22T10:05:00.000Z',
    },
  };
  const notifier = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/notifier', logger: createLogger('notifier', 'silent') });
  await notifier.start();
  await notifier.publishEvent('notification.outcome', JSON.stringify(v1));
  await notifier.publishEvent('notification.outcome', JSON.stringify({ ...v1, id: 'from-the-future', type: 'faxnotify.notification.outcome.v3' }));
  await notifier.close(2000);

  const token = await issueToken({ secret: SECRET }, 'alice');
  type Notice = { outcome: string; reason: string | null; providerMessageId: string; sms: unknown; provider: unknown; at: string };
  const fax = await eventually(async () => {
    const response = await fetch(`${service.url}/v1/faxes/fax-sample`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { recipients: Array<{ notices: Record<string, Notice> }> };
    return body.recipients[0]?.notices.sms ? body : undefined;
  });
  // Recorded as it came: its text kept, and no fields it did not carry.
  expect(fax.recipients[0].notices.sms).toEqual(
    expect.objectContaining({
      outcome: 'delivered',
      reason: '2 segments (UCS-2); carrier: delivered',
      providerMessageId: `SM${'0'.repeat(32)}`,
      sms: null,
      provider: null,
      at: '2026-11-22T10:05:00.000Z',
    }),
  );

  const dead = await eventually(async () => {
    const messages = await peekMessages(vhost, 'status-tracker.notification-outcomes.dead', 10);
    return messages.length >= 1 ? messages : undefined;
  });
  expect(dead.map((m) => String(m.properties.headers?.[HEADERS.reason]))).toEqual(['unknown event type "faxnotify.notification.outcome.v3"']);
  expect(await queueDepth(vhost, 'status-tracker.notification-outcomes')).toBe(0);
});

it('publishes one recipient final for a ReplixFax result that came by post and by query', async () => {
  replix.add({
    FaxId: '9001',
    FaxStatus: 'sent',
    ErrorCode: '0',
    ErrorText: '',
    DestFaxNumber: '12025550190',
    CSI: 'HQ FAX',
    CompleteTime: '2026-11-22T12:00:00Z',
    PagesSent: '2',
    TotalPages: '2',
  });
  replix.failMarks = true; // the post is recorded but cannot be marked, so the query sees it too
  const posted = await replix.post(`${service.url}/ingest/replixfax/svc-rpx?token=${REPLIX_SECRET}`, '9001');
  expect(await posted.json()).toMatchObject({ recorded: true, duplicate: false, faxId: 'rpx-svc-rpx-9001' });
  await eventually(
    async () =>
      (await service.db.selectFrom('ingested_results').select('mark_attempts').where('fax_id', '=', 'rpx-svc-rpx-9001').executeTakeFirst())?.mark_attempts ===
      1,
  );
  replix.failMarks = false;
  expect(await service.replixfax.pollOnce()).toMatchObject({ seen: 1, recorded: 0 });
  expect(replix.faxes.get('9001')!.Mark).toBe(true);
  await eventually(() => deliveredFor('rpx-svc-rpx-9001').some((d) => d.routingKey === 'delivery.fax.final'));
  await settle();
  const events = deliveredFor('rpx-svc-rpx-9001');
  expect(events.map((d) => d.routingKey).sort()).toEqual(['delivery.fax.final', 'delivery.recipient.final']);
  expect((events.find((d) => d.routingKey === 'delivery.recipient.final')!.event as CloudEvent<'delivery.recipient.final'>).data).toMatchObject({
    ownerId: 'henry',
    status: 'success',
    number: '+12025550190',
    remoteCsid: 'HQ FAX',
    links: { fax: expect.stringMatching(/^https:\/\/fax\.example\.test\/l\/[A-Za-z0-9_-]{24}$/) },
  });
  const ingested = await service.db.selectFrom('ingested_results').selectAll().where('fax_id', '=', 'rpx-svc-rpx-9001').execute();
  expect(ingested).toMatchObject([{ seen_by_post: 1, seen_by_query: 1, marked_at: expect.any(String) }]);
});

it('serves its OpenAPI document and the pages', async () => {
  expect((await fetch(`${service.url}/openapi.json`)).status).toBe(200);
  // No identity provider configured here: a signed-out visitor is told sign-in is not set up (and how to use the API).
  const signedOut = await fetch(`${service.url}/faxes/fax-sample`, { redirect: 'manual' });
  expect(signedOut.status).toBe(401);
  expect(await signedOut.text()).toContain('Sign-in on these pages is not set up');
  const page = await fetch(`${service.url}/faxes/fax-sample`, {
    headers: { cookie: `faxnotify_session=${encodeURIComponent(signedCookieValue(SECRET, await issueToken({ secret: SECRET }, 'alice')))}` },
  });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('aria-label="Partially delivered"');
});
