/**
 * The transmitter's tables, as Kysely sees them. Times are UTC ISO 8601 text, so they sort and
 * compare as text on SQLite and PostgreSQL alike.
 */
import type { Generated } from 'kysely';
import type { AtaTables } from './ata/schema';

/** An uploaded document, owned by one user, referred to by its `path` in outbox entries. */
export interface FileRow {
  id: string;
  owner_id: string;
  /** The name the client gave, for display only. */
  name: string;
  format: 'pdf' | 'tiff';
  bytes: number;
  /** Where it is on disk. */
  stored_path: string;
  created_at: string;
}

/**
 * One outbox entry and, once sent, the fax it became.
 * waiting: before its send time, changeable; preparing: documents being converted;
 * sending: fax id minted, fax.submitted written, recipients being dialled; done: every recipient final.
 */
export type FaxState = 'waiting' | 'preparing' | 'sending' | 'done';

export interface FaxRow {
  outbox_id: string;
  fax_id: string | null;
  owner_id: string;
  from_number: string | null;
  subject: string;
  send_at: string | null;
  retry_count: number;
  /** 0: the transmitter's delays by cause. */
  retry_delay_minutes: number;
  state: FaxState;
  pages: number | null;
  submitted_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface FaxFileRow {
  outbox_id: string;
  position: number;
  file_id: string;
  path: string;
  name: string;
  bytes: number;
  pages: number | null;
}

/**
 * waiting: its fax is not sent yet; queued: to be dialled at next_attempt_at; in_call: a line is
 * dialling it (after a crash, the attempt that was cut); final: done.
 */
export type RecipientState = 'waiting' | 'queued' | 'in_call' | 'handed_over' | 'final';

export interface RecipientRow {
  outbox_id: string;
  position: number;
  recipient_id: string;
  number: string;
  state: RecipientState;
  /** What the API shows: a progress status, or the final status. */
  status: string;
  next_attempt_at: string | null;
  /** The current (or last) attempt, from 1; 0 before the first dial. */
  attempt: number;
  /** The next event's sequence number within the attempt. */
  sequence: number;
  line_id: string | null;
  call_started_at: string | null;
  connected_at: string | null;
  remote_csid: string | null;
  remote_csid_raw: string | null;
  pages_confirmed: number;
  pages_total: number;
  reason_code: string | null;
  reason_detail: string | null;
  ended_at: string | null;
  updated_at: string;
}

/** One dial attempt of one recipient, as it ended. */
export interface AttemptRow {
  outbox_id: string;
  position: number;
  attempt: number;
  line_id: string | null;
  status: string;
  reason_code: string;
  reason_detail: string;
  pages_confirmed: number;
  pages_total: number;
  remote_csid: string | null;
  remote_csid_raw: string | null;
  started_at: string | null;
  connected_at: string | null;
  ended_at: string;
  signalling_rate: number | null;
}

/** Events written in the same transaction as the state they report, handed to the broker by the relay. */
export interface EventOutboxRow {
  seq: number;
  id: string;
  routing_key: string;
  fax_id: string;
  recipient_id: string | null;
  event_json: string;
  created_at: string;
  published_at: string | null;
  publish_attempts: number;
  last_error: string | null;
}

export interface TransmitterDatabase extends AtaTables {
  files: FileRow;
  faxes: FaxRow;
  fax_files: FaxFileRow;
  recipients: RecipientRow;
  attempts: AttemptRow;
  event_outbox: Omit<EventOutboxRow, 'seq'> & { seq: Generated<number> };
}
