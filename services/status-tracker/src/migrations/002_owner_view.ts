import type { Migration } from '@faxnotify/kit';

/**
 * The owner's view: outbound webhooks (one per owner, a persistent delivery queue written in the
 * same transaction as the recipient's final outbox row, and a log of every attempt) and provider
 * ingest (accounts with their shared secret, and one row per provider fax recorded, with whether
 * the provider has been told it is marked).
 */
export const ownerView = (): Migration => ({
  async up(db) {
    await db.schema
      .createTable('webhooks')
      .addColumn('owner_id', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('secret', 'varchar(200)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('result_id', 'varchar(300)', (c) => c.notNull().unique())
      .addColumn('event', 'varchar(32)', (c) => c.notNull())
      .addColumn('event_time', 'varchar(40)', (c) => c.notNull())
      .addColumn('data_json', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'varchar(40)')
      .addColumn('last_target', 'text')
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('delivered_at', 'varchar(40)')
      .execute();
    // The dispatcher's scan: pending deliveries whose time has come.
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('webhook_deliveries_fax').on('webhook_deliveries').columns(['fax_id']).execute();

    await db.schema
      .createTable('webhook_attempts')
      .addColumn('delivery_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('at', 'varchar(40)', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('error', 'text')
      .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'attempt'])
      .execute();
    await db.schema.createIndex('webhook_attempts_fax').on('webhook_attempts').columns(['fax_id']).execute();

    await db.schema
      .createTable('provider_accounts')
      .addColumn('provider', 'varchar(32)', (c) => c.notNull())
      .addColumn('account', 'varchar(64)', (c) => c.notNull())
      .addColumn('owner_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('secret_hash', 'varchar(128)', (c) => c.notNull())
      .addColumn('base_url', 'text')
      .addColumn('username', 'varchar(200)')
      .addColumn('password', 'text')
      .addColumn('source', 'varchar(16)', (c) => c.notNull())
      .addColumn('last_polled_at', 'varchar(40)')
      .addColumn('last_poll_error', 'text')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addPrimaryKeyConstraint('provider_accounts_pk', ['provider', 'account'])
      .execute();

    await db.schema
      .createTable('ingested_results')
      .addColumn('provider', 'varchar(32)', (c) => c.notNull())
      .addColumn('account', 'varchar(64)', (c) => c.notNull())
      .addColumn('provider_fax_id', 'varchar(200)', (c) => c.notNull())
      .addColumn('fax_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('recipient_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('raw_status', 'varchar(200)', (c) => c.notNull())
      .addColumn('status', 'varchar(64)', (c) => c.notNull())
      .addColumn('seen_by_post', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('seen_by_query', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('first_seen_via', 'varchar(8)', (c) => c.notNull())
      .addColumn('first_seen_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('last_seen_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('marked_at', 'varchar(40)')
      .addColumn('mark_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('mark_error', 'text')
      .addPrimaryKeyConstraint('ingested_results_pk', ['provider', 'account', 'provider_fax_id'])
      .execute();
    await db.schema.createIndex('ingested_results_unmarked').on('ingested_results').columns(['provider', 'account', 'marked_at']).execute();
  },

  async down(db) {
    for (const table of ['ingested_results', 'provider_accounts', 'webhook_attempts', 'webhook_deliveries', 'webhooks'])
      await db.schema.dropTable(table).execute();
  },
});
