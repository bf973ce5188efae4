/**
 * The fax status vocabulary: per-recipient final and progress statuses, the aggregate state of a
 * fax, and the words shown to the fax owner for each of them in every supported locale.
 *
 * Plain data with no dependencies, so every service, template and event schema reads the same list.
 * The words themselves are in ./texts, one file per locale; what each status means is checked against
 * Fax.Plus's own table (./fax-plus-source.ts) by the vocabulary's tests.
 */
import { EN } from './texts/en';
import { IT } from './texts/it';
import { RU } from './texts/ru';

export const LOCALES = ['ru', 'en', 'it'] as const;
export type Locale = (typeof LOCALES)[number];

/** The 23 per-recipient final statuses of Fax.Plus (API 3.0.3 FaxStatus enum), in that API's order. */
export const FINAL_STATUSES = [
  'success',
  'partially_sent',
  'partially_received',
  'insufficient_credit',
  'failed',
  'failed_internal_process_error',
  'failed_user_busy',
  'failed_no_answer',
  'failed_unallocated_number',
  'failed_office_converter_issue',
  'failed_separate_file_pages_issue',
  'failed_render_header_issue',
  'failed_invalid_number_format',
  'failed_mimetype_not_supported',
  'failed_destination_not_supported',
  'failed_image_preparation',
  'failed_to_send',
  'failed_normal_temporary_failure',
  'failed_unknown_converter_issue',
  'failed_normal_clearing',
  'failed_convert_to_tiff_issue',
  'failed_fs_49',
  'failed_fs_2',
] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/** Non-final per-recipient statuses. */
export const PROGRESS_STATUSES = ['queued', 'converting', 'scheduled', 'dialing', 'connected', 'sending', 'retry_scheduled'] as const;
export type ProgressStatus = (typeof PROGRESS_STATUSES)[number];

/** What a final status means for the notice: every page reached the recipient, some pages did, none did. */
export type DeliveryOutcome = 'delivered' | 'partial' | 'failed';

/** The 4 aggregate states of a fax (the "Sent" folder icons). */
export const AGGREGATE_STATES = ['in_progress', 'delivered', 'failed', 'partial'] as const;
export type AggregateState = (typeof AGGREGATE_STATES)[number];

export interface StatusText {
  /** A short title of the status, fit for a list column or an SMS. */
  label: string;
  /** One sentence saying what happened, in words a fax owner understands. */
  description: string;
  /** One sentence on what to do next. */
  advice: string;
}

export interface FinalStatusInfo {
  outcome: DeliveryOutcome;
  /**
   * Whether dialling the same number again, with the same document, may succeed. Busy, no answer
   * and temporary network failures may clear up; a wrong number or a document we cannot convert
   * will fail the same way again, so retrying them only costs the owner another attempt.
   */
  retryable: boolean;
  /**
   * Which side caused it: 'line' (the call or the T.30 session), 'document' (conversion, format),
   * 'number' (addressing, routing to the destination), 'account' (credit), 'system' (our internals).
   * For a delivered or partial outcome it names the side that carried or cut the call: 'line'.
   */
  cause: 'line' | 'document' | 'number' | 'account' | 'system';
  text: Record<Locale, StatusText>;
}

/**
 * Everything shown to the fax owner in one locale: one file per locale under ./texts, so a
 * translator reads and edits one language in one place.
 */
export interface LocaleTexts {
  statuses: Record<FinalStatus, StatusText>;
  /** Short labels per outcome for notice titles. */
  outcomes: Record<DeliveryOutcome, string>;
  /** Labels for the aggregate state of a fax (the Sent folder and the fax page). */
  aggregate: Record<AggregateState, string>;
  /** Labels for a recipient that is not final yet (the fax page). */
  progress: Record<ProgressStatus, string>;
  /** The placeholder shown for a fax without a subject. */
  noSubject: string;
}

const TEXTS: Record<Locale, LocaleTexts> = { ru: RU, en: EN, it: IT };

