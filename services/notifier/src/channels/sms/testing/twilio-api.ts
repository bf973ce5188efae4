import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SmsEncoding } from '../../types';
import type { BaseUrlRequestClient } from '../request-client';

/**
 * What the Twilio-compatible endpoint answers and records: Twilio's error codes and callback
 * sequences, the script a test gives it, and the pieces of Twilio's wire format (signatures,
 * dates, forms) it reads and writes.
 */

/** Twilio's error codes this endpoint answers with, with the HTTP status Twilio gives each. */
export const TWILIO_ERRORS: Record<number, { status: number; message: (params: FormParams) => string }> = {
  20001: { status: 400, message: () => 'Invalid parameter' },
  20003: { status: 401, message: () => 'Authenticate' },
  20004: { status: 405, message: () => 'Method not allowed' },
  20404: { status: 404, message: () => 'The requested resource was not found' },
  20429: { status: 429, message: () => 'Too Many Requests' },
  20500: { status: 500, message: () => 'Internal Server Error' },
  20503: { status: 503, message: () => 'Service Unavailable' },
  21211: { status: 400, message: (params) => `Invalid 'To' Phone Number: ${first(params.To) ?? ''}` },
  21212: { status: 400, message: (params) => `Invalid 'From' Phone Number: ${first(params.From) ?? ''}` },
  21602: { status: 400, message: () => 'Message body is required.' },
  21603: { status: 400, message: () => "A 'From' phone number is required." },
  21604: { status: 400, message: () => "A 'To' phone number is required." },
  21609: { status: 400, message: () => 'Invalid StatusCallback url' },
  21610: { status: 400, message: () => 'Attempt to send to unsubscribed recipient' },
  21612: { status: 400, message: () => "The 'To' phone number is not currently reachable via SMS" },
  21614: { status: 400, message: (params) => `'To' number ${first(params.To) ?? ''} is not a valid mobile number` },
  21617: { status: 400, message: () => 'The concatenated message body exceeds the 1600 character limit.' },
};
export const CODE_FOR_STATUS: Record<number, number> = { 400: 20001, 401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503 };

/** Twilio's magic test numbers (as with test credentials): each To draws its documented error. */
export const MAGIC_TO_ERRORS: Record<string, number> = {
  '+15005550001': 21211,
  '+15005550002': 21612,
  '+15005550004': 21610,
  '+15005550009': 21614,
};

/** Delivery outcomes an accepted message can have, and the callbacks each produces. */
export type DeliveryOutcome = 'delivered' | 'sent' | 'undelivered' | 'failed';
export const CALLBACK_SEQUENCE: Record<DeliveryOutcome, string[]> = {
  delivered: ['queued', 'sent', 'delivered'],
  sent: ['queued', 'sent'],
  undelivered: ['queued', 'sent', 'undelivered'],
  failed: ['queued', 'failed'],
};
/** 30003 Unreachable destination handset; 30008 Unknown error. */
export const DEFAULT_DELIVERY_ERROR: Record<'undelivered' | 'failed', number> = { undelivered: 30003, failed: 30008 };

/**
 * How an answer is lost on its way back, as a client of the real Twilio can see it: `silence`
 * never answers (the client times out), `reset` drops the connection (the client sees a reset).
 * Whatever the request did at Twilio stays done: a create stores and sends its message.
 */
export type LostAnswer = 'silence' | 'reset';

/** A test's decision for one create request. Leave everything out to accept it and deliver it. */
export interface TwilioAnswer {
  /** Answer with this Twilio error code (its HTTP status comes from Twilio's table unless `status` is given). */
  error?: number;
  /** Answer with this HTTP status (a 4xx/5xx; its Twilio code comes from the table unless `error` is given). */
  status?: number;
  message?: string;
  /** What becomes of an accepted message (default: the endpoint's `outcome`, normally delivered). */
  outcome?: DeliveryOutcome;
  /** ErrorCode of an undelivered or failed message (default 30003 / 30008). */
  deliveryErrorCode?: number;
  /** Hold the answer this long, e.g. to make a client time out. */
  delayMs?: number;
  /** Do what the request asks (store and send the message) and then lose the answer. */
  loseAnswer?: LostAnswer;
}

/** A test's decision for one list request. Leave everything out to answer with the page. */
export type TwilioListAnswer = Pick<TwilioAnswer, 'error' | 'status' | 'message' | 'delayMs' | 'loseAnswer'>;

export type FormParams = Record<string, string | string[]>;

export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A create request as the script sees it. */
export interface TwilioCreateRequest {
  /** 0 for the first create request this endpoint got, 1 for the next… */
  index: number;
  params: FormParams;
  to: string | undefined;
  from: string | undefined;
  body: string | undefined;
  statusCallback: string | undefined;
}

