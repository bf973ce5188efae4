import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, openServiceDatabase, type MessageBus } from '@faxnotify/kit';
import { createTestVhost, eventually, type TestVhost } from '@faxnotify/peers';
import { startNotifier, type RunningNotifier } from '../../index';
import { notifierMigrations, type NotifierDatabase } from '../../schema';
import { finalResult, settingsApi, startTrackerBus } from '../../testing/notices';
import { seedConfirmedAddresses } from '../../testing/confirmed';
import { startTwilioEndpoint, type TwilioEndpoint } from './testing';

/**
 * The notifier's SMS retries against a Twilio-compatible endpoint that loses answers and goes
 * off the network, through RabbitMQ's retry queues: whatever the fault, the owner gets one SMS
 * and the ledger holds its SID.
 */

const SECRET = 'notifier-lost-answer-secret-0123456789';
const OWNER = 'lena';
let vhost: TestVhost;
let twilioEndpoint: TwilioEndpoint;
let notifier: RunningNotifier;
let bus: MessageBus;
let dir: string;
let number = 393440000000;

const final = (faxId: string) => finalResult(faxId, { ownerId: OWNER, pagesSent: 2, pagesTotal: 2 });
const api = settingsApi(() => notifier.url, SECRET);

/** Gives the owner a number of its own for one test: SMS on, the other channels off. */
async function smsTo(): Promise<string> {
  const sms = `+${++number}`;
  const response = await api('PUT', '/v1/settings', OWNER, {
    email: { enabled: false, address: null },
    sms: { enabled: true, number: sms },
    xmpp: { enabled: false, jid: null },
    locale: 'en',
    timeZone: 'Europe/Rome',
    notifyOn: 'all',
  });
  expect(response.status).toBe(200);
  await seedConfirmedAddresses(notifier.config, OWNER, { sms });
  return sms;
}

const sent = (faxId: string) =>
  eventually(async () => {
    const row = await notifier.ledger.get(`${faxId}:r1`, 'sms');
    return row?.status === 'sent' ? row : undefined;
  }, 20_000);
const creates = (to: string) => twilioEndpoint.requests.filter((request) => request.method === 'POST' && request.params.To === to);
const lookups = (to: string) => twilioEndpoint.requests.filter((request) => request.method === 'GET' && request.params.To === to);
const messagesTo = (to: string) => twilioEndpoint.messages.filter((message) => message.to === to);

/** The notifier under test, on the test's SQLite file and vhost (started again by the restart test). */
const startTestNotifier = (): Promise<RunningNotifier> =>
  startNotifier(
    {
      'http.port': 0,
      'db.sqlitePath': join(dir, 'notifier.sqlite'),
      'amqp.url': vhost.amqpUrl,
      'auth.jwtSecret': SECRET,
      'log.level': 'silent',
      'twilio.accountSid': twilioEndpoint.accountSid,
      'twilio.authToken': twilioEndpoint.authToken,
      'twilio.from': '+15005550006',
      'twilio.baseUrl': twilioEndpoint.url,
      // An answer that never comes is given up after a second; the first retry comes a second later.
      'twilio.timeoutMs': 1_000,
      'twilio.lookupSettleMs': 500,
    },
    {},
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'notifier-lost-answer-'));
  [vhost, twilioEndpoint] = await Promise.all([createTestVhost('notifier-lost-answer'), startTwilioEndpoint({ callbackDelayMs: 5 })]);
  notifier = await startTestNotifier();
  bus = await startTrackerBus(vhost.amqpUrl);
}, 30_000);

afterAll(async () => {
  await bus?.close();
  await notifier?.stop();
  await twilioEndpoint?.close();
  await vhost?.delete();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  twilioEndpoint.script(undefined);
  await twilioEndpoint.up();
  // Every send and every look-up held to Twilio's OpenAPI document.
  expect(twilioEndpoint.violations).toEqual([]);
});

