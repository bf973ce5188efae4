/**
 * The provider took a notice and the ledger could not record it (the database dropped the
 * connection at that moment): the mark is tried again, and the result's retry records it, but the
 * notice is never sent a second time.
 */
import type { MessageBus } from '@faxnotify/kit';
import { eventually, type SmtpSink } from '@faxnotify/peers';
import type { RunningNotifier } from './index';
import { collectOutcomes, finalResult, settingsApi, startMailNotifier, startTrackerBus, type MailNotifier, type OutcomeCollector } from './testing/notices';
import { seedConfirmedAddresses } from './testing/confirmed';

jest.setTimeout(30_000);

const SECRET = 'notifier-mark-secret-0123456789';
let stack: MailNotifier;
let smtp: SmtpSink;
let notifier: RunningNotifier;
let bus: MessageBus;
let collector: OutcomeCollector;

beforeAll(async () => {
  stack = await startMailNotifier('notifier-ledger-mark', SECRET);
  ({ smtp, notifier } = stack);
  bus = await startTrackerBus(stack.vhost.amqpUrl);
  collector = await collectOutcomes(stack.vhost.amqpUrl);
  const api = settingsApi(() => notifier.url, SECRET);
  expect(
    (await api('PUT', '/v1/settings', 'alice', { email: { enabled: true, address: 'alice@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' }))
      .status,
  ).toBe(200);
  await seedConfirmedAddresses(notifier.config, 'alice', { email: 'alice@example.test' });
});

afterAll(async () => {
  await collector?.close();
  await bus?.close();
  await stack?.close();
});

it('sends once when the ledger fails to record an accepted email, and records it on the retry', async () => {
  // The database refuses the "sent" mark for longer than the quick retries last.
  const markSent = notifier.ledger.markSent.bind(notifier.ledger);
  let refusals = 0;
  notifier.ledger.markSent = async (...args) => {
    if (args[0] === 'unmarked:r1' && refusals < 3) {
      refusals++;
      throw new Error('Connection terminated unexpectedly');
    }
    return markSent(...args);
  };
  try {
    await bus.publish('delivery.recipient.final', finalResult('unmarked'));
    await eventually(() => collector.outcomes.some((o) => o.faxId === 'unmarked' && o.outcome === 'sent'), 20_000);
  } finally {
    notifier.ledger.markSent = markSent;
  }
  expect(refusals).toBe(3);
  // Long enough for a second send, had there been one.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(smtp.mails.filter((m) => m.subject !== undefined && m.to && 'text' in m.to && m.to.text.includes('alice@example.test'))).toHaveLength(1);
  expect(await notifier.ledger.get('unmarked:r1', 'email')).toMatchObject({ status: 'sent', sends: 1, possible_duplicates: 0 });
});
