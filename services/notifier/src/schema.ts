import { rateLimitsMigration } from '@faxnotify/kit';
import type { Kysely, Migration } from 'kysely';

export interface SettingsTable {
  user_id: string;
  locale: string;
  time_zone: string;
  /** 'all' or 'failures' (failed and partial results only). */
  notify_on: string;
  /** 'on' or 'off': notices of received faxes. */
  notify_inbound: string;
  email_enabled: number;
  email_address: string | null;
  /** 1: the email notice of a final fax's result carries its confirmation report (PDF). */
  email_attach_report: number;
  sms_enabled: number;
  /** E.164. */
  sms_number: string | null;
  xmpp_enabled: number;
  /** A bare JID. */
  xmpp_jid: string | null;
  /** 'recipient', 'fax', 'both' or 'auto': notices per recipient, one summary per fax, or a summary above summary_threshold recipients. */
  summary_mode: string;
  summary_threshold: number;
  /** The channels summaries go to, comma-separated ('email,sms,xmpp'). */
  summary_channels: string;
  /** Per channel: 'all', 'failures' or 'none'; null follows notify_on. */
  email_results: string | null;
  sms_results: string | null;
  xmpp_results: string | null;
  /** Quiet hours of SMS and Jabber notices in the owner's time zone ('HH:MM'); null when there are none. */
  sms_quiet_start: string | null;
  sms_quiet_end: string | null;
  xmpp_quiet_start: string | null;
  xmpp_quiet_end: string | null;
  updated_at: string;
}

