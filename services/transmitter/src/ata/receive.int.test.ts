/**
 * Faxes received through the port server, from radclient (as the port server) to a real broker:
 * the Pre-Receive requests answered from the DIDs and accounts the operator set up, and the Stop
 * record of a receive session becoming one fax.received (source "ata"), resent or handed over to
 * the ATA in a later stage. Placeholder numbers for the CDR attributes the manual does not number.
 */
import { connect, type ChannelModel } from 'amqplib';
import { EXCHANGES, type CloudEvent, type FaxReceived } from '@faxnotify/contracts';
import { MessageBus } from '@faxnotify/kit';
import { createTestVhost, eventually, type TestVhost } from '@faxnotify/peers';
import { TRANSMITTER_SOURCE } from '../events';
import { TEST_DIALECTS, memoryLogger, startAtaTestServer, type AtaTestServer, type RequestAttributes } from './testing/port-server';

jest.setTimeout(60_000);

let vhost: TestVhost;
let bus: MessageBus;
let listener: ChannelModel;
let ata: AtaTestServer;
const received: Array<CloudEvent<'fax.received'>> = [];

const receivedOf = (receivedId: string) => received.filter((event) => event.data.receivedId === receivedId);

const accounting = async (status: string, sessionId: string, attributes: RequestAttributes) => {
  const reply = await ata.send('acct', [['Acct-Status-Type', status], ['Acct-Session-Id', sessionId], ...attributes]);
  expect(reply.code).toBe('Accounting-Response');
};

const preReceive = (command: string, userName: string, sessionId: string) =>
  ata.send('auth', [
    ['FB-Command', command],
    ['FB-Context', 'Pre-Receive-Session'],
    ['User-Name', userName],
    ['Acct-Session-Id', sessionId],
    ['FB-Dial-Number', '2025550177'],
    ['FB-Transfer-Type', 'Real-time'],
  ]);

/** Everything the relay had to publish is published: the outbox has no row left. */
const outboxDrained = () =>
  eventually(
    async () => {
      const left = await ata.database.db.selectFrom('event_outbox').select('id').where('published_at', 'is', null).execute();
      return left.length === 0 ? true : undefined;
    },
    10_000,
    50,
  );

