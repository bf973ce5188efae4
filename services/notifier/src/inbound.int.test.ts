import type { DeliveryFaxReceived } from '@faxnotify/contracts';
import type { MessageBus } from '@faxnotify/kit';
import { eventually, type SmtpSink } from '@faxnotify/peers';
import type { RunningNotifier } from './index';
import { receivedResultId } from './inbound';
import { collectOutcomes, receivedFax, settingsApi, startMailNotifier, startTrackerBus, type MailNotifier, type OutcomeCollector } from './testing/notices';
import { seedConfirmedAddresses } from './testing/confirmed';

const SECRET = 'notifier-inbound-secret-0123456789';
let stack: MailNotifier;
let smtp: SmtpSink;
let notifier: RunningNotifier;
let bus: MessageBus;
let collector: OutcomeCollector;
const api = settingsApi(() => notifier.url, SECRET);

/** A small but valid one-page PDF (with binary bytes in its header comment), its xref offsets counted. */
function tinyPdf(): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>',
    '<< /Length 35 >>\nstream\n0 0 0 RG 72 770 m 523 770 l S\nendstream',
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), Buffer.from('\n')];
  const offsets: number[] = [];
  let length = parts.reduce((n, b) => n + b.length, 0);
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk = Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`, 'latin1');
    parts.push(chunk);
    length += chunk.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n`, '0000000000 65535 f \n', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}

const settings = (address: string, notifyInbound?: 'on' | 'off') => ({
  email: { enabled: true, address },
  locale: 'en',
  timeZone: 'Europe/Rome',
  notifyOn: 'failures',
  ...(notifyInbound ? { notifyInbound } : {}),
});
const mailsAbout = (receivedId: string) => smtp.mails.filter((m) => String(m.references).includes(`received.${receivedId}@`));

beforeAll(async () => {
  stack = await startMailNotifier('notifier-inbound', SECRET);
  ({ smtp, notifier } = stack);
  bus = await startTrackerBus(stack.vhost.amqpUrl);
  collector = await collectOutcomes(stack.vhost.amqpUrl);
  // Outbound notices of failures only: the inbound choice is its own.
  expect((await api('PUT', '/v1/settings', 'alice', settings('alice@example.test'))).status).toBe(200);
  expect((await api('PUT', '/v1/settings', 'olga', { ...settings('olga@example.test', 'off'), locale: 'ru' })).status).toBe(200);
  await seedConfirmedAddresses(notifier.config, 'alice', { email: 'alice@example.test' });
  await seedConfirmedAddresses(notifier.config, 'olga', { email: 'olga@example.test' });
});

afterAll(async () => {
  await collector?.close();
  await bus?.close();
  await stack?.close();
});

it('keeps the inbound choice apart in the settings API (on by default, kept when left out)', async () => {
  expect((await api('GET', '/v1/settings', 'alice')).body.notifyInbound).toBe('on');
  expect((await api('GET', '/v1/settings', 'nobody-yet')).body.notifyInbound).toBe('on');
  expect((await api('GET', '/v1/settings', 'olga')).body.notifyInbound).toBe('off');
  const bad = await api('PUT', '/v1/settings', 'olga', { ...settings('olga@example.test'), notifyInbound: 'sometimes' });
  expect(bad.status).toBe(400);
  expect(bad.body.field).toBe('notifyInbound');
  // A client that does not know the field keeps the owner's choice.
  expect((await api('PUT', '/v1/settings', 'olga', { ...settings('olga@example.test'), locale: 'ru' })).body.notifyInbound).toBe('off');
});

