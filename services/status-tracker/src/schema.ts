import type { EventOutboxTable } from '@faxnotify/kit';
import type { Insertable, Selectable } from 'kysely';

/**
 * The status tracker's tables. Portable between SQLite and PostgreSQL: timestamps are ISO 8601
 * text in UTC (so they sort as text), flags are integers 0/1, JSON is text.
 */

/**
 * One fax. A row can exist before its `fax.submitted` arrived (events may overtake it): such a
 * placeholder has `submitted_at` and `owner_id` null, is never listed by the API, and emits
 * nothing until the submission fills it in. Every handler locks the fax row first, so events of
 * one fax are applied one at a time on either database.
 */
export interface FaxTable {
  id: string;
  owner_id: string | null;
  outbox_id: string | null;
  /** The fax's sender number (E.164) as fax.submitted gave it; null when it named none. */
  from_number: string | null;
  /** What the provider charged for the fax, in the account's currency (Fax.Plus's `cost`); null when no source said. */
  cost: number | null;
  subject: string | null;
  pages: number | null;
  /** JSON: [{ name, pages }]. */
  files_json: string | null;
  submitted_at: string | null;
  send_at: string | null;
  retry_count: number | null;
  retry_delay_minutes: number | null;
  /** Aggregate state (contracts' aggregateState over the recipients fax.submitted named). */
  state: string;
  /** When the fax became final (every recipient final), or null. */
  final_at: string | null;
  /** The fax whose documents this one sends again (fax.submitted's `resendOf`); null for any other fax. */
  resend_of: string | null;
  created_at: string;
  updated_at: string;
}

/** One recipient of a fax, as it stands now: the newest applied event by (attempt, sequence). */
export interface RecipientTable {
  fax_id: string;
  recipient_id: string;
  number: string;
  /** Index in fax.submitted's recipient list; null while only events named it (or if the fax never did). */
  position: number | null;
  status: string;
  attempt: number;
  sequence: number;
  pages_sent: number;
  pages_total: number;
  remote_csid: string | null;
  remote_csid_raw: string | null;
  reason_code: string | null;
  reason_detail: string | null;
  started_at: string | null;
  ended_at: string | null;
  /** Dial attempts the final result reports. */
  attempts: number | null;
  /** When a retry_scheduled progress event says the next attempt happens. */
  retry_at: string | null;
  /** The first page of the documents this recipient was given, when fax.submitted gave it only some (a resend's missing pages); else null. */
  first_page: number | null;
  final: number;
  created_at: string;
  updated_at: string;
}

/** Append-only history of every distinct progress/result event; the primary key catches duplicates. */
export interface RecipientEventTable {
  event_id: string;
  fax_id: string;
  recipient_id: string;
  kind: 'progress' | 'result';
  attempt: number;
  sequence: number;
  status: string;
  /** When it happened on the line (progress `at`, result `endedAt`). */
  at: string;
  /** 1 when it changed the recipient; 0 when it was stale (older than what the recipient already showed). */
  applied: number;
  /** The event's data, JSON. */
  data_json: string;
  received_at: string;
}

/**
 * Transactional outbox: rows are written in the handler's transaction and published by the relay,
 * which sets `published_at` once the broker confirmed. `dedupe_key` is unique, so each final
 * result is inserted once per recipient and each fax final once per fax.
 */
export interface OutboxTable extends EventOutboxTable {
  dedupe_key: string;
}

/** What became of the notices about one result, one row per channel; the latest by `at` wins. */
export interface NoticeTable {
  result_id: string;
  channel: string;
  fax_id: string;
  recipient_id: string;
  owner_id: string;
  outcome: string;
  reason: string | null;
  address: string | null;
  locale: string | null;
  provider_message_id: string | null;
  /** SMS: the parts it went out as, and their encoding (GSM-7 or UCS-2). */
  sms_segments: number | null;
  sms_encoding: string | null;
  /** The provider's own word for what became of the notice (Twilio's MessageStatus), and its error code. */
  provider_status: string | null;
  provider_error_code: string | null;
  /** Email: the SMTP server's reply code. */
  smtp_code: number | null;
  attempts: number;
  at: string;
  received_at: string;
}

/** An owner's outbound webhook: where results are POSTed and the secret that signs them. */
export interface WebhookTable {
  owner_id: string;
  url: string;
  /**
   * The signing secret (HMAC-SHA256 of every delivery), which must be recoverable: encrypted under
   * `secrets.key` (see secrets.ts), or in clear while no key is configured.
   */
  secret: string;
  created_at: string;
  updated_at: string;
}

/**
 * One webhook POST to make: written in the transaction that writes the recipient's final outbox
 * row (one per result, `result_id` unique), then sent and retried by the dispatcher until the
 * receiver answers 2xx or the delivery is too old.
 */
