/**
 * Accounting records from radclient (as the port server) becoming fax events on a real broker,
 * and call-ahead fed by them. The dictionary is the shipped one plus placeholder numbers for the
 * CDR attributes the manual documents without numbering them (testing/dictionary.faxback-test-numbers).
 */
import { connect, type ChannelModel } from 'amqplib';
import { EXCHANGES, type CloudEvent } from '@faxnotify/contracts';
import { MessageBus } from '@faxnotify/kit';
import { createTestVhost, eventually, type TestVhost } from '@faxnotify/peers';
import { TRANSMITTER_SOURCE } from '../events';
import { Outbox } from '../outbox';
import { RecipientLedger } from '../ledger/recipient-ledger';
import { TEST_RETRY_DELAYS } from '../testing/database';
import { handoffOf, markHandedOver, openHandoff } from './handoff';
import { TEST_DIALECTS, memoryLogger, startAtaTestServer, type AtaTestServer, type RequestAttributes } from './testing/port-server';

jest.setTimeout(60_000);

let vhost: TestVhost;
let bus: MessageBus;
let listener: ChannelModel;
let ata: AtaTestServer;
const events: CloudEvent[] = [];

const keyOf = (event: CloudEvent): string => event.type.replace(/^faxnotify\./, '').replace(/\.v\d+$/, '');
const eventsOf = (faxId: string, key?: string) => events.filter((e) => (e.data as { faxId: string }).faxId === faxId && (!key || keyOf(e) === key));
const faxOfSession = async (sessionId: string): Promise<string> =>
  eventually(
    async () => (await ata.database.db.selectFrom('ata_sessions').select('fax_id').where('session_id', '=', sessionId).executeTakeFirst())?.fax_id,
    10_000,
    50,
  );

const accounting = async (status: string, sessionId: string, attributes: RequestAttributes) => {
  const reply = await ata.send('acct', [['Acct-Status-Type', status], ['Acct-Session-Id', sessionId], ...attributes]);
  expect(reply.code).toBe('Accounting-Response');
  return reply;
};

const callAheadFor = async (number: string, sessionId: string) => {
  const reply = await ata.send('auth', [
    ['FB-Command', 'Get-Call-Ahead-Mode'],
    ['FB-Context', 'Pre-Send-Session'],
    ['User-Name', number],
    ['Acct-Session-Id', sessionId],
  ]);
  expect(reply.code).toBe('Access-Accept');
  return reply.get('FB-Call-Ahead-Mode');
};

beforeAll(async () => {
  vhost = await createTestVhost('ata');
  const { logger } = memoryLogger();
  bus = new MessageBus({ url: vhost.amqpUrl, source: TRANSMITTER_SOURCE, logger });
  await bus.start();
  listener = await connect(vhost.amqpUrl);
  const channel = await listener.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, EXCHANGES.fax, '#');
  await channel.consume(queue, (message) => {
    if (!message) return;
    events.push(JSON.parse(message.content.toString('utf8')) as CloudEvent);
    channel.ack(message);
  });
});

afterAll(async () => {
  await listener?.close().catch(() => undefined);
  await bus?.close(1000).catch(() => undefined);
  await vhost?.delete();
});

