import { QUEUES, type CloudEvent } from '@faxnotify/contracts';
import {
  MessageBus,
  RateLimiter,
  signInAttemptGuard,
  createHttpServer,
  createLogger,
  databaseIsUp,
  listen,
  openServiceDatabase,
  registerWebSecurity,
  trustProxyOption,
  type Logger,
} from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { registerFaxApi } from './api';
import type { AuthOptions } from './auth';
import { inboxUrlTemplateOf, loadStatusTrackerConfig, parseProviderAccounts, secretBoxOf, type StatusTrackerConfig } from './config';
import { InboxRetention, registerInboxApi } from './inbox';
import { ProviderInbound } from './ingest/inbound';
import { IngestRecorder } from './ingest/recorder';
import { ReplixFaxPoller } from './ingest/replixfax';
import { registerIngest, syncConfiguredAccounts } from './ingest/routes';
import { registerLinkApi } from './link-api';
import { LinkTokens, tokenUrlTemplateOf } from './links';
import { trackerMigrations } from './migrations';
import { registerOfficeApi } from './offices/routes';
import { registerOpenApi } from './openapi';
import { OutboxRelay, ReconciliationSweep } from './outbox';
import { registerPages } from './pages/routes';
import { registerResendApi } from './resend-api';
import { registerReportApi } from './report/api';
import type { TrackerDatabase } from './schema';
import { sealStoredSecrets } from './secrets';
import { StatusTracker, TRACKER_SOURCE } from './tracker';
import { registerWebhookApi } from './webhook-api';
import { PROVIDER_BASE_URLS, WebhookTargets } from './webhook-targets';
import { WebhookDispatcher } from './webhooks';

export { statusTrackerSchema, loadStatusTrackerConfig, secretBoxOf, type StatusTrackerConfig } from './config';
export { sealStoredSecrets, secretContext, type StoredSecretsReport } from './secrets';
export { trackerMigrations } from './migrations';
export { LinkTokens, LINK_COOKIE, LINK_TOKEN_LENGTH, tokenLink, tokenUrlTemplateOf, type LinkCheck, type LinkGrant } from './links';
export { StatusTracker, TRACKER_SOURCE, faxLink, outboxEventId, resultIdOf, type HandleOutcome } from './tracker';
export { OutboxRelay, ReconciliationSweep, type SweepReport } from './outbox';
export { registerFaxApi } from './api';
export { registerWebhookApi } from './webhook-api';
export { InboxRetention, registerInboxApi, receivedPdf, receivedTiff, pagePng } from './inbox';
export { PROVIDER_BASE_URLS, TargetClient, WEBHOOK_URLS, WebhookTargets, WebhookTargetBlockedError, type TargetUse } from './webhook-targets';
export { WebhookDispatcher, verifyWebhookSignature, signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER, EVENT_HEADER } from './webhooks';
export { registerPages } from './pages/routes';
export { registerResendApi, RESEND_STATUS, type ResendView } from './resend-api';
export { requestResend, resendsOf, resendPages, type ResendOutcome, type ResendRequest } from './resend';
export { registerIngest } from './ingest/routes';
export { registerOfficeApi } from './offices/routes';
export { faxScopeOf, type FaxScope } from './offices/scope';
export { IngestRecorder } from './ingest/recorder';
export { ReplixFaxPoller, type PollReport } from './ingest/replixfax';
export { openApiDocument, registerOpenApi } from './openapi';
export { SESSION_COOKIE } from '@faxnotify/kit';
export type * from './schema';

export interface RunningStatusTracker {
  /** Base URL of the HTTP server (API, /healthz, /readyz, /metrics). */
  url: string;
  config: StatusTrackerConfig;
  logger: Logger;
  /** The tracker's database, for operators' tools and tests. */
  db: Kysely<TrackerDatabase>;
  relay: OutboxRelay;
  sweep: ReconciliationSweep;
  tracker: StatusTracker;
  webhooks: WebhookDispatcher;
  replixfax: ReplixFaxPoller;
  /** Stops taking messages and requests, drains in-flight handlers, stops the timers, closes the database. */
  stop(): Promise<void>;
}