describe("an SMS whose send lost Twilio's answer", () => {
  it.each(['reset', 'silence'] as const)('is found at Twilio on the retry and not sent twice (answer lost: %s)', async (loseAnswer) => {
    const to = await smsTo();
    const faxId = `lost-${loseAnswer}`;
    twilioEndpoint.script((request) => (request.to === to && creates(to).length === 1 ? { loseAnswer } : undefined));
    await bus.publish('delivery.recipient.final', final(faxId));

    const row = await sent(faxId);
    expect(messagesTo(to)).toHaveLength(1);
    expect(row).toMatchObject({ provider_message_id: messagesTo(to)[0].sid, sends: 2, segments: 1, encoding: 'GSM-7' });
    expect(creates(to).map((request) => [request.status, request.lost])).toEqual([[201, loseAnswer]]);
    expect(lookups(to)).toHaveLength(1);
    expect(lookups(to)[0].params).toMatchObject({ To: to, From: '+15005550006', PageSize: '50' });
  });

  it('is found at Twilio by a notifier started after the one whose answer was lost (the ledger remembers)', async () => {
    const to = await smsTo();
    twilioEndpoint.script((request) => (request.to === to && creates(to).length === 1 ? { loseAnswer: 'reset' } : undefined));
    await bus.publish('delivery.recipient.final', final('lost-restart'));
    const retrying = await eventually(
      async () => {
        const row = await notifier.ledger.get('lost-restart:r1', 'sms');
        return row?.status === 'retrying' ? row : undefined;
      },
      10_000,
      20,
    );
    expect(retrying.lost_send_started_at).not.toBeNull();
    // The process that lost the answer goes away before the retry; a new one (no memory of it) takes the retry.
    await notifier.stop();
    notifier = await startTestNotifier();

    const row = await sent('lost-restart');
    expect(messagesTo(to)).toHaveLength(1);
    expect(row).toMatchObject({ provider_message_id: messagesTo(to)[0].sid, sends: 2 });
    expect(creates(to)).toHaveLength(1);
    expect(lookups(to)).toHaveLength(1);
  });

  it('is looked up at Twilio, not sent again, after the notifier that sent it died before recording it', async () => {
    const to = await smsTo();
    const faxId = 'crashed-sender';
    await bus.publish('delivery.recipient.final', final(faxId));
    const first = await sent(faxId);
    expect(messagesTo(to)).toHaveLength(1);
    // The ledger as a notifier killed right after Twilio took the SMS leaves it: claimed, unmarked,
    // by a process that beats no more.
    const database = await openServiceDatabase<NotifierDatabase>({
      service: 'notifier',
      db: notifier.config.db,
      migrations: notifierMigrations,
      logger: createLogger('lost-answer-test', 'silent'),
    });
    await database.db
      .updateTable('ledger')
      .set({
        status: 'sending',
        claimed_by: 'killed-notifier',
        claimed_until: new Date(Date.now() + 60_000).toISOString(),
        provider_message_id: null,
        updated_at: first.created_at,
      })
      .where('idempotency_key', '=', `${faxId}:r1:sms`)
      .execute();
    await database.close();
    // The broker hands the result to a live notifier.
    await bus.publish('delivery.recipient.final', final(faxId));
    const row = await sent(faxId);
    expect(messagesTo(to)).toHaveLength(1);
    expect(row).toMatchObject({ provider_message_id: first.provider_message_id, possible_duplicates: 1 });
    expect(creates(to)).toHaveLength(1);
    expect(lookups(to)).toHaveLength(1);
  });

  it('is sent once on the retry when the request never reached Twilio (API down, then up)', async () => {
    const to = await smsTo();
    await twilioEndpoint.down();
    await bus.publish('delivery.recipient.final', final('down-then-up'));
    const retrying = await eventually(async () => {
      const row = await notifier.ledger.get('down-then-up:r1', 'sms');
      return row?.status === 'retrying' ? row : undefined;
    }, 10_000);
    expect(retrying.error).toMatch(/^Twilio not reached \(ECONNREFUSED\)/);
    await twilioEndpoint.up();

    const row = await sent('down-then-up');
    expect(messagesTo(to)).toHaveLength(1);
    expect(row).toMatchObject({ provider_message_id: messagesTo(to)[0].sid, sends: 2 });
    // The refused request left nothing at Twilio to look for.
    expect(lookups(to)).toHaveLength(0);
  });

  it('is sent once on the retry after a clear 5xx, with no look-up', async () => {
    const to = await smsTo();
    twilioEndpoint.script((request) => (request.to === to && creates(to).length === 1 ? { status: 503 } : undefined));
    await bus.publish('delivery.recipient.final', final('clear-503'));

    const row = await sent('clear-503');
    expect(creates(to).map((request) => request.status)).toEqual([503, 201]);
    expect(messagesTo(to)).toHaveLength(1);
    expect(row).toMatchObject({ provider_message_id: messagesTo(to)[0].sid, sends: 2 });
    expect(lookups(to)).toHaveLength(0);
  });

  it('is sent again when the lost request had not created a message', async () => {
    const to = await smsTo();
    // Twilio failed the request and the failure's answer was lost too: nothing was stored.
    twilioEndpoint.script((request) => (request.to === to && creates(to).length === 1 ? { status: 500, loseAnswer: 'reset' } : undefined));
    await bus.publish('delivery.recipient.final', final('lost-nothing-stored'));

    const row = await sent('lost-nothing-stored');
    expect(messagesTo(to)).toHaveLength(1);
    expect(creates(to).map((request) => [request.status, request.lost])).toEqual([
      [500, 'reset'],
      [201, undefined],
    ]);
    expect(row).toMatchObject({ provider_message_id: messagesTo(to)[0].sid });
    // The first look-up comes a second after the loss, past lookupSettleMs: its absence is trusted.
    expect(lookups(to)).toHaveLength(1);
  });
});
