/** What the recipient ledger takes and writes: how attempts end, what reports say, a final result. */
import type { FaxRecipientProgress, FinalStatus } from '@faxnotify/contracts';
import type { AttemptRow } from '../db/schema';

export interface RecipientKey {
  outbox_id: string;
  position: number;
}

/** How an attempt's call ended, in the product's words. */
export interface AttemptEnd {
  status: FinalStatus;
  reason: { code: string; detail: string };
  pagesConfirmed: number;
  pagesTotal: number;
  remoteCsid: string | null;
  remoteCsidRaw: string | null;
  startedAt: Date;
  connectedAt: Date | null;
  endedAt: Date;
  signallingRate: number | null;
}

/** What the far side a line handed a fax to (a port server) finally says about its delivery. */
export interface HandoverReport {
  status: FinalStatus;
  reason: { code: string; detail: string };
  pagesSent: number;
  remoteCsid: string | null;
  remoteCsidRaw: string | null;
  startedAt: Date | null;
  endedAt: Date;
}

/** What a call in progress reported with a step. */
export interface CallProgress {
  csid?: string | null;
  csidRaw?: string | null;
  page?: { n: number; of: number };
}

/** A step a report gives, as fax.recipient.progress carries it. */
export type ReportedProgress = Omit<FaxRecipientProgress, 'faxId' | 'recipientId' | 'number' | 'attempt' | 'sequence' | 'at'>;

/** Reason code of a recipient that ended because its fax's documents could not be prepared. */
export const DOCUMENT_PREPARATION = 'DOCUMENT_PREPARATION';
/** Reason code of an attempt that ended with the fax handed to a line's far side, which reports later. */
export const HANDED_OVER = 'ATA_HANDED_OVER';

/** A recipient's final result, as the ledger writes it. */
export interface Final {
  status: FinalStatus;
  code: string;
  detail: string;
  pagesSent: number;
  pagesTotal: number;
  remoteCsid: string | null;
  remoteCsidRaw: string | null;
  /** When the call connected (the result's startedAt). */
  startedAt: Date | null;
  endedAt: Date;
  /** The attempt's row: written whole, or only its ending when the attempt already has one. */
  attemptRow: AttemptRow;
  /** Set: the recipient's `connected_at` too. */
  connectedAt?: Date | null;
}
