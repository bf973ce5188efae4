/**
 * The RADIUS attribute definitions the ATA server speaks, loaded from FreeRADIUS-format dictionary
 * files. Our code names FaxBack attributes the way the manual does (FB-Command, FB-Page-Count, …)
 * and never by number: the numbers come from the dictionary, ours by default or the vendor's own
 * ("Port Server RADIUS Dictionary.txt") when an operator points the configuration at it. An
 * attribute the loaded dictionary does not define is neither read nor sent.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import radius = require('radius');

/** The parts of the `radius` package beyond its published types. */
interface RadiusLibrary {
  add_dictionary(path: string): void;
  load_dictionaries(): void;
  unload_dictionaries(): void;
  attr_name_to_id(name: string, vendorId?: number | string): string | undefined;
  attr_id_to_name(id: number | string, vendorId?: number | string): string | undefined;
  vendor_name_to_id(name: string): string | undefined;
  InvalidSecretError: new (...args: unknown[]) => Error;
}

export const radiusLibrary = radius as unknown as typeof radius & RadiusLibrary;

/** The dictionary shipped with the transmitter: only the attribute numbers the manual confirms. */
export const DEFAULT_DICTIONARY = resolve(__dirname, '..', '..', 'dictionaries', 'dictionary.faxback');

/** The vendor's name in every FaxBack dictionary (its enterprise number comes from the file). */
export const FAXBACK_VENDOR = 'FaxBack';

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

const loaded = new Set<string>();

/**
 * Loads a dictionary file (with its $INCLUDEs) beside the RFC dictionaries the package ships.
 * The package keeps one dictionary per process; loading another file adds its definitions.
 */
export function loadDictionary(file: string = DEFAULT_DICTIONARY): LoadedDictionary {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`RADIUS dictionary ${path} does not exist`);
  if (!loaded.has(path)) {
    radiusLibrary.add_dictionary(path);
    // Definitions are read lazily by the package; force a reload so the new file counts.
    radiusLibrary.unload_dictionaries();
    loaded.add(path);
  }
  radiusLibrary.load_dictionaries();
  const vendor = radiusLibrary.vendor_name_to_id(FAXBACK_VENDOR);
  if (vendor === undefined) throw new Error(`RADIUS dictionary ${path} defines no VENDOR ${FAXBACK_VENDOR}`);
  const vendorId = Number(vendor);
  const has = (name: string) => radiusLibrary.attr_name_to_id(name, vendorId) !== undefined;
  for (const required of [FB.command, FB.context])
    if (!has(required)) throw new Error(`RADIUS dictionary ${path} does not define ${required}, which every port-server request carries`);
  return { path, vendorId, has, missingAccounting: ACCOUNTING_ATTRIBUTES.filter((name) => !has(name)) };
}