it('emails a received fax once with its PDF attached, even when the event comes twice', async () => {
  const pdf = tinyPdf();
  const event: DeliveryFaxReceived = receivedFax('rx-pdf-1', {
    status: 'partially_received',
    pagesReceived: 2,
    reason: { code: 'LINE_DROPPED', detail: 'carrier lost after page 2' },
    document: { fileName: 'fax-rx-pdf-1.pdf', contentType: 'application/pdf', sizeBytes: pdf.length, data: pdf.toString('base64') },
  });
  await bus.publish('delivery.fax.received', event);
  const [mail] = await eventually(() => (mailsAbout('rx-pdf-1').length > 0 ? mailsAbout('rx-pdf-1') : undefined), 15_000);
  expect(mail.subject).toBe('Fax partly received from +390612345678 (ACME SALES FAX)');
  expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('alice@example.test');
  expect(mail.text).toContain('Pages: 2 pages');
  expect(mail.text).toContain('Received: 22 Nov 2026, 10:01 (Europe/Rome)');
  expect(mail.text).toContain('some may be missing');
  expect(mail.text).toContain('The fax is attached as a PDF.');
  expect(mail.text).toContain('Open the fax: http://127.0.0.1:8082/inbox/rx-pdf-1');
  expect(mail.html).toContain('href="http://127.0.0.1:8082/inbox/rx-pdf-1"');
  expect(mail.attachments).toHaveLength(1);
  expect(mail.attachments[0]).toMatchObject({ filename: 'fax-rx-pdf-1.pdf', contentType: 'application/pdf' });
  expect(Buffer.compare(mail.attachments[0].content, pdf)).toBe(0);

  const row = await notifier.ledger.get(receivedResultId('rx-pdf-1'), 'email');
  expect(row).toMatchObject({ status: 'sent', sends: 1, address: 'alice@example.test', fax_id: 'rx-pdf-1', smtp_code: 250 });

  // The same event again (a redelivery, a re-publish from the tracker's outbox): nothing more is sent.
  await bus.publish('delivery.fax.received', event);
  await bus.publish('delivery.fax.received', receivedFax('rx-after-1'));
  await eventually(() => mailsAbout('rx-after-1').length > 0 || undefined, 15_000);
  await new Promise((r) => setTimeout(r, 1000));
  expect(mailsAbout('rx-pdf-1')).toHaveLength(1);
  expect((await notifier.ledger.get(receivedResultId('rx-pdf-1'), 'email'))!.sends).toBe(1);
});

it('sends the link only when the event carries no PDF', async () => {
  await bus.publish('delivery.fax.received', receivedFax('rx-link-1', { callerNumber: null, remoteCsid: '<b>Evil</b>' }));
  const [mail] = await eventually(() => (mailsAbout('rx-link-1').length > 0 ? mailsAbout('rx-link-1') : undefined), 15_000);
  expect(mail.subject).toBe('Fax received from an unknown number (<b>Evil</b>)');
  expect(mail.attachments).toHaveLength(0);
  expect(mail.text).not.toContain('attached');
  expect(mail.html).not.toContain('<b>Evil');
  expect(mail.html).toContain('&lt;b&gt;Evil&lt;/b&gt;');
});

it('skips an owner who turned inbound notices off, with the reason in the ledger, and publishes no outcome', async () => {
  await bus.publish('delivery.fax.received', receivedFax('rx-off-1', { ownerId: 'olga' }));
  const row = await eventually(() => notifier.ledger.get(receivedResultId('rx-off-1'), 'email'), 15_000);
  expect(row).toMatchObject({ status: 'skipped', sends: 0, error: 'the owner turned notices of received faxes off', address: 'olga@example.test' });
  await bus.publish('delivery.fax.received', receivedFax('rx-nobody-1', { ownerId: 'nobody' }));
  expect(await eventually(() => notifier.ledger.get(receivedResultId('rx-nobody-1'), 'email'), 15_000)).toMatchObject({
    status: 'skipped',
    error: 'the owner has no notification settings',
  });
  expect(smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes('olga@'))).toHaveLength(0);
  // notification.outcome names a sent fax's recipient result: received faxes' notices are recorded in the ledger only.
  expect(collector.outcomes.filter((o) => o.faxId.startsWith('rx-'))).toEqual([]);
});
