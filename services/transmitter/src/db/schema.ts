/**
 * The transmitter's tables, as Kysely sees them: the one schema module of the service. Times are
 * UTC ISO 8601 text and flags 0/1 integers, so they sort, compare and query alike on SQLite and
 * PostgreSQL.
 */
import type { EventOutboxTable } from '@faxnotify/kit';
import type { FileFormat } from '../documents';

/** An uploaded document, owned by one user, referred to by its `path` in outbox entries. */
export interface FileRow {
  id: string;
  owner_id: string;
  /** The name the client gave, for display only. */
  name: string;
  /** What its content is (see sniffFile); varchar(8). */
  format: FileFormat;
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
  /** The fax whose documents this one sends again (an order of the status tracker's); null for any other fax. */
  resend_of: string | null;
  created_at: string;
  updated_at: string;
  /** The cover page asked for (CoverPageSetting as JSON), null for none. */
  cover_page: string | null;
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
  /** The pages this recipient gets, from 1 in the prepared documents (a resend's missing pages); null: all of them. */
  page_first: number | null;
  page_last: number | null;
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

// ---- fax ATAs behind a FaxBack port server ----

export type CallAheadMode = 'never' | 'dynamic' | 'always';
export const CALL_AHEAD_MODES: readonly CallAheadMode[] = ['never', 'dynamic', 'always'];

/** A port-server account: who may log in and send, and the faxnotify user its faxes belong to. */
export interface AtaAccountRow {
  id: string;
  /** As the operator wrote it. */
  name: string;
  /** The name folded for comparison: port-server account names compare case-insensitively. */
  name_key: string;
  /** scrypt hash of the password; null: the account cannot log in (validate/login are refused). */
  password_hash: string | null;
  /** The faxnotify user who owns the account's faxes and receives their notices. */
  owner_id: string;
  /** FB-Account-Type to report, as the manual numbers it (the operator sets it); null: not sent. */
  account_type: number | null;
  call_ahead_mode: CallAheadMode;
  send_enabled: number;
  receive_enabled: number;
  /** Caller id for the account's outgoing calls (FB-Snd-ANI). */
  send_ani: string | null;
  /** TSI of the account's sends (FB-Snd-TSID). */
  send_csid: string | null;
  /** CSI of the account's receives (FB-Rcv-CSID). */
  receive_csid: string | null;
  /** Where the e-mail gateway sends received faxes (FB-Rcv-Email). */
  receive_email: string | null;
  created_at: string;
  updated_at: string;
}

/** A number that routes to an account: an inbound DID, and the line an ATA sends from. */
export interface AtaDidRow {
  /** Digits (and a leading +), or `*` for the catch-all. */
  did: string;
  account_id: string;
  enabled: number;
  send_ani: string | null;
  /** FB-Queue-Profile XML for this line (must carry Op="1" to override the account's). */
  queue_profile: string | null;
  line_id: string | null;
  line_num: number | null;
  created_at: string;
  updated_at: string;
}

/** What earlier faxes taught about a number: whether a fax machine answers there. */
export interface AtaCalledNumberRow {
  number_key: string;
  /** When a send to it last engaged the fax protocol. */
  fax_reached_at: string | null;
  /** When a voice last answered it; sticky: the number is always called ahead afterwards. */
  voice_answered_at: string | null;
  faxes: number;
  last_session_id: string | null;
  updated_at: string;
}

/**
 * One recipient the port server reports on, as faxnotify tracks it: a fax the port server reported
 * (its one recipient), or a recipient of ours an ATA line handed over.
 */
export interface AtaFaxRow {
  fax_id: string;
  recipient_id: string;
  owner_id: string;
  account_id: string;
  number: string;
  attempt: number;
  /** The next event's sequence number within the attempt. */
  next_sequence: number;
  connected: number;
  pages_sent: number;
  /** Set once the result was written: later records of the fax are kept but report nothing. */
  final_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One port-server session (Acct-Session-Id), from its pre-session request to its Stop. */
export interface AtaSessionRow {
  /** Acct-Session-Id, opaque and case-sensitive. */
  session_id: string;
  account_id: string | null;
  account_name: string | null;
  direction: 'send' | 'receive' | null;
  dial_number: string | null;
  transfer_type: string | null;
  related_session_id: string | null;
  fax_id: string | null;
  recipient_id: string | null;
  state: 'authorized' | 'started' | 'alive' | 'stopped';
  started_at: string | null;
  stopped_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Every accounting record handled, once: a resent record finds its key here and changes nothing. */
export interface AtaAccountingRecordRow {
  record_key: string;
  session_id: string;
  status_type: string;
  client: string;
  attributes: string;
  received_at: string;
}

/**
 * A recipient of a fax submitted through our API, sent through an ATA line: the ATA takes the
 * pages, the port server delivers them later and reports the delivery in its CDRs. The row exists
 * from the moment the line dials, so a CDR that comes early still finds it; the first send session
 * of the line's account to the same number claims it (session_id), and that session's events
 * continue the recipient's own sequence in `recipients`.
 * calling: the line is dialling the ATA; handed: the ATA took the fax; orphan: the call was cut by a
 * restart and the recipient waits for its redial (a session that reports the fax before the redial
 * starts takes the recipient back); final: the result is written.
 */
export interface AtaHandoffRow {
  outbox_id: string;
  position: number;
  fax_id: string;
  recipient_id: string;
  /** accountNameKey of the account the ATA line sends as. */
  account_key: string;
  /** calledNumberKey of the recipient's number. */
  number_key: string;
  line_id: string;
  attempt: number;
  pages_total: number;
  state: 'calling' | 'handed' | 'orphan' | 'final';
  created_at: string;
  handed_at: string | null;
  /** No report by then: the recipient fails with ATA_NO_REPORT. */
  expires_at: string | null;
  /** The port-server session that claimed it. */
  session_id: string | null;
  final_at: string | null;
}

/** A fax one of our lines received (its pages travel in the fax.received event of the event outbox). */
export interface ReceivedFaxRow {
  /** `<line id>:<answered at>`: the same call recorded twice is one row. */
  received_id: string;
  line_id: string;
  owner_id: string;
  caller_number: string | null;
  called_number: string | null;
  remote_csid: string | null;
  status: 'success' | 'partially_received' | 'failed';
  reason_code: string;
  reason_detail: string;
  pages_received: number;
  /** Bytes of T.4 data of the pages kept. */
  bytes: number;
  started_at: string;
  answered_at: string | null;
  ended_at: string;
  created_at: string;
}

/** Every table of the transmitter: outbox entries and their faxes, uploads, the event outbox, and the fax ATAs' tables. */
export interface TransmitterDatabase {
  files: FileRow;
  faxes: FaxRow;
  fax_files: FaxFileRow;
  recipients: RecipientRow;
  attempts: AttemptRow;
  event_outbox: EventOutboxTable;
  received_faxes: ReceivedFaxRow;
  ata_accounts: AtaAccountRow;
  ata_dids: AtaDidRow;
  ata_called_numbers: AtaCalledNumberRow;
  ata_faxes: AtaFaxRow;
  ata_sessions: AtaSessionRow;
  ata_accounting_records: AtaAccountingRecordRow;
  ata_handoffs: AtaHandoffRow;
}
