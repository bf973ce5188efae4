import type { Dialect, Migration } from '@faxnotify/kit';

/**
 * The ATA tables: accounts, DIDs, called numbers, the faxes and sessions the port server reported,
 * the accounting records handled, and the ATA event outbox.
 */
const ataRadiusMigration = (dialect: Dialect): Migration => ({
  async up(db) {
    await db.schema
      .createTable('ata_accounts')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text')
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('account_type', 'integer')
      .addColumn('call_ahead_mode', 'varchar(8)', (c) => c.notNull())
      .addColumn('send_enabled', 'integer', (c) => c.notNull())
      .addColumn('receive_enabled', 'integer', (c) => c.notNull())
      .addColumn('send_ani', 'varchar(32)')
      .addColumn('send_csid', 'varchar(20)')
      .addColumn('receive_csid', 'varchar(20)')
      .addColumn('receive_email', 'varchar(320)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ata_accounts_owner').on('ata_accounts').columns(['owner_id', 'name_key']).execute();

    await db.schema
      .createTable('ata_dids')
      .addColumn('did', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('ata_accounts.id').onDelete('cascade'))
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('send_ani', 'varchar(32)')
      .addColumn('queue_profile', 'text')
      .addColumn('line_id', 'varchar(64)')
      .addColumn('line_num', 'integer')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ata_dids_account').on('ata_dids').columns(['account_id', 'did']).execute();

    await db.schema
      .createTable('ata_called_numbers')
      .addColumn('number_key', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('fax_reached_at', 'varchar(40)')
      .addColumn('voice_answered_at', 'varchar(40)')
      .addColumn('faxes', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_session_id', 'varchar(64)')
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('ata_faxes')
      .addColumn('fax_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('recipient_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('number', 'varchar(32)', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('next_sequence', 'integer', (c) => c.notNull())
      .addColumn('connected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('pages_sent', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('final_at', 'varchar(40)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('ata_sessions')
      .addColumn('session_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)')
      .addColumn('account_name', 'varchar(255)')
      .addColumn('direction', 'varchar(8)')
      .addColumn('dial_number', 'varchar(64)')
      .addColumn('transfer_type', 'varchar(32)')
      .addColumn('related_session_id', 'varchar(64)')
      .addColumn('fax_id', 'varchar(64)')
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('started_at', 'varchar(40)')
      .addColumn('stopped_at', 'varchar(40)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ata_sessions_fax').on('ata_sessions').columns(['fax_id']).execute();

    await db.schema
      .createTable('ata_accounting_records')
      .addColumn('record_key', 'varchar(200)', (c) => c.primaryKey())
      .addColumn('session_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('status_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('client', 'varchar(64)', (c) => c.notNull())
      .addColumn('attributes', 'text', (c) => c.notNull())
      .addColumn('received_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ata_accounting_records_session').on('ata_accounting_records').columns(['session_id', 'received_at']).execute();

    await db.schema
      .createTable('ata_event_outbox')
      .addColumn('seq', dialect === 'postgres' ? 'serial' : 'integer', (c) => c.primaryKey())
      .addColumn('id', 'varchar(200)', (c) => c.notNull().unique())
      .addColumn('routing_key', 'varchar(100)', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(32)')
      .addColumn('event_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('published_at', 'varchar(40)')
      .addColumn('publish_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .execute();
    await db.schema.createIndex('ata_event_outbox_unpublished').on('ata_event_outbox').columns(['published_at', 'seq']).execute();
  },
  async down(db) {
    for (const table of ['ata_event_outbox', 'ata_accounting_records', 'ata_sessions', 'ata_faxes', 'ata_called_numbers', 'ata_dids', 'ata_accounts'])
      await db.schema.dropTable(table).ifExists().execute();
  },
});

/**
 * The ATA migrations, named to sort after the job tables' so the transmitter merges them into its
 * one ordered record: `{ ...jobMigrations(dialect), ...ataMigrations(dialect) }`.
 */
export const ataMigrations = (dialect: Dialect): Record<string, Migration> => ({
  '2026-11-22-50-ata-radius': ataRadiusMigration(dialect),
});
