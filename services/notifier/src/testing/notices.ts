import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { EXCHANGES, type DeliveryFaxReceived, type DeliveryRecipientFinal, type NotificationOutcome } from '@faxnotify/contracts';
import { MessageBus, createLogger, issueToken } from '@faxnotify/kit';
import { createTestVhost, startSmtpSink, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import { startNotifier, type RunningNotifier } from '../index';

/**
 * What the notifier's own tests feed it and read back: the status tracker's final results, the
 * outcome events it publishes, and its settings API. Not part of the `./testing` export.
 */

/** A delivery.recipient.final as the status tracker publishes it: one page to ACME, delivered, owned by alice. */
export const finalResult = (faxId: string, overrides: Partial<DeliveryRecipientFinal> = {}): DeliveryRecipientFinal => ({
  resultId: `${faxId}:r1`,
  faxId,
  recipientId: 'r1',
  number: '+12025550101',
  ownerId: 'alice',
  subject: 'Q3 report',
  status: 'success',
  reason: { code: 'OK', detail: '' },
  pagesSent: 1,
  pagesTotal: 1,
  remoteCsid: 'ACME',
  submittedAt: '2026-11-22T09:00:00.000Z',
  startedAt: '2026-11-22T09:00:10.000Z',
  endedAt: '2026-11-22T09:00:40.000Z',
  attempts: 1,
  links: { fax: `http://127.0.0.1:8082/faxes/${faxId}` },
  recipientCount: 1,
  ...overrides,
});

/** A delivery.fax.received as the status tracker publishes it: three pages from ACME (+390612345678) for alice, received at 10:01 Rome time, no PDF. */
export const receivedFax = (receivedId: string, overrides: Partial<DeliveryFaxReceived> = {}): DeliveryFaxReceived => ({
  receivedId,
  ownerId: 'alice',
  callerNumber: '+390612345678',
  calledNumber: '+390698765432',
  remoteCsid: 'ACME SALES FAX',
  status: 'success',
  reason: { code: 'OK', detail: '' },
  pagesReceived: 3,
  startedAt: '2026-11-22T09:00:10.000Z',
  receivedAt: '2026-11-22T09:01:40.000Z',
  links: { fax: `http://127.0.0.1:8082/inbox/${receivedId}` },
  ...overrides,
});

/** The three-page fax the rendering tests read: fax-1 to ACME SALES FAX, delivered at 10:01 Rome time. */
export const sampleResult = (overrides: Partial<DeliveryRecipientFinal> = {}): DeliveryRecipientFinal =>
  finalResult('fax-1', { pagesSent: 3, pagesTotal: 3, remoteCsid: 'ACME SALES FAX', endedAt: '2026-11-22T09:01:40.000Z', ...overrides });

/** The status tracker's side of the bus: what the notifier consumes is published through it. */
export async function startTrackerBus(amqpUrl: string): Promise<MessageBus> {
  const bus = new MessageBus({ url: amqpUrl, source: '/faxnotify/status-tracker', logger: createLogger('test', 'silent') });
  await bus.start();
  return bus;
}

export interface OutcomeCollector {
  /** Every notification.outcome's data, in arrival order. */
  outcomes: NotificationOutcome[];
  /** The event types they came as (one per schema version). */
  types: Set<string>;
  close(): Promise<void>;
}

/** Reads every notification.outcome the notifier publishes, on an exclusive queue of the test's own. */
export async function collectOutcomes(amqpUrl: string): Promise<OutcomeCollector> {
  const connection = await connect(amqpUrl);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, EXCHANGES.notification, 'notification.outcome');
  const collector: OutcomeCollector = { outcomes: [], types: new Set(), close: () => connection.close() };
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const event = JSON.parse(message.content.toString()) as { type: string; data: NotificationOutcome };
      collector.types.add(event.type);
      collector.outcomes.push(event.data);
    },
    { noAck: true },
  );
  return collector;
}

/** `Bearer <token>` for a user, signed with the notifier's JWT secret. */
export const bearer = async (secret: string, user: string): Promise<string> => `Bearer ${await issueToken({ secret }, user)}`;

/** The notifier's JSON API as a user (or, with `null`, without a token); `url` is read at each call, as the notifier may restart. */
export const settingsApi =
  (url: () => string, secret: string) =>
  async (method: string, path: string, user: string | null, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (user) headers.authorization = await bearer(secret, user);
    const response = await fetch(`${url()}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

/** A notifier on its own SQLite file, with an SMTP sink and a private vhost: what a test file of the service's own routes needs. */
export interface MailNotifier {
  vhost: TestVhost;
  smtp: SmtpSink;
  notifier: RunningNotifier;
  close(): Promise<void>;
}

export async function startMailNotifier(label: string, jwtSecret: string, overrides: Record<string, unknown> = {}): Promise<MailNotifier> {
  const vhost = await createTestVhost(label);
  const smtp = await startSmtpSink();
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  const notifier = await startNotifier(
    {
      'http.port': 0,
      'db.sqlitePath': join(dir, 'notifier.sqlite'),
      'smtp.port': smtp.port,
      'amqp.url': vhost.amqpUrl,
      'auth.jwtSecret': jwtSecret,
      'log.level': 'silent',
      ...overrides,
    },
    {},
  );
  return {
    vhost,
    smtp,
    notifier,
    close: async () => {
      await notifier.stop();
      await smtp.close();
      await vhost.delete();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
