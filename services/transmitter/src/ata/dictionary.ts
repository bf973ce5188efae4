/**
 * The FaxBack attributes the ATA server speaks, by the manual's names (FB-Command, FB-Page-Count,
 * …) and never by number: the numbers come from the dictionary, ours by default or the vendor's
 * own ("Port Server RADIUS Dictionary.txt") when an operator points the configuration at it. An
 * attribute the loaded dictionary does not define is neither read nor sent.
 */
import { resolve } from 'node:path';
import { loadDictionary as loadRadiusDictionary, vendorAttribute, type ReplyAttribute } from '@faxnotify/radius';

/** The dictionary shipped with the transmitter: only the attribute numbers the manual confirms. */
export const DEFAULT_DICTIONARY = resolve(__dirname, '..', '..', 'dictionaries', 'dictionary.faxback');

/** The vendor's name in every FaxBack dictionary (its enterprise number comes from the file). */
export const FAXBACK_VENDOR = 'FaxBack';

/** A FaxBack attribute for a reply, in a Vendor-Specific attribute of its own, as in the manual's example replies. */
export const faxback = (name: string, value: string | number): ReplyAttribute => vendorAttribute(FAXBACK_VENDOR, name, value);

/** FaxBack attributes by the manual's names. */
export const FB = {
  command: 'FB-Command',
  context: 'FB-Context',
  accountType: 'FB-Account-Type',
  rcvEmail: 'FB-Rcv-Email',
  sndAni: 'FB-Snd-ANI',
  dialNumber: 'FB-Dial-Number',
  clientInfo: 'FB-Client-Info',
  queueProfile: 'FB-Queue-Profile',
  transferType: 'FB-Transfer-Type',
  callAheadMode: 'FB-Call-Ahead-Mode',
  did: 'FB-DID',
  // Documented, numbers not confirmed: used only when the loaded dictionary defines them.
  didEnabled: 'FB-DID-Enabled',
  lineId: 'FB-Line-Id',
  lineNum: 'FB-Line-Num',
  rcvCsid: 'FB-Rcv-CSID',
  rcvToAccount: 'FB-Rcv-To-Account',
  sndFromAccount: 'FB-Snd-From-Account',
  sndTsid: 'FB-Snd-TSID',
  customer: 'FB-Customer',
  // Accounting (CDR).
  calledNumberResult: 'FB-Called-Number-Result',
  cdrType: 'FB-CDR-Type',
  connectBps: 'FB-Connect-BPS',
  description: 'FB-Description',
  extendedErrorCode: 'FB-Extended-Error-Code',
  faxErrorCode: 'FB-Fax-Error-Code',
  isSend: 'FB-Is-Send',
  pageCount: 'FB-Page-Count',
  perFaxCdrInfo: 'FB-Per-Fax-CDR-Info',
  relatedId: 'FB-Related-Id',
  remoteCsid: 'FB-Remote-CSID',
  callerId: 'FB-Caller-ID',
  startTime: 'FB-Start-Time',
  totalSeconds: 'FB-Total-Seconds',
} as const;

/** What the accounting side reads, and what is missing from a dictionary without them. */
const ACCOUNTING_ATTRIBUTES = [
  FB.pageCount,
  FB.remoteCsid,
  FB.faxErrorCode,
  FB.calledNumberResult,
  FB.connectBps,
  FB.isSend,
  FB.cdrType,
  FB.relatedId,
  FB.description,
  FB.extendedErrorCode,
  FB.startTime,
] as const;

export interface LoadedDictionary {
  /** The file given, resolved. */
  path: string;
  /** FaxBack's enterprise number, as the dictionary gives it. */
  vendorId: number;
  /** Whether the dictionary defines this FaxBack attribute. */
  has(name: string): boolean;
  /** Accounting attributes it does not define (their information is then lost). */
  missingAccounting: string[];
}

/** Loads a FaxBack dictionary file (with its $INCLUDEs); it must define the vendor and the attributes every request carries. */
export function loadDictionary(file: string = DEFAULT_DICTIONARY): LoadedDictionary {
  const dictionary = loadRadiusDictionary(file);
  const { path } = dictionary;
  const vendorId = dictionary.vendorId(FAXBACK_VENDOR);
  if (vendorId === undefined) throw new Error(`RADIUS dictionary ${path} defines no VENDOR ${FAXBACK_VENDOR}`);
  const has = (name: string) => dictionary.has(name, vendorId);
  for (const required of [FB.command, FB.context])
    if (!has(required)) throw new Error(`RADIUS dictionary ${path} does not define ${required}, which every port-server request carries`);
  return { path, vendorId, has, missingAccounting: ACCOUNTING_ATTRIBUTES.filter((name) => !has(name)) };
}
