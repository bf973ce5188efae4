/**
 * What one accounting record of the port server says: its session and status type, the FaxBack
 * CDR attributes read into a Cdr, the key a resent copy is recognised by, and the final status a
 * send's CDR means. Pure reading: nothing here touches the database.
 */
import { createHash } from 'node:crypto';
import type { FinalStatus } from '@faxnotify/contracts';
import { dateAttribute, describeAttributes, enumAttribute, integerAttribute, named, textAttribute, type DecodedPacket, type Vendor } from '@faxnotify/radius';
import { statusFor } from '../lines/status';
import { LineReason, type LineReasonCode } from '@faxnotify/fax-line';
import { FAXBACK_VENDOR, FB, type LoadedDictionary } from './dictionary';
import { validSessionId } from './sessions';

/** Acct-Status-Type (RFC 2866 §5.1); FaxBack calls 3 "Alive-Interim-Update". */
const STATUS_TYPES = { Start: 1, Stop: 2, 'Interim-Update': 3 } as const;
const INTERIM_NAMES = ['alive', 'aliveinterimupdate', 'interim'];

/** FB-CDR-Type (manual p49): what kind of record a session's CDR is. */
const CDR_TYPES = { Realtime: 0, Status: 1, SendFromClient: 2, ReceiveToClient: 3, Deleted: 4, Copied: 5, SendStageCompleted: 6 } as const;
type CdrType = keyof typeof CDR_TYPES;
/** Records of a queued fax's intermediate stages: the fax goes on in a later session (FB-Related-Id). */
export const INTERMEDIATE_STAGES: readonly CdrType[] = ['SendFromClient', 'Status', 'Copied', 'SendStageCompleted'];

/** FB-Called-Number-Result (manual p48), Stop of sends only. */
const CALLED_NUMBER_RESULTS = { Success: 0, FaxError: 1, VoiceError: 2 } as const;
type CalledNumberResult = keyof typeof CALLED_NUMBER_RESULTS;

/** FB-Is-Send (manual p50). */
const DIRECTIONS = { Receive: 0, Send: 1 } as const;

/** FB-Fax-Error-Code 0 is success (manual p50); other codes are FaxBack's own. */
export const FAX_ERROR_SUCCESS = 0;

const DETAIL_MAX = 2000;
export const CSID_MAX = 64;

/** FaxBack as the dictionary numbers it, to name the attributes the dictionary lacks. */
const faxbackVendor = (id: number): Vendor => ({ id, name: FAXBACK_VENDOR });

export interface Cdr {
  status: 'start' | 'interim' | 'stop';
  sessionId: string;
  account: string | undefined;
  dialNumber: string | undefined;
  isSend: boolean | undefined;
  cdrType: CdrType | undefined;
  calledNumberResult: CalledNumberResult | undefined;
  faxErrorCode: number | undefined;
  extendedErrorCode: number | undefined;
  description: string | undefined;
  pages: number | undefined;
  remoteCsid: string | undefined;
  connectBps: number | undefined;
  relatedId: string | undefined;
  startTime: Date | undefined;
  totalSeconds: number | undefined;
  /** When the port server says the record happened. */
  at: Date;
  /** Everything the record carried, readable. */
  detail: string;
}

/** Reads a record; undefined for status types that are not about a session (Accounting-On/-Off). */
export function readCdr(packet: DecodedPacket, vendorId: number, received: Date = new Date()): Cdr | undefined {
  const statusValue = enumAttribute(packet, 'Acct-Status-Type');
  let status: Cdr['status'] | undefined;
  const known = named(STATUS_TYPES, statusValue);
  if (known === 'Start') status = 'start';
  else if (known === 'Stop') status = 'stop';
  else if (known === 'Interim-Update' || (typeof statusValue === 'string' && INTERIM_NAMES.includes(statusValue.toLowerCase().replace(/[^a-z]/g, ''))))
    status = 'interim';
  const sessionId = textAttribute(packet, 'Acct-Session-Id');
  if (!status || !validSessionId(sessionId)) return undefined;
  const isSend = named(DIRECTIONS, enumAttribute(packet, FB.isSend));
  // RFC 2869 Event-Timestamp, else the arrival time less RFC 2866 Acct-Delay-Time.
  const delaySeconds = integerAttribute(packet, 'Acct-Delay-Time') ?? 0;
  const at = dateAttribute(packet, 'Event-Timestamp') ?? new Date(received.getTime() - delaySeconds * 1000);
  return {
    status,
    sessionId,
    account: textAttribute(packet, 'User-Name'),
    dialNumber: textAttribute(packet, FB.dialNumber),
    isSend: isSend === undefined ? undefined : isSend === 'Send',
    cdrType: named(CDR_TYPES, enumAttribute(packet, FB.cdrType)),
    calledNumberResult: named(CALLED_NUMBER_RESULTS, enumAttribute(packet, FB.calledNumberResult)),
    faxErrorCode: integerAttribute(packet, FB.faxErrorCode),
    extendedErrorCode: integerAttribute(packet, FB.extendedErrorCode),
    description: textAttribute(packet, FB.description),
    pages: integerAttribute(packet, FB.pageCount),
    remoteCsid: textAttribute(packet, FB.remoteCsid),
    connectBps: integerAttribute(packet, FB.connectBps),
    relatedId: textAttribute(packet, FB.relatedId),
    startTime: dateAttribute(packet, FB.startTime),
    totalSeconds: integerAttribute(packet, FB.totalSeconds),
    at,
    detail: describeAttributes(packet, faxbackVendor(vendorId)),
  };
}

