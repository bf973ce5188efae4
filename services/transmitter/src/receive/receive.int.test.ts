/**
 * The receive loop in the transmitter, on a scripted caller (Class 1 at the serial boundary) and a
 * real RabbitMQ: what a call brings is recorded with its fax.received event in the event outbox and
 * published once, after a restart too; a wait with no call is no fax; a line that cannot be opened
 * never stops the service.
 */
import { join } from 'node:path';
import { parseEvent, type CloudEvent, type FaxReceived } from '@faxnotify/contracts';
import { pageBitmap, type Bitmap } from '@faxnotify/fax-line';
import { patternBitmap, patternDocument, ScriptedCaller, type CallerScript } from '@faxnotify/fax-line/testing';
import { createLogger, openServiceDatabase } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { transmitterMigrations } from '../db/migrations';
import type { TransmitterDatabase } from '../db/schema';
import { startTestTransmitter, type TestTransmitter } from '../testing/harness';
import { CallGate, sendingSide } from './call-gate';
import { ReceiveLoop } from './loop';
import { faxReceivedData, receivedEvent, recordReceivedFax } from './record';

jest.setTimeout(60_000);

const FAST_LINE = { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 };
const pages = [patternBitmap(120, 1), patternBitmap(140, 2)];

const running: Array<{ close(): Promise<void> } | ScriptedCaller> = [];
afterEach(async () => {
  for (const item of running.splice(0).reverse()) await ('stop' in item ? item.stop() : item.close());
});

async function caller(script: Partial<CallerScript> = {}): Promise<ScriptedCaller> {
  const started = await ScriptedCaller.start({ kind: 'class1', pages, tsi: 'CALLER 555', ...script });
  running.push(started);
  return started;
}

async function transmitter(label: string, line: Record<string, unknown>): Promise<TestTransmitter> {
  const t = await startTestTransmitter(label, {
    'outbox.pollMs': 200,
    lines: [{ id: 'rx1', kind: 'class1', mode: 'receive', owner: 'alice', timers: FAST_LINE, ...line }],
  });
  running.push(t);
  return t;
}

const isReceived = (event: CloudEvent): boolean => event.type === 'faxnotify.fax.received.v1';
const receivedOf = (t: TestTransmitter): Array<CloudEvent<'fax.received'>> => t.events.events.filter(isReceived) as Array<CloudEvent<'fax.received'>>;

function decoded(page: FaxReceived['pages'][number]): Bitmap {
  return pageBitmap({ width: page.width, height: page.rows, resolution: page.resolution, data: Buffer.from(page.data, 'base64') });
}

