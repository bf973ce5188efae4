import type { Dialect, Migration } from '@faxnotify/kit';

/**
 * The first schema. Written with Kysely's schema builder so the same code creates it on SQLite and
 * PostgreSQL; the one difference is the outbox's auto-numbered `seq` (SQLite's `integer primary
 * key` is the rowid, PostgreSQL needs `serial`).
 */
export const initial = (dialect: Dialect): Migration => ({
  async up(db) {
    await db.schema
      .createTable('faxes')
      .addColumn('id', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('owner_id', 'varchar(128)')
      .addColumn('outbox_id', 'varchar(128)')
      .addColumn('subject', 'text')
      .addColumn('pages', 'integer')
      .addColumn('files_json', 'text')
      .addColumn('submitted_at', 'varchar(40)')
      .addColumn('send_at', 'varchar(40)')
      .addColumn('retry_count', 'integer')
      .addColumn('retry_delay_minutes', 'integer')
      .addColumn('state', 'varchar(32)', (c) => c.notNull().defaultTo('in_progress'))
      .addColumn('final_at', 'varchar(40)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    // The Sent folder: one owner's faxes, newest first.
    await db.schema.createIndex('faxes_owner_submitted').on('faxes').columns(['owner_id', 'submitted_at', 'id']).execute();
    // The sweep looks for final faxes without their fax-final event.
    await db.schema.createIndex('faxes_state').on('faxes').columns(['state']).execute();

    await db.schema
      .createTable('recipients')
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('number', 'varchar(32)', (c) => c.notNull())
      .addColumn('position', 'integer')
      .addColumn('status', 'varchar(64)', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('sequence', 'integer', (c) => c.notNull())
      .addColumn('pages_sent', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('pages_total', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('remote_csid', 'varchar(64)')
      .addColumn('remote_csid_raw', 'varchar(64)')
      .addColumn('reason_code', 'varchar(64)')
      .addColumn('reason_detail', 'text')
      .addColumn('started_at', 'varchar(40)')
      .addColumn('ended_at', 'varchar(40)')
      .addColumn('attempts', 'integer')
      .addColumn('retry_at', 'varchar(40)')
      .addColumn('final', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addPrimaryKeyConstraint('recipients_pk', ['fax_id', 'recipient_id'])
      .execute();
    await db.schema.createIndex('recipients_final').on('recipients').columns(['final', 'fax_id']).execute();

    await db.schema
      .createTable('recipient_events')
      .addColumn('event_id', 'varchar(200)', (c) => c.primaryKey())
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('sequence', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(64)', (c) => c.notNull())
      .addColumn('at', 'varchar(40)', (c) => c.notNull())
      .addColumn('applied', 'integer', (c) => c.notNull())
      .addColumn('data_json', 'text', (c) => c.notNull())
      .addColumn('received_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('recipient_events_order').on('recipient_events').columns(['fax_id', 'recipient_id', 'attempt', 'sequence']).execute();

    await db.schema
      .createTable('outbox')
      .addColumn('seq', dialect === 'postgres' ? 'serial' : 'integer', (c) => c.primaryKey())
      .addColumn('id', 'varchar(200)', (c) => c.notNull().unique())
      .addColumn('dedupe_key', 'varchar(400)', (c) => c.notNull().unique())
      .addColumn('routing_key', 'varchar(100)', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(128)')
      .addColumn('event_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('published_at', 'varchar(40)')
      .addColumn('publish_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .execute();
    await db.schema.createIndex('outbox_unpublished').on('outbox').columns(['published_at', 'seq']).execute();
    await db.schema.createIndex('outbox_fax').on('outbox').columns(['fax_id', 'routing_key']).execute();

    await db.schema
      .createTable('notices')
      .addColumn('result_id', 'varchar(300)', (c) => c.notNull())
      .addColumn('channel', 'varchar(16)', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('address', 'varchar(320)')
      .addColumn('locale', 'varchar(8)')
      .addColumn('provider_message_id', 'varchar(500)')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('at', 'varchar(40)', (c) => c.notNull())
      .addColumn('received_at', 'varchar(40)', (c) => c.notNull())
      .addPrimaryKeyConstraint('notices_pk', ['result_id', 'channel'])
      .execute();
    await db.schema.createIndex('notices_fax').on('notices').columns(['fax_id', 'recipient_id']).execute();
  },

  async down(db) {
    for (const table of ['notices', 'outbox', 'recipient_events', 'recipients', 'faxes']) await db.schema.dropTable(table).execute();
  },
});
