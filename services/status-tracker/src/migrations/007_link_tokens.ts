import type { Migration } from '@faxnotify/kit';

/**
 * The tokens in notices' fax links (see links.ts): one row per token, naming the fax it opens and
 * its owner, when it stops working and when its owner signed it out. The link carries the row's
 * id and a MAC over the row; the row alone is not a token.
 */
export const linkTokens = (): Migration => ({
  async up(db) {
    await db.schema
      .createTable('link_tokens')
      .addColumn('id', 'varchar(16)', (c) => c.primaryKey())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('issued_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('revoked_at', 'varchar(32)')
      .execute();
    // "Sign out all links" revokes an owner's live tokens at once.
    await db.schema.createIndex('link_tokens_owner').on('link_tokens').columns(['owner_id', 'revoked_at']).execute();
  },

  async down(db) {
    await db.schema.dropTable('link_tokens').execute();
  },
});