describe('receiving on a line (scripted caller)', () => {
  it("records a call's two pages and publishes fax.received once, to the called number's owner, the pages as sent", async () => {
    const line = await caller({ callerNumber: '1001', calledNumber: '2003' });
    const t = await transmitter('receive-pages', { device: line.device, number: '2002', owners: { '2003': 'bob' } });
    const event = (await t.events.waitFor(isReceived, 30_000)) as CloudEvent<'fax.received'>;
    expect(parseEvent(JSON.stringify(event))).toMatchObject({ ok: true, key: 'fax.received' });
    const { data } = event;
    expect(data).toMatchObject({
      source: 'line',
      lineId: 'rx1',
      ownerId: 'bob',
      callerNumber: '1001',
      calledNumber: '2003',
      remoteCsid: 'CALLER 555',
      status: 'success',
      reason: { code: 'OK' },
      pagesReceived: 2,
    });
    expect(data.receivedId).toMatch(/^rx1:\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(event.id).toBe(data.receivedId);
    expect(data.pages.map((page) => ({ width: page.width, rows: page.rows, resolution: page.resolution, badRows: page.badRows }))).toEqual([
      { width: 1728, rows: 120, resolution: 'fine', badRows: 0 },
      { width: 1728, rows: 140, resolution: 'fine', badRows: 0 },
    ]);
    data.pages.forEach((page, i) => expect(Buffer.from(decoded(page).data).equals(Buffer.from(pages[i].data))).toBe(true));
    expect(line.record).toMatchObject({ answered: true, hungUp: true });

    const rows = await t.service.db.selectFrom('received_faxes').selectAll().execute();
    expect(rows).toEqual([
      expect.objectContaining({
        received_id: data.receivedId,
        line_id: 'rx1',
        owner_id: 'bob',
        status: 'success',
        pages_received: 2,
        remote_csid: 'CALLER 555',
      }),
    ]);
    const outbox = await eventually(() =>
      t.service.db.selectFrom('event_outbox').selectAll().where('id', '=', data.receivedId).where('published_at', 'is not', null).executeTakeFirst(),
    );
    expect(outbox).toMatchObject({ routing_key: 'fax.received', recipient_id: null });

    // The loop waits for the next call; the published fax does not go out again, not after a restart either.
    await eventually(() => t.service.receivers[0].listening, 10_000);
    await t.service.stop();
    await t.restart({ lines: [] });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receivedOf(t)).toHaveLength(1);
  });

  it('a fax recorded but not yet published when the transmitter stopped goes out after the start, once; recording it again changes nothing', async () => {
    const t = await transmitter('receive-restart', { device: '/dev/null-no-modem' });
    await t.service.stop();
    const fax = faxReceivedData(
      { line: { id: 'rx1' } as never, owner: 'alice', owners: {} },
      {
        status: 'partially_received',
        pages: [{ width: 1728, height: 120, resolution: 'fine', badRows: 0, data: Buffer.from(pages[0].data) }],
        partialPage: null,
        pagesRejected: 0,
        remoteCsid: 'CALLER 555',
        remoteCsidRaw: null,
        callerNumber: '1001',
        calledNumber: '2002',
        reason: { code: 'NO_CARRIER', detail: 'the caller hung up in page 2' },
        startedAt: new Date('2026-12-07T01:00:00.000Z'),
        connectedAt: new Date('2026-12-07T01:00:05.000Z'),
        endedAt: new Date('2026-12-07T01:00:30.000Z'),
        signallingRate: 14400,
      },
    );
    const database = await openServiceDatabase<TransmitterDatabase>({
      service: 'transmitter',
      db: { url: '', sqlitePath: join(t.dir, 'transmitter.sqlite') },
      migrations: transmitterMigrations,
      logger: createLogger('test', 'silent'),
    });
    const at = { answeredAt: new Date('2026-12-07T01:00:05.000Z'), now: new Date() };
    expect(await recordReceivedFax(database.db, receivedEvent(fax), at)).toBe(true);
    expect(await recordReceivedFax(database.db, receivedEvent(fax), at)).toBe(false);
    await database.close();

    await t.restart({ lines: [] });
    const event = await t.events.waitFor(isReceived, 10_000);
    expect(event).toMatchObject({ id: 'rx1:2026-12-07T01:00:05.000Z', data: { status: 'partially_received', pagesReceived: 1, ownerId: 'alice' } });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receivedOf(t)).toHaveLength(1);
  });

  it('a wait that ends with no call is not a fax: the loop waits again, records nothing', async () => {
    const line = await caller({ silent: true });
    const t = await transmitter('receive-silent', { device: '/dev/null-no-modem' });
    const loop = new ReceiveLoop({
      receiving: {
        line: (await import('@faxnotify/fax-line')).createModemLine({
          id: 'quiet',
          device: line.device,
          serviceClass: 'class1',
          mode: 'receive',
          timers: FAST_LINE,
        }),
        owner: 'alice',
        owners: {},
      },
      db: t.service.db,
      logger: t.service.logger,
      eventsWritten: () => t.service.relay.kick(),
      waitMs: 300,
    });
    let waits = 0;
    const counting = line.record.commands;
    loop.start();
    await eventually(() => (waits = counting.filter((command) => command === 'ATS0=0').length) >= 3, 15_000);
    await loop.stop();
    expect(waits).toBeGreaterThanOrEqual(3);
    expect(await t.service.db.selectFrom('received_faxes').selectAll().execute()).toEqual([]);
    expect(receivedOf(t)).toEqual([]);
  });

  it('on a line that also sends, a send that comes while a call is being received waits for its end instead of failing', async () => {
    const line = await caller();
    const t = await transmitter('receive-both', { device: '/dev/null-no-modem' });
    const { createModemLine } = await import('@faxnotify/fax-line');
    const modem = createModemLine({ id: 'both1', device: line.device, serviceClass: 'class1', mode: 'both', timers: { ...FAST_LINE, dial: 1500 } });
    const gate = new CallGate();
    const loop = new ReceiveLoop({
      receiving: { line: modem, owner: 'alice', owners: {}, gate },
      db: t.service.db,
      logger: t.service.logger,
      eventsWritten: () => t.service.relay.kick(),
    });
    running.push({ close: () => loop.stop() });
    loop.start();
    await eventually(() => line.record.answered, 15_000);
    const sent = await sendingSide(modem, gate).send({ dialString: '2002', localId: 'FAXNOTIFY', document: patternDocument(1).document }, {});
    // The send dialled only after the received call was hung up, and the fax was recorded.
    const { commands } = line.record;
    expect(commands.indexOf('ATA')).toBeGreaterThanOrEqual(0);
    expect(commands.findIndex((command) => command.startsWith('ATD'))).toBeGreaterThan(commands.indexOf('ATH0', commands.indexOf('ATA')));
    expect(sent.reason.code).not.toBe('ABORTED');
    const event = await t.events.waitFor(isReceived, 10_000);
    expect(event).toMatchObject({ data: { lineId: 'both1', status: 'success', pagesReceived: 2 } });
  });

  it('a line whose modem cannot be opened never stops the service: the loop backs off, counts the fault, and stops at once', async () => {
    const t = await transmitter('receive-fault', { device: '/dev/null-no-modem' });
    const faults = async () => {
      const text = await (await fetch(`${t.service.url}/metrics`)).text();
      return Number(/faxnotify_transmitter_receive_faults_total\{line="rx1"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    await eventually(async () => (await faults()) >= 1, 10_000);
    expect((await fetch(`${t.service.url}/readyz`)).status).toBe(200);
    const started = Date.now();
    await t.service.stop();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