/** The key a record is stored under: one Start and one Stop per session; interims by content. */
export function recordKey(cdr: Cdr, packet: DecodedPacket, vendorId: number): string {
  if (cdr.status !== 'interim') return `${cdr.sessionId}:${cdr.status}`;
  // A resent interim differs only in Acct-Delay-Time.
  const content = describeAttributes(packet, faxbackVendor(vendorId), ['User-Password', 'Message-Authenticator', 'Acct-Delay-Time']);
  return `${cdr.sessionId}:interim:${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
}

/** A remote CSID fit to show: printable, trimmed, bounded (it comes from a stranger's fax machine). */
export const cleanCsid = (raw: string): string =>
  raw
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, CSID_MAX);

export interface CdrOutcome {
  status: FinalStatus;
  reason: { code: string; detail: string };
  /** What the send taught about the number, for call-ahead. */
  numberAnswered: 'fax' | 'voice' | undefined;
}

/** The final status of a send from its CDR, with the raw detail kept. */
export function outcomeOf(cdr: Cdr, errorStatuses: Readonly<Record<string, FinalStatus>>, dictionary: Pick<LoadedDictionary, 'has'>): CdrOutcome {
  const pages = cdr.pages ?? 0;
  const facts = [
    cdr.faxErrorCode !== undefined ? `error ${cdr.faxErrorCode}` : undefined,
    cdr.extendedErrorCode !== undefined ? `extended error ${cdr.extendedErrorCode}` : undefined,
    cdr.description ? `"${cdr.description}"` : undefined,
    cdr.calledNumberResult,
    cdr.pages !== undefined ? `${cdr.pages} pages` : undefined,
    cdr.connectBps !== undefined ? `${cdr.connectBps} bit/s` : undefined,
  ].filter(Boolean);
  const detail = (prefix: string) => `${prefix}${facts.length ? ` (${facts.join(', ')})` : ''}; CDR: ${cdr.detail}`.slice(0, DETAIL_MAX);
  const answered: CdrOutcome['numberAnswered'] = cdr.calledNumberResult === 'VoiceError' ? 'voice' : cdr.calledNumberResult ? 'fax' : undefined;

  let status: FinalStatus;
  let code: string;
  let lineReason: LineReasonCode;
  if (cdr.faxErrorCode === FAX_ERROR_SUCCESS) {
    return { status: 'success', reason: { code: 'OK', detail: detail('sent') }, numberAnswered: answered ?? 'fax' };
  }
  if (cdr.cdrType === 'Deleted') {
    lineReason = LineReason.ABORTED;
    code = 'ATA_DELETED';
  } else if (cdr.calledNumberResult === 'VoiceError') {
    lineReason = LineReason.NO_CARRIER_ON_DIAL;
    code = 'ATA_VOICE_ANSWERED';
  } else if (cdr.calledNumberResult === 'FaxError') {
    // The fax protocol engaged, then failed: T.30 trouble as far as the status table is concerned.
    lineReason = LineReason.T30_INVALID_RESPONSE;
    code = 'ATA_FAX_ERROR';
  } else if (cdr.faxErrorCode !== undefined) {
    // No Called-Number-Result: a telephony, media-gateway or server error (manual p48).
    lineReason = LineReason.NO_DIALTONE;
    code = 'ATA_CALL_FAILED';
  } else {
    const why = dictionary.has(FB.faxErrorCode)
      ? 'the Stop carried no FB-Fax-Error-Code'
      : 'the RADIUS dictionary does not define FB-Fax-Error-Code: load the vendor dictionary';
    return { status: 'failed', reason: { code: 'ATA_NO_RESULT', detail: detail(why) }, numberAnswered: answered };
  }
  // pagesTotal 0: we do not know how many pages the fax had, only how many went.
  status = statusFor(lineReason, pages, 0);
  if (cdr.faxErrorCode !== undefined) {
    const configured = errorStatuses[String(cdr.faxErrorCode)];
    if (configured) status = configured;
    code = `${code}_${cdr.faxErrorCode}`;
  }
  return { status, reason: { code: code.slice(0, 64), detail: detail(`FaxBack ${code}`) }, numberAnswered: answered };
}
