/**
 * FreeRADIUS's `radclient` (Debian freeradius-utils, installed by deploy/peers/radius.sh) playing
 * the FaxBack port server against our RADIUS server, and the ATA server as its tests run it: a
 * temporary SQLite database, the transmitter's dictionary (or a copy with placeholder numbers for
 * the attributes the manual does not number), a client on loopback.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase, type Database, type Logger, type MessageBus } from '@faxnotify/kit';
import pino from 'pino';
import { defaultAtaConfig, type AtaConfig } from '../config';
import { DEFAULT_DICTIONARY } from '../dictionary';
import { transmitterMigrations } from '../../db/migrations';
import { TEST_POSTGRES_URL, createTestPostgres } from '../../testing/harness';
import { EventRelay } from '../../relay';
import type { TransmitterDatabase } from '../../db/schema';
import { RecipientLedger } from '../../ledger/recipient-ledger';
import { TEST_RETRY_DELAYS } from '../../testing/database';
import { startAtaServer, type RunningAtaServer } from '../index';

/** Long enough for the server's minimum (16 characters). */
export const TEST_RADIUS_SECRET = 'ata-test-secret-0123456789';

export interface TestDictionaries {
  /** The FaxBack dictionary the server loads. */
  faxback: string;
  /** A folder for `radclient -d`: FreeRADIUS's dictionary plus the same FaxBack one. */
  radclientDir: string;
}

/**
 * Writes the dictionaries of a test into `dir`. With `placeholderNumbers`, the FaxBack dictionary
 * is the shipped one plus testing/dictionary.faxback-test-numbers (NOT FaxBack's numbers).
 */
export function writeTestDictionaries(dir: string, options: { placeholderNumbers: boolean }): TestDictionaries {
  let faxback = DEFAULT_DICTIONARY;
  if (options.placeholderNumbers) {
    const shipped = readFileSync(DEFAULT_DICTIONARY, 'utf8');
    // The fixture stays in src/ (tsc does not copy it), also when this helper runs from dist/.
    const extra = readFileSync(resolve(__dirname, '..', '..', '..', 'src', 'ata', 'testing', 'dictionary.faxback-test-numbers'), 'utf8');
    const end = shipped.lastIndexOf('END-VENDOR');
    if (end < 0) throw new Error(`${DEFAULT_DICTIONARY} has no END-VENDOR`);
    faxback = join(dir, 'dictionary.faxback');
    writeFileSync(faxback, `${shipped.slice(0, end)}\n# ---- test placeholders ----\n${extra}\n${shipped.slice(end)}`);
  }
  const radclientDir = join(dir, 'radclient');
  mkdirSync(radclientDir, { recursive: true });
  writeFileSync(join(radclientDir, 'dictionary'), `$INCLUDE /usr/share/freeradius/dictionary\n$INCLUDE ${faxback}\n`);
  return { faxback, radclientDir };
}

const written = new Map<boolean, TestDictionaries>();

/**
 * The test dictionaries of this process, written once: the `radius` package re-reads every
 * dictionary it was given whenever one is added, so they must outlive each test server.
 */
export function processDictionaries(placeholderNumbers: boolean): TestDictionaries {
  let dictionaries = written.get(placeholderNumbers);
  if (!dictionaries) {
    const dir = mkdtempSync(join(tmpdir(), `faxnotify-ata-dictionaries-${placeholderNumbers ? 'placeholders' : 'shipped'}-`));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    dictionaries = writeTestDictionaries(dir, { placeholderNumbers });
    written.set(placeholderNumbers, dictionaries);
  }
  return dictionaries;
}

export interface RadclientReply {
  /** Access-Accept, Access-Reject, Accounting-Response; null when no reply came. */
  code: string | null;
  length: number | null;
  /** What the reply carried, Message-Authenticator left out (radclient checked it, or there was no reply). */
  attributes: Array<{ name: string; value: string }>;
  /** The reply's Message-Authenticator, which radclient checked before printing the reply. */
  messageAuthenticator: string | undefined;
  /** The first value of an attribute, unquoted. */
  get(name: string): string | undefined;
  all(name: string): string[];
  output: string;
}

export type RequestAttributes = ReadonlyArray<readonly [string, string | number]>;

const format = (attributes: RequestAttributes): string =>
  attributes.map(([name, value]) => `${name} = ${typeof value === 'number' ? value : JSON.stringify(value)}`).join('\n') + '\n';

/**
 * Sends one request with radclient and reads its reply (radclient -x prints both). The request
 * carries Message-Authenticator (radclient signs the `Message-Authenticator = 0x00` it is given)
 * unless `messageAuthenticator` is false, as a port server that sends none.
 */
