/**
 * The transmitter's part of "resend to the failed", on a running transmitter with a scripted modem
 * line and the broker: the tracker's order (fax.resend.ordered, published here as the tracker's
 * outbox would) becomes a fax with the id it names, the original's documents, exactly the numbers
 * given and, for a recipient given some pages, only those pages on the line; fax.submitted names
 * the fax it resends. The same order twice makes one fax; an order whose files are past retention
 * ends failed with the reason; an order for another owner's fax is dead-lettered.
 */
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { createEvent, deadLetterQueueName, EXCHANGES, QUEUES, type FaxResendOrdered, type FaxSubmitted } from '@faxnotify/contracts';
import { eventually } from '@faxnotify/peers';
import { ScriptedModem } from '@faxnotify/fax-line/testing';
import type { CreatedView } from './api';
import { makeSamplePdf } from './documents/testing/sample-documents';
import { api, FAST_RETRIES, faxIdOf, finalFax, startTestTransmitter, upload, type TestTransmitter } from './testing/harness';

jest.setTimeout(90_000);

const FAST_LINE = { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 };

let modem: ScriptedModem;
let t: TestTransmitter;
let token: string;
let original: string;

/** Publishes an order the way the tracker's outbox relay does: a CloudEvent on faxnotify.fax. */
async function order(data: FaxResendOrdered): Promise<void> {
  const connection = await connect(t.vhost.amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    const event = createEvent('fax.resend.ordered', data, { source: '/faxnotify/status-tracker', subject: `fax/${data.faxId}` });
    channel.publish(EXCHANGES.fax, 'fax.resend.ordered', Buffer.from(JSON.stringify(event)), {
      contentType: 'application/cloudevents+json',
      messageId: event.id,
    });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

const orderFor = (recipients: FaxResendOrdered['recipients'], overrides: Partial<FaxResendOrdered> = {}): FaxResendOrdered => ({
  faxId: `fax-${randomUUID()}`,
  resendOf: original,
  ownerId: 'alice',
  requestId: `req-${randomUUID()}`,
  recipients,
  orderedAt: new Date().toISOString(),
  ...overrides,
});

beforeAll(async () => {
  modem = await ScriptedModem.start({ kind: 'class1', csi: 'REMOTE 7' });
  t = await startTestTransmitter('resend', { ...FAST_RETRIES, lines: [{ id: 'scripted-1', kind: 'class1', device: modem.device, timers: FAST_LINE }] });
  token = await t.token('alice');
  const pdf = makeSamplePdf(t.dir, 'three', [['page 1'], ['page 2'], ['page 3']]);
  const path = (await upload(t.service.url, token, pdf)).body.path;
  const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', {
    files: [path],
    to: ['+12025550101'],
    from: '+12025550199',
    comment: { text: 'Q3 report' },
  });
  original = await faxIdOf(t.service.url, token, created.body.id);
  await finalFax(t.service.url, token, original);
});

afterAll(async () => {
  await t?.close();
  await modem?.stop();
});

