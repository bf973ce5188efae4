import type { Generated, Insertable, Selectable } from 'kysely';

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
export interface OutboxTable {
  /** Insertion order: the relay publishes in this order. */
  seq: Generated<number>;
  /** The CloudEvent id; it stays the same when the event is published again. */
  id: string;
  dedupe_key: string;
  routing_key: string;
  fax_id: string;
  recipient_id: string | null;
  /** The whole CloudEvent, JSON, exactly as published. */
  event_json: string;
  created_at: string;
  published_at: string | null;
  publish_attempts: number;
  last_error: string | null;
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
  attempts: number;
  at: string;
  received_at: string;
}

export interface TrackerDatabase {
  faxes: FaxTable;
  recipients: RecipientTable;
  recipient_events: RecipientEventTable;
  outbox: OutboxTable;
  notices: NoticeTable;
}

export type FaxRow = Selectable<FaxTable>;
export type RecipientRow = Selectable<RecipientTable>;
export type RecipientEventRow = Selectable<RecipientEventTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NoticeRow = Selectable<NoticeTable>;
export type NewRecipient = Insertable<RecipientTable>;
