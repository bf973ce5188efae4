import type { Dialect, Migration } from '@faxnotify/kit';

/**
 * The picture of each sent fax's first page (fax.submitted's `firstPage`), for its confirmation
 * report: a small PNG, a blob on SQLite and bytea on PostgreSQL, one row per fax.
 */
export const faxThumbnails = (dialect: Dialect): Migration => ({
  async up(db) {
    await db.schema
      .createTable('fax_thumbnails')
      .addColumn('fax_id', 'varchar(128)', (c) => c.primaryKey().references('faxes.id').onDelete('cascade'))
      .addColumn('png', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
      .addColumn('width', 'integer', (c) => c.notNull())
      .addColumn('height', 'integer', (c) => c.notNull())
      .execute();
  },

  async down(db) {
    await db.schema.dropTable('fax_thumbnails').execute();
  },
});
