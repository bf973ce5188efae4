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
