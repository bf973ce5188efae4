import { MessageBus, type Database, type Logger } from '@faxnotify/kit';
import { createTestVhost, startSmtpSink, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import { EmailAdapter } from '../channels/email/adapter';
import { SmsAdapter } from '../channels/sms/adapter';
import type { Channel, ChannelAdapter } from '../channels/types';
import { XmppAdapter } from '../channels/xmpp/adapter';
import { loadNotifierConfig } from '../config';
import { ChannelConfirmations } from '../confirmations/service';
import { ConfirmationStore, recordConfirmedAddress } from '../confirmations/store';
import type { SendLedger } from '../ledger';
import { NOTIFIER_SOURCE, Notifier } from '../notifier';
import type { NotifierDatabase } from '../schema';
import { SettingsStore } from '../settings';
import { startTwilioEndpoint, type TwilioEndpoint } from './index';

/**
 * A Notifier built in the test's own process on a database the test opened, with the email, SMS and
 * Jabber adapters set up as in production (as the benchmark's notifier has them) against a real
 * SMTP server, RabbitMQ and Twilio endpoint; Jabber points at no server, as no test here sends on
 * it. Its one owner, alice, has email only, at a confirmed address, with the default choices
 * otherwise. For the suites that look inside the notifier's stores (its statements, its ledger
 * calls). Not part of the `./testing` export.
 */
export interface InProcessNotifier {
  vhost: TestVhost;
  smtp: SmtpSink;
  twilio: TwilioEndpoint;
  bus: MessageBus;
  notifier: Notifier;
  /** What a FaxSummaries built beside the notifier takes besides it. */
  deps: {
    settings: SettingsStore;
    confirmations: ChannelConfirmations;
    settingsUrlTemplate: string;
    messageIdDomain: string;
  };
  /** Mails the SMTP server got for alice. */
  mailsToAlice: () => SmtpSink['mails'];
  close: () => Promise<void>;
}

export const ALICE_EMAIL = 'alice@example.test';

export async function startInProcessNotifier(options: {
  name: string;
  database: Database<NotifierDatabase>;
  ledger: SendLedger;
  logger: Logger;
}): Promise<InProcessNotifier> {
  const { name, database, ledger, logger } = options;
  const [vhost, smtp, twilio] = await Promise.all([createTestVhost(name), startSmtpSink(), startTwilioEndpoint()]);
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
  const adapters = new Map<Channel, ChannelAdapter>([
    ['email', new EmailAdapter(config.smtp)],
    ['sms', new SmsAdapter(config.twilio)],
    ['xmpp', new XmppAdapter({ ...config.xmpp, logger })],
  ]);
  const bus = new MessageBus({ url: vhost.amqpUrl, source: NOTIFIER_SOURCE, logger });
  await bus.start();

  const db = database.db;
  const settings = new SettingsStore(db, { locale: 'en', timeZone: 'UTC' });
  await settings.save('alice', { ...settings.defaultsFor(), email: { enabled: true, address: ALICE_EMAIL, results: 'all', attachReport: false } });
  await recordConfirmedAddress(db, { userId: 'alice', channel: 'email', address: ALICE_EMAIL });

  const { requireConfirmation, ...policy } = config.channels;
  const common = { settingsUrlTemplate: 'http://127.0.0.1/settings', messageIdDomain: 'faxnotify.test' };
  const confirmations = new ChannelConfirmations({
    store: new ConfirmationStore(db, policy, `${name}-secret`),
    settings,
    adapters,
    policy,
    required: requireConfirmation,
    logger,
    ...common,
  });
  const deps = { settings, confirmations, ...common };
  const notifier = new Notifier({ ...deps, bus, ledger, adapters, logger });
  return {
    vhost,
    smtp,
    twilio,
    bus,
    notifier,
    deps,
    mailsToAlice: () => smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes(ALICE_EMAIL)),
    close: async () => {
      await bus.close();
      await Promise.all([smtp.close(), twilio.close()]);
      await vhost.delete();
    },
  };
}
