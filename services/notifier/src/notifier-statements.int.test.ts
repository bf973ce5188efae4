/**
 * How many database statements one result costs the notifier, counted on the notifier's real
 * stores (the send ledger, settings, confirmed addresses) on SQLite and PostgreSQL, with the email,
 * SMS and Jabber adapters set up as in production and a real SMTP server, RabbitMQ and Twilio
 * endpoint. The notifier's CPU under load goes mostly to running and building these statements, so
 * a new one on the path of every result should be a choice, not an accident.
 */
import type { CompiledQuery, RootOperationNode } from 'kysely';
import { createEvent, type DeliveryRecipientFinal } from '@faxnotify/contracts';
import { MessageBus, createLogger, type Database } from '@faxnotify/kit';
import { createTestVhost, eventually, startSmtpSink, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import { EmailAdapter } from './channels/email/adapter';
import { SmsAdapter } from './channels/sms/adapter';
import type { Channel, ChannelAdapter } from './channels/types';
import { XmppAdapter } from './channels/xmpp/adapter';
import { loadNotifierConfig } from './config';
import { ChannelConfirmations } from './confirmations/service';
import { ConfirmationStore, recordConfirmedAddress } from './confirmations/store';
import { SendLedger } from './ledger';
import { POSTGRES, openTestDatabase } from './ledger.suite';
import { NOTIFIER_SOURCE, Notifier } from './notifier';
import type { NotifierDatabase } from './schema';
import { SettingsStore } from './settings';
import { startTwilioEndpoint, type TwilioEndpoint } from './testing';
import { collectOutcomes, finalResult, type OutcomeCollector } from './testing/notices';

jest.setTimeout(30_000);

const dialects = POSTGRES === 'none' ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const);
const logger = createLogger('notifier-statements', 'silent');

/**
 * Counts the statements run on the database, by kind (select, insert, update, delete), as the
 * driver is handed them: statements built once and run with new values count as much as built ones.
 */
function statementCounter(): { onStatement: (query: CompiledQuery) => void; taken: () => Record<string, number> } {
  let counts: Record<string, number> = {};
  const kinds: Partial<Record<RootOperationNode['kind'], string>> = {
    SelectQueryNode: 'select',
    InsertQueryNode: 'insert',
    UpdateQueryNode: 'update',
    DeleteQueryNode: 'delete',
  };
  return {
    onStatement: ({ query, sql }) => {
      // A transaction's begin and commit are not statements of the notifier's own.
      if (/^(begin|commit|rollback|start transaction)\b/i.test(sql)) return;
      const kind = kinds[query.kind] ?? query.kind;
      counts[kind] = (counts[kind] ?? 0) + 1;
    },
    taken: () => {
      const taken = counts;
      counts = {};
      return taken;
    },
  };
}

describe.each(dialects)('statements per result on %s', (dialect) => {
  let database: Database<NotifierDatabase>;
  let drop: () => Promise<void>;
  let vhost: TestVhost;
  let smtp: SmtpSink;
  let twilio: TwilioEndpoint;
  let bus: MessageBus;
  let collector: OutcomeCollector;
  let notifier: Notifier;
  let ledger: SendLedger;
  const counter = statementCounter();

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase(dialect, counter.onStatement));
    [vhost, smtp, twilio] = await Promise.all([createTestVhost(`notifier-statements-${dialect}`), startSmtpSink(), startTwilioEndpoint()]);
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
    // All three channels set up, as the benchmark's notifier has them; the owners here use email only.
    const adapters = new Map<Channel, ChannelAdapter>([
      ['email', new EmailAdapter(config.smtp)],
      ['sms', new SmsAdapter(config.twilio)],
      ['xmpp', new XmppAdapter({ ...config.xmpp, logger })],
    ]);
    bus = new MessageBus({ url: vhost.amqpUrl, source: NOTIFIER_SOURCE, logger });
    await bus.start();
    collector = await collectOutcomes(vhost.amqpUrl);

    const owner = new SettingsStore(database.db, { locale: 'en', timeZone: 'UTC' });
    await owner.save('alice', { ...owner.defaultsFor(), email: { enabled: true, address: 'alice@example.test', results: 'all', attachReport: false } });
    await recordConfirmedAddress(database.db, { userId: 'alice', channel: 'email', address: 'alice@example.test' });

    const db = database.db;
    const settings = new SettingsStore(db, { locale: 'en', timeZone: 'UTC' });
    ledger = new SendLedger(db, 30_000, undefined, { id: 'worker-statements', leaseMs: 5_000 });
    const { requireConfirmation, ...policy } = config.channels;
    notifier = new Notifier({
      bus,
      ledger,
      settings,
      adapters,
      settingsUrlTemplate: 'http://127.0.0.1/settings',
      messageIdDomain: 'faxnotify.test',
      logger,
      confirmations: new ChannelConfirmations({
        store: new ConfirmationStore(db, policy, 'notifier-statements-secret'),
        settings,
        adapters,
        policy,
        required: requireConfirmation,
        settingsUrlTemplate: 'http://127.0.0.1/settings',
        messageIdDomain: 'faxnotify.test',
        logger,
      }),
    });
  });

  afterAll(async () => {
    await collector?.close();
    await bus?.close();
    await Promise.all([smtp?.close(), twilio?.close()]);
    await vhost?.delete();
    await database?.close();
    await drop?.();
  });

  const handle = (result: DeliveryRecipientFinal) =>
    notifier.handle(createEvent('delivery.recipient.final', result, { source: '/faxnotify/status-tracker' }), { lastAttempt: false });
  const mailsToAlice = () => smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes('alice@example.test'));
  const outcomesOf = (faxId: string) =>
    Object.fromEntries(collector.outcomes.filter((o) => o.faxId === faxId).map((o) => [o.channel, `${o.outcome} ${o.attempts}`]));

  it('sends an email-only owner one email and records nothing for the channels they have off, in three statements', async () => {
    // The first result of an owner also reads their confirmed addresses, which this process then remembers.
    await handle(finalResult('stmt-0'));
    counter.taken();

    await handle(finalResult('stmt-1'));
    const counted = counter.taken();
    console.log(`${dialect}: a new result, email only: ${JSON.stringify(counted)}`);
    // The settings; the email's row inserted claimed; the email marked sent. SMS and Jabber are off: no row, no outcome.
    expect(counted).toEqual({ select: 1, insert: 1, update: 1 });
    await eventually(() => Object.keys(outcomesOf('stmt-1')).length === 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(outcomesOf('stmt-1')).toEqual({ email: 'sent 1' });
    expect(await ledger.get('stmt-1:r1', 'sms')).toBeUndefined();
    expect(mailsToAlice()).toHaveLength(2);
  });

  it('sends nothing again for a redelivered result, reading what the ledger has', async () => {
    const before = mailsToAlice().length;
    counter.taken();
    await handle(finalResult('stmt-1'));
    const counted = counter.taken();
    console.log(`${dialect}: the same result again: ${JSON.stringify(counted)}`);
    // The settings; the insert that finds the email's row there, then a read of it.
    expect(counted).toEqual({ select: 2, insert: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsToAlice()).toHaveLength(before);
    expect(await ledger.get('stmt-1:r1', 'email')).toMatchObject({ status: 'sent', sends: 1, possible_duplicates: 0 });
  });
});