describe.each(TEST_DIALECTS)('on %s', (dialect) => {
  beforeAll(async () => {
    // Fax ids come from session ids, which every dialect's run reuses.
    events.length = 0;
    ata = await startAtaTestServer({ label: 'acct', placeholderNumbers: true, bus, dialect, config: { errorStatuses: { '777': 'failed_user_busy' } } });
    await ata.server.store.createAccount({ name: 'acme', password: 'pw', ownerId: 'owner-7' });
    await ata.server.store.createAccount({ name: 'muted', password: 'pw', ownerId: 'owner-7', sendEnabled: false });
  });

  afterAll(async () => {
    await ata?.close();
  });

  describe('a send seen only through accounting', () => {
    const session = 'c0ffee0446d54db8a98f42be08e65b23';
    const common: RequestAttributes = [
      ['User-Name', 'ACME'],
      ['FB-Dial-Number', '2025550143'],
      ['FB-Is-Send', 'Send'],
    ];

    it('publishes fax.submitted, the progress and one result with pages, remote CSID, speed and the raw CDR', async () => {
      await accounting('Start', session, [...common, ['FB-CDR-Type', 'Realtime']]);
      await accounting('Interim-Update', session, [...common, ['FB-Page-Count', 2], ['FB-Remote-CSID', '+1 202 555 0143']]);
      await accounting('Stop', session, [
        ...common,
        ['FB-CDR-Type', 'Realtime'],
        ['FB-Page-Count', 2],
        ['FB-Remote-CSID', '+1 202 555 0143'],
        ['FB-Fax-Error-Code', 0],
        ['FB-Called-Number-Result', 'Success'],
        ['FB-Connect-BPS', 14400],
        ['FB-Total-Seconds', 55],
      ]);
      const faxId = await faxOfSession(session);
      await eventually(() => eventsOf(faxId, 'fax.recipient.result').length === 1, 10_000, 50);

      const [submitted, ...rest] = eventsOf(faxId);
      expect(keyOf(submitted)).toBe('fax.submitted');
      expect(submitted.data).toMatchObject({
        faxId,
        ownerId: 'owner-7',
        subject: '+12025550143',
        recipients: [{ recipientId: 'r1', number: '+12025550143' }],
        files: [],
        pages: 0,
      });
      expect(rest.map((e) => [keyOf(e), (e.data as { status: string }).status, (e.data as { sequence: number }).sequence])).toEqual([
        ['fax.recipient.progress', 'dialing', 0],
        ['fax.recipient.progress', 'connected', 1],
        ['fax.recipient.progress', 'sending', 2],
        ['fax.recipient.result', 'success', 3],
      ]);
      expect(rest[1].data).toMatchObject({ remoteCsid: '+1 202 555 0143' });
      expect(rest[2].data).toMatchObject({ page: { n: 2, of: 2 } });
      expect(rest[3].data).toMatchObject({
        faxId,
        recipientId: 'r1',
        number: '+12025550143',
        attempt: 1,
        status: 'success',
        pagesSent: 2,
        pagesTotal: 2,
        remoteCsid: '+1 202 555 0143',
        attempts: 1,
        reason: { code: 'OK' },
      });
      const result = rest[3].data as { reason: { detail: string }; startedAt: string | null; endedAt: string };
      expect(result.reason.detail).toContain('14400 bit/s');
      expect(result.reason.detail).toContain('FB-Total-Seconds=55');
      expect(result.startedAt).not.toBeNull();
      expect(Date.parse(result.endedAt)).toBeGreaterThanOrEqual(Date.parse(result.startedAt!));
    });

    it('answers a resent Stop and publishes no second result', async () => {
      const faxId = await faxOfSession(session);
      const stop: RequestAttributes = [
        ...common,
        ['FB-Page-Count', 2],
        ['FB-Fax-Error-Code', 0],
        ['FB-Called-Number-Result', 'Success'],
        ['FB-Remote-CSID', '+1 202 555 0143'],
        ['FB-Connect-BPS', 14400],
        ['FB-Total-Seconds', 55],
        ['FB-CDR-Type', 'Realtime'],
      ];
      await accounting('Stop', session, stop);
      await accounting('Stop', session, [...stop, ['Acct-Delay-Time', 30]]);
      // Give a wrongly published second result time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(eventsOf(faxId, 'fax.recipient.result')).toHaveLength(1);
      expect(eventsOf(faxId, 'fax.submitted')).toHaveLength(1);
      const stops = await ata.database.db
        .selectFrom('ata_accounting_records')
        .select('record_key')
        .where('session_id', '=', session)
        .where('status_type', '=', 'stop')
        .execute();
      expect(stops).toHaveLength(1);
    });
  });

  describe('call-ahead in dynamic mode', () => {
    it('calls a number ahead until it received a fax, then not any more', async () => {
      expect(await callAheadFor('2025550188', 'ca-1')).toBe('Dynamic');
      const preSend = await ata.send('auth', [
        ['FB-Command', 'Get-Account'],
        ['FB-Context', 'Pre-Send-Session'],
        ['User-Name', 'acme'],
        ['Acct-Session-Id', 'ca-1'],
        ['FB-Dial-Number', '2025550188'],
        ['FB-Transfer-Type', 'Queue'],
      ]);
      expect(preSend.get('FB-Call-Ahead-Mode')).toBe('Dynamic');

      await accounting('Start', 'ca-1', [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550188'],
      ]);
      await accounting('Stop', 'ca-1', [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550188'],
        ['FB-Fax-Error-Code', 0],
        ['FB-Page-Count', 1],
        ['FB-Called-Number-Result', 'Success'],
      ]);

      // The next fax to the number, written differently, skips the call-ahead.
      expect(await callAheadFor('+1 (202) 555-0188', 'ca-2')).toBe('Never');
      const again = await ata.send('auth', [
        ['FB-Command', 'Get-Account'],
        ['FB-Context', 'Pre-Send-Session'],
        ['User-Name', 'acme'],
        ['Acct-Session-Id', 'ca-3'],
        ['FB-Dial-Number', '12025550188'],
        ['FB-Transfer-Type', 'Queue'],
      ]);
      expect(again.get('FB-Call-Ahead-Mode')).toBe('Never');
    });

    it('keeps calling ahead a number where a voice answered, even after a later fax went through', async () => {
      await accounting('Stop', 'voice-1', [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550199'],
        ['FB-Fax-Error-Code', 41],
        ['FB-Called-Number-Result', 'VoiceError'],
        ['FB-Is-Send', 'Send'],
      ]);
      expect(await callAheadFor('2025550199', 'voice-2')).toBe('Dynamic');
      await accounting('Stop', 'voice-3', [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550199'],
        ['FB-Fax-Error-Code', 0],
        ['FB-Page-Count', 1],
        ['FB-Called-Number-Result', 'Success'],
      ]);
      expect(await callAheadFor('2025550199', 'voice-4')).toBe('Dynamic');
    });
  });

  describe('results and linking', () => {
    it('maps failures to final statuses and keeps the FaxBack error code', async () => {
      await accounting('Stop', 'fail-1', [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550111'],
        ['FB-Fax-Error-Code', 123],
        ['FB-Page-Count', 1],
        ['FB-Called-Number-Result', 'FaxError'],
        ['FB-Description', 'Remote hung up'],
      ]);
      await accounting('Stop', 'fail-2', [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550112'],
        ['FB-Fax-Error-Code', 777],
      ]);
      const partial = await faxOfSession('fail-1');
      const busy = await faxOfSession('fail-2');
      const [first] = await eventually(
        () => (eventsOf(partial, 'fax.recipient.result').length ? eventsOf(partial, 'fax.recipient.result') : undefined),
        10_000,
        50,
      );
      expect(first.data).toMatchObject({ status: 'partially_sent', pagesSent: 1, reason: { code: 'ATA_FAX_ERROR_123' } });
      expect((first.data as { reason: { detail: string } }).reason.detail).toContain('Remote hung up');
      // Stop only (Start is best effort): fax.submitted still comes first.
      expect(keyOf(eventsOf(partial)[0])).toBe('fax.submitted');
      const [second] = await eventually(() => (eventsOf(busy, 'fax.recipient.result').length ? eventsOf(busy, 'fax.recipient.result') : undefined), 10_000, 50);
      expect(second.data).toMatchObject({ status: 'failed_user_busy', reason: { code: 'ATA_CALL_FAILED_777' } });
    });

    it('links the stages of a queued ATA fax through FB-Related-Id into one fax with one result', async () => {
      const upload: RequestAttributes = [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550122'],
        ['FB-CDR-Type', 'SendFromClient'],
        ['FB-Is-Send', 'Send'],
      ];
      await accounting('Start', 'stage-upload', upload);
      await accounting('Stop', 'stage-upload', [...upload, ['FB-Fax-Error-Code', 0], ['FB-Page-Count', 3]]);
      const delivery: RequestAttributes = [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550122'],
        ['FB-CDR-Type', 'Realtime'],
        ['FB-Related-Id', 'stage-upload'],
        ['FB-Is-Send', 'Send'],
      ];
      await accounting('Start', 'stage-delivery', delivery);
      await accounting('Stop', 'stage-delivery', [...delivery, ['FB-Fax-Error-Code', 0], ['FB-Page-Count', 3], ['FB-Remote-CSID', 'ACME LEGAL']]);
      const faxId = await faxOfSession('stage-upload');
      expect(await faxOfSession('stage-delivery')).toBe(faxId);
      await eventually(() => eventsOf(faxId, 'fax.recipient.result').length === 1, 10_000, 50);
      expect(eventsOf(faxId).map((e) => `${keyOf(e)}:${(e.data as { status?: string }).status ?? ''}`)).toEqual([
        'fax.submitted:',
        'fax.recipient.progress:queued',
        'fax.recipient.progress:queued',
        'fax.recipient.progress:dialing',
        'fax.recipient.result:success',
      ]);
      expect(eventsOf(faxId, 'fax.recipient.result')[0].data).toMatchObject({ pagesSent: 3, remoteCsid: 'ACME LEGAL' });
    });

    it('tracks nothing for an account we do not know, and no sent fax for receive sessions', async () => {
      await accounting('Start', 'stranger-1', [
        ['User-Name', 'stranger'],
        ['FB-Dial-Number', '2025550133'],
      ]);
      await accounting('Stop', 'stranger-1', [
        ['User-Name', 'stranger'],
        ['FB-Dial-Number', '2025550133'],
        ['FB-Fax-Error-Code', 0],
      ]);
      await accounting('Stop', 'receive-1', [
        ['User-Name', 'acme'],
        ['FB-Dial-Number', '2025550134'],
        ['FB-Is-Send', 'Receive'],
        ['FB-Fax-Error-Code', 0],
      ]);
      const sessions = await ata.database.db
        .selectFrom('ata_sessions')
        .select(['session_id', 'fax_id', 'state'])
        .where('session_id', 'in', ['stranger-1', 'receive-1'])
        .execute();
      expect(sessions.map((s) => [s.session_id, s.fax_id, s.state]).sort()).toEqual([
        ['receive-1', null, 'stopped'],
        ['stranger-1', null, 'stopped'],
      ]);
    });
  });

  describe('a dictionary that can say "disabled"', () => {
    it('answers a send-disabled account with Accept and FB-Snd-From-Account=0 rather than a Reject', async () => {
      const reply = await ata.send('auth', [
        ['FB-Command', 'Get-Account'],
        ['FB-Context', 'Pre-Send-Session'],
        ['User-Name', 'Muted'],
        ['Acct-Session-Id', 'muted-1'],
      ]);
      expect(reply.code).toBe('Access-Accept');
      expect(reply.attributes).toEqual([{ name: 'FB-Snd-From-Account', value: '0' }]);
    });
  });

  describe('a recipient of ours handed over by an ATA line', () => {
    it("takes its result from the first session of the line's account to its number, in its own fax and sequence", async () => {
      const db = ata.database.db;
      const outboxId = await new Outbox(db, new RecipientLedger(TEST_RETRY_DELAYS)).createEntry('owner-7', {
        from: null,
        to: ['+12025550166'],
        files: [],
        subject: 'handed over',
        sendAt: null,
        retry: { count: 0, delayMinutes: 0 },
      });
      const faxId = `fax-handoff-${dialect}`;
      await db.updateTable('faxes').set({ fax_id: faxId, state: 'sending' }).where('outbox_id', '=', outboxId).execute();
      await db
        .updateTable('recipients')
        .set({ state: 'in_call', attempt: 1, sequence: 2, line_id: 'ata-1', pages_total: 2 })
        .where('outbox_id', '=', outboxId)
        .execute();
      const recipient = await db.selectFrom('recipients').selectAll().where('outbox_id', '=', outboxId).executeTakeFirstOrThrow();
      await openHandoff(db, { recipient, faxId, account: 'Acme', lineId: 'ata-1', region: 'US', now: new Date() });
      // As the scheduler records a call the ATA took.
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('recipients').set({ state: 'handed_over', status: 'queued', sequence: 3 }).where('outbox_id', '=', outboxId).execute();
        await markHandedOver(trx, (await handoffOf(trx, outboxId, 0))!, new Date(), 3600_000);
      });

      const session = `handoff-${dialect}`;
      const common: RequestAttributes = [
        ['User-Name', 'ACME'],
        ['FB-Dial-Number', '(202) 555-0166'],
        ['FB-Is-Send', 'Send'],
      ];
      await accounting('Start', session, [...common, ['FB-CDR-Type', 'Realtime']]);
      const stop: RequestAttributes = [
        ...common,
        ['FB-CDR-Type', 'Realtime'],
        ['FB-Page-Count', 2],
        ['FB-Remote-CSID', 'HANDED 66'],
        ['FB-Fax-Error-Code', 0],
        ['FB-Called-Number-Result', 'Success'],
      ];
      await accounting('Stop', session, stop);
      await accounting('Stop', session, [...stop, ['Acct-Delay-Time', 2]]);
      await eventually(() => eventsOf(faxId, 'fax.recipient.result').length === 1, 10_000, 50);
      await new Promise((resolve) => setTimeout(resolve, 500));

      expect(eventsOf(faxId).map((e) => [keyOf(e), (e.data as { status: string }).status, (e.data as { sequence: number }).sequence])).toEqual([
        ['fax.recipient.progress', 'dialing', 3],
        ['fax.recipient.result', 'success', 4],
      ]);
      expect(eventsOf(faxId, 'fax.recipient.result')[0].data).toMatchObject({
        recipientId: 'r1',
        number: '+12025550166',
        attempt: 1,
        pagesSent: 2,
        pagesTotal: 2,
        remoteCsid: 'HANDED 66',
      });
      expect(
        await db.selectFrom('recipients').select(['state', 'status', 'remote_csid', 'sequence']).where('outbox_id', '=', outboxId).executeTakeFirst(),
      ).toEqual({
        state: 'final',
        status: 'success',
        remote_csid: 'HANDED 66',
        sequence: 5,
      });
      expect(await db.selectFrom('faxes').select('state').where('outbox_id', '=', outboxId).executeTakeFirst()).toEqual({ state: 'done' });
      // No fax of its own for the session.
      expect(
        events.filter((e) => keyOf(e) === 'fax.submitted' && (e.data as { recipients: Array<{ number: string }> }).recipients[0]?.number === '+12025550166'),
      ).toEqual([]);
    });
  });
});
