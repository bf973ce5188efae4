import { QUEUES, type Locale } from '@faxnotify/contracts';
import { MessageBus, createHttpServer, createLogger, databaseIsUp, listen, openDatabase, type Logger } from '@faxnotify/kit';
import { EmailAdapter } from './channels/email/adapter';
import type { Channel, ChannelAdapter } from './channels/types';
import { loadNotifierConfig, type NotifierConfig } from './config';
import { SendLedger } from './ledger';
import { NOTIFIER_SOURCE, Notifier } from './notifier';
import { notifierMigrations, type NotifierDatabase } from './schema';
import { SettingsStore, registerSettingsRoutes } from './settings';

export { notifierSchema, loadNotifierConfig, type NotifierConfig } from './config';
export { renderNotice, noticeContext, pagesPhrase, plainText } from './render';
export { SendLedger } from './ledger';
export type { ChannelAdapter, RenderedNotice, Channel } from './channels/types';
export { ChannelError } from './channels/types';


export interface RunningNotifier {
  url: string;
  config: NotifierConfig;
  logger: Logger;
  ledger: SendLedger;
  stop(): Promise<void>;
}

/** Starts the notifier: settings API, the consumer of final results, and the channel adapters. */
export async function startNotifier(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): Promise<RunningNotifier> {
  const config = loadNotifierConfig(overrides, env);
  const logger = createLogger('notifier', config.log.level);
  const database = await openDatabase<NotifierDatabase>({ service: 'notifier', url: config.db.url, sqlitePath: config.db.sqlitePath, migrations: notifierMigrations, logger });
  const bus = new MessageBus({ url: config.amqp.url, source: NOTIFIER_SOURCE, logger });
  const adapters = new Map<Channel, ChannelAdapter>([['email', new EmailAdapter(config.smtp)]]);
  const ledger = new SendLedger(database.db, config.ledger.claimMs);
  const settings = new SettingsStore(database.db, { locale: config.defaults.locale as Locale, timeZone: config.defaults.timeZone });
  const notifier = new Notifier({ bus, ledger, settings, adapters, settingsUrlTemplate: config.links.settingsUrlTemplate, messageIdDomain: config.mail.messageIdDomain, logger });

  const app = createHttpServer({
    host: config.http.host,
    port: config.http.port,
    logger,
    ready: async () => ({ rabbitmq: bus.ready, database: await databaseIsUp(database.db as never) }),
  });
  registerSettingsRoutes(app, settings, { secret: config.auth.jwtSecret });
  try {
    await bus.start();
    await bus.consume(QUEUES.notifierRecipientFinal, (event, context) => notifier.handle(event, context), {
      accepts: ['delivery.recipient.final'],
      concurrency: Math.max(1, Math.floor(config.amqp.prefetch / 2)),
      onGiveUp: (event, error) => notifier.giveUp(event, error),
    });
  } catch (error) {
    await bus.close();
    await database.close();
    throw error;
  }
  const url = await listen(app, config.http.host, config.http.port);
  logger.info({ url }, 'notifier listening');
  return {
    url,
    config,
    logger,
    ledger,
    stop: async () => {
      await app.close();
      await bus.close();
      for (const adapter of adapters.values()) await adapter.close();
      await database.close();
    },
  };
}
