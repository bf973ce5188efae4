import type { Migration } from '@faxnotify/kit';

/**
 * Virtual offices: a named group of users (`offices`) whose Sent folder may span every member's
 * faxes, and its members (`office_members`), each `member` or `admin`. A user belongs to at most
 * one office: the user id is the members table's key. An office admin, and every member while
 * `share_sent` is 1, sees the faxes of every member.
 */
export const offices = (): Migration => ({
  async up(db) {
    await db.schema
      .createTable('offices')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(200)', (c) => c.notNull())
      .addColumn('share_sent', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('office_members')
      .addColumn('user_id', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('office_id', 'varchar(64)', (c) => c.notNull().references('offices.id').onDelete('cascade'))
      .addColumn('role', 'varchar(16)', (c) => c.notNull())
      .addColumn('display_name', 'varchar(200)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('office_members_office').on('office_members').columns(['office_id', 'user_id']).execute();
  },

  async down(db) {
    await db.schema.dropTable('office_members').execute();
    await db.schema.dropTable('offices').execute();
  },
});
