import type { Dialect, Migration } from '@faxnotify/kit';

/**
 * Room for encrypted secrets: a webhook secret of up to 200 characters, and the ingest secret's
 * digest, take more than their clear form once stored as `v1:<key id>:<iv>:<ciphertext>:<tag>`.
 * PostgreSQL enforces varchar lengths, so those columns become text; SQLite does not, so there is
 * nothing to change there. The values themselves are encrypted by the start-up pass, which needs
 * the configured key (see ../secrets.ts).
 */
export const secretsAtRest = (dialect: Dialect): Migration => ({
  async up(db) {
    if (dialect !== 'postgres') return;
    await db.schema
      .alterTable('webhooks')
      .alterColumn('secret', (c) => c.setDataType('text'))
      .execute();
    await db.schema
      .alterTable('provider_accounts')
      .alterColumn('secret_hash', (c) => c.setDataType('text'))
      .execute();
  },

  async down(db) {
    if (dialect !== 'postgres') return;
    await db.schema
      .alterTable('webhooks')
      .alterColumn('secret', (c) => c.setDataType('varchar(200)'))
      .execute();
    await db.schema
      .alterTable('provider_accounts')
      .alterColumn('secret_hash', (c) => c.setDataType('varchar(128)'))
      .execute();
  },
});
