import { randomUUID } from 'node:crypto';
import { QUEUES } from '@faxnotify/contracts';
import {
  MessageBus,
  intervalPasses,
  RateLimiter,
  createHttpServer,
  createLogger,
  databaseIsUp,
  listen,
  openServiceDatabase,
  registerWebSecurity,
  signInAttemptGuard,
  RecentMap,
  trustProxyOption,
  type Logger,
} from '@faxnotify/kit';
import { EmailAdapter } from './channels/email/adapter';
import { SmsAdapter } from './channels/sms/adapter';
import type { Channel, ChannelAdapter } from './channels/types';
import { XmppAdapter } from './channels/xmpp/adapter';
import { loadNotifierConfig, type NotifierConfig } from './config';
import { SendLedger } from './ledger';
import { NOTIFIER_SOURCE, Notifier } from './notifier';
import { SUMMARY_RESULT_PREFIX } from './outcome';
import { ReceivedNotices } from './inbound';
import { FaxSummaries } from './summary/notices';
import { notifierMigrations, type NotifierDatabase } from './schema';
import { registerTwilioStatusRoute } from './channels/sms/status-route';
import type { DeliveryReport } from './channels/types';
import { SettingsStore, registerSettingsRoutes } from './settings';
import { ConfirmationStore } from './confirmations/store';
import { ChannelConfirmations } from './confirmations/service';
import { registerConfirmationRoutes } from './confirmations/routes';
import { registerSettingsPage } from './settings-page';
import { registerUnsubscribeRoutes, unsubscribeUrl } from './unsubscribe';
import { JabberConversation } from './conversation/service';
import { ConversationStore } from './conversation/store';
import { TrackerClient } from './conversation/tracker';
import { ConfirmationReports } from './report-attachment';

export { notifierSchema, loadNotifierConfig, type NotifierConfig } from './config';
export { renderNotice, noticeContext, pagesPhrase } from './render';
export { renderReceivedNotice, receivedContext } from './inbound-render';
export { plainText } from '@faxnotify/kit';
export { SendLedger } from './ledger';
export type { ChannelAdapter, RenderedNotice, Channel, DeliveryReport } from './channels/types';
export { ChannelError } from './channels/types';
export { smsSize } from './channels/sms/segments';

export interface RunningNotifier {
  url: string;
  config: NotifierConfig;
  logger: Logger;
  ledger: SendLedger;
  /** Confirmation codes and confirmed addresses. */
  confirmations: ChannelConfirmations;
  /** The channels this notifier sends on (email always; SMS and XMPP when configured). */
  adapters: ReadonlyMap<Channel, ChannelAdapter>;
  stop(): Promise<void>;
}

/** How many owners' unsubscribe links the notifier keeps signed. */
const UNSUBSCRIBE_LINKS_KEPT = 1000;

/**
 * The one-click unsubscribe link of an owner's notices on a channel, kept for the owners who got
 * notices last: each is an HMAC, and a burst of notices to one owner signed the same link over and over.
 */
function unsubscribeLinks(publicUrl: () => string, secret: string): (ownerId: string, channel: Channel) => string {
  let links = new RecentMap<string, string>(UNSUBSCRIBE_LINKS_KEPT);
  let linksBase = '';
  return (ownerId, channel) => {
    const base = publicUrl();
    // The links of another public address are other links.
    if (base !== linksBase) {
      linksBase = base;
      links = new RecentMap<string, string>(UNSUBSCRIBE_LINKS_KEPT);
    }
    const key = `${channel} ${ownerId}`;
    let link = links.get(key);
    if (link === undefined) {
      link = unsubscribeUrl(base, secret, ownerId, channel);
      links.set(key, link);
    }
    return link;
  };
}

/** Only configured channels get an adapter: SMS once a Twilio account is set, XMPP once the service's account is. */
function createAdapters(config: NotifierConfig, logger: Logger): Map<Channel, ChannelAdapter> {
  const adapters = new Map<Channel, ChannelAdapter>([['email', new EmailAdapter(config.smtp)]]);
  if (config.twilio.accountSid) adapters.set('sms', new SmsAdapter(config.twilio));
  if (config.xmpp.username) adapters.set('xmpp', new XmppAdapter({ ...config.xmpp, logger: logger.child({ channel: 'xmpp' }) }));
  return adapters;
}

