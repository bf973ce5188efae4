import type { Migration } from '@faxnotify/kit';

/**
 * What a fax says of where it came from beside its owner: the sender number fax.submitted carries
 * (`from`), and the cost a provider reported for it (Fax.Plus's `cost`, in the account's
 * currency). Faxes stored before keep null in both: no number, no known cost.
 */
export const faxOrigin = (): Migration => ({
  async up(db) {
    // One column per statement: SQLite adds only one at a time.
    await db.schema.alterTable('faxes').addColumn('from_number', 'varchar(32)').execute();
    await db.schema.alterTable('faxes').addColumn('cost', 'double precision').execute();
  },

  async down(db) {
    await db.schema.alterTable('faxes').dropColumn('cost').execute();
    await db.schema.alterTable('faxes').dropColumn('from_number').execute();
  },
});
