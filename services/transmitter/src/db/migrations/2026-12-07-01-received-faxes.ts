import type { Migration } from '@faxnotify/kit';

/** Faxes our lines received: one row per answered call, written with its fax.received event in the same transaction. */
export const receivedFaxesMigration = (): Migration => ({
  async up(db) {
    await db.schema
      .createTable('received_faxes')
      .addColumn('received_id', 'varchar(200)', (c) => c.primaryKey())
      .addColumn('line_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('caller_number', 'varchar(32)')
      .addColumn('called_number', 'varchar(32)')
      .addColumn('remote_csid', 'varchar(64)')
      .addColumn('status', 'varchar(32)', (c) => c.notNull())
      .addColumn('reason_code', 'varchar(64)', (c) => c.notNull())
      .addColumn('reason_detail', 'text', (c) => c.notNull())
      .addColumn('pages_received', 'integer', (c) => c.notNull())
      .addColumn('bytes', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('answered_at', 'varchar(40)')
      .addColumn('ended_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('received_faxes_line').on('received_faxes').columns(['line_id', 'ended_at']).execute();
  },
  async down(db) {
    await db.schema.dropTable('received_faxes').ifExists().execute();
  },
});
