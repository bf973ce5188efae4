/**
 * What a fax summary asks of the send ledger, with the notifier's real stores (send ledger,
 * settings, confirmed addresses) on SQLite and PostgreSQL, all three adapters set up as in
 * production, a real SMTP server, RabbitMQ and Twilio endpoint: a summary the owner does not ask
 * for on a channel has no ledger row, and a fax whose owner gets no summary does not touch the ledger.
 */
import { createEvent, type DeliveryFaxFinal } from '@faxnotify/contracts';
import { MessageBus, createLogger, type Database } from '@faxnotify/kit';
import { createTestVhost, startSmtpSink, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import { EmailAdapter } from '../channels/email/adapter';
import { SmsAdapter } from '../channels/sms/adapter';
import type { Channel, ChannelAdapter } from '../channels/types';
import { XmppAdapter } from '../channels/xmpp/adapter';
import { loadNotifierConfig } from '../config';
import { ChannelConfirmations } from '../confirmations/service';
import { ConfirmationStore, recordConfirmedAddress } from '../confirmations/store';
import { SendLedger } from '../ledger';
import { POSTGRES, openTestDatabase } from '../ledger.suite';
import { NOTIFIER_SOURCE, Notifier } from '../notifier';
import type { NotifierDatabase } from '../schema';
import { SettingsStore } from '../settings';
import { startTwilioEndpoint, type TwilioEndpoint } from '../testing';
import { FaxSummaries, summaryResultId } from './notices';
import { faxFinal } from './testing';

jest.setTimeout(30_000);

const dialects = POSTGRES === 'none' ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const);
const logger = createLogger('summary-ledger', 'silent');

/** The send ledger's methods the notifier calls, in order, recorded around a real ledger. */
function recordedLedger(ledger: SendLedger): { ledger: SendLedger; taken: () => string[] } {
  let calls: string[] = [];
  const recorded = new Proxy(ledger, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    ledger: recorded,
    taken: () => {
      const taken = calls;
      calls = [];
      return taken;
    },
  };
}

describe.each(dialects)('fax summaries and the send ledger on %s', (dialect) => {
  let database: Database<NotifierDatabase>;
  let drop: () => Promise<void>;
  let vhost: TestVhost;
  let smtp: SmtpSink;
  let twilio: TwilioEndpoint;
  let bus: MessageBus;
  let ledger: SendLedger;
  let summaries: FaxSummaries;
  let ledgerCalls: () => string[];

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase(dialect));
    [vhost, smtp, twilio] = await Promise.all([createTestVhost(`summary-ledger-${dialect}`), startSmtpSink(), startTwilioEndpoint()]);
    const config = loadNotifierConfig(
      {
        'smtp.port': smtp.port,
        'twilio.accountSid': twilio.accountSid,
        'twilio.authToken': twilio.authToken,
        'twilio.from': '+15005550006',
        'twilio.baseUrl': twilio.url,
        'xmpp.service': 'xmpp://127.0.0.1:1',
        'xmpp.domain': 'localhost',
        'xmpp.username': 'notifier',
        'xmpp.password': 'notifier-pw',
      },
      {},
    );
    // All three channels set up; alice has email only, with the default summary choice (auto above 5, every channel).
    const adapters = new Map<Channel, ChannelAdapter>([
      ['email', new EmailAdapter(config.smtp)],
      ['sms', new SmsAdapter(config.twilio)],
      ['xmpp', new XmppAdapter({ ...config.xmpp, logger })],
    ]);
    bus = new MessageBus({ url: vhost.amqpUrl, source: NOTIFIER_SOURCE, logger });
    await bus.start();

    const owner = new SettingsStore(database.db, { locale: 'en', timeZone: 'UTC' });
    await owner.save('alice', { ...owner.defaultsFor(), email: { enabled: true, address: 'alice@example.test', results: 'all', attachReport: false } });
    await recordConfirmedAddress(database.db, { userId: 'alice', channel: 'email', address: 'alice@example.test' });

    const db = database.db;
    const settings = new SettingsStore(db, { locale: 'en', timeZone: 'UTC' });
    const recorder = recordedLedger(new SendLedger(db, 30_000, undefined, { id: 'worker-summary-ledger', leaseMs: 5_000 }));
    ({ ledger, taken: ledgerCalls } = recorder);
    const { requireConfirmation, ...policy } = config.channels;
    const confirmations = new ChannelConfirmations({
      store: new ConfirmationStore(db, policy, 'summary-ledger-secret'),
      settings,
      adapters,
      policy,
      required: requireConfirmation,
      settingsUrlTemplate: 'http://127.0.0.1/settings',
      messageIdDomain: 'faxnotify.test',
      logger,
    });
    const deps = { settings, confirmations, settingsUrlTemplate: 'http://127.0.0.1/settings', messageIdDomain: 'faxnotify.test' };
    const notifier = new Notifier({ ...deps, bus, ledger, adapters, logger });
    summaries = new FaxSummaries({ ...deps, notifier });
  });

  afterAll(async () => {
    await bus?.close();
    await Promise.all([smtp?.close(), twilio?.close()]);
    await vhost?.delete();
    await database?.close();
    await drop?.();
  });

  const handle = (fax: DeliveryFaxFinal) =>
    summaries.handle(createEvent('delivery.fax.final', fax, { source: '/faxnotify/status-tracker' }), { lastAttempt: false });
  const rowsOf = (faxId: string) => Promise.all((['email', 'sms', 'xmpp'] as const).map((channel) => ledger.get(summaryResultId(faxId), channel)));
  const summariesToAlice = () => smtp.mails.filter((m) => /\(\d+\/\d+\)$/.test(m.subject ?? ''));

  it('writes one row, the email one, for a summary on every channel of an owner with email only', async () => {
    await handle(faxFinal('stmt-sum-8', 8));
    // The email's row claimed, then marked sent; SMS and Jabber are off: nothing asked of the ledger for them.
    expect(ledgerCalls()).toEqual(['claim', 'markSent']);
    const [email, sms, xmpp] = await rowsOf('stmt-sum-8');
    expect(email).toMatchObject({ status: 'sent', sends: 1, recipient_id: '(summary)' });
    expect([sms, xmpp]).toEqual([undefined, undefined]);
    expect(summariesToAlice()).toHaveLength(1);
  });

  it('does not touch the ledger for a fax whose owner gets no summary', async () => {
    ledgerCalls();
    // Five recipients are not more than five: alice gets a notice per recipient instead.
    await handle(faxFinal('stmt-sum-5', 5));
    expect(ledgerCalls()).toEqual([]);
    expect(await rowsOf('stmt-sum-5')).toEqual([undefined, undefined, undefined]);
    expect(summariesToAlice()).toHaveLength(1);
  });
});