export function radclient(options: {
  dictionaryDir: string;
  port: number;
  kind: 'auth' | 'acct';
  secret?: string;
  attributes: RequestAttributes;
  messageAuthenticator?: boolean;
  /** radclient's own retransmissions. */
  retries?: number;
  timeoutSeconds?: number;
}): Promise<RadclientReply> {
  const args = [
    '-x',
    '-d',
    options.dictionaryDir,
    '-r',
    String(options.retries ?? 1),
    '-t',
    String(options.timeoutSeconds ?? 2),
    `127.0.0.1:${options.port}`,
    options.kind,
    options.secret ?? TEST_RADIUS_SECRET,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile('radclient', args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      // radclient exits non-zero for a Reject as well as for no reply; only other failures are errors.
      if (error && !/No reply from server|^Received /m.test(output)) {
        reject(new Error(`radclient failed: ${error.message}\n${output}`));
        return;
      }
      const lines = stdout.split('\n');
      const received = lines.findIndex((line) => line.startsWith('Received '));
      const attributes: Array<{ name: string; value: string }> = [];
      let messageAuthenticator: string | undefined;
      let code: string | null = null;
      let length: number | null = null;
      if (received >= 0) {
        const header = /^Received (\S+) Id \d+ .* length (\d+)/.exec(lines[received]);
        code = header?.[1] ?? null;
        length = header ? Number(header[2]) : null;
        for (const line of lines.slice(received + 1)) {
          const match = /^\t(\S+) = (.*)$/.exec(line);
          if (!match) break;
          if (match[1] === 'Message-Authenticator') messageAuthenticator ??= match[2];
          else attributes.push({ name: match[1], value: match[2].replace(/^"(.*)"$/, '$1') });
        }
      }
      resolve({
        code,
        length,
        attributes,
        messageAuthenticator,
        get: (name) => attributes.find((a) => a.name === name)?.value,
        all: (name) => attributes.filter((a) => a.name === name).map((a) => a.value),
        output,
      });
    });
    child.stdin!.end(`${options.messageAuthenticator === false ? '' : 'Message-Authenticator = 0x00\n'}${format(options.attributes)}`);
  });
}

/** A pino logger that keeps every line, to check what the server logged. */
export function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(chunk: string) {
        lines.push(JSON.parse(chunk) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}

export interface AtaTestServer {
  dir: string;
  dictionaries: TestDictionaries;
  database: Database<TransmitterDatabase>;
  server: RunningAtaServer;
  logLines: Array<Record<string, unknown>>;
  /** radclient against this server's auth or acct port. */
  send(
    kind: 'auth' | 'acct',
    attributes: RequestAttributes,
    options?: { secret?: string; retries?: number; timeoutSeconds?: number; messageAuthenticator?: boolean },
  ): Promise<RadclientReply>;
  close(): Promise<void>;
}

/** SQLite always, PostgreSQL too unless TEST_POSTGRES_URL is `none`. */
export const TEST_DIALECTS: ReadonlyArray<'sqlite' | 'postgres'> = TEST_POSTGRES_URL === 'none' ? ['sqlite'] : ['sqlite', 'postgres'];

/** Starts the ATA server on loopback ports with a fresh database (SQLite unless told otherwise). */
export async function startAtaTestServer(options: {
  label: string;
  placeholderNumbers: boolean;
  bus: Pick<MessageBus, 'publishEvent'>;
  config?: Partial<AtaConfig>;
  dialect?: 'sqlite' | 'postgres';
}): Promise<AtaTestServer> {
  const dir = mkdtempSync(join(tmpdir(), `faxnotify-ata-${options.label}-`));
  const dictionaries = processDictionaries(options.placeholderNumbers);
  const { logger, lines } = memoryLogger();
  const dialect = options.dialect ?? 'sqlite';
  const postgres = dialect === 'postgres' ? await createTestPostgres(options.label) : undefined;
  const database = await openDatabase<TransmitterDatabase>({
    service: 'transmitter',
    url: postgres?.url ?? '',
    sqlitePath: join(dir, 'transmitter.sqlite'),
    migrations: transmitterMigrations(dialect),
    logger,
  });
  const config = defaultAtaConfig({
    dictionary: dictionaries.faxback,
    clients: [{ address: '127.0.0.1', secret: TEST_RADIUS_SECRET, name: 'test-port-server' }],
    ...options.config,
  });
  // Events go through the transmitter's one outbox and relay, as in the service.
  const relay = new EventRelay({ db: database.db, bus: options.bus, logger, pollMs: 100 });
  relay.start();
  const ledger = new RecipientLedger(TEST_RETRY_DELAYS);
  const server = await startAtaServer({ config, db: database.db, ledger, logger, eventsWritten: () => relay.kick() });
  return {
    dir,
    dictionaries,
    database,
    server,
    logLines: lines,
    send: (kind, attributes, sendOptions = {}) =>
      radclient({
        dictionaryDir: dictionaries.radclientDir,
        port: kind === 'auth' ? server.address.authPort : server.address.acctPort,
        kind,
        attributes,
        ...sendOptions,
      }),
    close: async () => {
      await server.stop();
      await relay.stop({ flush: true });
      await database.close();
      await postgres?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
