import { createHttpServer, createLogger, listen, registerWebSecurity, type Logger, type SecretBox } from '@faxnotify/kit';
import { freePort } from '@faxnotify/peers';
import { registerFaxApi } from '../api';
import { registerInboxApi } from '../inbox/api';
import type { AuthOptions } from '../auth';
import { secretBoxOf, statusTrackerSchema } from '../config';
import { ProviderInbound } from '../ingest/inbound';
import { IngestRecorder } from '../ingest/recorder';
import { ReplixFaxPoller } from '../ingest/replixfax';
import { registerIngest } from '../ingest/routes';
import { registerLinkApi } from '../link-api';
import type { PagesSignInOptions } from '../pages/sign-in';
import { LinkTokens } from '../links';
import { registerOfficeApi } from '../offices/routes';
import { registerOpenApi } from '../openapi';
import { registerPages } from '../pages/routes';
import { registerResendApi } from '../resend-api';
import { registerReportApi } from '../report/api';
import { StatusTracker } from '../tracker';
import { registerWebhookApi } from '../webhook-api';
import { PROVIDER_BASE_URLS, WebhookTargets, type AddressResolver } from '../webhook-targets';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../webhooks';
import { openTestDatabase, type TestDatabase } from './events';

/**
 * The tracker's HTTP side as the service wires it (API, webhooks, ingest, pages, OpenAPI) over the
 * embedded database, without the broker: tests feed events straight to the StatusTracker.
 */
export const TEST_SECRET = 'owner-view-test-secret-0123456789';

/** The key the test app encrypts stored secrets under unless a test names others (32 bytes, base64). */
export const TEST_SECRETS_KEY = 'w6Ib75uqYbmTIfK2pmgRz+e0BAIr1aTS0y4H0qQDKQU=';

/** The user who sets up provider accounts (ingest.adminUsers) in a test app, and owns those of the ingest tests. */
export const TEST_INGEST_ADMIN = 'olga';

/** The user who sets up virtual offices (offices.adminUsers) in a test app. */
export const TEST_OFFICES_ADMIN = 'oscar';

