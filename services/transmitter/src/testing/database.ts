/**
 * The transmitter's own database for unit tests: an embedded SQLite file in a temporary folder,
 * migrated as at start-up, with nothing else running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudEvent } from '@faxnotify/contracts';
import { createLogger, openDatabase } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { transmitterMigrations } from '../db/migrations';
import type { TransmitterDatabase } from '../db/schema';
import { RecipientLedger } from '../ledger/recipient-ledger';
import type { RetryDelays } from '../retry-policy';

/** Delays by cause as an operator might set them; tests compute their expected times from these. */
export const TEST_RETRY_DELAYS: RetryDelays = {
  defaultCount: 2,
  busySeconds: 180,
  noAnswerSeconds: 600,
  temporarySeconds: 300,
  interruptedSeconds: 120,
  internalSeconds: 60,
  restartSeconds: 30,
};

export interface TestDatabase {
  db: Kysely<TransmitterDatabase>;
  dir: string;
  /** The events written to the event outbox, in order. */
  events(): Promise<CloudEvent[]>;
  close(): Promise<void>;
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-transmitter-unit-'));
  const database = await openDatabase<TransmitterDatabase>({
    service: 'transmitter',
    url: '',
    sqlitePath: join(dir, 'transmitter.sqlite'),
    migrations: transmitterMigrations('sqlite'),
    logger: createLogger('transmitter-test', 'silent'),
  });
  return {
    db: database.db,
    dir,
    events: async () =>
      (await database.db.selectFrom('event_outbox').select('event_json').orderBy('seq').execute()).map((row) => JSON.parse(row.event_json) as CloudEvent),
    close: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** For a test file: a fresh database and recipient ledger before each test, closed after it. */
export function eachTestDatabase(): { t: TestDatabase; ledger: RecipientLedger } {
  const current = {} as { t: TestDatabase; ledger: RecipientLedger };
  beforeEach(async () => {
    current.t = await openTestDatabase();
    current.ledger = new RecipientLedger(TEST_RETRY_DELAYS);
  });
  afterEach(() => current.t.close());
  return current;
}
