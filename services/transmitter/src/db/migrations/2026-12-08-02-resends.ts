import type { Migration } from '@faxnotify/kit';

/**
 * Resends to the failed (resend.ts): a fax knows the fax whose documents it sends again, and a
 * recipient the pages it is to get when that is not all of them (a partially sent recipient's
 * missing pages), counted from 1 in the documents as prepared.
 */
export const resendsMigration = (): Migration => ({
  async up(db) {
    // One column per statement: SQLite adds only one at a time.
    await db.schema.alterTable('faxes').addColumn('resend_of', 'varchar(128)').execute();
    await db.schema.alterTable('recipients').addColumn('page_first', 'integer').execute();
    await db.schema.alterTable('recipients').addColumn('page_last', 'integer').execute();
  },
  async down(db) {
    await db.schema.alterTable('recipients').dropColumn('page_last').execute();
    await db.schema.alterTable('recipients').dropColumn('page_first').execute();
    await db.schema.alterTable('faxes').dropColumn('resend_of').execute();
  },
});
