import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageBus, createLogger } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { sampleFax, scriptFaxEvents } from '@faxnotify/transmitter';
import { startStack, type Stack } from '../support/stack';

/**
 * The confirmation report by email, as separate processes on RabbitMQ and a real SMTP server: an
 * owner who turned email.attachReport on gets the fax's report (PDF, made by the status tracker
 * in her language and time zone) on the email notice that finished the fax; an owner who did not
 * gets none. The PDF is read back with poppler's pdftotext (deploy/setup.sh installs it).
 */
jest.setTimeout(120_000);

let stack: Stack;
let bus: MessageBus;

beforeAll(async () => {
  stack = await startStack('report');
  bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('e2e', 'silent') });
  await bus.start();
});

afterAll(async () => {
  await bus?.close();
  await stack?.stop();
});

function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-e2e-report-'));
  try {
    writeFileSync(join(dir, 'report.pdf'), pdf);
    return execFileSync('pdftotext', ['-enc', 'UTF-8', join(dir, 'report.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mailsTo = (address: string) => stack.smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address));

async function sendSampleFax(owner: string, subject: string): Promise<string> {
  const { faxId, events } = scriptFaxEvents({ ...sampleFax(owner, subject), submittedAt: new Date('2026-11-22T09:00:00Z') });
  for (const e of events) await bus.publish(e.key, e.data, { subject: e.subject, time: e.time });
  return faxId;
}

it('attaches the final report to the notice that finishes the fax, for the owner who asked, in her language and zone', async () => {
  await stack.saveSettings('olga', {
    email: { enabled: true, address: 'olga@example.test', attachReport: true },
    locale: 'ru',
    timeZone: 'Europe/Moscow',
    notifyOn: 'all',
  });
  await stack.saveSettings('bob', { email: { enabled: true, address: 'bob@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' });
  const faxId = await sendSampleFax('olga', 'Счёт <b>№5</b>');
  await sendSampleFax('bob', 'Q3 report');
  await eventually(() => mailsTo('olga@example.test').length >= 3 && mailsTo('bob@example.test').length >= 3, 60_000);

  const reports = mailsTo('olga@example.test').flatMap((m) => m.attachments.filter((a) => a.contentType === 'application/pdf'));
  // At least the notice sent once the fax was final carries it; one sent while the fax was in progress does not.
  expect(reports.length).toBeGreaterThanOrEqual(1);
  for (const report of reports) {
    expect(report.filename).toBe(`fax-report-${faxId}.pdf`);
    const text = pdfText(report.content);
    expect(text).toContain('Отчёт о доставке факса');
    expect(text).toContain('Счёт <b>№5</b>');
    expect(text).toContain('Время: Europe/Moscow');
    expect(text).toContain('Доставлен частично');
    for (const number of ['+12025550101', '+12025550102', '+12025550103']) expect(text).toContain(number);
    expect(text).toContain('ACME SALES FAX');
  }
  expect(mailsTo('bob@example.test').flatMap((m) => m.attachments)).toEqual([]);
});