it('sends the documents again as the fax the order names, to exactly its numbers, a partial recipient only its missing page', async () => {
  const resend = orderFor([{ number: '+12025550102' }, { number: '+12025550103', pages: { first: 3, last: 3 } }]);
  await order(resend);
  const submitted = await t.events.waitFor((e) => e.type === 'faxnotify.fax.submitted.v2' && (e.data as FaxSubmitted).faxId === resend.faxId);
  expect(submitted.data).toMatchObject({
    resendOf: original,
    ownerId: 'alice',
    from: '+12025550199',
    subject: 'Q3 report',
    pages: 3,
    recipients: [
      { recipientId: 'r1', number: '+12025550102' },
      { recipientId: 'r2', number: '+12025550103', pages: { first: 3, last: 3 } },
    ],
  });
  expect((submitted.data as FaxSubmitted).recipients[0].pages).toBeUndefined();
  const fax = await finalFax(t.service.url, token, resend.faxId, 60_000);
  expect(fax.recipients.map((r) => [r.to, r.status, r.page])).toEqual([
    ['+12025550102', 'success', { n: 3, of: 3 }],
    ['+12025550103', 'success', { n: 1, of: 1 }],
  ]);
  // On the line: the partial recipient's call carried one page.
  await eventually(() => t.events.of(resend.faxId, 'fax.recipient.result').length === 2);
  const results = t.events.of(resend.faxId, 'fax.recipient.result').map((e) => e.data as { number: string; pagesSent: number; pagesTotal: number });
  expect(results.map((r) => [r.number, r.pagesSent, r.pagesTotal]).sort()).toEqual([
    ['+12025550102', 3, 3],
    ['+12025550103', 1, 1],
  ]);
  expect(modem.record.commands.filter((c) => c.startsWith('ATD'))).toEqual(['ATD12025550101', 'ATD12025550102', 'ATD12025550103']);
});

it('makes one fax of an order that comes twice', async () => {
  /** Orders the transmitter took, from its metrics. */
  const handled = async () =>
    Number(/queue="transmitter\.resend-orders",outcome="ok"} (\d+)/.exec(await (await fetch(`${t.service.url}/metrics`)).text())?.[1] ?? 0);
  const before = await handled();
  const resend = orderFor([{ number: '+12025550104' }]);
  await order(resend);
  await order(resend);
  await finalFax(t.service.url, token, resend.faxId, 60_000);
  // Both deliveries handled (the second found the fax) before counting.
  await eventually(async () => (await handled()) === before + 2, 20_000);
  const rows = await t.service.db.selectFrom('faxes').select('outbox_id').where('fax_id', '=', resend.faxId).execute();
  expect(rows).toHaveLength(1);
  expect(t.events.of(resend.faxId, 'fax.submitted')).toHaveLength(1);
});

it('ends the new fax failed, saying so, when the documents are past retention', async () => {
  const files = await t.service.db
    .selectFrom('fax_files')
    .innerJoin('faxes', 'faxes.outbox_id', 'fax_files.outbox_id')
    .innerJoin('files', 'files.id', 'fax_files.file_id')
    .select(['files.id', 'files.stored_path'])
    .where('faxes.fax_id', '=', original)
    .execute();
  // What the retention sweep does once files.keepDays have passed: the row and the bytes go.
  for (const file of files) {
    await t.service.db.deleteFrom('files').where('id', '=', file.id).execute();
    rmSync(file.stored_path, { force: true });
  }
  const resend = orderFor([{ number: '+12025550105' }]);
  await order(resend);
  const fax = await finalFax(t.service.url, token, resend.faxId, 60_000);
  expect(fax.recipients[0]).toMatchObject({ status: 'failed_internal_process_error', reason: { detail: expect.stringContaining('no longer stored') } });
  expect(modem.record.commands.filter((c) => c === 'ATD12025550105')).toEqual([]);
});

it("dead-letters an order naming another owner's fax, with the reason", async () => {
  const resend = orderFor([{ number: '+12025550106' }], { ownerId: 'mallory' });
  await order(resend);
  const dead = deadLetterQueueName(QUEUES.transmitterResendOrders.name);
  const message = await eventually(async () => {
    const connection = await connect(t.vhost.amqpUrl);
    try {
      const channel = await connection.createChannel();
      const got = await channel.get(dead, { noAck: true });
      return got || null;
    } finally {
      await connection.close();
    }
  }, 20_000);
  expect((JSON.parse(message.content.toString()) as { data: FaxResendOrdered }).data.faxId).toBe(resend.faxId);
  expect(JSON.stringify(message.properties.headers)).toContain('another owner');
  expect(await t.service.db.selectFrom('faxes').select('outbox_id').where('fax_id', '=', resend.faxId).execute()).toEqual([]);
});
