import { MessageBus, createLogger } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { sampleFax, scriptFaxEvents } from '@faxnotify/transmitter';
import { startStack, type Stack } from '../support/stack';

/**
 * The spine end to end: a scripted three-recipient fax goes from transmitter events through
 * RabbitMQ, the status tracker and the notifier to a real SMTP server, as separate processes.
 */
let stack: Stack;
let bus: MessageBus;

beforeAll(async () => {
  stack = await startStack('sample');
  bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('e2e', 'silent') });
  await bus.start();
});

afterAll(async () => {
  await bus?.close();
  await stack?.stop();
});

const textOf = (mail: { text?: string | false }) => (typeof mail.text === 'string' ? mail.text : '');

it('turns the sample fax into three emails and a partial aggregate', async () => {
  await stack.saveSettings('alice', { email: { enabled: true, address: 'alice@example.test' }, locale: 'en', timeZone: 'Europe/Rome', notifyOn: 'all' });
  const { faxId, events } = scriptFaxEvents({ ...sampleFax('alice', 'Q3 report'), submittedAt: new Date('2026-11-22T09:00:00Z') });
  for (const e of events) await bus.publish(e.key, e.data, { subject: e.subject, time: e.time });

  await eventually(() => stack.smtp.mails.length >= 3, 30_000);
  const bySubject = new Map(stack.smtp.mails.map((m) => [m.subject ?? '', m]));
  expect([...bySubject.keys()].sort()).toEqual(['Delivered: Q3 report', 'Not delivered: Q3 report', 'Partially delivered: Q3 report']);

  const delivered = bySubject.get('Delivered: Q3 report')!;
  expect(delivered.to && 'text' in delivered.to ? delivered.to.text : '').toContain('alice@example.test');
  const deliveredText = textOf(delivered);
  expect(deliveredText).toContain('+12025550101 (ACME SALES FAX)');
  expect(deliveredText).toMatch(/3 pages/);
  // Times in the owner's zone (Rome is UTC+1 in November): submitted 09:00 UTC is 10:00 local.
  expect(deliveredText).toMatch(/10:00/);
  // The fax link carries a link token (links.tokens is on by default): /l/<24 characters>.
  expect(deliveredText).toMatch(/http:\/\/127\.0\.0\.1:\d+\/l\/[A-Za-z0-9_-]{24}/);
  expect(deliveredText).toContain('/settings');
  expect(delivered.html).toMatch(/href="http:\/\/127\.0\.0\.1:\d+\/l\/[A-Za-z0-9_-]{24}"/);

  const busy = textOf(bySubject.get('Not delivered: Q3 report')!);
  expect(busy).toContain('+12025550102');
  expect(busy).toMatch(/busy/i);

  const partial = textOf(bySubject.get('Partially delivered: Q3 report')!);
  expect(partial).toContain('+12025550103 (BRANCH OFFICE 7)');
  expect(partial).toMatch(/2 of 3/);

  // One fax's notices thread under one root.
  const roots = new Set(stack.smtp.mails.map((m) => String(m.references ?? m.inReplyTo)));
  expect(roots.size).toBe(1);

  const token = await stack.token('alice');
  const fax = await eventually(async () => {
    const response = await fetch(`${stack.tracker.url}/v1/faxes/${faxId}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { state?: string; aggregateState?: string; fax?: { state?: string } };
    const state = body.state ?? body.aggregateState ?? body.fax?.state;
    return state === 'partial' ? body : undefined;
  });
  expect(JSON.stringify(fax)).toContain('+12025550103');
});
