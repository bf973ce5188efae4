import { createEvent } from '@faxnotify/contracts';
import { createBitmap, encodeMh, setPixel } from '@faxnotify/fax-line';
import { MessageBus, createLogger } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { startStack, type Stack } from '../support/stack';

/**
 * A received fax through the status tracker and the notifier as separate processes: the
 * transmitter's fax.received (published here as it publishes it) lands in the owner's Inbox, and
 * the owner's email carries the very PDF the Inbox serves, with the Inbox link.
 */
jest.setTimeout(90_000);

let stack: Stack;
let bus: MessageBus;

beforeAll(async () => {
  stack = await startStack('received-fax');
  bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('e2e', 'silent') });
  await bus.start();
  await stack.saveSettings('rita', { email: { enabled: true, address: 'rita@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'failures' });
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await stack?.stop();
});

function page(rows: number) {
  const bitmap = createBitmap(1728, rows);
  for (let y = 0; y < rows; y += 1) for (let x = 100; x < 1628; x += 97) setPixel(bitmap, x + (y % 40), y, true);
  return { width: 1728, rows, resolution: 'fine' as const, badRows: 0, data: encodeMh(bitmap).toString('base64') };
}

it('puts a received fax in the Inbox and emails its owner the PDF the Inbox serves', async () => {
  const event = createEvent(
    'fax.received',
    {
      receivedId: 'rx-e2e-1',
      source: 'line',
      lineId: 'line-1',
      ownerId: 'rita',
      callerNumber: '+390612345678',
      calledNumber: '+390698765432',
      remoteCsid: 'E2E SENDER',
      status: 'success',
      reason: { code: 'ok', detail: 'the sender ended the call normally' },
      pagesReceived: 1,
      startedAt: '2026-12-07T08:00:00.000Z',
      endedAt: '2026-12-07T08:01:00.000Z',
      pages: [page(2200)],
    },
    { source: '/faxnotify/transmitter', subject: 'received/rx-e2e-1' },
  );
  await bus.publishEvent('fax.received', event);
  const mail = await eventually(() => stack.smtp.mails.find((m) => (m.to as { text?: string } | undefined)?.text?.includes('rita@example.test')), 60_000);
  const auth = { headers: { authorization: `Bearer ${await stack.token('rita')}` } };
  const listed = (await (await fetch(`${stack.tracker.url}/v1/received`, auth)).json()) as { received: Array<{ id: string; remoteCsid: string }> };
  expect(listed.received).toMatchObject([{ id: 'rx-e2e-1', remoteCsid: 'E2E SENDER' }]);
  const pdf = Buffer.from(await (await fetch(`${stack.tracker.url}/v1/received/rx-e2e-1/pdf`, auth)).arrayBuffer());
  expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(mail.attachments).toHaveLength(1);
  expect(mail.attachments[0].contentType).toBe('application/pdf');
  expect(Buffer.compare(mail.attachments[0].content, pdf)).toBe(0);
  expect(typeof mail.text === 'string' ? mail.text : '').toContain('/inbox/rx-e2e-1');
});
