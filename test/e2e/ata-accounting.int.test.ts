import { join } from 'node:path';
import { MessageBus, createLogger } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { scriptFaxEvents } from '@faxnotify/transmitter';
import { ataTestDictionaries, radclient, TEST_RADIUS_SECRET, type RequestAttributes } from '@faxnotify/transmitter/testing';
import { freeUdpPort, startService, type RunningService } from '../support/processes';
import { startStack, type Stack } from '../support/stack';

/**
 * A fax seen only through a FaxBack port server's accounting records: radclient plays the port
 * server against the transmitter process's RADIUS server, and the owner gets the same email as
 * for a fax the modem path reports (the scripted transmitter publishes the modem path's events).
 * The dictionary is the shipped one plus placeholder numbers for the CDR attributes.
 */
let stack: Stack;
let transmitter: RunningService;
let bus: MessageBus;
let acctPort: number;
const dictionaries = ataTestDictionaries(true);

const acct = async (status: string, sessionId: string, attributes: RequestAttributes) => {
  const reply = await radclient({
    dictionaryDir: dictionaries.radclientDir,
    port: acctPort,
    kind: 'acct',
    attributes: [['Acct-Status-Type', status], ['Acct-Session-Id', sessionId], ...attributes],
  });
  expect(reply.code).toBe('Accounting-Response');
};

const textOf = (mail: { text?: string | false }) => (typeof mail.text === 'string' ? mail.text : '');

beforeAll(async () => {
  // Plain fax links (no link tokens): the test finds each fax's email by the fax id in its link and compares the two texts.
  stack = await startStack('ata', { extraEnv: { STATUS_TRACKER_LINK_TOKENS: 'false' } });
  acctPort = await freeUdpPort();
  transmitter = await startService('transmitter', {
    ...stack.env,
    TRANSMITTER_SQLITE_PATH: join(stack.dataDir, 'transmitter.sqlite'),
    TRANSMITTER_FILES_DIR: join(stack.dataDir, 'files'),
    TRANSMITTER_ATA_ENABLED: 'true',
    TRANSMITTER_ATA_HOST: '127.0.0.1',
    TRANSMITTER_ATA_AUTH_PORT: String(await freeUdpPort()),
    TRANSMITTER_ATA_ACCT_PORT: String(acctPort),
    TRANSMITTER_ATA_DICTIONARY: dictionaries.faxback,
    TRANSMITTER_ATA_CLIENTS: JSON.stringify([{ address: '127.0.0.1', secret: TEST_RADIUS_SECRET, name: 'port-server' }]),
    TRANSMITTER_ATA_ADMIN_USERS: 'operator',
  });
  bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('e2e', 'silent') });
  await bus.start();
  await stack.saveSettings('alice', { email: { enabled: true, address: 'alice@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' });
  // The port-server account whose faxes are alice's, made by an admin user through the transmitter's admin API.
  const response = await fetch(`${transmitter.url}/ata/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.token('operator')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'acme', ownerId: 'alice', password: 'secret-1' }),
  });
  expect(response.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await transmitter?.stop();
  await stack?.stop();
});

it("a send reported only by accounting gives the owner the modem path's email, once", async () => {
  const session = 'ea7a820446d54db8a98f42be08e65b23';
  const common: RequestAttributes = [
    ['User-Name', 'ACME'],
    ['FB-Dial-Number', '2025550143'],
    ['FB-Is-Send', 'Send'],
  ];
  const stop: RequestAttributes = [
    ...common,
    ['FB-CDR-Type', 'Realtime'],
    ['FB-Page-Count', 2],
    ['FB-Remote-CSID', 'ACME <b>SALES</b>'],
    ['FB-Fax-Error-Code', 0],
    ['FB-Called-Number-Result', 'Success'],
    ['FB-Connect-BPS', 14400],
  ];
  await acct('Start', session, [...common, ['FB-CDR-Type', 'Realtime']]);
  await acct('Interim-Update', session, [...common, ['FB-Page-Count', 2], ['FB-Remote-CSID', 'ACME <b>SALES</b>']]);
  await acct('Stop', session, stop);
  // Resent until answered: the copy must not make a second email.
  await acct('Stop', session, [...stop, ['Acct-Delay-Time', 3]]);

  const ata = await eventually(() => stack.smtp.mails.find((m) => m.subject === 'Delivered: +12025550143'), 30_000);
  const ataText = textOf(ata);
  // The recipient with the remote CSID in brackets (escaped in HTML), the pages, the links.
  expect(ataText).toContain('+12025550143 (ACME <b>SALES</b>)');
  expect(ata.html).toContain('ACME &lt;b&gt;SALES&lt;/b&gt;');
  expect(ata.html).not.toContain('<b>SALES</b>');
  expect(ataText).toMatch(/2 pages/);
  expect(ataText).toContain('/settings');
  const ataFaxId = /\/faxes\/([^\s/?"]+)/.exec(ataText)![1];

  // The same fax as the modem path reports it: same facts, its own fax id and times.
  const { faxId, events } = scriptFaxEvents({
    ownerId: 'alice',
    subject: '+12025550143',
    pages: 2,
    recipients: [
      {
        number: '+12025550143',
        attempts: [{ csid: 'ACME <b>SALES</b>', pagesConfirmed: 2, status: 'success', reason: { code: 'OK', detail: 'MCF after EOP; DCN' } }],
      },
    ],
  });
  for (const e of events) await bus.publish(e.key, e.data, { subject: e.subject, time: e.time });
  const modem = await eventually(() => stack.smtp.mails.find((m) => textOf(m).includes(`/faxes/${faxId}`)), 30_000);
  const normalise = (text: string, id: string) =>
    text
      .replaceAll(id, '<fax>')
      .replace(/\b\d{1,2}:\d{2}(:\d{2})?\b/g, '<time>')
      .replace(/\b\d{1,2} [A-Z][a-z]{2} \d{4}\b|\b[A-Z][a-z]+ \d{1,2}, \d{4}\b|\d{4}-\d{2}-\d{2}/g, '<date>');
  expect(modem.subject).toBe(ata.subject);
  expect(normalise(ataText, ataFaxId)).toBe(normalise(textOf(modem), faxId));

  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(stack.smtp.mails.filter((m) => textOf(m).includes(`/faxes/${ataFaxId}`))).toHaveLength(1);
}, 90_000);
