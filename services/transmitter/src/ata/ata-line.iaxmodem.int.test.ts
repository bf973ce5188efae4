/**
 * A fax submitted through the API and sent on an ATA line: the transmitter's modem hands the fax
 * to the "ATA" (efax answering on a real iaxmodem line, with the ATA's own CSID), the recipient
 * waits handed over, and radclient (as the port server) reports the delivery in accounting
 * records for the line's account. The RADIUS server is the one startTransmitter runs.
 */
import { join } from 'node:path';
import type { CreatedView } from '../api';
import { makeSamplePdf } from '../documents/testing/sample-documents';
import type { FaxView } from '../outbox';
import { type EfaxReceiver, type ModemPairs, startEfaxReceiver, startModemPairs } from '@faxnotify/fax-line/testing';
import { api, faxIdOf, finalFax, startTestTransmitter, upload, type TestTransmitter } from '../testing/harness';
import { eventually } from '@faxnotify/peers';
import { ATA_NO_REPORT, expireHandoffs } from './handoff';
import { TEST_RADIUS_SECRET, processDictionaries, radclient, type RequestAttributes } from './testing/port-server';

jest.setTimeout(150_000);

let pairs: ModemPairs;
let receiver: EfaxReceiver | undefined;
let t: TestTransmitter;
const dictionaries = processDictionaries(true);

const acct = (status: string, sessionId: string, attributes: RequestAttributes) =>
  radclient({
    dictionaryDir: dictionaries.radclientDir,
    port: t.service.ata!.address.acctPort,
    kind: 'acct',
    attributes: [['Acct-Status-Type', status], ['Acct-Session-Id', sessionId], ...attributes],
  });

/** The port server's Get-Call-Ahead-Mode question for a number (reply value 0 "Never" = do not call ahead). */
const callAheadFor = async (number: string, sessionId: string) => {
  const reply = await radclient({
    dictionaryDir: dictionaries.radclientDir,
    port: t.service.ata!.address.authPort,
    kind: 'auth',
    attributes: [
      ['FB-Command', 'Get-Call-Ahead-Mode'],
      ['FB-Context', 'Pre-Send-Session'],
      ['User-Name', number],
      ['Acct-Session-Id', sessionId],
    ],
  });
  expect(reply.code).toBe('Access-Accept');
  return reply.get('FB-Call-Ahead-Mode');
};

const recipientOf = async (token: string, faxId: string) =>
  (await api<FaxView>(t.service.url, token, 'GET', `/v3/accounts/self/faxes/${faxId}`)).body.recipients[0];

/** Sends a one-page fax to `number` through the ATA line; resolves once the ATA took it. */
async function sendThroughAta(token: string, number: string, subject: string): Promise<string> {
  receiver = await startEfaxReceiver(pairs.pairs[0].receiverDevice, {
    localId: 'FAXBACK ATA 7',
    outputDir: join(pairs.dir, `ata-${subject.replace(/\W/g, '')}`),
  });
  const pdf = makeSamplePdf(t.dir, subject.replace(/\W/g, ''), [['faxnotify through a fax ATA', subject]]);
  const path = (await upload(t.service.url, token, pdf)).body.path;
  const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', {
    to: [number],
    files: [path],
    comment: { text: subject },
    retry: { count: 0 },
  });
  expect(created.status).toBe(201);
  const faxId = await faxIdOf(t.service.url, token, created.body.id);
  await eventually(async () => (await recipientOf(token, faxId)).attempts?.[0]?.reason?.code === 'ATA_HANDED_OVER', 100_000, 250);
  await receiver.exited;
  expect(receiver.receivedFiles()).toHaveLength(1);
  return faxId;
}

beforeAll(async () => {
  pairs = await startModemPairs(1);
  t = await startTestTransmitter('ata-line', {
    localId: '+12025550100',
    lines: [{ id: 'ata-1', kind: 'ata', account: 'ACME', device: pairs.pairs[0].senderDevice }],
    'dial.rules': [{ match: '^\\+1202555\\d{4}$', dial: '2002' }],
    'scheduler.pollMs': 200,
    'outbox.pollMs': 200,
    'ata.enabled': true,
    'ata.host': '127.0.0.1',
    'ata.authPort': 0,
    'ata.acctPort': 0,
    'ata.dictionary': dictionaries.faxback,
    'ata.clients': [{ address: '127.0.0.1', secret: TEST_RADIUS_SECRET, name: 'port-server' }],
    'ata.adminUsers': ['operator'],
  });
  // The account the ATA line sends as, made through the transmitter's admin API by an admin user for its owner.
  const account = await api(t.service.url, await t.token('operator'), 'POST', '/ata/accounts', {
    name: 'acme',
    ownerId: 'alice',
    password: 'pw',
    callAheadMode: 'dynamic',
  });
  expect(account.status).toBe(201);
});

