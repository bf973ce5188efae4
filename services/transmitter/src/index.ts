import {
  MessageBus,
  RateLimiter,
  createHttpServer,
  createLogger,
  databaseIsUp,
  listen,
  openServiceDatabase,
  trustProxyOption,
  type Logger,
} from '@faxnotify/kit';
import { QUEUES } from '@faxnotify/contracts';
import type { Kysely } from 'kysely';
import { registerFaxApi } from './api';
import { registerAtaAdminRoutes, startAtaServer, type RunningAtaServer } from './ata';
import { learnFaxNumbers } from './ata/fax-reached';
import { PortServerHandover } from './ata/handoff';
import { handoffExpiry } from './ata/handoff-expiry';
import { loadTransmitterConfig, type TransmitterConfig } from './config';
import { TRANSMITTER_SOURCE } from './events';
import { Outbox } from './outbox';
import { linesFromConfig, type TransmitterLine } from './lines';
import { transmitterMigrations } from './db/migrations';
import { startConversionPool } from './documents';
import { EventRelay } from './relay';
import { FileRetention } from './retention';
import { enterResend } from './resend';
import { RecipientLedger } from './ledger/recipient-ledger';
import { Scheduler } from './scheduler/scheduler';
import { storedDocuments } from './scheduler/document-cache';
import { startReceiving, type ReceiveLoop } from './receive';
import type { TransmitterDatabase } from './db/schema';
import { FileStore } from './uploads';

export * from './scripted';
export { linesFromConfig, statusFor, type TransmitterLine, type LineHandover } from './lines';
export * from './documents';
export {
  transmitterSchema,
  loadTransmitterConfig,
  lineDefinitionsProblem,
  dialRulesProblem,
  type TransmitterConfig,
  type LineDefinition,
  type DialRule,
} from './config';
export { transmitterMigrations } from './db/migrations';
export { normalizeNumber, dialStringFor, blockedNumber, type DialPlan, type DialBlocks, type NumberCheck } from './numbers';
export { decideRetry, causeDelaySeconds, TRANSMITTER_RESTART, type RetryPolicy, type RetryDecision } from './retry-policy';
export { Scheduler } from './scheduler/scheduler';
export { LINE_FAILURE } from './scheduler/line-pool';
export { RecipientLedger, DOCUMENT_PREPARATION } from './ledger/recipient-ledger';
export { EventRelay } from './relay';
export * from './ata';
export { ReceiveLoop, startReceiving, faxReceivedData, isReceivedFax, ownerFor, receivedEvent, recordReceivedFax, type ReceivingLine } from './receive';
export { Outbox, type OutboxEntryView, type FaxView, type RecipientView, type AttemptView } from './outbox';
export { TRANSMITTER_SOURCE } from './events';
export type * from './db/schema';

export interface StartTransmitterOptions {
  /**
   * Lines beyond the configured modems (fax ATAs, say), behind the same interface. The
   * transmitter closes them when it stops.
   */
  extraLines?: TransmitterLine[];
}

export interface RunningTransmitter {
  /** Base URL of the HTTP server (the fax API, /healthz, /readyz, /metrics). */
  url: string;
  config: TransmitterConfig;
  logger: Logger;
  /** The transmitter's database, for operators' tools and tests. */
  db: Kysely<TransmitterDatabase>;
  lines: readonly TransmitterLine[];
  /** A loop per line that answers calls (mode receive or both). */
  receivers: readonly ReceiveLoop[];
  scheduler: Scheduler;
  /** The one writer of recipients, their attempts and their events. */
  ledger: RecipientLedger;
  relay: EventRelay;
  /** The RADIUS server for fax ATAs, when ata.enabled. */
  ata?: RunningAtaServer;
  /** Stops taking requests, lets calls in progress end (up to scheduler.stopGraceMs), hands over the events written, closes everything. */
  stop(): Promise<void>;
}

/**
 * Starts the transmitter: configuration (strictly validated, before anything connects), the
 * database with its migrations, the broker, the event relay, the scheduler with its line pool
 * (first recovering what a previous run left in flight) and the fax API.
 */
