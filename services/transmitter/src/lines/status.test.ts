/**
 * The line-reason table, in the meaning Fax.Plus's table gives each status. The rows named after a driver case are the statuses those cases were
 * known by: the drivers' own tests (packages/fax-line) assert the reason and page counts, this
 * the status they become.
 */
import type { FinalStatus } from '@faxnotify/contracts';
import { LineReason, type LineReasonCode } from '@faxnotify/fax-line';
import { statusFor } from './status';

describe('statusFor', () => {
  it.each<[string, LineReasonCode, number, number, FinalStatus]>([
    ['every page confirmed', 'OK', 2, 2, 'success'],
    ['every page confirmed, whatever ended the call after', 'NO_CARRIER', 1, 1, 'success'],
    ['ended normally, pages missing', 'OK', 1, 2, 'partially_sent'],
    ['ended normally, no page confirmed', 'OK', 0, 2, 'failed'],
    ['busy', 'BUSY', 0, 1, 'failed_user_busy'],
    ['nobody answered', 'NO_ANSWER', 0, 1, 'failed_no_answer'],
    ['answered, no DIS within T1', 'T30_T1_TIMEOUT', 0, 1, 'failed_no_answer'],
    ['no dial tone (the far modem off-hook, or Class 2.0 +FHS:03)', 'NO_DIALTONE', 0, 1, 'failed_normal_temporary_failure'],
    ['answered without a fax carrier (NO CARRIER to ATD, or Class 2.0 +FHS:05)', 'NO_CARRIER_ON_DIAL', 0, 1, 'failed_no_answer'],
    ['FTT down to 2400 bit/s (or Class 2.0 +FHS:27)', 'T30_TRAINING_FAILED', 0, 1, 'failed'],
    ['RTN limit after a confirmed page', 'T30_RTN_LIMIT', 1, 2, 'partially_sent'],
    ['RTN limit on the first page', 'T30_RTN_LIMIT', 0, 1, 'failed'],
    ['no answer to EOP after a confirmed page (or the receiver gone during page 2)', 'T30_POST_PAGE_NO_RESPONSE', 1, 2, 'partially_sent'],
    ['no answer to EOP, no page confirmed', 'T30_POST_PAGE_NO_RESPONSE', 0, 1, 'failed_fs_49'],
    ['carrier lost during page 2 of 2', 'NO_CARRIER', 1, 2, 'partially_sent'],
    ['carrier lost during the first page', 'NO_CARRIER', 0, 1, 'failed_fs_49'],
    ['DCN from the receiver after training', 'T30_REMOTE_DCN', 0, 1, 'failed_fs_49'],
    ['DIS repeated after every DCS', 'T30_DIS_REPEATED', 0, 1, 'failed'],
    ['DCS unanswered', 'T30_DCS_NO_RESPONSE', 0, 1, 'failed'],
    ['an answer T.30 does not allow', 'T30_INVALID_RESPONSE', 1, 3, 'partially_sent'],
    ['PIN/PIP', 'T30_PROCEDURE_INTERRUPT', 0, 1, 'failed'],
    ['receiver cannot take the fax', 'T30_INCOMPATIBLE', 0, 1, 'failed'],
    ['a Class 2.0 hang-up code of its own', 'FHS', 0, 1, 'failed'],
    ['XOFF held too long after a page', 'FLOW_CONTROL_TIMEOUT', 1, 2, 'partially_sent'],
    ['XOFF held too long before any page', 'FLOW_CONTROL_TIMEOUT', 0, 1, 'failed_internal_process_error'],
    ['aborted by the caller before any page', 'ABORTED', 0, 2, 'failed'],
    ['aborted by the caller after a page', 'ABORTED', 1, 2, 'partially_sent'],
    ['a modem that cannot be opened', 'MODEM_ERROR', 0, 1, 'failed_internal_process_error'],
    ['a modem error after a page', 'MODEM_ERROR', 1, 2, 'partially_sent'],
    ['nothing to send', 'EMPTY_DOCUMENT', 0, 0, 'failed_image_preparation'],
  ])('%s: %s with %i of %i pages is %s', (_case, reason, confirmed, total, status) => {
    expect(statusFor(reason, confirmed, total)).toBe(status);
  });

  it('does not count a fax of unknown length (0 pages total, as ATA CDRs report) as complete', () => {
    expect(statusFor('OK', 3, 0)).toBe('partially_sent');
    expect(statusFor('OK', 0, 0)).toBe('failed');
    expect(statusFor('T30_INVALID_RESPONSE', 2, 0)).toBe('partially_sent');
    expect(statusFor('NO_DIALTONE', 0, 0)).toBe('failed_normal_temporary_failure');
  });

  it('gives every line reason a status', () => {
    for (const reason of Object.values(LineReason)) {
      expect(typeof statusFor(reason, 0, 1)).toBe('string');
      expect(statusFor(reason, 1, 1)).toBe('success');
    }
  });
});
