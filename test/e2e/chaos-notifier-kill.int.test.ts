import { MessageBus, createLogger } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { scriptFaxEvents } from '@faxnotify/transmitter';
import { startStack, type Stack } from '../support/stack';

/**
 * The notifier killed with SIGKILL while 1,000 results are in flight, then started again:
 * every result still gets its email. Duplicates can only come from the window between the SMTP
 * server accepting a message and the ledger marking it sent; the test counts them.
 */
const RESULTS = 1000;
let stack: Stack;
let bus: MessageBus;

beforeAll(async () => {
  stack = await startStack('chaos');
  bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('chaos', 'silent') });
  await bus.start();
});

afterAll(async () => {
  await bus?.close();
  await stack?.stop();
});

it('loses no email when the notifier is killed mid-stream', async () => {
  await stack.saveSettings('bob', { email: { enabled: true, address: 'bob@example.test' }, locale: 'ru', timeZone: 'Europe/Moscow', notifyOn: 'all' });
  const publishing = (async () => {
    for (let i = 0; i < RESULTS; i++) {
      const { events } = scriptFaxEvents({
        faxId: `chaos-${i}`,
        ownerId: 'bob',
        subject: `Счёт ${i}`,
        pages: 1,
        recipients: [
          { number: '+79161234567', attempts: [{ csid: 'OOO ROMASHKA', pagesConfirmed: 1, status: 'success', reason: { code: 'OK', detail: '' } }] },
        ],
      });
      await Promise.all(events.map((e) => bus.publish(e.key, e.data as never, { subject: e.subject, time: e.time })));
    }
  })();

  await eventually(() => stack.smtp.mails.length >= 150, 120_000, 20);
  await stack.notifier.kill();
  const atKill = stack.smtp.mails.length;
  await publishing;
  await stack.restartNotifier();

  const distinct = () => new Set(stack.smtp.mails.map((m) => m.messageId)).size;
  await eventually(() => distinct() >= RESULTS, 240_000, 200);
  // Let any stragglers arrive before counting duplicates.
  await new Promise((r) => setTimeout(r, 2000));
  const duplicates = stack.smtp.mails.length - distinct();
  process.stdout.write(
    `${JSON.stringify({ chaos: 'notifier SIGKILL', results: RESULTS, emailsBeforeKill: atKill, emails: stack.smtp.mails.length, distinct: distinct(), duplicates })}\n`,
  );
  expect(distinct()).toBe(RESULTS);
  // At most the notices that were between SMTP acceptance and the ledger mark at the kill.
  expect(duplicates).toBeLessThanOrEqual(64);
}, 420_000);
