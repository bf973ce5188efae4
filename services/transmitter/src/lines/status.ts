/**
 * How a line's ending becomes a recipient's status. One table for every line, so a BUSY is a BUSY
 * whether a Class 1 modem, a Class 2.0 modem or an ATA's CDR reported it.
 */
import type { FinalStatus } from '@faxnotify/contracts';
import { LineReason, type LineReasonCode } from '@faxnotify/fax-line';

/**
 * The status for a send that ended with `reason` after `pagesConfirmed` of `pagesTotal` pages were
 * confirmed by the receiver.
 */
export function statusFor(reason: LineReasonCode, pagesConfirmed: number, pagesTotal: number): FinalStatus {
  if (pagesTotal > 0 && pagesConfirmed >= pagesTotal) return 'success';
  switch (reason) {
    case LineReason.OK:
      // Ended normally yet pages missing: the receiver stopped confirming.
      return pagesConfirmed > 0 ? 'partially_received' : 'failed_to_send';
    case LineReason.BUSY:
      return 'failed_user_busy';
    case LineReason.NO_ANSWER:
    case LineReason.T30_T1_TIMEOUT:
      // The number rang, or was answered, but no fax machine ever spoke.
      return 'failed_no_answer';
    case LineReason.NO_DIALTONE:
      // iaxmodem and real exchanges alike: the call could not be placed for now.
      return 'failed_normal_temporary_failure';
    case LineReason.NO_CARRIER_ON_DIAL:
      return 'failed_normal_clearing';
    case LineReason.T30_RTN_LIMIT:
      // The receiver got the pages it confirmed and rejected the rest.
      return pagesConfirmed > 0 ? 'partially_received' : 'failed_to_send';
    case LineReason.ABORTED:
      return pagesConfirmed > 0 ? 'partially_sent' : 'failed';
    case LineReason.MODEM_ERROR:
      return pagesConfirmed > 0 ? 'partially_sent' : 'failed_internal_process_error';
    case LineReason.EMPTY_DOCUMENT:
      return 'failed_image_preparation';
    default:
      // NO_CARRIER mid-page, T.30 protocol failures, Class 2.0 hang-ups in phases B–D.
      return pagesConfirmed > 0 ? 'partially_sent' : 'failed_to_send';
  }
}