afterAll(async () => {
  receiver?.kill();
  await t?.close();
  await pairs?.stop();
});

describe('a fax sent on an ATA line', () => {
  it("waits handed over, then takes its result, CSID and pages from the port server's records, once", async () => {
    const token = await t.token('alice');
    const faxId = await sendThroughAta(token, '+12025550143', 'ATA delivery');

    // The ATA took the fax: not final, and nothing of the ATA's own identity reaches the recipient.
    const waiting = await recipientOf(token, faxId);
    expect(waiting).toMatchObject({ status: 'queued', final: false });
    expect(waiting.remote_csid).toBeNull();
    expect(waiting.attempts[0].reason.detail).toContain('FAXBACK ATA 7');

    const session = '0_yhYH4nK3]dtTFspcBkJQMA';
    // Before its first fax the number is unknown: the ATA calls ahead (value 1, "yes").
    expect(await callAheadFor('2025550143', session)).toBe('Dynamic');
    // The port server writes the number as the ATA dialled it (national form, here).
    const common: RequestAttributes = [
      ['User-Name', 'Acme'],
      ['FB-Dial-Number', '2025550143'],
      ['FB-Is-Send', 'Send'],
    ];
    const stop: RequestAttributes = [
      ...common,
      ['FB-CDR-Type', 'Realtime'],
      ['FB-Page-Count', 1],
      ['FB-Remote-CSID', '+1 202 555 0143'],
      ['FB-Fax-Error-Code', 0],
      ['FB-Called-Number-Result', 'Success'],
      ['FB-Connect-BPS', 14400],
    ];
    expect((await acct('Start', session, [...common, ['FB-CDR-Type', 'Realtime']])).code).toBe('Accounting-Response');
    expect((await acct('Interim-Update', session, [...common, ['FB-Page-Count', 1], ['FB-Remote-CSID', '+1 202 555 0143']])).code).toBe('Accounting-Response');
    expect((await acct('Stop', session, stop)).code).toBe('Accounting-Response');
    // The port server resends a Stop until it is answered: the copy changes nothing.
    expect((await acct('Stop', session, [...stop, ['Acct-Delay-Time', 5]])).code).toBe('Accounting-Response');

    const fax = await finalFax(t.service.url, token, faxId, 20_000);
    expect(fax.status).toBe('delivered');
    expect(fax.recipients[0]).toMatchObject({ status: 'success', final: true, remote_csid: '+1 202 555 0143', line: 'ata-1', page: { n: 1, of: 1 } });
    expect(fax.recipients[0].attempts).toHaveLength(1);
    expect(fax.recipients[0].attempts[0]).toMatchObject({ status: 'success', reason: { code: 'OK' }, pages_sent: 1 });

    await eventually(() => t.events.of(faxId, 'fax.recipient.result').length === 1, 10_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const events = t.events.of(faxId);
    // One fax.submitted (ours: the accounting path adopts the recipient rather than minting a fax).
    expect(events.filter((e) => e.type.includes('fax.submitted'))).toHaveLength(1);
    const recipientEvents = events.filter((e) => !e.type.includes('fax.submitted')).map((e) => e.data as { status: string; sequence: number; attempt: number });
    expect(recipientEvents.map((e) => e.status)).toEqual(['dialing', 'queued', 'dialing', 'connected', 'sending', 'success']);
    expect(recipientEvents.map((e) => e.sequence)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(recipientEvents.map((e) => e.attempt))).toEqual(new Set([1]));
    const result = t.events.of(faxId, 'fax.recipient.result')[0].data as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'success', pagesSent: 1, pagesTotal: 1, remoteCsid: '+1 202 555 0143', attempts: 1 });

    // The called-numbers table learnt the number from the Stop: dynamic call-ahead now says no.
    expect(await callAheadFor('2025550143', 'next-1')).toBe('Never');
  });

  it('fails the recipient when the port server never reports the fax', async () => {
    const token = await t.token('alice');
    const faxId = await sendThroughAta(token, '+12025550177', 'ATA silence');
    expect(await recipientOf(token, faxId)).toMatchObject({ status: 'queued', final: false });

    // Not yet overdue: nothing happens.
    expect(await expireHandoffs(t.service.db, t.service.ledger, new Date())).toBe(0);
    // A day later (ata.reportWithinHours) the recipient fails, naming why.
    expect(await expireHandoffs(t.service.db, t.service.ledger, new Date(Date.now() + 25 * 3600_000))).toBe(1);
    t.service.relay.kick();
    const fax = await finalFax(t.service.url, token, faxId, 20_000);
    expect(fax.status).toBe('failed');
    expect(fax.recipients[0]).toMatchObject({ status: 'failed_to_send', final: true });
    expect(fax.recipients[0].attempts[0].reason.code).toBe(ATA_NO_REPORT);
    await eventually(() => t.events.of(faxId, 'fax.recipient.result').length === 1, 10_000, 100);
    expect(t.events.of(faxId, 'fax.recipient.result')[0].data).toMatchObject({ status: 'failed_to_send', reason: { code: ATA_NO_REPORT } });
    // A report that comes after all is kept but changes nothing.
    const late = await acct('Stop', 'late-1', [
      ['User-Name', 'acme'],
      ['FB-Dial-Number', '2025550177'],
      ['FB-Is-Send', 'Send'],
      ['FB-Fax-Error-Code', 0],
      ['FB-Page-Count', 1],
    ]);
    expect(late.code).toBe('Accounting-Response');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(t.events.of(faxId, 'fax.recipient.result')).toHaveLength(1);
    // ... and is not taken for a fax of its own.
    expect(t.events.events.filter((e) => e.type.includes('fax.submitted'))).toHaveLength(2);
  });

  it('a call cut by a restart is not redialled when the port server reports its fax before the redial', async () => {
    const token = await t.token('alice');
    receiver = await startEfaxReceiver(pairs.pairs[0].receiverDevice, { localId: 'FAXBACK ATA 7', outputDir: join(pairs.dir, 'ata-cut') });
    const pdf = makeSamplePdf(t.dir, 'cut', [['faxnotify through a fax ATA', 'cut by a restart']]);
    const path = (await upload(t.service.url, token, pdf)).body.path;
    const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', {
      to: ['+12025550155'],
      files: [path],
      comment: { text: 'ATA cut' },
      retry: { count: 1 },
    });
    const faxId = await faxIdOf(t.service.url, token, created.body.id);
    await t.events.waitFor(
      (e) => (e.data as { faxId?: string; status?: string }).faxId === faxId && (e.data as { status?: string }).status === 'dialing',
      30_000,
    );
    // Well into the call (the ATA answered and takes the page), the transmitter stops with no grace.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await t.service.stop();
    receiver.kill();
    await t.restart({ 'retry.restartSeconds': 120 });

    // The next start records the cut attempt and schedules a redial...
    const cut = await eventually(
      async () => {
        const recipient = await recipientOf(token, faxId);
        return recipient.status === 'retry_scheduled' ? recipient : undefined;
      },
      20_000,
      200,
    );
    expect(cut.attempts[0].reason.code).toBe('TRANSMITTER_RESTART');
    // ... but the ATA had the fax: the port server's session for it takes the recipient back.
    const session = 'cut-by-restart-1';
    const common: RequestAttributes = [
      ['User-Name', 'ACME'],
      ['FB-Dial-Number', '2025550155'],
      ['FB-Is-Send', 'Send'],
    ];
    expect((await acct('Start', session, [...common, ['FB-CDR-Type', 'Realtime']])).code).toBe('Accounting-Response');
    await eventually(async () => (await recipientOf(token, faxId)).status !== 'retry_scheduled', 10_000, 100);
    expect(await recipientOf(token, faxId)).toMatchObject({ final: false, attempt: 1 });
    expect(
      (
        await acct('Stop', session, [
          ...common,
          ['FB-CDR-Type', 'Realtime'],
          ['FB-Page-Count', 1],
          ['FB-Remote-CSID', 'FAR END 55'],
          ['FB-Fax-Error-Code', 0],
          ['FB-Called-Number-Result', 'Success'],
        ])
      ).code,
    ).toBe('Accounting-Response');
    const fax = await finalFax(t.service.url, token, faxId, 20_000);
    expect(fax.status).toBe('delivered');
    expect(fax.recipients[0]).toMatchObject({ status: 'success', attempt: 1, remote_csid: 'FAR END 55' });
    expect(t.events.of(faxId, 'fax.recipient.result')).toHaveLength(1);
    // One fax, ours: the session did not become a fax of its own.
    expect(t.events.events.filter((e) => e.type.includes('fax.submitted'))).toHaveLength(3);
  });
});
