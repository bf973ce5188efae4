import type { Migration } from '@faxnotify/kit';

/**
 * Resends to the failed (resend.ts): one row per request, keyed by who asked and their request id
 * (the idempotency key: the same request makes one new fax), naming the fax resent and the new
 * fax. A fax knows the fax it resends (`faxes.resend_of`, from fax.submitted), and a recipient the
 * first page it was given when it was given only some (`recipients.first_page`), so a resend of a
 * resend counts the missing pages in the documents' own numbering.
 */
export const resends = (): Migration => ({
  async up(db) {
    await db.schema
      .createTable('resends')
      .addColumn('requested_by', 'varchar(128)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('new_fax_id', 'varchar(128)', (c) => c.notNull().unique())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('only_missing_pages', 'integer', (c) => c.notNull())
      .addColumn('requested_via', 'varchar(16)', (c) => c.notNull())
      .addColumn('recipients_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('resends_pk', ['requested_by', 'request_id'])
      .execute();
    // "Resent as …" on the fax page reads the resends of a fax.
    await db.schema.createIndex('resends_fax').on('resends').columns(['fax_id', 'created_at']).execute();
    // One column per statement: SQLite adds only one at a time.
    await db.schema.alterTable('faxes').addColumn('resend_of', 'varchar(128)').execute();
    await db.schema.alterTable('recipients').addColumn('first_page', 'integer').execute();
  },

  async down(db) {
    await db.schema.alterTable('recipients').dropColumn('first_page').execute();
    await db.schema.alterTable('faxes').dropColumn('resend_of').execute();
    await db.schema.dropTable('resends').execute();
  },
});
