import type { FaxDocument } from './documents/fax-document';

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
  /** No DIS from the called station within T1. */
  T30_T1_TIMEOUT: 'T30_T1_TIMEOUT',
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
  /** The receiver sent DCN before the end of the procedure. */
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
  /** The caller aborted the send. */
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