/** Starts the notifier: settings API, the consumers of final results and of received faxes, and the channel adapters. */
/** What only code sets: `now`, the clock of the ledger and of quiet hours (tests drive it). */
export interface NotifierOptions {
  now?: () => Date;
}

export async function startNotifier(
  overrides: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
  options: NotifierOptions = {},
): Promise<RunningNotifier> {
  const config = loadNotifierConfig(overrides, env);
  const logger = createLogger('notifier', config.log.level);
  const database = await openServiceDatabase<NotifierDatabase>({ service: 'notifier', db: config.db, migrations: notifierMigrations, logger });
  const bus = new MessageBus({ url: config.amqp.url, source: NOTIFIER_SOURCE, logger });
  const adapters = createAdapters(config, logger);
  // Claims are tied to this process through its heartbeat, so another notifier takes over within
  // seconds when it dies.
  const ledger = new SendLedger(database.db, config.ledger.claimMs, options.now, { id: randomUUID(), leaseMs: config.ledger.workerLeaseMs });
  const heartbeat = intervalPasses(() => ledger.heartbeat(), {
    intervalMs: Math.max(100, Math.floor(config.ledger.workerLeaseMs / 5)),
    logger,
    what: 'notifier heartbeat',
  });
  const settings = new SettingsStore(database.db, { locale: config.defaults.locale, timeZone: config.defaults.timeZone });
  const { requireConfirmation, ...policy } = config.channels;
  const confirmations = new ChannelConfirmations({
    store: new ConfirmationStore(database.db, policy, config.auth.jwtSecret),
    settings,
    adapters,
    policy,
    required: requireConfirmation,
    settingsUrlTemplate: config.links.settingsUrlTemplate,
    messageIdDomain: config.mail.messageIdDomain,
    logger: logger.child({ part: 'confirmations' }),
  });
  const limiter = new RateLimiter(database.db, { logger: logger.child({ part: 'rate-limits' }) });
  // The address browsers and the identity provider reach us at: the setting, else where we listen (known once listening).
  let url = '';
  const publicUrl = () => config.http.publicUrl || url;
  const unsubscribeLinkOf = unsubscribeLinks(publicUrl, config.auth.jwtSecret);
  const notifier = new Notifier({
    bus,
    ledger,
    settings,
    adapters,
    settingsUrlTemplate: config.links.settingsUrlTemplate,
    messageIdDomain: config.mail.messageIdDomain,
    logger,
    confirmations,
    now: options.now,
    unsubscribeUrl: unsubscribeLinkOf,
    reports: new ConfirmationReports({
      urlTemplate: config.tracker.reportUrlTemplate,
      timeoutMs: config.tracker.reportTimeoutMs,
      auth: { secret: config.auth.jwtSecret, audience: config.auth.audience },
      logger: logger.child({ part: 'reports' }),
    }),
    noticeLimits: {
      limiter,
      windowSeconds: config.rateLimits.notices.windowSeconds,
      perChannel: config.rateLimits.notices,
    },
  });

  const receivedNotices = new ReceivedNotices({
    notifier,
    now: options.now,
    settings,
    confirmations,
    settingsUrlTemplate: config.links.settingsUrlTemplate,
    messageIdDomain: config.mail.messageIdDomain,
  });

  const faxSummaries = new FaxSummaries({
    notifier,
    settings,
    confirmations,
    settingsUrlTemplate: config.links.settingsUrlTemplate,
    messageIdDomain: config.mail.messageIdDomain,
    now: options.now,
    unsubscribeUrl: unsubscribeLinkOf,
  });
  // Summaries held through quiet hours go out with the other held notices.
  notifier.sendHeldWith(SUMMARY_RESULT_PREFIX, (row) => faxSummaries.sendHeld(row));

  const app = createHttpServer({
    host: config.http.host,
    port: config.http.port,
    trustProxy: trustProxyOption(config.http.trustProxy),
    logger,
    ready: async () => ({ rabbitmq: bus.ready, database: await databaseIsUp(database.db as never) }),
  });
  // Signed cookies, form bodies (the settings page, Twilio's status callbacks), CSRF tokens and
  // security headers: set up as the status tracker sets them up.
  // (The sign-out form goes on to the OpenID Connect provider.)
  await registerWebSecurity(app, { secret: config.auth.jwtSecret, formTargets: config.auth.oidc.issuer ? [new URL(config.auth.oidc.issuer).origin] : [] });
  const auth = { secret: config.auth.jwtSecret, audience: config.auth.audience };
  registerSettingsRoutes(app, settings, auth);
  registerConfirmationRoutes(app, confirmations, auth);
  registerSettingsPage(app, {
    store: settings,
    confirmations,
    auth,
    defaultLocale: config.defaults.locale,
    signIn: {
      settings: config.auth,
      publicUrl,
      attemptGuard: signInAttemptGuard(limiter, config.rateLimits.signIn),
    },
    logger,
  });
  registerUnsubscribeRoutes(app, {
    store: settings,
    secret: config.auth.jwtSecret,
    defaultLocale: config.defaults.locale,
    limiter,
    limit: config.rateLimits.unsubscribe,
    settingsUrl: (ownerId) => config.links.settingsUrlTemplate.replaceAll('{userId}', encodeURIComponent(ownerId)),
    logger: logger.child({ part: 'unsubscribe' }),
  });
  // Notices held through quiet hours go out when they end, sent by whichever notifier claims each first.
  const heldNotices = intervalPasses(() => notifier.releaseHeld(), { intervalMs: config.ledger.heldPollMs, logger, what: 'sending held notices' });
  // Jabber as a conversation: owners answer notices from their verified address (status, resend, mute).
  const xmppAdapter = adapters.get('xmpp');
  if (xmppAdapter instanceof XmppAdapter) {
    const store = new ConversationStore(database.db, options.now);
    const conversation = new JabberConversation({
      store,
      tracker: new TrackerClient({
        url: config.tracker.url,
        timeoutMs: config.xmpp.timeoutMs,
        auth: { secret: config.auth.jwtSecret, audience: config.auth.audience },
      }),
      settings,
      bus,
      reply: (to, text, locale) => xmppAdapter.reply(to, text, locale),
      limits: { limiter, max: config.xmpp.commandsPerHour, windowSeconds: 3600 },
      logger: logger.child({ part: 'jabber-commands' }),
      now: options.now,
    });
    xmppAdapter.onChat((chat) => conversation.handle(chat));
    xmppAdapter.onSent((notice, to) => store.recordNotice(notice.noticeId, to));
  }
  const report = (delivery: DeliveryReport) => notifier.recordDeliveryReport(delivery);
  for (const adapter of adapters.values()) adapter.onDeliveryReport?.(report);
  const sms = adapters.get('sms');
  if (sms instanceof SmsAdapter) registerTwilioStatusRoute(app, sms);
  try {
    await ledger.heartbeat();
    heartbeat.start();
    heldNotices.start();
    const xmpp = adapters.get('xmpp');
    if (xmpp instanceof XmppAdapter) xmpp.start();
    await bus.start();
    await bus.consume(QUEUES.notifierRecipientFinal, (event, context) => notifier.handle(event, context), {
      accepts: ['delivery.recipient.final'],
      concurrency: Math.max(1, Math.floor(config.amqp.prefetch / 2)),
      onGiveUp: (event, error) => notifier.giveUp(event, error),
    });
    // Notices of faxes received for an owner, through the same ledger, adapters and limits.
    await bus.consume(QUEUES.notifierFaxReceived, (event, context) => receivedNotices.handle(event, context), {
      accepts: ['delivery.fax.received'],
      concurrency: Math.max(1, Math.floor(config.amqp.prefetch / 2)),
      onGiveUp: (event, error) => receivedNotices.giveUp(event, error),
    });
    // One summary per fax (delivery.fax.final), for owners whose settings ask for it.
    await bus.consume(QUEUES.notifierFaxFinal, (event, context) => faxSummaries.handle(event, context), {
      accepts: ['delivery.fax.final'],
      concurrency: Math.max(1, Math.floor(config.amqp.prefetch / 2)),
      onGiveUp: (event, error) => faxSummaries.giveUp(event, error),
    });
  } catch (error) {
    await bus.close();
    await heldNotices.stop();
    await heartbeat.stop();
    for (const adapter of adapters.values()) await adapter.close();
    await database.close();
    throw error;
  }
  url = await listen(app, config.http.host, config.http.port);
  logger.info({ url }, 'notifier listening');
  return {
    url,
    config,
    logger,
    ledger,
    confirmations,
    adapters,
    stop: async () => {
      await app.close();
      await bus.close();
      await heldNotices.stop();
      // Every claim of this process is marked by now: it leaves the heartbeat table.
      await heartbeat.stop();
      await ledger.retire().catch(() => undefined);
      for (const adapter of adapters.values()) await adapter.close();
      await database.close();
    },
  };
}
