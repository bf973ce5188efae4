/**
 * Fax.Plus's own words for its fax statuses, copied as they stand in the product description our
 * vocabulary follows: shared/seeds/003_1386ef4adbcacf1e.txt (Fax.Plus, "the fax object"), its
 * "Fax Error Statuses" table and the "Fax status" list of its schema. Where our texts and these
 * disagree on what a status means, these win; the vocabulary's tests check our English texts
 * against them, so a text that drifts away from its status's meaning, or a status added or removed
 * on either side, fails a test.
 *
 * `keyWords` are words of the source's own description that carry its meaning; each must appear
 * (ignoring case) both in the source's description and in our English description or advice.
 */

/** The schema's "Fax status" list, in the source's order. */
export const FAX_PLUS_STATUSES: readonly string[] = [
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
];

export interface SourceStatusRow {
  /** The source's description, word for word. */
  description: string;
  keyWords: readonly string[];
}

/** Statuses of the list that the source's table gives no description for. */
export const FAX_PLUS_UNDESCRIBED: readonly string[] = ['failed_fs_2'];

const CONVERSION_ISSUE = 'File conversion issue. Check if all pages in the source file(s) are valid.';
const CONVERSION_ISSUE_WORDS = ['conversion', 'all pages', 'source file', 'valid'];
const GENERIC_ERROR = 'Generic error. Retry, and contact support if the issue persists.';
const GENERIC_ERROR_WORDS = ['generic error', 'retry', 'contact support', 'persists'];
const NUMBER_WORDS = ['invalid', 'check the number', 'country', 'area code'];

/** The "Fax Error Statuses" table, row by row, in the source's order. */
export const FAX_PLUS_STATUS_TABLE: Readonly<Record<string, SourceStatusRow>> = {
  success: { description: 'The fax was successfully sent.', keyWords: ['successfully sent'] },
  partially_sent: {
    description: 'The first pages were transmitted, but the call dropped due to connection issues.',
    keyWords: ['first pages', 'transmitted', 'call dropped', 'connection issues'],
  },
  partially_received: {
    description: 'The first pages were received, but the call dropped due to connection issues.',
    keyWords: ['first pages', 'received', 'call dropped', 'connection issues'],
  },
  insufficient_credit: {
    description: 'Not enough credit to send or receive pages. Add credit or wait for plan reset.',
    keyWords: ['enough credit', 'pages', 'add credit', 'plan', 'reset'],
  },
  failed: { description: GENERIC_ERROR, keyWords: GENERIC_ERROR_WORDS },
  failed_internal_process_error: { description: GENERIC_ERROR, keyWords: GENERIC_ERROR_WORDS },
  failed_user_busy: { description: 'The destination was busy. Wait and retry.', keyWords: ['busy', 'wait'] },
  failed_no_answer: {
    description: 'No answer at the destination. Retry when you know the recipient is available.',
    keyWords: ['no answer', 'destination', 'retry when you know the recipient is available'],
  },
  failed_unallocated_number: { description: 'Invalid number. Check the number, including country and area codes.', keyWords: NUMBER_WORDS },
  failed_office_converter_issue: {
    description: 'Failed to convert Microsoft Office document. Recreate and resubmit the file.',
    keyWords: ['convert', 'microsoft office document', 'recreate', 'resubmit'],
  },
  failed_separate_file_pages_issue: { description: CONVERSION_ISSUE, keyWords: CONVERSION_ISSUE_WORDS },
  failed_render_header_issue: { description: CONVERSION_ISSUE, keyWords: CONVERSION_ISSUE_WORDS },
  failed_invalid_number_format: {
    description: 'Invalid number format. Check the number, including country and area codes.',
    keyWords: ['number format', ...NUMBER_WORDS],
  },
  failed_mimetype_not_supported: { description: 'Unsupported file type.', keyWords: ['unsupported file type'] },
  failed_destination_not_supported: {
    description: 'Number is a special service number or not supported by your plan.',
    keyWords: ['special service number', 'not supported by your plan'],
  },
  failed_image_preparation: { description: CONVERSION_ISSUE, keyWords: CONVERSION_ISSUE_WORDS },
  failed_to_send: { description: 'System was busy. Try again later.', keyWords: ['system was busy', 'try again later'] },
  failed_normal_temporary_failure: { description: 'Temporary network issue. Retry immediately.', keyWords: ['temporary network issue', 'retry immediately'] },
  failed_unknown_converter_issue: {
    description: 'File conversion failed. Check if the file is password-protected.',
    keyWords: ['file conversion failed', 'password-protected'],
  },
  failed_normal_clearing: { description: 'Destination was busy. Wait and retry.', keyWords: ['destination was busy', 'wait and retry'] },
  failed_convert_to_tiff_issue: { description: CONVERSION_ISSUE, keyWords: CONVERSION_ISSUE_WORDS },
  failed_fs_49: {
    description: 'Remote fax machine disconnected unexpectedly. Some pages may have been transmitted.',
    keyWords: ['remote fax machine disconnected unexpectedly', 'some pages may have been transmitted'],
  },
};