export interface WebhookDeliveryTable {
  /** The hook id (`hook.id` in the body); stays the same on every retry. */
  id: string;
  owner_id: string;
  fax_id: string;
  recipient_id: string;
  result_id: string;
  event: string;
  /** When the result happened (the body's `hook.event_time`). */
  event_time: string;
  /** The body's `data` object, JSON, fixed when the delivery was written. */
  data_json: string;
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  /** When the dispatcher may try next (also its lease while a POST is in flight); null once settled. */
  next_attempt_at: string | null;
  last_target: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

/** The log of every POST a delivery made. */
export interface WebhookAttemptTable {
  delivery_id: string;
  attempt: number;
  fax_id: string;
  target: string;
  at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  /** delivered, retry (will try again) or failed (given up). */
  outcome: string;
}

/** A cloud fax provider account whose results we ingest, and whose owner gets the notices. */
export interface ProviderAccountTable {
  provider: 'faxplus' | 'replixfax';
  account: string;
  owner_id: string;
  /** SHA-256 (hex) of the shared secret the provider's posts carry, encrypted under `secrets.key` when one is configured. */
  secret_hash: string;
  /** ReplixFax REST base URL for the periodic query and the marking; null: posts only. */
  base_url: string | null;
  username: string | null;
  /** The ReplixFax API password, encrypted under `secrets.key` when one is configured. */
  password: string | null;
  /** api or config. */
  source: string;
  last_polled_at: string | null;
  last_poll_error: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * One provider fax result recorded, whether it came by post, by query or both; `marked_at` is
 * when the provider was told (ReplixFax's Mark), so the query stops returning it.
 */
export interface IngestedResultTable {
  provider: string;
  account: string;
  provider_fax_id: string;
  fax_id: string;
  recipient_id: string;
  /** The provider's own status words, as they came. */
  raw_status: string;
  status: string;
  seen_by_post: number;
  seen_by_query: number;
  first_seen_via: string;
  first_seen_at: string;
  last_seen_at: string;
  marked_at: string | null;
  mark_attempts: number;
  mark_error: string | null;
}

/** A virtual office: a group of users whose Sent folder may span every member's faxes. */
export interface OfficeTable {
  id: string;
  name: string;
  /** 1: every member sees every member's faxes; 0: only the office's admins do. */
  share_sent: number;
  created_at: string;
  updated_at: string;
}

/** A user's place in an office (at most one office per user). */
/** One request to resend a fax to its failed recipients (resend.ts), and the new fax it made. */
export interface ResendTable {
  /** Who asked (the owner, or an admin of the owner's office); with request_id, the idempotency key. */
  requested_by: string;
  request_id: string;
  /** The fax resent. */
  fax_id: string;
  /** The fax the resend made (its id minted here, sent by the transmitter). */
  new_fax_id: string;
  owner_id: string;
  only_missing_pages: number;
  /** page, api, cli or xmpp. */
  requested_via: string;
  /** JSON: [{ number, pages?: { first, last } }], what the transmitter was told to send. */
  recipients_json: string;
  created_at: string;
}

export interface OfficeMemberTable {
  user_id: string;
  office_id: string;
  /** member or admin. */
  role: string;
  /** What the Sent folder shows as "sent by" for this user; null: the user id. */
  display_name: string | null;
  created_at: string;
  updated_at: string;
}

/** A notice link's token (links.ts): the fax it opens for the holder, until it expires or its owner signs it out. */
export interface LinkTokenTable {
  /** The random id the token starts with. */
  id: string;
  owner_id: string;
  fax_id: string;
  issued_at: string;
  expires_at: string;
  /** When the owner signed out every link issued before; null while it works. */
  revoked_at: string | null;
}

export interface TrackerDatabase {
  faxes: FaxTable;
  recipients: RecipientTable;
  recipient_events: RecipientEventTable;
  outbox: OutboxTable;
  notices: NoticeTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  provider_accounts: ProviderAccountTable;
  ingested_results: IngestedResultTable;
  link_tokens: LinkTokenTable;
  offices: OfficeTable;
  office_members: OfficeMemberTable;
  resends: ResendTable;
  received_faxes: ReceivedFaxTable;
  received_pages: ReceivedPageTable;
  fax_thumbnails: FaxThumbnailTable;
}

/** A received fax (the Inbox), one row per `fax.received` receivedId. */
export interface ReceivedFaxTable {
  id: string;
  owner_id: string;
  source: string;
  line_id: string | null;
  caller_number: string | null;
  called_number: string | null;
  /** The sender's TSI as sent (untrusted text). */
  remote_csid: string | null;
  status: string;
  reason: string | null;
  pages: number;
  started_at: string;
  ended_at: string;
  /** A provider's file (application/pdf or image/tiff), kept as it came; null for a line's pages. */
  file_type: string | null;
  file_data: Buffer | null;
  /** When the owner (or a colleague in scope) first opened it; null: unread. */
  read_at: string | null;
  created_at: string;
}

/** One received page: clean T.4 1-D (MH) data. */
export interface ReceivedPageTable {
  fax_id: string;
  page: number;
  width: number;
  rows: number;
  resolution: string;
  bad_rows: number;
  data: Buffer;
}

/** A sent fax's first page as a small PNG (fax.submitted's `firstPage`), for its confirmation report. */
export interface FaxThumbnailTable {
  fax_id: string;
  png: Buffer;
  width: number;
  height: number;
}

export type FaxRow = Selectable<FaxTable>;
export type RecipientRow = Selectable<RecipientTable>;
export type ResendRow = Selectable<ResendTable>;
export type RecipientEventRow = Selectable<RecipientEventTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NoticeRow = Selectable<NoticeTable>;
export type NewRecipient = Insertable<RecipientTable>;
export type WebhookRow = Selectable<WebhookTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>;
export type ProviderAccountRow = Selectable<ProviderAccountTable>;
export type IngestedResultRow = Selectable<IngestedResultTable>;
export type OfficeRow = Selectable<OfficeTable>;
export type OfficeMemberRow = Selectable<OfficeMemberTable>;
export type LinkTokenRow = Selectable<LinkTokenTable>;
export type ReceivedFaxRow = Selectable<ReceivedFaxTable>;
export type ReceivedPageRow = Selectable<ReceivedPageTable>;