export interface TestApp {
  url: string;
  database: TestDatabase;
  tracker: StatusTracker;
  webhooks: WebhookDispatcher;
  /** What the app seals and opens stored secrets with. */
  secrets: SecretBox;
  poller: ReplixFaxPoller;
  recorder: IngestRecorder;
  /** What every part logs to (silent unless the test gave its own); a test spies on it to see what was logged. */
  logger: Logger;
  /** The app's link tokens (minting and checking them works whether or not the app's notices carry them). */
  linkTokens: LinkTokens;
  app: ReturnType<typeof createHttpServer>;
  /** Every route the server registered. */
  routes: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

export async function startTestApp(
  label: string,
  options: {
    auth?: Partial<AuthOptions>;
    webhooks?: Partial<WebhookDispatcherOptions>;
    /**
     * webhooks.allowedPrivateRanges, for webhook URLs and provider base URLs alike: a test whose
     * receiver or provider listens on 127.0.0.1 allows 127.0.0.0/8 here.
     */
    allowedPrivateRanges?: string[];
    /** Name resolution for the webhook POSTs and provider requests, in place of the system's. */
    resolveHost?: AddressResolver;
    live?: { pollMs?: number; tailMs?: number };
    /** secrets.key and secrets.previousKeys; by default TEST_SECRETS_KEY, so stored secrets are encrypted. `key: ''` stores them in clear. */
    secrets?: { key?: string; previousKeys?: string[] };
    /** ingest.adminUsers: by default TEST_INGEST_ADMIN alone. */
    ingestAdminUsers?: string[];
    /** rateLimits.ingest: by default the configuration's default. */
    ingestLimit?: { max: number; windowSeconds: number };
    /** Notice links with link tokens (links.tokens on), lasting `ttlMs` (30 days) by the app's clock `now`; absent, plain fax links. */
    links?: { ttlMs?: number; now?: () => Date };
    /** What the app logs to, in place of a silent logger. */
    logger?: Logger;
    /** offices.adminUsers: by default TEST_OFFICES_ADMIN alone. */
    officesAdminUsers?: string[];
    /** OpenID Connect sign-in for the pages (auth.oidc), given the port the app will listen on; absent, sign-in is not set up. */
    signIn?: (port: number) => PagesSignInOptions | Promise<PagesSignInOptions>;
    /** The port to listen on; a free one by default. */
    port?: number;
  } = {},
): Promise<TestApp> {
  const logger = options.logger ?? createLogger('status-tracker-test', 'silent');
  const database = await openTestDatabase('sqlite', label);
  const { db } = database;
  // A port free right now, so the deep links can name the server before it listens.
  const port = options.port ?? (await freePort());
  const signIn = options.signIn ? await options.signIn(port) : undefined;
  // The deep links in the delivery events (what every notice links to) point at this server.
  const linkTokens = new LinkTokens({ db, secret: TEST_SECRET, ttlMs: options.links?.ttlMs ?? 30 * 86_400_000, now: options.links?.now });
  const links = options.links ? linkTokens : undefined;
  const tracker = new StatusTracker({
    db,
    faxUrlTemplate: `http://127.0.0.1:${port}/faxes/{faxId}`,
    linkTokens: links && { tokens: links, urlTemplate: `http://127.0.0.1:${port}/l/{token}` },
    inbox: { urlTemplate: `http://127.0.0.1:${port}/inbox/{receivedId}`, attachMaxBytes: 5_000_000 },
    logger,
  });
  const targets = new WebhookTargets(options.allowedPrivateRanges ?? [], options.resolveHost);
  const secrets = secretBoxOf({ key: options.secrets?.key ?? TEST_SECRETS_KEY, previousKeys: options.secrets?.previousKeys ?? [] });
  const webhooks = new WebhookDispatcher({
    db,
    logger,
    pollMs: 100,
    firstRetryMs: 200,
    maxRetryMs: 1000,
    maxAgeMs: 60_000,
    timeoutMs: 2000,
    targets,
    secrets,
    ...options.webhooks,
  });
  const recorder = new IngestRecorder({ db, tracker, logger, onRecorded: () => webhooks.kick() });
  const providerTargets = targets.forUse(PROVIDER_BASE_URLS);
  const inbound = new ProviderInbound({ db, tracker, logger, secrets, targets: providerTargets, timeoutMs: 2000, onRecorded: () => webhooks.kick() });
  const poller = new ReplixFaxPoller({ db, recorder, inbound, logger, targets: providerTargets, secrets, intervalMs: 3_600_000, timeoutMs: 2000 });
  const auth: AuthOptions = { secret: TEST_SECRET, ...options.auth };
  const app = createHttpServer({ host: '127.0.0.1', port, logger, ready: () => ({ database: true }) });
  const routes: TestApp['routes'] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  await registerWebSecurity(app, { secret: TEST_SECRET, formTargets: signIn?.settings.oidc.issuer ? [new URL(signIn.settings.oidc.issuer).origin] : [] });
  registerInboxApi(app, { db, auth });
  registerReportApi(app, { db, auth, links, defaultTimeZone: 'Europe/Moscow' });
  registerFaxApi(app, { db, jwtSecret: TEST_SECRET, auth, links, live: { pollMs: options.live?.pollMs ?? 100, tailMs: options.live?.tailMs ?? 2000 } });
  registerWebhookApi(app, { db, auth, targets, secrets });
  const { max, windowSeconds } = statusTrackerSchema.rateLimits.ingest;
  registerIngest(app, {
    db,
    auth,
    recorder,
    poller,
    inbound,
    targets: providerTargets,
    secrets,
    adminUsers: options.ingestAdminUsers ?? [TEST_INGEST_ADMIN],
    ingestLimit: options.ingestLimit ?? { max: max.default, windowSeconds: windowSeconds.default },
  });
  registerOfficeApi(app, { db, auth, adminUsers: options.officesAdminUsers ?? [TEST_OFFICES_ADMIN] });
  // Resend orders stay in the outbox here: no relay runs.
  const resend = { tracker, ordered: () => undefined };
  registerPages(app, {
    db,
    auth,
    links,
    linkRevoker: linkTokens,
    logger,
    defaultTimeZone: 'Europe/Moscow',
    liveTailMs: options.live?.tailMs ?? 2000,
    signIn,
    resend,
  });
  registerLinkApi(app, { auth, tokens: linkTokens });
  registerResendApi(app, { auth, ...resend });
  registerOpenApi(app);
  const url = await listen(app, '127.0.0.1', port);
  return {
    url,
    database,
    tracker,
    webhooks,
    secrets,
    poller,
    recorder,
    logger,
    linkTokens,
    app,
    routes,
    close: async () => {
      await Promise.allSettled([webhooks.stop(), poller.stop()]);
      inbound.close();
      await app.close();
      await database.close();
      await database.drop();
    },
  };
}
