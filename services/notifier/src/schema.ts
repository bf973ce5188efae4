import type { Kysely, Migration } from 'kysely';

export interface SettingsTable {
  user_id: string;
  locale: string;
  time_zone: string;
  /** 'all' or 'failures' (failed and partial results only). */
  notify_on: string;
  email_enabled: number;
  email_address: string | null;
  updated_at: string;
}

/** One row per (result, channel): written before the provider is called, marked after. */
export interface LedgerTable {
  idempotency_key: string;
  result_id: string;
  channel: string;
  fax_id: string;
  recipient_id: string;
  owner_id: string;
  address: string | null;
  locale: string | null;
  /** pending → sending → sent | failed | skipped; retrying after a transient failure. */
  status: string;
  /** Provider calls made (more than one only after transient failures or a crash). */
  sends: number;
  /** Sends started again over an unfinished one: a crash between provider call and mark. */
  possible_duplicates: number;
  claimed_until: string | null;
  provider_message_id: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface NotifierDatabase {
  settings: SettingsTable;
  ledger: LedgerTable;
}

export const notifierMigrations: Record<string, Migration> = {
  '2026-11-22-01-settings-and-ledger': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('settings')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('locale', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('notify_on', 'text', (c) => c.notNull())
        .addColumn('email_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('email_address', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ledger')
        .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
        .addColumn('result_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('fax_id', 'text', (c) => c.notNull())
        .addColumn('recipient_id', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('locale', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('sends', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('possible_duplicates', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('claimed_until', 'text')
        .addColumn('provider_message_id', 'text')
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ledger_by_fax').on('ledger').columns(['fax_id', 'recipient_id']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('ledger').execute();
      await db.schema.dropTable('settings').execute();
    },
  },
};
