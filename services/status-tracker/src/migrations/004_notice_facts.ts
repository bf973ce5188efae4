import type { Migration } from '@faxnotify/kit';

/** Columns the notices table needs beside the v2 notice outcome's fields, one per fact: null when the outcome did not carry it. */
const COLUMNS = [
  ['sms_segments', 'integer'],
  ['sms_encoding', 'varchar(8)'],
  ['provider_status', 'varchar(64)'],
  ['provider_error_code', 'varchar(64)'],
  ['smtp_code', 'integer'],
] as const;

/**
 * What notification.outcome v2 carries as fields rather than only in its `reason` text: the SMS
 * parts and encoding, the provider's own delivery status and error code, the SMTP reply code.
 * Rows stored from v1 outcomes keep null there.
 */
export const noticeFacts = (): Migration => ({
  async up(db) {
    // One column per statement: SQLite adds only one at a time.
    for (const [name, type] of COLUMNS) await db.schema.alterTable('notices').addColumn(name, type).execute();
  },

  async down(db) {
    for (const [name] of COLUMNS) await db.schema.alterTable('notices').dropColumn(name).execute();
  },
});
