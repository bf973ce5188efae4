export * from './fax-line-peer';
export * from './sample-pages';
// The port server's side of the fax-ATA path: radclient and the test dictionaries.
export { processDictionaries as ataTestDictionaries, radclient, TEST_RADIUS_SECRET, type RadclientReply, type RequestAttributes } from '../../ata/testing/port-server';