/** A list request as the list script sees it. */
export interface TwilioListRequest {
  /** 0 for the first list request this endpoint got, 1 for the next… */
  index: number;
  params: FormParams;
}

export interface TwilioRequestRecord {
  method: string;
  path: string;
  /** The form of a POST, the query of any other request. */
  params: FormParams;
  /** The HTTP status it was answered with (or would have been, when the answer was lost). */
  status: number;
  /** The Twilio error code, for an error answer. */
  errorCode?: number;
  /** Set when the answer never reached the client. */
  lost?: LostAnswer;
  receivedAt: number;
}

/** An accepted message, as the endpoint holds it. */
export interface TwilioMessageRecord {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | undefined;
  encoding: SmsEncoding;
  /** Segments the body takes (also when Twilio's response says "0", as it does for a Messaging Service). */
  segments: number;
  /** The latest status (changes as callbacks go out). */
  status: string;
  /** When it left the queued/accepted state (its `date_sent`); null until then. */
  sentAt: Date | null;
  errorCode: number | null;
  params: FormParams;
  /** The resource as the 201 response gave it. */
  resource: Record<string, unknown>;
  receivedAt: number;
}

export interface TwilioStatusCallback {
  url: string;
  messageSid: string;
  status: string;
  params: Record<string, string>;
  signature: string;
  /** The HTTP status the receiver answered, or undefined when it could not be reached. */
  responseStatus?: number;
  error?: string;
  sentAt: number;
}

export interface TwilioEndpointOptions {
  accountSid?: string;
  authToken?: string;
  /** Pause before each status callback (default 5 ms), so callbacks arrive after the 201. */
  callbackDelayMs?: number;
  /** The outcome of accepted messages when the script does not say (default delivered). */
  outcome?: DeliveryOutcome;
}

export interface TwilioEndpoint {
  /** Base URL, e.g. http://127.0.0.1:43121 */
  url: string;
  accountSid: string;
  authToken: string;
  /** Accepted messages (201), in order. */
  messages: TwilioMessageRecord[];
  /** Every request, with the status it got. */
  requests: TwilioRequestRecord[];
  statusCallbacks: TwilioStatusCallback[];
  /** Contract breaches by a client (or by this endpoint's own responses); a test expects none. */
  violations: string[];
  /** For the `twilio` package: `twilio(accountSid, authToken, { httpClient })`. */
  httpClient: BaseUrlRequestClient;
  /** Decides the answer to each create request; undefined restores the default (accept, deliver). */
  script(decide: ((request: TwilioCreateRequest) => TwilioAnswer | undefined | Promise<TwilioAnswer | undefined>) | undefined): void;
  /** Decides the answer to each list request; undefined restores the default (the page). */
  scriptList(decide: ((request: TwilioListRequest) => TwilioListAnswer | undefined | Promise<TwilioListAnswer | undefined>) | undefined): void;
  /**
   * Takes the API off the network: the port is closed and every open connection dropped, so a
   * client gets "connection refused". Messages, records and pending callbacks stay.
   */
  down(): Promise<void>;
  /** Puts the API back on the same port. */
  up(): Promise<void>;
  /** Resolves when every status callback started so far has been sent. */
  callbacksSettled(): Promise<void>;
  close(): Promise<void>;
}

/** Twilio's request signature: HMAC-SHA1 with the auth token over the URL and the sorted parameters, base64. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function rfc2822(date: Date): string {
  // toUTCString gives "Thu, 24 Aug 2023 05:01:45 GMT"; Twilio writes the zone as +0000.
  return date.toUTCString().replace(/GMT$/, '+0000');
}

const DAY_MS = 86_400_000;

/**
 * The sent times a DateSent filter value covers, in whole seconds as Twilio keeps them: a GMT date
 * (`YYYY-MM-DD`) covers its day, a date-time its second. Undefined for a value that is no date.
 */
export function sentDateRange(value: string): { start: number; end: number; day: { start: number; end: number } } | undefined {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const parsed = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(parsed)) return undefined;
  const dayStart = Math.floor(parsed / DAY_MS) * DAY_MS;
  const day = { start: dayStart, end: dayStart + DAY_MS - 1000 };
  if (dateOnly) return { ...day, day };
  const second = Math.floor(parsed / 1000) * 1000;
  return { start: second, end: second, day };
}

/** The DateSent filters of the list operation: `DateSent` (that day), `DateSent<` (on or before), `DateSent>` (on or after). */
export const SENT_DATE_FILTERS: ReadonlyArray<[string, (sent: number, range: NonNullable<ReturnType<typeof sentDateRange>>) => boolean]> = [
  ['DateSent', (sent, range) => sent >= range.day.start && sent <= range.day.end],
  ['DateSent<', (sent, range) => sent <= range.end],
  ['DateSent>', (sent, range) => sent >= range.start],
];

export function parseForm(raw: string): FormParams {
  const params: FormParams = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
