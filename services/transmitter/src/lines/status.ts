/**
 * How a line's ending becomes a recipient's status. One table for every line, so a BUSY is a BUSY
 * whether a Class 1 modem, a Class 2.0 modem or an ATA's CDR reported it.
 */
import type { FinalStatus } from '@faxnotify/contracts';
import { LineReason, type LineReasonCode } from '@faxnotify/fax-line';

/**
 * The status for a send that ended with `reason` after `pagesConfirmed` of `pagesTotal` pages were
 * confirmed by the receiver, in the meaning Fax.Plus's table gives each status (contracts'
 * vocabulary holds a copy of that table): a fax cut after some pages is `partially_sent`; a remote
 * machine that went away before confirming any page is `failed_fs_49` ("remote fax machine
 * disconnected unexpectedly"); a session that never got going is the generic `failed`.
 */
export function statusFor(reason: LineReasonCode, pagesConfirmed: number, pagesTotal: number): FinalStatus {
  if (pagesTotal > 0 && pagesConfirmed >= pagesTotal) return 'success';
  if (pagesConfirmed > 0) return reason === LineReason.EMPTY_DOCUMENT ? 'failed_image_preparation' : 'partially_sent';
  switch (reason) {
    case LineReason.BUSY:
      return 'failed_user_busy';
    case LineReason.NO_ANSWER:
    case LineReason.T30_T1_TIMEOUT:
    case LineReason.NO_CARRIER_ON_DIAL:
      // The number rang, or was answered (by a voice, say), but no fax machine ever spoke.
      return 'failed_no_answer';
    case LineReason.NO_DIALTONE:
      // iaxmodem and real exchanges alike: the call could not be placed for now.
      return 'failed_normal_temporary_failure';
    case LineReason.NO_CARRIER:
    case LineReason.T30_REMOTE_DCN:
    case LineReason.T30_POST_PAGE_NO_RESPONSE:
      // The fax machine answered and then went away before it confirmed a page.
      return 'failed_fs_49';
    case LineReason.MODEM_ERROR:
    case LineReason.FLOW_CONTROL_TIMEOUT:
      // Our own modem failed us.
      return 'failed_internal_process_error';
    case LineReason.EMPTY_DOCUMENT:
      return 'failed_image_preparation';
    default:
      // Ended without a confirmed page: training, negotiation or page errors, a Class 2.0 hang-up
      // code, the caller's abort, or an ending that said nothing more.
      return 'failed';
  }
}