beforeAll(async () => {
  vhost = await createTestVhost('ata-receive');
  const { logger } = memoryLogger();
  bus = new MessageBus({ url: vhost.amqpUrl, source: TRANSMITTER_SOURCE, logger });
  await bus.start();
  listener = await connect(vhost.amqpUrl);
  const channel = await listener.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, EXCHANGES.fax, 'fax.received');
  await channel.consume(queue, (message) => {
    if (!message) return;
    received.push(JSON.parse(message.content.toString('utf8')) as CloudEvent<'fax.received'>);
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
    received.length = 0;
    ata = await startAtaTestServer({ label: 'receive', placeholderNumbers: true, bus, dialect });
    const { store } = ata.server;
    const inbox = await store.createAccount({
      name: 'inbox',
      password: 'pw',
      ownerId: 'owner-9',
      receiveCsid: 'ACME FRONT DESK',
      receiveEmail: 'fax@acme.example',
    });
    const closed = await store.createAccount({ name: 'closed', password: 'pw', ownerId: 'owner-9', receiveEnabled: false });
    await store.putDid(inbox!.id, '2025550177', {});
    await store.putDid(closed!.id, '2025550188', {});
  });

  afterAll(async () => {
    await ata?.close();
  });

  describe('Pre-Receive', () => {
    it('routes our DID to its account, and accepts the receive with the receive CSID', async () => {
      const route = await preReceive('Get-Account-From-DID', '2025550177', 'pre-1');
      expect(route.code).toBe('Access-Accept');
      expect(route.attributes).toEqual([{ name: 'User-Name', value: 'inbox' }]);
      const account = await preReceive('Get-Account', 'inbox', 'pre-1');
      expect(account.code).toBe('Access-Accept');
      expect(account.attributes).toEqual([{ name: 'FB-Rcv-CSID', value: 'ACME FRONT DESK' }]);
    });

    it('rejects a DID that routes nowhere and an unknown account; an account that may not receive is told so', async () => {
      expect((await preReceive('Get-Account-From-DID', '2025550199', 'pre-2')).code).toBe('Access-Reject');
      expect((await preReceive('Get-Account', 'nobody', 'pre-2')).code).toBe('Access-Reject');
      const closed = await preReceive('Get-Account', 'closed', 'pre-3');
      expect(closed.code).toBe('Access-Accept');
      expect(closed.attributes).toEqual([{ name: 'FB-Rcv-To-Account', value: '0' }]);
    });
  });

  describe('receive accounting', () => {
    const stop: RequestAttributes = [
      ['User-Name', 'inbox'],
      ['FB-Dial-Number', '2025550177'],
      ['FB-Is-Send', 'Receive'],
      ['FB-CDR-Type', 'Realtime'],
      ['FB-Caller-ID', '2125550143'],
      ['FB-Remote-CSID', '+1 212 555 0143'],
      ['FB-Page-Count', 3],
      ['FB-Total-Seconds', 75],
      ['FB-Fax-Error-Code', 0],
    ];

    it('publishes a received fax once from its Stop, resent or not', async () => {
      await preReceive('Get-Account-From-DID', '2025550177', 'rcv-1');
      await accounting('Start', 'rcv-1', [
        ['User-Name', 'inbox'],
        ['FB-Dial-Number', '2025550177'],
        ['FB-Is-Send', 'Receive'],
      ]);
      await accounting('Interim-Update', 'rcv-1', [
        ['User-Name', 'inbox'],
        ['FB-Is-Send', 'Receive'],
        ['FB-Page-Count', 1],
      ]);
      await accounting('Stop', 'rcv-1', stop);
      const [event] = await eventually(async () => (receivedOf('ata:rcv-1').length ? receivedOf('ata:rcv-1') : undefined), 10_000, 50);
      expect(event.id).toBe('ata:rcv-1');
      expect(event.data).toMatchObject<Partial<FaxReceived>>({
        receivedId: 'ata:rcv-1',
        source: 'ata',
        lineId: null,
        ownerId: 'owner-9',
        callerNumber: '2125550143',
        calledNumber: '2025550177',
        remoteCsid: '+1 212 555 0143',
        status: 'success',
        pagesReceived: 3,
        pages: [],
      });
      expect(event.data.reason.code).toBe('OK');
      expect(Date.parse(event.data.endedAt)).toBeGreaterThanOrEqual(Date.parse(event.data.startedAt));

      // The port server resends a Stop it had no answer to (only Acct-Delay-Time differs).
      await accounting('Stop', 'rcv-1', [...stop, ['Acct-Delay-Time', 5]]);
      await outboxDrained();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receivedOf('ata:rcv-1')).toHaveLength(1);
      const rows = await ata.database.db.selectFrom('received_faxes').selectAll().where('received_id', '=', 'ata:rcv-1').execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ owner_id: 'owner-9', status: 'success', pages_received: 3, bytes: 0 });
    });

    it('counts a fax that broke off after pages as partially received, one without pages as failed', async () => {
      const broken = (pages: number): RequestAttributes => [
        ['User-Name', 'inbox'],
        ['FB-Dial-Number', '2025550177'],
        ['FB-Is-Send', 'Receive'],
        ['FB-Page-Count', pages],
        ['FB-Fax-Error-Code', 42],
        ['FB-Description', 'Remote hung up'],
      ];
      await accounting('Stop', 'rcv-2', broken(2));
      await accounting('Stop', 'rcv-3', broken(0));
      const partial = await eventually(async () => receivedOf('ata:rcv-2')[0], 10_000, 50);
      const failed = await eventually(async () => receivedOf('ata:rcv-3')[0], 10_000, 50);
      expect(partial.data).toMatchObject({ status: 'partially_received', pagesReceived: 2, callerNumber: null });
      expect(partial.data.reason.code).toBe('ATA_RECEIVE_ERROR_42');
      expect(partial.data.reason.detail).toContain('Remote hung up');
      expect(failed.data).toMatchObject({ status: 'failed', pagesReceived: 0 });
    });

    it('takes the hand-over of a received fax to the ATA (FB-Related-Id) as the same fax', async () => {
      // No User-Name the store knows and no Is-Send: the DID tells the direction and the account.
      await accounting('Stop', 'rcv-4', [
        ['User-Name', 'port'],
        ['FB-Dial-Number', '2025550177'],
        ['FB-Page-Count', 1],
        ['FB-Fax-Error-Code', 0],
      ]);
      await eventually(async () => receivedOf('ata:rcv-4')[0], 10_000, 50);
      await accounting('Stop', 'rcv-4-client', [
        ['User-Name', 'inbox'],
        ['FB-Is-Send', 'Receive'],
        ['FB-CDR-Type', 'ReceiveToClient'],
        ['FB-Related-Id', 'rcv-4'],
        ['FB-Page-Count', 1],
        ['FB-Fax-Error-Code', 0],
      ]);
      await outboxDrained();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receivedOf('ata:rcv-4')).toHaveLength(1);
      expect(receivedOf('ata:rcv-4-client')).toHaveLength(0);
      expect(receivedOf('ata:rcv-4')[0].data).toMatchObject({ ownerId: 'owner-9', status: 'success', pagesReceived: 1 });
    });

    it('reports nothing for a DID and account that are not ours', async () => {
      await accounting('Stop', 'rcv-5', [
        ['User-Name', 'stranger'],
        ['FB-Dial-Number', '2025550100'],
        ['FB-Is-Send', 'Receive'],
        ['FB-Page-Count', 1],
        ['FB-Fax-Error-Code', 0],
      ]);
      await outboxDrained();
      const rows = await ata.database.db.selectFrom('received_faxes').select('received_id').where('received_id', '=', 'ata:rcv-5').execute();
      expect(rows).toHaveLength(0);
      const session = await ata.database.db.selectFrom('ata_sessions').select('state').where('session_id', '=', 'rcv-5').executeTakeFirst();
      expect(session?.state).toBe('stopped');
    });
  });
});
