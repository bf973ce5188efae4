import type { Dialect, Migration } from '@faxnotify/kit';

/**
 * The Inbox: one row per received fax (`fax.received`, keyed by its receivedId so the same fax
 * reported twice is one row), its pages' T.4 1-D data (or a provider's file) as binary: a blob on
 * SQLite, bytea on PostgreSQL.
 */
export const inbox = (dialect: Dialect): Migration => ({
  async up(db) {
    const binary = dialect === 'postgres' ? 'bytea' : 'blob';
    await db.schema
      .createTable('received_faxes')
      .addColumn('id', 'varchar(200)', (c) => c.primaryKey())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('source', 'varchar(16)', (c) => c.notNull())
      .addColumn('line_id', 'varchar(128)')
      .addColumn('caller_number', 'varchar(32)')
      .addColumn('called_number', 'varchar(32)')
      .addColumn('remote_csid', 'varchar(64)')
      .addColumn('status', 'varchar(32)', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('pages', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('ended_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('file_type', 'varchar(32)')
      .addColumn('file_data', binary)
      .addColumn('read_at', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('received_faxes_owner').on('received_faxes').columns(['owner_id', 'ended_at']).execute();
    await db.schema.createIndex('received_faxes_created').on('received_faxes').column('created_at').execute();
    await db.schema
      .createTable('received_pages')
      .addColumn('fax_id', 'varchar(200)', (c) => c.notNull().references('received_faxes.id').onDelete('cascade'))
      .addColumn('page', 'integer', (c) => c.notNull())
      .addColumn('width', 'integer', (c) => c.notNull())
      .addColumn('rows', 'integer', (c) => c.notNull())
      .addColumn('resolution', 'varchar(16)', (c) => c.notNull())
      .addColumn('bad_rows', 'integer', (c) => c.notNull())
      .addColumn('data', binary, (c) => c.notNull())
      .addPrimaryKeyConstraint('received_pages_pk', ['fax_id', 'page'])
      .execute();
  },

  async down(db) {
    await db.schema.dropTable('received_pages').execute();
    await db.schema.dropTable('received_faxes').execute();
  },
});
