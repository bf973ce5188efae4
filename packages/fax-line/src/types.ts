import type { FaxDocument, FaxPage } from './documents/fax-document';
import type { LineMode } from './modem-call';

export type { LineMode } from './modem-call';

/**
 * One fax line: a fax modem driven in Class 1 or Class 2.0. Nothing above this interface may
 * assume a serial port; what a send means to the caller (a delivery, a status) is the caller's.
 */
export interface FaxLine {
  readonly id: string;
  /** The fax service class the modem is driven in. */
  readonly kind: 'class1' | 'class2.0';
  /**
   * Sends one fax to one number. Resolves with the result; never rejects for line conditions
   * (busy, no answer, lost carrier, a dead modem), only for programming errors such as a second
   * send on a busy line.
   */
  send(request: LineSendRequest, observer: LineObserver, signal?: AbortSignal): Promise<LineResult>;
  /** Whether the line sends, answers, or both. */
  readonly mode: LineMode;
  /**
   * Waits on the idle line for a call, answers it and receives the fax. Resolves with what arrived
   * (NO_CALL if none came before `request.waitMs` or the signal); rejects only for programming
   * errors (a line configured to send only, a second receive). A send on a line that is both yields
   * the wait: the receive resolves with NO_CALL before any call was answered.
   */
  receive(request: LineReceiveRequest, observer: ReceiveObserver, signal?: AbortSignal): Promise<LineReceiveResult>;
  close(): Promise<void>;
}

export interface LineSendRequest {
  /** What the line dials, as it dials it (e.g. "2002", "0049301234567"). */
  dialString: string;
  /** Our TSI shown to the receiver; at most 20 characters are sent. */
  localId: string;
  /** Pages already prepared as G3 data with width and resolution. */
  document: FaxDocument;
}

export interface LineObserver {
  dialing?(): void;
  connected?(remote: { csid: string | null; csidRaw: string | null }): void;
  /** The receiver confirmed page `page` (1-based) of `of`. */
  pageConfirmed?(page: number, of: number): void;
  /** One readable line of the session: commands, results, frames, state changes. */
  trace?(line: string): void;
}

export interface LineReceiveRequest {
  /** Longest wait for a call, ms. Default: until the signal aborts. */
  waitMs?: number;
}

export interface ReceiveObserver {
  /** The line rings: the caller's and the called number where the modem reports them. */
  ringing?(call: { callerNumber: string | null; calledNumber: string | null }): void;
  /** The sender identified itself (TSI) and chose the session (DCS). */
  connected?(remote: { csid: string | null; csidRaw: string | null }): void;
  /** Page `page` (1-based) arrived and we confirmed it (MCF). */
  pageReceived?(page: number, detail: { rows: number; badRows: number }): void;
  /** A page arrived too damaged and we asked for it again (RTN). */
  pageRejected?(page: number, detail: { rows: number; badRows: number }): void;
  trace?(line: string): void;
}

/** A page as received: T.4 1-D data re-encoded clean (no fill, no RTC), its size and resolution, and its damage. */
export interface ReceivedPage extends FaxPage {
  /** Rows that could not be decoded cleanly (kept white or partly drawn). */
  readonly badRows: number;
}

/** How a receive went, as the caller will store it. */
export type ReceiveStatus = 'success' | 'partially_received' | 'failed';

export interface LineReceiveResult {
  /** success: every page confirmed and the sender ended normally; partially_received: some pages kept; failed: none. */
  status: ReceiveStatus;
  /** Pages confirmed (MCF), in order. */
  pages: ReceivedPage[];
  /** The page cut off when the call ended (rows up to the cut), not counted in `pages`; null if none. */
  partialPage: ReceivedPage | null;
  /** Pages we asked for again (RTN) for bad copy quality. */
  pagesRejected: number;
  /** The sender's TSI. */
  remoteCsid: string | null;
  remoteCsidRaw: string | null;
  /** Caller id (NMBR) and called number (NDID) when the modem reports them; the called number falls back to the line's number. */
  callerNumber: string | null;
  calledNumber: string | null;
  reason: { code: LineReasonCode; detail: string };
  /** When the wait began, the call was answered (null if none), and the call ended. */
  startedAt: Date;
  connectedAt: Date | null;
  endedAt: Date;
  /** Bits per second of the last page data received, null if none. */
  signallingRate: number | null;
}

