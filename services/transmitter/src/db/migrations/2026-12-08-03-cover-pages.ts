import type { Migration } from '@faxnotify/kit';

/** The cover page an outbox entry asks for (JSON: names, locale, time zone), null for none. */
export const coverPagesMigration = (): Migration => ({
  async up(db) {
    await db.schema.alterTable('faxes').addColumn('cover_page', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('faxes').dropColumn('cover_page').execute();
  },
});
