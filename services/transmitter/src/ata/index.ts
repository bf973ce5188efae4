/**
 * Fax ATAs behind a FaxBack port server, controlled over RADIUS: the transmitter answers the port
 * server's Access-Requests (who may send, with which caller id and CSID, whether to call ahead)
 * and turns its accounting records into the same per-recipient events as the modem path.
 */
import { errorMessage, type Logger } from '@faxnotify/kit';
import { RadiusServer, WorkLimit } from '@faxnotify/radius';
import type { Kysely } from 'kysely';
import type { RecipientLedger } from '../ledger/recipient-ledger';
import { Counter } from 'prom-client';
import { answerAccessRequest } from './access';
import { recordAccounting } from './accounting';
import type { AtaConfig } from './config';
import { FB, loadDictionary, type LoadedDictionary } from './dictionary';
import type { TransmitterDatabase } from '../db/schema';
import { AtaStore } from './store';

export { ataConfigSchema, defaultAtaConfig, radiusClientsProblem, errorStatusesProblem, type AtaConfig, type RadiusClientDefinition } from './config';
export { registerAtaAdminRoutes, type AtaAdminDeps } from './admin-api';
export { DEFAULT_DICTIONARY, loadDictionary, type LoadedDictionary } from './dictionary';
export { AtaStore, recordCalledNumber, accountNameKey } from './store';
export { calledNumberKey } from './numbers';
export { ATA_NO_REPORT, expireHandoffs, PortServerHandover } from './handoff';
export { ataLine } from './line';
export type * from '../db/schema';

const metrics = {
  requests: new Counter({
    name: 'faxnotify_ata_radius_requests_total',
    help: 'RADIUS requests from port servers, by kind (auth, acct) and outcome (accept, reject, response, duplicate, dropped reasons, error).',
    labelNames: ['kind', 'outcome'],
  }),
};

export interface StartAtaServerOptions {
  config: AtaConfig;
  /** The transmitter's database (its migrations include the ATA tables). */
  db: Kysely<TransmitterDatabase>;
  logger: Logger;
  /** Called after a record wrote events to the transmitter's outbox (the relay hands them on). */
  eventsWritten: () => void;
  /** Writes the steps and ends of the recipients ATA lines handed over. */
  ledger: RecipientLedger;
}

export interface RunningAtaServer {
  /** Where the server listens. */
  address: { host: string; authPort: number; acctPort: number };
  dictionary: LoadedDictionary;
  store: AtaStore;
  /** Stops answering and lets requests being handled end. */
  stop(): Promise<void>;
}

/** Loads the dictionary and binds the two RADIUS ports. */
export async function startAtaServer(options: StartAtaServerOptions): Promise<RunningAtaServer> {
  const { config, db } = options;
  const logger = options.logger.child({ component: 'ata' });
  const dictionary = loadDictionary(config.dictionary);
  if (dictionary.missingAccounting.length > 0)
    logger.warn(
      { dictionary: dictionary.path, missing: dictionary.missingAccounting },
      dictionary.has(FB.faxErrorCode)
        ? 'the RADIUS dictionary lacks accounting attributes: what CDRs say in them is kept only as raw octets'
        : 'the RADIUS dictionary does not define FB-Fax-Error-Code: faxes the port server reports are not tracked (point ata.dictionary at the vendor dictionary)',
    );
  if (config.clients.length === 0) logger.warn('no RADIUS clients configured (ata.clients): every request will be dropped');
  const store = new AtaStore(db);
  const passwordChecks = new WorkLimit('password checks', config.passwordChecks.concurrent, config.passwordChecks.queued);

  // A short secret or a /0 range throws here, naming the client.
  const server = new RadiusServer({
    host: config.host,
    authPort: config.authPort,
    acctPort: config.acctPort,
    clients: config.clients,
    minSecretLength: config.minSecretLength,
    duplicateCacheMs: config.duplicateCacheMs,
    logger,
    count: (kind, outcome) => metrics.requests.inc({ kind, outcome }),
    handlers: {
      access: async (packet, client) => {
        const reply = await answerAccessRequest(packet, {
          store,
          dictionary,
          region: config.region,
          callAheadInPreSend: config.callAhead.inPreSend,
          passwordChecks,
          logger,
        });
        logger.debug({ client: client.name, identifier: packet.identifier, code: reply.code, why: reply.why }, 'Access-Request answered');
        return reply;
      },
      accounting: async (packet, client) => {
        const result = await recordAccounting(packet, client.name, {
          db,
          dictionary,
          region: config.region,
          errorStatuses: config.errorStatuses,
          reportWithinMs: config.reportWithinHours * 3600_000,
          ledger: options.ledger,
          logger,
        });
        logger.debug({ client: client.name, identifier: packet.identifier, result }, 'Accounting-Request taken');
        if (result === 'recorded') options.eventsWritten();
      },
    },
  });

  let bound;
  try {
    bound = await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw new Error(`the RADIUS server cannot listen on ${config.host} ports ${config.authPort}/${config.acctPort}: ${errorMessage(error)}`);
  }
  const address = { host: config.host, authPort: bound.auth.port, acctPort: bound.acct.port };
  logger.info({ ...address, dictionary: dictionary.path, clients: config.clients.map((c) => c.name ?? c.address) }, 'RADIUS server for fax ATAs started');

  let stopping: Promise<void> | undefined;
  return {
    address,
    dictionary,
    store,
    stop: () => (stopping ??= server.stop()),
  };
}
