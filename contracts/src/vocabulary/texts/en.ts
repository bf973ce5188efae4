/**
 * English words shown to the fax owner. Each final status says what Fax.Plus's own table says it
 * means (see ../fax-plus-source.ts), in the status's own words where that helps, and often a little
 * more: what happened on our side and what to do next.
 */
import type { LocaleTexts } from '../statuses';

export const EN: LocaleTexts = {
  statuses: {
    success: {
      label: 'Delivered',
      description: "The fax was successfully sent: every page went through and the recipient's fax machine confirmed receiving them.",
      advice: 'No action is needed.',
    },
    partially_sent: {
      label: 'Partially sent',
      description: 'The first pages were transmitted, but the call dropped because of connection issues, so the recipient has only some of the pages.',
      advice: "Send the missing pages or the whole fax again; if this keeps happening, ask the recipient to check their fax machine's paper and memory.",
    },
    partially_received: {
      label: 'Partially received',
      description:
        "The recipient's fax machine received the first pages, but the call dropped because of connection issues, so the other pages did not arrive.",
      advice: 'Send the fax again and ask the recipient which pages arrived.',
    },
    insufficient_credit: {
      label: 'Insufficient credit',
      description: 'The fax was not sent because the account does not have enough credit to send its pages.',
      advice: "Add credit to the account, or wait for your plan's pages to reset, then send the fax again.",
    },
    failed: {
      label: 'Sending failed',
      description: 'The fax could not be delivered because of a generic error, with no more specific reason given.',
      advice: 'Retry sending the fax; if the issue persists, contact support.',
    },
    failed_internal_process_error: {
      label: 'Internal error',
      description: 'A generic error inside the fax service stopped the fax before it could be delivered.',
      advice: 'Retry sending the fax; if the issue persists, contact support.',
    },
    failed_user_busy: {
      label: 'Line busy',
      description: "The recipient's number was busy on every attempt.",
      advice: 'Wait and try again later, or check the number with the recipient.',
    },
    failed_no_answer: {
      label: 'No answer',
      description: 'The number rang, but there was no answer at the destination: no fax machine picked up the call.',
      advice: 'Retry when you know the recipient is available, and ask them to make sure their fax machine is switched on and set to answer calls.',
    },
    failed_unallocated_number: {
      label: 'Number does not exist',
      description: 'The number is invalid: the phone network reports that it is not assigned to anyone.',
      advice: 'Check the number, including the country and area codes, and send the fax to the corrected number.',
    },
    failed_office_converter_issue: {
      label: 'Office document not converted',
      description: 'The Microsoft Office document (such as Word or Excel) could not be converted into fax pages.',
      advice: 'Recreate the file, for example by saving it again from Office or as PDF, and resubmit it.',
    },
    failed_separate_file_pages_issue: {
      label: 'Pages could not be prepared',
      description: 'A file conversion issue: the document could not be split into separate fax pages.',
      advice: 'Check that all pages in the source files are valid and that the file opens correctly, save it again as PDF and send it again.',
    },
    failed_render_header_issue: {
      label: 'Fax header error',
      description: 'A file conversion issue: the header line with the sender, date and page number could not be added to the pages.',
      advice:
        'Check that all pages in the source files are valid and that the sender name and header settings hold no unusual characters, then send the fax again; if it still fails, contact support.',
    },
    failed_invalid_number_format: {
      label: 'Invalid number format',
      description: 'The number format is invalid: the number is not written in a form that can be dialled.',
      advice:
        'Check the number, including the country and area codes: enter it in international format, starting with + and the country code, and send the fax again.',
    },
    failed_mimetype_not_supported: {
      label: 'File type not supported',
      description: 'One of the attached files is of an unsupported file type, which cannot be sent by fax.',
      advice: 'Convert the file to PDF or another supported format and send the fax again.',
    },
    failed_destination_not_supported: {
      label: 'Destination not supported',
      description: 'The number is a special service number (such as a premium-rate one), or its destination is not supported by your plan.',
      advice: 'Check that this is an ordinary fax number; if it is, contact support to ask whether your plan covers this destination.',
    },
    failed_image_preparation: {
      label: 'Image could not be prepared',
      description: 'A file conversion issue: an image in the document could not be prepared for sending by fax.',
      advice: 'Check that all pages in the source files are valid; save the images at a lower resolution or as PDF and send the fax again.',
    },
    failed_to_send: {
      label: 'System busy',
      description: 'The fax was not sent because the sending system was busy.',
      advice: 'Try again later; if it keeps failing, contact support.',
    },
    failed_normal_temporary_failure: {
      label: 'Temporary network failure',
      description: 'A temporary network issue stopped the call from going through.',
      advice: 'Retry immediately; such issues usually clear within minutes.',
    },
    failed_unknown_converter_issue: {
      label: 'Document conversion error',
      description: 'File conversion failed: the document could not be converted into fax pages, and it may be password-protected.',
      advice:
        'Check if the file is password-protected; if it is, remove the password or save it as PDF without one and send it again; if it still fails, contact support.',
    },
    failed_normal_clearing: {
      label: 'Destination busy',
      description: 'The destination was busy, and the call was cleared before the fax could be sent.',
      advice: 'Wait and retry later; if it keeps happening, check with the recipient that this number is a fax line.',
    },
    failed_convert_to_tiff_issue: {
      label: 'Fax image conversion failed',
      description: 'A file conversion issue: the document could not be converted into the image format (TIFF) used to transmit faxes.',
      advice: 'Check that all pages in the source files are valid, save the document as PDF and send it again.',
    },
    failed_fs_49: {
      label: 'Remote fax disconnected',
      description: 'The remote fax machine disconnected unexpectedly during the call; some pages may have been transmitted.',
      advice:
        "Check on the fax's page how many pages arrived, then send the missing pages or the whole fax again; if this keeps happening, ask the recipient to check their fax machine.",
    },
    failed_fs_2: {
      label: 'No fax machine answered',
      description: 'The call was placed, but no fax machine started the fax exchange in the time allowed, so no page was sent.',
      advice: 'Check with the recipient that this number is a fax line and that their fax machine is switched on, then send the fax again.',
    },
  },
  outcomes: { delivered: 'Delivered', partial: 'Partially delivered', failed: 'Not delivered' },
  aggregate: { in_progress: 'In progress', delivered: 'Delivered', failed: 'Not delivered', partial: 'Partially delivered' },
  progress: {
    queued: 'Queued',
    converting: 'Preparing the document',
    scheduled: 'Scheduled',
    dialing: 'Dialling',
    connected: 'Connected',
    sending: 'Sending',
    retry_scheduled: 'Retry scheduled',
  },
  noSubject: 'no subject',
};
