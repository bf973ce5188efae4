import type { Dialect, Migration } from '@faxnotify/kit';

/**
 * The outbox: uploaded files, outbox entries and the faxes they become, recipients with their
 * state, the attempts made, and the event outbox (the stored migration name keeps its first word,
 * "jobs"). Kysely's schema builder keeps it one text for SQLite and PostgreSQL; only the event
 * outbox's auto-numbered `seq` differs.
 */
export const outboxMigration = (dialect: Dialect): Migration => ({
  async up(db) {
    await db.schema
      .createTable('files')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('format', 'varchar(8)', (c) => c.notNull())
      .addColumn('bytes', 'integer', (c) => c.notNull())
      .addColumn('stored_path', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('files_owner').on('files').columns(['owner_id', 'id']).execute();

    await db.schema
      .createTable('faxes')
      .addColumn('outbox_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('fax_id', 'varchar(64)', (c) => c.unique())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('from_number', 'varchar(32)')
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('send_at', 'varchar(40)')
      .addColumn('retry_count', 'integer', (c) => c.notNull())
      .addColumn('retry_delay_minutes', 'integer', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('pages', 'integer')
      .addColumn('submitted_at', 'varchar(40)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    // The outbox list of one owner, and the scheduler's look for entries whose send time came.
    await db.schema.createIndex('faxes_owner_state').on('faxes').columns(['owner_id', 'state', 'created_at']).execute();
    await db.schema.createIndex('faxes_state_send_at').on('faxes').columns(['state', 'send_at']).execute();

    await db.schema
      .createTable('fax_files')
      .addColumn('outbox_id', 'varchar(64)', (c) => c.notNull().references('faxes.outbox_id').onDelete('cascade'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('file_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('path', 'varchar(255)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('bytes', 'integer', (c) => c.notNull())
      .addColumn('pages', 'integer')
      .addPrimaryKeyConstraint('fax_files_pk', ['outbox_id', 'position'])
      .execute();

    await db.schema
      .createTable('recipients')
      .addColumn('outbox_id', 'varchar(64)', (c) => c.notNull().references('faxes.outbox_id').onDelete('cascade'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('number', 'varchar(32)', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('status', 'varchar(64)', (c) => c.notNull())
      .addColumn('next_attempt_at', 'varchar(40)')
      .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('sequence', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('line_id', 'varchar(64)')
      .addColumn('call_started_at', 'varchar(40)')
      .addColumn('connected_at', 'varchar(40)')
      .addColumn('remote_csid', 'varchar(64)')
      .addColumn('remote_csid_raw', 'varchar(64)')
      .addColumn('pages_confirmed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('pages_total', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('reason_code', 'varchar(64)')
      .addColumn('reason_detail', 'text')
      .addColumn('ended_at', 'varchar(40)')
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addPrimaryKeyConstraint('recipients_pk', ['outbox_id', 'position'])
      .execute();
    // The scheduler: recipients due for a call, oldest first.
    await db.schema.createIndex('recipients_due').on('recipients').columns(['state', 'next_attempt_at']).execute();

    await db.schema
      .createTable('attempts')
      .addColumn('outbox_id', 'varchar(64)', (c) => c.notNull().references('faxes.outbox_id').onDelete('cascade'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('line_id', 'varchar(64)')
      .addColumn('status', 'varchar(64)', (c) => c.notNull())
      .addColumn('reason_code', 'varchar(64)', (c) => c.notNull())
      .addColumn('reason_detail', 'text', (c) => c.notNull())
      .addColumn('pages_confirmed', 'integer', (c) => c.notNull())
      .addColumn('pages_total', 'integer', (c) => c.notNull())
      .addColumn('remote_csid', 'varchar(64)')
      .addColumn('remote_csid_raw', 'varchar(64)')
      .addColumn('started_at', 'varchar(40)')
      .addColumn('connected_at', 'varchar(40)')
      .addColumn('ended_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('signalling_rate', 'integer')
      .addPrimaryKeyConstraint('attempts_pk', ['outbox_id', 'position', 'attempt'])
      .execute();

    await db.schema
      .createTable('event_outbox')
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
    await db.schema.createIndex('event_outbox_unpublished').on('event_outbox').columns(['published_at', 'seq']).execute();
  },
  async down(db) {
    for (const table of ['event_outbox', 'attempts', 'recipients', 'fax_files', 'faxes', 'files']) await db.schema.dropTable(table).ifExists().execute();
  },
});
