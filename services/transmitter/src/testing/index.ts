/**
 * The transmitter's test peers for other workspaces: the port server's side of the fax-ATA path
 * (radclient and the test dictionaries). The modem peers come from @faxnotify/fax-line/testing.
 */
export {
  processDictionaries as ataTestDictionaries,
  radclient,
  TEST_RADIUS_SECRET,
  type RadclientReply,
  type RequestAttributes,
} from '../ata/testing/port-server';
/** A running transmitter with its events, for the cross-service tests; documents to fax; the resend command. */
export { api, FAST_RETRIES, faxIdOf, finalFax, startTestTransmitter, TEST_SECRET, upload, type TestTransmitter } from './harness';
export { makeSamplePdf } from '../documents/testing/sample-documents';
export { runResend, RESEND_EXIT } from '../cli/resend';
