import {
  createEvent,
  type CloudEvent,
  type FaxRecipientProgress,
  type FaxRecipientResult,
  type FaxSubmitted,
  type FinalStatus,
  type NotificationOutcome,
} from '@faxnotify/contracts';
import { openDatabase, createLogger, type Database } from '@faxnotify/kit';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackerMigrations } from '../migrations';
import type { TrackerDatabase } from '../schema';

/** Events as the transmitter and the notifier publish them, built (and validated) through the contracts. */
const TRANSMITTER = '/faxnotify/transmitter';
export const SUBMITTED_AT = '2026-11-22T09:00:00.000Z';

export const numberOf = (recipientId: string): string => `+1202555${String(100 + Number(recipientId.replace(/\D/g, '') || 0)).padStart(4, '0')}`;

export function submitted(faxId: string, ownerId: string, recipientIds: string[], overrides: Partial<FaxSubmitted> = {}): CloudEvent<'fax.submitted'> {
  return createEvent(
    'fax.submitted',
    {
      faxId,
      ownerId,
      subject: 'Q3 report',
      recipients: recipientIds.map((recipientId) => ({ recipientId, number: numberOf(recipientId) })),
      files: [{ name: 'report.pdf', pages: 3 }],
      pages: 3,
      submittedAt: SUBMITTED_AT,
      retry: { count: 1, delayMinutes: 1 },
      ...overrides,
    },
    { source: TRANSMITTER, subject: `fax/${faxId}` },
  );
}

export function progress(
  faxId: string,
  recipientId: string,
  attempt: number,
  sequence: number,
  status: FaxRecipientProgress['status'],
  extra: Partial<FaxRecipientProgress> = {},
): CloudEvent<'fax.recipient.progress'> {
  return createEvent(
    'fax.recipient.progress',
    {
      faxId,
      recipientId,
      number: numberOf(recipientId),
      attempt,
      sequence,
      status,
      at: new Date(Date.parse(SUBMITTED_AT) + (attempt * 100 + sequence) * 1000).toISOString(),
      ...extra,
    },
    { source: TRANSMITTER, subject: `fax/${faxId}/recipient/${recipientId}` },
  );
}

const REASONS: Partial<Record<FinalStatus, { code: string; detail: string }>> = {
  success: { code: 'OK', detail: 'MCF after EOP; DCN' },
  failed_user_busy: { code: 'BUSY', detail: 'ATD -> BUSY' },
  partially_sent: { code: 'NO_CARRIER', detail: 'NO CARRIER during page 3 of 3' },
  failed_no_answer: { code: 'NO_ANSWER', detail: 'ATD -> NO ANSWER' },
};

export function result(
  faxId: string,
  recipientId: string,
  attempt: number,
  sequence: number,
  status: FinalStatus,
  pagesSent: number,
  extra: Partial<FaxRecipientResult> = {},
): CloudEvent<'fax.recipient.result'> {
  const endedAt = new Date(Date.parse(SUBMITTED_AT) + (attempt * 100 + sequence) * 1000).toISOString();
  return createEvent(
    'fax.recipient.result',
    {
      faxId,
      recipientId,
      number: numberOf(recipientId),
      attempt,
      sequence,
      status,
      reason: REASONS[status] ?? { code: status.toUpperCase(), detail: '' },
      pagesSent,
      pagesTotal: 3,
      remoteCsid: pagesSent > 0 ? `CSID ${recipientId}` : null,
      startedAt: pagesSent > 0 ? SUBMITTED_AT : null,
      endedAt,
      attempts: attempt,
      ...extra,
    },
    { source: TRANSMITTER, subject: `fax/${faxId}/recipient/${recipientId}` },
  );
}

export function outcome(
  faxId: string,
  recipientId: string,
  ownerId: string,
  channel: NotificationOutcome['channel'],
  extra: Partial<NotificationOutcome> = {},
): CloudEvent<'notification.outcome'> {
  return createEvent(
    'notification.outcome',
    { resultId: `${faxId}:${recipientId}`, faxId, recipientId, ownerId, channel, outcome: 'sent', attempts: 1, at: new Date().toISOString(), ...extra },
    { source: '/faxnotify/notifier' },
  );
}

/** The storage dialects under test: the embedded SQLite file, and PostgreSQL in a database made for the run and dropped after. */
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase extends Database<TrackerDatabase> {
  drop(): Promise<void>;
}

export async function openTestDatabase(dialect: 'sqlite' | 'postgres', label: string): Promise<TestDatabase> {
  const logger = createLogger('status-tracker-test', 'silent');
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `status-tracker-${label}-`));
    const database = await openDatabase<TrackerDatabase>({
      service: 'status-tracker',
      url: '',
      sqlitePath: join(dir, 'tracker.sqlite'),
      migrations: trackerMigrations('sqlite'),
      logger,
    });
    return { ...database, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const { Client } = await import('pg');
  const name = `status_tracker_test_${label.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const database = await openDatabase<TrackerDatabase>({
    service: 'status-tracker',
    url: `${POSTGRES_URL}/${name}`,
    sqlitePath: 'unused',
    migrations: trackerMigrations('postgres'),
    logger,
  });
  return {
    ...database,
    drop: async () => {
      await database.close().catch(() => undefined);
      const client = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
