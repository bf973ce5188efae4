/**
 * What a fax summary costs the notifier's database, on its real stores (send ledger, settings,
 * confirmed addresses) on SQLite and PostgreSQL, with all three adapters set up as in production,
 * a real SMTP server, RabbitMQ and Twilio endpoint: a summary the owner does not ask for on a
 * channel has no ledger row, and a fax whose owner gets no summary at all does not touch the ledger.
 */
import type { KyselyPlugin, OperationNode } from 'kysely';
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
const logger = createLogger('summary-statements', 'silent');

/** The tables each statement run through a Kysely instance names, one list per statement. */
function tablesRecorder(): { plugin: KyselyPlugin; taken: () => string[][] } {
  let statements: string[][] = [];
  const tablesOf = (node: unknown, found: Set<string>): Set<string> => {
    if (Array.isArray(node)) node.forEach((item) => tablesOf(item, found));
    else if (node && typeof node === 'object') {
      const operation = node as OperationNode & { table?: { identifier?: { name?: string } } };
      if (operation.kind === 'TableNode' && operation.table?.identifier?.name) found.add(operation.table.identifier.name);
      Object.values(node).forEach((value) => tablesOf(value, found));
    }
    return found;
  };
  return {
    plugin: {
      transformQuery: ({ node }) => {
        statements.push([...tablesOf(node, new Set())]);
        return node;
      },
      transformResult: async ({ result }) => result,
    },
    taken: () => {
      const taken = statements;
      statements = [];
      return taken;
    },
  };
}

describe.each(dialects)('fax summary statements on %s', (dialect) => {
  let database: Database<NotifierDatabase>;
  let drop: () => Promise<void>;
  let vhost: TestVhost;
  let smtp: SmtpSink;
  let twilio: TwilioEndpoint;
  let bus: MessageBus;
  let ledger: SendLedger;
  let summaries: FaxSummaries;
  const recorder = tablesRecorder();

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase(dialect));
    [vhost, smtp, twilio] = await Promise.all([createTestVhost(`summary-statements-${dialect}`), startSmtpSink(), startTwilioEndpoint()]);
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

    const db = database.db.withPlugin(recorder.plugin);
    const settings = new SettingsStore(db, { locale: 'en', timeZone: 'UTC' });
    ledger = new SendLedger(db, 30_000, undefined, { id: 'worker-summary-statements', leaseMs: 5_000 });
    const { requireConfirmation, ...policy } = config.channels;
    const confirmations = new ChannelConfirmations({
      store: new ConfirmationStore(db, policy, 'summary-statements-secret'),
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
    const ledgerStatements = recorder.taken().filter((tables) => tables.includes('ledger'));
    console.log(`${dialect}: a summary on email only: ${ledgerStatements.length} ledger statements`);
    // The email's row inserted claimed, then marked sent; SMS and Jabber are off: no row.
    expect(ledgerStatements).toHaveLength(2);
    const [email, sms, xmpp] = await rowsOf('stmt-sum-8');
    expect(email).toMatchObject({ status: 'sent', sends: 1, recipient_id: '(summary)' });
    expect([sms, xmpp]).toEqual([undefined, undefined]);
    expect(summariesToAlice()).toHaveLength(1);
  });

  it('does not touch the ledger for a fax whose owner gets no summary', async () => {
    recorder.taken();
    // Five recipients are not more than five: alice gets a notice per recipient instead.
    await handle(faxFinal('stmt-sum-5', 5));
    const statements = recorder.taken();
    console.log(`${dialect}: a fax with no summary: ${JSON.stringify(statements)}`);
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.filter((tables) => tables.includes('ledger'))).toEqual([]);
    expect(await rowsOf('stmt-sum-5')).toEqual([undefined, undefined, undefined]);
    expect(summariesToAlice()).toHaveLength(1);
  });
});