/** Why a send ended, in words code can branch on. */
export const LineReason = {
  OK: 'OK',
  BUSY: 'BUSY',
  NO_ANSWER: 'NO_ANSWER',
  NO_DIALTONE: 'NO_DIALTONE',
  /** Answered, but no fax carrier (a voice line, or the far end hung up at once). */
  NO_CARRIER_ON_DIAL: 'NO_CARRIER_ON_DIAL',
  /** The carrier dropped while a page was being sent. */
  NO_CARRIER: 'NO_CARRIER',
  /** No DIS from the called station within T1 (receiving: no DCS from the caller). */
  T30_T1_TIMEOUT: 'T30_T1_TIMEOUT',
  /** Receiving: no page after CFR, or no post-page command after a page, within T2 (and its repeats). */
  T30_T2_TIMEOUT: 'T30_T2_TIMEOUT',
  /** Receiving: a frame from the sender that T.30 does not allow there. */
  T30_INVALID_COMMAND: 'T30_INVALID_COMMAND',
  /** Receiving: no call arrived while the line waited. */
  NO_CALL: 'NO_CALL',
  /** DCS sent three times without a response. */
  T30_DCS_NO_RESPONSE: 'T30_DCS_NO_RESPONSE',
  /** DIS received three times: our DCS was not understood. */
  T30_DIS_REPEATED: 'T30_DIS_REPEATED',
  /** FTT at every rate down to 2400 bit/s. */
  T30_TRAINING_FAILED: 'T30_TRAINING_FAILED',
  /** The page was rejected (RTN) too many times. */
  T30_RTN_LIMIT: 'T30_RTN_LIMIT',
  /** No answer to MPS/EOP after three tries. */
  T30_POST_PAGE_NO_RESPONSE: 'T30_POST_PAGE_NO_RESPONSE',
  /** An answer to a command that T.30 does not allow there. */
  T30_INVALID_RESPONSE: 'T30_INVALID_RESPONSE',
  /** The far station sent DCN before the end of the procedure. */
  T30_REMOTE_DCN: 'T30_REMOTE_DCN',
  /** The receiver answered PIN/PIP (operator intervention), which we cannot serve. */
  T30_PROCEDURE_INTERRUPT: 'T30_PROCEDURE_INTERRUPT',
  /** The receiver cannot take what we have (not ready, no usable rate or coding). */
  T30_INCOMPATIBLE: 'T30_INCOMPATIBLE',
  /** Class 2.0 hang-up (+FHS) with a code that no other reason stands for (see fhs.ts); detail keeps the code. */
  FHS: 'FHS',
  /** The modem held us with XOFF far too long. */
  FLOW_CONTROL_TIMEOUT: 'FLOW_CONTROL_TIMEOUT',
  /** The modem did not answer a command, rejected it, or its port failed. */
  MODEM_ERROR: 'MODEM_ERROR',
  /** The caller aborted the send (or the receive). */
  ABORTED: 'ABORTED',
  /** Nothing to send. */
  EMPTY_DOCUMENT: 'EMPTY_DOCUMENT',
} as const;
export type LineReasonCode = (typeof LineReason)[keyof typeof LineReason];

/**
 * How a send ended, as facts of the line: why (a line reason), how many pages the receiver
 * confirmed, who answered and when. Judging the outcome (a delivery status, a redial) is left to
 * the caller, which has the pages and the reason to judge it by.
 */
export interface LineResult {
  pagesConfirmed: number;
  pagesTotal: number;
  remoteCsid: string | null;
  remoteCsidRaw: string | null;
  reason: {
    /** e.g. NO_ANSWER, BUSY, NO_DIALTONE, NO_CARRIER, T30_RTN_LIMIT, T30_T1_TIMEOUT (see LineReason). */
    code: LineReasonCode;
    /** Raw line detail: the modem's result line, the last frames. */
    detail: string;
  };
  startedAt: Date;
  connectedAt: Date | null;
  endedAt: Date;
  /** Bits per second of the last page data sent, null if no page was started. */
  signallingRate: number | null;
}