/** What each final status means for delivery and for a redial; the words for it are in ./texts. */
const FINAL_STATUS_MEANING: Record<FinalStatus, Omit<FinalStatusInfo, 'text'>> = {
  success: { outcome: 'delivered', retryable: false, cause: 'line' },
  partially_sent: { outcome: 'partial', retryable: true, cause: 'line' },
  partially_received: { outcome: 'partial', retryable: true, cause: 'line' },
  insufficient_credit: { outcome: 'failed', retryable: false, cause: 'account' },
  failed: { outcome: 'failed', retryable: true, cause: 'line' },
  failed_internal_process_error: { outcome: 'failed', retryable: true, cause: 'system' },
  failed_user_busy: { outcome: 'failed', retryable: true, cause: 'line' },
  failed_no_answer: { outcome: 'failed', retryable: true, cause: 'line' },
  failed_unallocated_number: { outcome: 'failed', retryable: false, cause: 'number' },
  failed_office_converter_issue: { outcome: 'failed', retryable: false, cause: 'document' },
  failed_separate_file_pages_issue: { outcome: 'failed', retryable: false, cause: 'document' },
  failed_render_header_issue: { outcome: 'failed', retryable: false, cause: 'document' },
  failed_invalid_number_format: { outcome: 'failed', retryable: false, cause: 'number' },
  failed_mimetype_not_supported: { outcome: 'failed', retryable: false, cause: 'document' },
  failed_destination_not_supported: { outcome: 'failed', retryable: false, cause: 'number' },
  failed_image_preparation: { outcome: 'failed', retryable: false, cause: 'document' },
  // Fax.Plus: "System was busy. Try again later." A busy sending side, not the recipient's line.
  failed_to_send: { outcome: 'failed', retryable: true, cause: 'system' },
  failed_normal_temporary_failure: { outcome: 'failed', retryable: true, cause: 'line' },
  failed_unknown_converter_issue: { outcome: 'failed', retryable: false, cause: 'document' },
  // Fax.Plus: "Destination was busy. Wait and retry."
  failed_normal_clearing: { outcome: 'failed', retryable: true, cause: 'line' },
  failed_convert_to_tiff_issue: { outcome: 'failed', retryable: false, cause: 'document' },
  // Fax.Plus: "Remote fax machine disconnected unexpectedly. Some pages may have been transmitted."
  // The number is the fax engine's T.30 result code 49, "the call dropped prematurely" (not a
  // telephone network cause); the call itself got through, so a later attempt may succeed.
  failed_fs_49: { outcome: 'failed', retryable: true, cause: 'line' },
  // Fax.Plus lists no description for this one. By the same numbering as failed_fs_49 it is the fax
  // engine's T.30 result code 2, "timed out waiting for initial communication": the call was placed
  // but no fax machine began the exchange. Like a number that is not a fax line, it answers the same
  // way again, so it is not redialled until the owner has checked the number.
  failed_fs_2: { outcome: 'failed', retryable: false, cause: 'number' },
};

function finalStatusInfo(): Record<FinalStatus, FinalStatusInfo> {
  const entries = FINAL_STATUSES.map((status) => {
    const text = { ru: TEXTS.ru.statuses[status], en: TEXTS.en.statuses[status], it: TEXTS.it.statuses[status] };
    return [status, { ...FINAL_STATUS_MEANING[status], text }] as const;
  });
  return Object.fromEntries(entries) as Record<FinalStatus, FinalStatusInfo>;
}

function perLocale<T>(pick: (texts: LocaleTexts) => T): Record<Locale, T> {
  return { ru: pick(TEXTS.ru), en: pick(TEXTS.en), it: pick(TEXTS.it) };
}

export const FINAL_STATUS_INFO: Record<FinalStatus, FinalStatusInfo> = finalStatusInfo();

/** Short labels per outcome for notice titles. */
export const OUTCOME_LABELS: Record<Locale, Record<DeliveryOutcome, string>> = perLocale((texts) => texts.outcomes);

/** Labels for the aggregate state of a fax (the Sent folder and the fax page). */
export const AGGREGATE_LABELS: Record<Locale, Record<AggregateState, string>> = perLocale((texts) => texts.aggregate);

/** Labels for a recipient that is not final yet (the fax page). */
export const PROGRESS_LABELS: Record<Locale, Record<ProgressStatus, string>> = perLocale((texts) => texts.progress);

/** The placeholder shown for a fax without a subject. */
export const NO_SUBJECT: Record<Locale, string> = perLocale((texts) => texts.noSubject);

const FINAL_STATUS_SET: ReadonlySet<string> = new Set(FINAL_STATUSES);

/** Narrows a status read from a peer or the database; a Set, so names like "toString" are not mistaken for statuses. */
export function isFinalStatus(s: string): s is FinalStatus {
  return FINAL_STATUS_SET.has(s);
}

/** Everything a notice says about one final status, in one locale. */
export function describeStatus(status: FinalStatus, locale: Locale): StatusText & { outcome: DeliveryOutcome; retryable: boolean } {
  const info = FINAL_STATUS_INFO[status];
  return { ...info.text[locale], outcome: info.outcome, retryable: info.retryable };
}

/**
 * Aggregate of a fax from its recipients: in_progress while any recipient is non-final (or there
 * are none yet); delivered when every recipient got every page; failed when no recipient got any
 * page; partial otherwise.
 *
 * Only `success` counts as every page: a failed call can report all pages sent and still lack the
 * receiver's final confirmation. A recipient got some pages when it reports pages sent, or when its
 * status itself says so (partially_sent / partially_received), whatever the page counter holds.
 */
export function aggregateState(recipients: ReadonlyArray<{ status: FinalStatus | ProgressStatus; pagesSent: number; pagesTotal: number }>): AggregateState {
  if (recipients.length === 0) return 'in_progress';
  let allDelivered = true;
  let anyPageArrived = false;
  for (const recipient of recipients) {
    if (!isFinalStatus(recipient.status)) return 'in_progress';
    const outcome = FINAL_STATUS_INFO[recipient.status].outcome;
    if (outcome !== 'delivered') allDelivered = false;
    if (outcome !== 'failed' || recipient.pagesSent > 0) anyPageArrived = true;
  }
  if (allDelivered) return 'delivered';
  return anyPageArrived ? 'partial' : 'failed';
}