/** One row per (result, channel): written before the provider is called, marked after. */
export interface LedgerTable {
  idempotency_key: string;
  result_id: string;
  channel: string;
  fax_id: string;
  recipient_id: string;
  owner_id: string;
  address: string | null;
  locale: string | null;
  /** pending → sending → sent | failed | skipped; retrying after a transient failure; held (until not_before) through quiet hours. */
  status: string;
  /** Provider calls made (more than one only after transient failures or a crash). */
  sends: number;
  /** Sends started again over an unfinished one: a crash between provider call and mark. */
  possible_duplicates: number;
  claimed_until: string | null;
  /** The notifier process (its worker id) holding the claim; its heartbeat going stale frees the claim before claimed_until. */
  claimed_by: string | null;
  provider_message_id: string | null;
  error: string | null;
  /** The notice's own id, given to the provider (XMPP stanza id, SMS status-callback URL) so its delivery reports find this row. */
  notice_id: string | null;
  /** SMS: parts the text went out in, and their encoding (GSM-7 or UCS-2). */
  segments: number | null;
  encoding: string | null;
  /** The provider's latest report after accepting the notice: SMS sent / delivered / undelivered / failed, XMPP delivered (receipt). */
  delivery_status: string | null;
  /** The provider's error code for an undelivered or failed notice (Twilio's ErrorCode). */
  delivery_error_code: string | null;
  delivery_updated_at: string | null;
  /** Email: the SMTP server's reply code to the last send (250 accepted, 4xx try later, 5xx refused); null when it did not reply. */
  smtp_code: number | null;
  /** SMS: an earlier send may have reached Twilio without its answer (ISO times of its start and of the loss): the next try looks first. */
  lost_send_started_at: string | null;
  lost_answer_at: string | null;
  /** A notice held through the owner's quiet hours (status 'held'): not sent before this ISO time. */
  not_before: string | null;
  /** What a held notice is rendered from when it falls due: the result event's data as JSON. */
  held_json: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Per user and channel: the code last sent to confirm an address (hashed, bound to that address)
 * and the counters that limit how often codes are sent.
 */
export interface ChannelConfirmationTable {
  user_id: string;
  channel: string;
  /** The address the pending code was sent to; a code confirms only that address. */
  pending_address: string | null;
  /** HMAC-SHA256 of the code, bound to user, channel and address; null when no code is pending (none sent, used, expired or voided). */
  code_hash: string | null;
  code_expires_at: string | null;
  /** Wrong tries at the pending code; at the limit the code is voided. */
  attempts: number;
  last_sent_at: string | null;
  /** Start of the current hour-long window of sends, and the codes sent in it. */
  window_started_at: string | null;
  window_sends: number;
  updated_at: string;
}

/** An address its owner confirmed on a channel: kept per address, so switching back to one needs no new code. */
export interface ConfirmedAddressTable {
  user_id: string;
  channel: string;
  address: string;
  confirmed_at: string;
}

/** One row per running notifier process: a claim is held only while its process's heartbeat is fresh. */
export interface NotifierWorkerTable {
  worker_id: string;
  started_at: string;
  heartbeat_at: string;
}

/**
 * Per owner and Jabber address: the fax of the last Jabber notice sent there (what a `resend`
 * reply is about) and a mute the owner asked for (`mute 2h`).
 */
export interface JabberConversationTable {
  owner_id: string;
  /** A bare JID. */
  jid: string;
  last_fax_id: string | null;
  last_notice_id: string | null;
  last_noticed_at: string | null;
  /** No Jabber notices before this ISO time; null: not muted. */
  muted_until: string | null;
  updated_at: string;
}

export interface NotifierDatabase {
  settings: SettingsTable;
  ledger: LedgerTable;
  notifier_workers: NotifierWorkerTable;
  channel_confirmations: ChannelConfirmationTable;
  confirmed_addresses: ConfirmedAddressTable;
  jabber_conversations: JabberConversationTable;
}

export const notifierMigrations: Record<string, Migration> = {
  '2026-11-22-01-settings-and-ledger': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('settings')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('locale', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('notify_on', 'text', (c) => c.notNull())
        .addColumn('email_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('email_address', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ledger')
        .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
        .addColumn('result_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('fax_id', 'text', (c) => c.notNull())
        .addColumn('recipient_id', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('locale', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('sends', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('possible_duplicates', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('claimed_until', 'text')
        .addColumn('provider_message_id', 'text')
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ledger_by_fax').on('ledger').columns(['fax_id', 'recipient_id']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('ledger').execute();
      await db.schema.dropTable('settings').execute();
    },
  },
  '2026-11-24-01-sms-and-xmpp': {
    async up(db: Kysely<unknown>) {
      const settingsColumns = [
        db.schema.alterTable('settings').addColumn('sms_enabled', 'integer', (c) => c.notNull().defaultTo(0)),
        db.schema.alterTable('settings').addColumn('sms_number', 'text'),
        db.schema.alterTable('settings').addColumn('xmpp_enabled', 'integer', (c) => c.notNull().defaultTo(0)),
        db.schema.alterTable('settings').addColumn('xmpp_jid', 'text'),
      ];
      const ledgerColumns = [
        db.schema.alterTable('ledger').addColumn('notice_id', 'text'),
        db.schema.alterTable('ledger').addColumn('segments', 'integer'),
        db.schema.alterTable('ledger').addColumn('encoding', 'text'),
        db.schema.alterTable('ledger').addColumn('delivery_status', 'text'),
        db.schema.alterTable('ledger').addColumn('delivery_error_code', 'text'),
        db.schema.alterTable('ledger').addColumn('delivery_updated_at', 'text'),
      ];
      // One column per statement: SQLite adds only one at a time.
      for (const statement of [...settingsColumns, ...ledgerColumns]) await statement.execute();
      await db.schema.createIndex('ledger_by_notice').on('ledger').column('notice_id').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('ledger_by_notice').execute();
      for (const column of ['notice_id', 'segments', 'encoding', 'delivery_status', 'delivery_error_code', 'delivery_updated_at']) {
        await db.schema.alterTable('ledger').dropColumn(column).execute();
      }
      for (const column of ['sms_enabled', 'sms_number', 'xmpp_enabled', 'xmpp_jid']) await db.schema.alterTable('settings').dropColumn(column).execute();
    },
  },
  '2026-12-02-01-smtp-reply-code': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('ledger').addColumn('smtp_code', 'integer').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('ledger').dropColumn('smtp_code').execute();
    },
  },
  '2026-12-02-02-lost-send': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('ledger').addColumn('lost_send_started_at', 'text').execute();
      await db.schema.alterTable('ledger').addColumn('lost_answer_at', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('ledger').dropColumn('lost_answer_at').execute();
      await db.schema.alterTable('ledger').dropColumn('lost_send_started_at').execute();
    },
  },
  '2026-12-06-01-channel-confirmations': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('channel_confirmations')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('pending_address', 'text')
        .addColumn('code_hash', 'text')
        .addColumn('code_expires_at', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_sent_at', 'text')
        .addColumn('window_started_at', 'text')
        .addColumn('window_sends', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('channel_confirmations_pk', ['user_id', 'channel'])
        .execute();
      await db.schema
        .createTable('confirmed_addresses')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('confirmed_addresses_pk', ['user_id', 'channel', 'address'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('confirmed_addresses').execute();
      await db.schema.dropTable('channel_confirmations').execute();
    },
  },
  // The counters of the limits on notices per owner and channel, shared by every replica on one database.
  '2026-12-06-02-rate-limits': rateLimitsMigration(),
  // Claims tied to a live process: who holds each, and each process's heartbeat.
  '2026-12-07-01-claim-owners': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('ledger').addColumn('claimed_by', 'text').execute();
      await db.schema
        .createTable('notifier_workers')
        .addColumn('worker_id', 'text', (c) => c.primaryKey())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('notifier_workers').execute();
      await db.schema.alterTable('ledger').dropColumn('claimed_by').execute();
    },
  },
  // Notices of received faxes, chosen apart from those of faxes sent (on for everyone until they turn it off).
  '2026-12-07-02-notify-inbound': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('settings')
        .addColumn('notify_inbound', 'text', (c) => c.notNull().defaultTo('on'))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('settings').dropColumn('notify_inbound').execute();
    },
  },
  // One summary notice per fax instead of (or beside) a notice per recipient: by default above 5 recipients, on every channel.
  '2026-12-08-01-fax-summary': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('settings')
        .addColumn('summary_mode', 'text', (c) => c.notNull().defaultTo('auto'))
        .execute();
      await db.schema
        .alterTable('settings')
        .addColumn('summary_threshold', 'integer', (c) => c.notNull().defaultTo(5))
        .execute();
      await db.schema
        .alterTable('settings')
        .addColumn('summary_channels', 'text', (c) => c.notNull().defaultTo('email,sms,xmpp'))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const column of ['summary_channels', 'summary_threshold', 'summary_mode']) await db.schema.alterTable('settings').dropColumn(column).execute();
    },
  },
  // Which results each channel gets, and quiet hours of SMS and Jabber: notices held in the ledger until they end.
  '2026-12-08-02-channel-choices': {
    async up(db: Kysely<unknown>) {
      const settingsColumns = ['email_results', 'sms_results', 'xmpp_results', 'sms_quiet_start', 'sms_quiet_end', 'xmpp_quiet_start', 'xmpp_quiet_end'];
      for (const column of settingsColumns) await db.schema.alterTable('settings').addColumn(column, 'text').execute();
      await db.schema.alterTable('ledger').addColumn('not_before', 'text').execute();
      await db.schema.alterTable('ledger').addColumn('held_json', 'text').execute();
      await db.schema.createIndex('ledger_held').on('ledger').columns(['status', 'not_before']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('ledger_held').execute();
      for (const column of ['held_json', 'not_before']) await db.schema.alterTable('ledger').dropColumn(column).execute();
      for (const column of ['xmpp_quiet_end', 'xmpp_quiet_start', 'sms_quiet_end', 'sms_quiet_start', 'xmpp_results', 'sms_results', 'email_results']) {
        await db.schema.alterTable('settings').dropColumn(column).execute();
      }
    },
  },
  // The confirmation report (PDF) attached to the email notices of final faxes: off for everyone until they turn it on.
  '2026-12-08-03-attach-report': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('settings')
        .addColumn('email_attach_report', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('settings').dropColumn('email_attach_report').execute();
    },
  },
  // Jabber as a conversation: the last notice's fax per owner and address, and the owner's mute.
  '2026-12-08-04-jabber-conversation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('jabber_conversations')
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('jid', 'text', (c) => c.notNull())
        .addColumn('last_fax_id', 'text')
        .addColumn('last_notice_id', 'text')
        .addColumn('last_noticed_at', 'text')
        .addColumn('muted_until', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('jabber_conversations_pk', ['owner_id', 'jid'])
        .execute();
      await db.schema.createIndex('jabber_conversations_jid').on('jabber_conversations').column('jid').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('jabber_conversations').execute();
    },
  },
};
