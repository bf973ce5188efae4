import type { Migration } from '@faxnotify/kit';

/**
 * The ATA tables: accounts, DIDs, called numbers, the faxes and sessions the port server reported,
 * the accounting records handled, and the recipients ATA lines handed to the port server. Their
 * events go to the transmitter's one event outbox.
 */
export const ataRadiusMigration = (): Migration => ({
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
      .addColumn('fax_id', 'varchar(64)', (c) => c.notNull())
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
      .addPrimaryKeyConstraint('ata_faxes_pk', ['fax_id', 'recipient_id'])
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
      .addColumn('recipient_id', 'varchar(32)')
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
      .createTable('ata_handoffs')
      .addColumn('outbox_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('account_key', 'varchar(255)', (c) => c.notNull())
      .addColumn('number_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('line_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('pages_total', 'integer', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('handed_at', 'varchar(40)')
      .addColumn('expires_at', 'varchar(40)')
      .addColumn('session_id', 'varchar(64)')
      .addColumn('final_at', 'varchar(40)')
      .addPrimaryKeyConstraint('ata_handoffs_pk', ['outbox_id', 'position'])
      .execute();
    // A session claims the oldest open hand-over of its account and number; expiry looks by state and time.
    await db.schema.createIndex('ata_handoffs_claim').on('ata_handoffs').columns(['account_key', 'number_key', 'state', 'created_at']).execute();
    await db.schema.createIndex('ata_handoffs_expiry').on('ata_handoffs').columns(['state', 'expires_at']).execute();
    // Every accounting record of a tracked fax asks whether it is a recipient of ours.
    await db.schema.createIndex('ata_handoffs_fax').on('ata_handoffs').columns(['fax_id', 'recipient_id']).execute();
  },
  async down(db) {
    for (const table of ['ata_handoffs', 'ata_accounting_records', 'ata_sessions', 'ata_faxes', 'ata_called_numbers', 'ata_dids', 'ata_accounts'])
      await db.schema.dropTable(table).ifExists().execute();
  },
});