/**
 * Starts the status tracker: configuration (strictly validated, before anything connects), the
 * database with its migrations, the pass that brings stored secrets under the current key, the
 * consumers, the outbox relay, the reconciliation sweep and the webhook dispatcher, the ReplixFax
 * poller and the HTTP server (API, pages, provider ingest, /openapi.json).
 */
export async function startStatusTracker(overrides: Record<string, unknown> = {}): Promise<RunningStatusTracker> {
  const config = loadStatusTrackerConfig(overrides);
  const logger = createLogger('status-tracker', config.log.level);
  const database = await openServiceDatabase<TrackerDatabase>({ service: 'status-tracker', db: config.db, migrations: trackerMigrations, logger });
  const { db } = database;
  const secrets = secretBoxOf(config.secrets);
  const bus = new MessageBus({ url: config.amqp.url, source: TRACKER_SOURCE, logger });
  const linkTokens = new LinkTokens({ db, secret: config.auth.jwtSecret, ttlMs: Math.round(config.links.tokenDays * 86_400_000) });
  // Off, nothing mints tokens and nothing honours the ones already sent.
  const links = config.links.tokens ? linkTokens : undefined;
  const tracker = new StatusTracker({
    db,
    faxUrlTemplate: config.links.faxUrlTemplate,
    linkTokens: links && { tokens: links, urlTemplate: tokenUrlTemplateOf(config.links.faxUrlTemplate, config.links.tokenUrlTemplate) },
    inbox: { urlTemplate: inboxUrlTemplateOf(config), attachMaxBytes: config.inbox.attachMaxBytes },
    logger,
  });
  const retention = new InboxRetention({ db, retentionDays: config.inbox.retentionDays, logger: logger.child({ component: 'inbox' }) });
  const relay = new OutboxRelay({ db, bus, logger: logger.child({ component: 'outbox' }), pollMs: config.outbox.pollMs });
  const sweep = new ReconciliationSweep({
    db,
    bus,
    tracker,
    relay,
    logger: logger.child({ component: 'reconcile' }),
    intervalMs: config.reconcile.intervalMs,
    minAgeMs: config.reconcile.minAgeMs,
  });
  const app = createHttpServer({
    host: config.http.host,
    port: config.http.port,
    trustProxy: trustProxyOption(config.http.trustProxy),
    logger,
    ready: async () => ({ rabbitmq: bus.ready, database: await databaseIsUp(db as Kysely<unknown>) }),
  });
  const { allowedPrivateRanges, ...webhookTiming } = config.webhooks;
  // One target policy for both ends: the API that sets a webhook URL and the dispatcher that POSTs to
  // it; and the same for ReplixFax base URLs (the ingest API that sets one, the poller that queries it).
  const webhookTargets = new WebhookTargets(allowedPrivateRanges);
  const providerTargets = webhookTargets.forUse(PROVIDER_BASE_URLS);
  const webhooks = new WebhookDispatcher({ db, logger: logger.child({ component: 'webhooks' }), ...webhookTiming, targets: webhookTargets, secrets });
  const handedOver = () => {
    relay.kick();
    webhooks.kick();
  };
  const recorder = new IngestRecorder({ db, tracker, logger: logger.child({ component: 'ingest' }), onRecorded: handedOver });
  const inbound = new ProviderInbound({
    db,
    tracker,
    logger: logger.child({ component: 'ingest-inbound' }),
    secrets,
    targets: providerTargets,
    timeoutMs: config.ingest.requestTimeoutMs,
    onRecorded: handedOver,
  });
  const replixfax = new ReplixFaxPoller({
    db,
    recorder,
    inbound,
    logger: logger.child({ component: 'replixfax' }),
    targets: providerTargets,
    secrets,
    intervalMs: config.ingest.replixfaxPollMs,
    timeoutMs: config.ingest.requestTimeoutMs,
  });
  const auth: AuthOptions = {
    secret: config.auth.jwtSecret,
    audience: config.auth.audience,
    ...(config.auth.jwksUrl ? { jwksUrl: config.auth.jwksUrl } : {}),
  };
  // Signed cookies, form bodies, CSRF tokens, security headers: set up as the notifier sets them up
  // (the sign-out form goes on to the OpenID Connect provider).
  await registerWebSecurity(app, { secret: config.auth.jwtSecret, formTargets: config.auth.oidc.issuer ? [new URL(config.auth.oidc.issuer).origin] : [] });
  // The address browsers and the identity provider reach us at: the setting, else where we listen (known once listening).
  let url = '';
  const publicUrl = () => config.http.publicUrl || url;
  registerFaxApi(app, { db, jwtSecret: config.auth.jwtSecret, auth, links, live: { pollMs: config.pages.liveUpdateMs, tailMs: config.pages.liveTailMs } });
  registerWebhookApi(app, { db, auth, targets: webhookTargets, secrets });
  registerInboxApi(app, { db, auth });
  registerReportApi(app, { db, auth, links, defaultTimeZone: config.pages.defaultTimeZone });
  registerIngest(app, {
    db,
    auth,
    recorder,
    poller: replixfax,
    inbound,
    targets: providerTargets,
    secrets,
    adminUsers: config.ingest.adminUsers,
    ingestLimit: config.rateLimits.ingest,
  });
  registerOfficeApi(app, { db, auth, adminUsers: config.offices.adminUsers });
  registerPages(app, {
    db,
    auth,
    links,
    linkRevoker: linkTokens,
    logger: logger.child({ component: 'links' }),
    defaultTimeZone: config.pages.defaultTimeZone,
    liveTailMs: config.pages.liveTailMs,
    resend: { tracker, ordered: () => relay.kick() },
    signIn: {
      settings: config.auth,
      publicUrl,
      attemptGuard: signInAttemptGuard(new RateLimiter(db, { logger: logger.child({ component: 'rate-limits' }) }), config.rateLimits.signIn),
    },
  });
  registerLinkApi(app, { auth, tokens: linkTokens });
  registerResendApi(app, { auth, tracker, ordered: () => relay.kick() });
  registerOpenApi(app);

  try {
    await syncConfiguredAccounts(db, secrets, parseProviderAccounts(config.ingest.accounts));
    // Before anything reads them: values in clear or under a previous key move to the current key.
    await sealStoredSecrets(db, secrets, logger.child({ component: 'secrets' }));
    await bus.start();
    const concurrency = Math.max(1, Math.floor(config.amqp.prefetch / 2));
    // What the broker has delivered is handled in one transaction (up to amqp.batchSize at once);
    // each message is then acknowledged, retried or dead-lettered on its own outcome.
    const handleBatch = async (items: ReadonlyArray<{ event: CloudEvent; context: { logger: Logger } }>) => {
      const results = await tracker.handleBatch(items.map(({ event, context }) => ({ event, logger: context.logger })));
      // Committed: hand the new final events (and webhook POSTs) over now rather than at the next poll.
      if (results.some((r) => r.ok && r.outcome.outboxRows > 0)) handedOver();
      return results.map((r) => (r.ok ? { ok: true as const } : r));
    };
    const batched = { concurrency, maxBatch: config.amqp.batchSize };
    await bus.consumeBatch(QUEUES.trackerFaxEvents, handleBatch, {
      accepts: ['fax.submitted', 'fax.recipient.progress', 'fax.recipient.result', 'fax.received'],
      ...batched,
    });
    await bus.consumeBatch(QUEUES.trackerNotificationOutcomes, handleBatch, { accepts: ['notification.outcome'], ...batched });
    await bus.consumeBatch(QUEUES.trackerResendRequests, handleBatch, { accepts: ['fax.resend.requested'], ...batched });
    relay.start();
    sweep.start();
    webhooks.start();
    replixfax.start();
    retention.start();
    url = await listen(app, config.http.host, config.http.port);
  } catch (error) {
    await Promise.allSettled([relay.stop(), sweep.stop(), webhooks.stop(), replixfax.stop(), retention.stop()]);
    inbound.close();
    await bus.close(1000).catch(() => undefined);
    await app.close().catch(() => undefined);
    await database.close();
    throw error;
  }
  logger.info({ url, dialect: database.dialect }, 'status tracker started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      // Timers first: a pass in flight finishes its row; what handlers commit from here on is
      // durable in the outbox and goes out at the next start.
      await Promise.all([relay.stop(), sweep.stop(), webhooks.stop(), replixfax.stop(), retention.stop()]);
      inbound.close();
      await bus.close();
      await database.close();
    })());
  return { url, config, logger, db, relay, sweep, tracker, webhooks, replixfax, stop };
}