export async function startTransmitter(overrides: Record<string, unknown> = {}, options: StartTransmitterOptions = {}): Promise<RunningTransmitter> {
  const config = loadTransmitterConfig(overrides);
  const logger = createLogger('transmitter', config.log.level);
  const database = await openServiceDatabase<TransmitterDatabase>({ service: 'transmitter', db: config.db, migrations: transmitterMigrations, logger });
  const { db } = database;
  const files = new FileStore(db, config.files.dir);
  const { workers, ...limits } = config.documents;
  const conversion = startConversionPool({ workers, limits });
  const ledger = new RecipientLedger(config.retry);
  const outbox = new Outbox(db, ledger);
  const retention = new FileRetention({
    db,
    keepDays: config.files.keepDays,
    unusedDays: config.files.unusedDays,
    logger: logger.child({ component: 'retention' }),
  });
  const bus = new MessageBus({ url: config.amqp.url, source: TRANSMITTER_SOURCE, logger });
  const relay = new EventRelay({ db, bus, logger: logger.child({ component: 'events' }), pollMs: config.outbox.pollMs });
  const reportWithinMs = config.ata.reportWithinHours * 3600_000;
  const handoverTo = (account: string) => new PortServerHandover({ account, region: config.dial.region, reportWithinMs });
  const configured = linesFromConfig(config.lines, handoverTo);
  const lines = [...configured.sending, ...(options.extraLines ?? [])];
  const ids = new Set<string>(configured.receiving.filter((r) => r.line.mode === 'receive').map((r) => r.line.id));
  for (const line of lines) {
    if (ids.has(line.id)) throw new Error(`two fax lines are called ${line.id}`);
    ids.add(line.id);
  }
  const headerLine = config.headerLine.enabled ? { ...config.headerLine, localId: config.localId } : undefined;
  const storedPath = (fileId: string) => files.storedPath(fileId);
  const scheduler = new Scheduler({
    db,
    ledger,
    lines,
    storedPath,
    headerLine,
    localId: config.localId,
    dialPlan: config.dial,
    pollMs: config.scheduler.pollMs,
    stopGraceMs: config.scheduler.stopGraceMs,
    logger: logger.child({ component: 'scheduler' }),
    eventsWritten: () => relay.kick(),
    callListeners: [learnFaxNumbers(config.dial.region)],
    lineRest: { faults: config.scheduler.lineFaultsBeforeRest, ms: config.scheduler.lineRestSeconds * 1000 },
  });
  const app = createHttpServer({
    host: config.http.host,
    port: config.http.port,
    trustProxy: trustProxyOption(config.http.trustProxy),
    logger,
    ready: async () => ({ rabbitmq: bus.ready, database: await databaseIsUp(db as Kysely<unknown>) }),
  });
  const limiter = new RateLimiter(db, { logger: logger.child({ component: 'rate-limits' }) });
  registerFaxApi(app, {
    outbox,
    files,
    config,
    limiter,
    changed: () => scheduler.kick(),
    faxFile: { db, storedPath, prepare: storedDocuments(db, storedPath, headerLine), keepDays: config.files.keepDays },
  });
  if (config.ata.enabled)
    registerAtaAdminRoutes(app, {
      db,
      auth: { secret: config.auth.jwtSecret, audience: config.auth.audience },
      adminUsers: config.ata.adminUsers,
      region: config.ata.region,
    });
  const handsOver = lines.some((line) => line.handover !== undefined);
  const expiry = handsOver ? handoffExpiry({ db, ledger, logger: logger.child({ component: 'ata' }), eventsWritten: () => relay.kick() }) : undefined;
  if (!config.ata.enabled && handsOver)
    logger.warn('ATA lines are configured but the RADIUS server is off (TRANSMITTER_ATA_ENABLED): their faxes wait for a report that cannot come');

  let url: string;
  let ata: RunningAtaServer | undefined;
  let receiving: ReturnType<typeof startReceiving> | undefined;
  try {
    await files.init();
    await bus.start();
    relay.start();
    if (config.ata.enabled) ata = await startAtaServer({ config: config.ata, db, ledger, logger, eventsWritten: () => relay.kick() });
    await scheduler.start();
    // The status tracker's resend orders: each becomes an outbox entry with the fax id it names (once, however often it comes).
    await bus.consume(
      QUEUES.transmitterResendOrders,
      async (event, context) => {
        if (!(await enterResend(db, ledger, event.data, new Date()))) return;
        context.logger.info({ faxId: event.data.faxId, resendOf: event.data.resendOf, recipients: event.data.recipients.length }, 'resend entered');
        scheduler.kick();
      },
      { accepts: ['fax.resend.ordered'], concurrency: 1 },
    );
    receiving = startReceiving(configured.receiving, { db, logger: logger.child({ component: 'receive' }), eventsWritten: () => relay.kick() });
    expiry?.start();
    retention.start();
    url = await listen(app, config.http.host, config.http.port);
  } catch (error) {
    await ata?.stop().catch(() => undefined);
    await expiry?.stop();
    await Promise.all([scheduler.stop().catch(() => undefined), receiving?.stop()]);
    await retention.stop();
    await relay.stop();
    await bus.close(1000).catch(() => undefined);
    await app.close().catch(() => undefined);
    await conversion.close();
    await database.close();
    throw error;
  }
  if (lines.length === 0) logger.warn('no sending fax lines configured (TRANSMITTER_LINES): faxes are accepted and wait');
  logger.info(
    {
      url,
      dialect: database.dialect,
      lines: lines.map((line) => `${line.id} (${line.handover ? `ata, ${line.kind}` : line.kind})`),
      receiving: configured.receiving.map((r) => `${r.line.id} (${r.line.mode}, for ${r.owner})`),
    },
    'transmitter started',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      await ata?.stop();
      await expiry?.stop();
      // Calls in progress, sent or received, get the same grace to end and be recorded.
      await Promise.all([scheduler.stop(), receiving.stop(config.scheduler.stopGraceMs)]);
      // What the last calls wrote goes out now if the broker takes it; otherwise at the next start.
      await relay.stop({ flush: true });
      await bus.close();
      await retention.stop();
      await conversion.close();
      await database.close();
    })());
  return { url, config, logger, db, lines, receivers: receiving.loops, scheduler, ledger, relay, ata, stop };
}
