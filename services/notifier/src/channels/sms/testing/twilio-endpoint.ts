import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import RequestClient from 'twilio/lib/base/RequestClient';

/**
 * A Twilio-compatible Messages endpoint for tests. It holds every request it gets and every
 * response it gives to Twilio's official OpenAPI document (src/testing/fixtures/twilio_api_v2010.json,
 * MIT licence beside it), answers as Twilio does (create, fetch, and the filtered list), and posts
 * signed status callbacks. It can also show the network faults a client of the real Twilio meets:
 * an answer lost after the message was stored, and the API being unreachable for a while. The
 * real `twilio` package reaches it through `httpClient`.
 */

// ---------------------------------------------------------------------------------------------
// SMS segments

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegments {
  encoding: SmsEncoding;
  segments: number;
  /** Septets (GSM-7, extension characters count two) or UTF-16 code units (UCS-2). */
  units: number;
}

// GSM 03.38 default alphabet and its extension table (each extension character costs an escape
// septet as well).
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

/**
 * How an SMS body is encoded and how many segments it takes: GSM-7 when every character is in the
 * GSM alphabet (160 septets in one message, 153 per part when concatenated), otherwise UCS-2 (70
 * code units, 67 per part). A part never splits an escape pair or a surrogate pair, as handsets
 * and Twilio do.
 */
export function smsSegments(body: string): SmsSegments {
  const characters = [...body];
  const gsm = characters.every((character) => GSM7_BASIC.has(character) || GSM7_EXTENSION.has(character));
  const costs = gsm ? characters.map((character) => (GSM7_EXTENSION.has(character) ? 2 : 1)) : characters.map((character) => character.length);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  if (units <= single) return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments: 1, units };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments, units };
}

// ---------------------------------------------------------------------------------------------
// The contract, from Twilio's OpenAPI document

/** Package root + src/testing/fixtures: the same folder whether this runs from src (jest) or dist. */
export const TWILIO_SPEC_PATH = join(__dirname, '..', '..', 'src', 'testing', 'fixtures', 'twilio_api_v2010.json');

const MESSAGES_PATH = '/2010-04-01/Accounts/{AccountSid}/Messages.json';
const MESSAGE_PATH = '/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json';
const FORM = 'application/x-www-form-urlencoded';

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema: object;
}

/** Validators compiled from Twilio's OpenAPI document. */
export interface TwilioContract {
  /** CreateMessageRequest, with form values coerced to the schema's types first. */
  createRequest: ValidateFunction;
  createRequestFields: Set<string>;
  accountSid: ValidateFunction;
  messageSid: ValidateFunction;
  /** `api.v2010.account.message`: the 201 of a create and the 200 of a fetch. */
  message: ValidateFunction;
  /** The list operation's query parameters as one object (values coerced to their types first). */
  listQuery: ValidateFunction;
  listQueryFields: Set<string>;
  /** ListMessageResponse, the 200 of a list. */
  listResponse: ValidateFunction;
  /** Twilio's REST error object. */
  error: ValidateFunction;
}

/**
 * Twilio's REST error body. The OpenAPI document describes successes only; this is the object
 * every Twilio error response carries.
 */
const TWILIO_ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'message', 'more_info', 'status'],
  additionalProperties: false,
  properties: {
    code: { type: 'integer' },
    message: { type: 'string', minLength: 1 },
    more_info: { type: 'string', format: 'uri' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
  },
};

const RFC_2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

/** What the spec's `phone-number` format admits: E.164, a channel address, a short code or an alphanumeric sender ID. */
function isPhoneNumberFormat(value: string): boolean {
  return /^\+[1-9]\d{1,14}$/.test(value) || /^[a-z][a-z-]*:\S+$/.test(value) || /^\d{3,8}$/.test(value) || /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(value);
}

/**
 * `relativeUris`: a list page gives its own URIs (first_page_uri, next_page_uri…) relative to the
 * API host, as Twilio's own examples in the document do, where the document says `format: uri`;
 * they are held to URI-reference there.
 */
function contractAjv(coerce: boolean, relativeUris = false): Ajv {
  // The document carries vendor keywords (x-twilio) and OpenAPI's `nullable`: strict mode off.
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: coerce ? 'array' : false });
  addFormats(ajv, relativeUris ? ['date-time', 'date'] : ['date-time', 'date', 'uri']);
  if (relativeUris) ajv.addFormat('uri', addFormats.get('uri-reference'));
  ajv.addFormat('phone-number', isPhoneNumberFormat);
  ajv.addFormat('date-time-rfc-2822', RFC_2822);
  ajv.addFormat('currency', /^[A-Z]{3}$/);
  ajv.addFormat('iso-country-code', /^[A-Z]{2}$/);
  ajv.addFormat('http-method', /^(GET|POST|PUT|DELETE|HEAD|PATCH)$/);
  for (const opaque of ['uri-map', 'phone-number-capabilities', 'ice-server', 'endpoint', 'twiml', 'int64', 'int32']) ajv.addFormat(opaque, true);
  return ajv;
}

let contract: TwilioContract | undefined;

/** Twilio's contract for the Messages operations, compiled once per process. */
export function twilioContract(): TwilioContract {
  if (contract) return contract;
  const spec = JSON.parse(readFileSync(TWILIO_SPEC_PATH, 'utf8')) as {
    components: { schemas: Record<string, object> };
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: OpenApiParameter[];
          requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
          responses?: Record<string, { content?: Record<string, { schema: object }> }>;
        }
      >
    >;
  };
  const create = spec.paths[MESSAGES_PATH]?.post;
  const list = spec.paths[MESSAGES_PATH]?.get;
  const fetch = spec.paths[MESSAGE_PATH]?.get;
  const requestSchema = create?.requestBody?.content[FORM]?.schema;
  const accountSidSchema = create?.parameters?.find((parameter) => parameter.name === 'AccountSid')?.schema;
  const messageSidSchema = fetch?.parameters?.find((parameter) => parameter.name === 'Sid')?.schema;
  const listParameters = list?.parameters?.filter((parameter) => parameter.in === 'query');
  const listResponseSchema = list?.responses?.['200']?.content?.['application/json']?.schema;
  if (!requestSchema || !accountSidSchema || !messageSidSchema || !listParameters?.length || !listResponseSchema) {
    throw new Error(`${TWILIO_SPEC_PATH} does not describe ${MESSAGES_PATH} as expected`);
  }
  // A query string is one object of named values: the list's query parameters become its properties.
  const listQuerySchema = {
    type: 'object',
    properties: Object.fromEntries(listParameters.map((parameter) => [parameter.name, parameter.schema])),
    required: listParameters.filter((parameter) => parameter.required).map((parameter) => parameter.name),
  };
  // Only the components and the pieces of the operations are handed to ajv: their $refs
  // ("#/components/schemas/…") resolve inside this document.
  const document = (id: string) => ({
    $id: id,
    components: spec.components,
    operation: { createRequest: requestSchema, accountSid: accountSidSchema, messageSid: messageSidSchema, listQuery: listQuerySchema, listResponse: listResponseSchema },
  });
  const requests = contractAjv(true);
  requests.addSchema(document('twilio-api-v2010-requests'));
  const responses = contractAjv(false);
  responses.addSchema(document('twilio-api-v2010-responses'));
  const pages = contractAjv(false, true);
  pages.addSchema(document('twilio-api-v2010-pages'));
  contract = {
    createRequest: requests.compile({ $ref: 'twilio-api-v2010-requests#/operation/createRequest' }),
    createRequestFields: new Set(Object.keys(requestSchema.properties)),
    accountSid: responses.compile({ $ref: 'twilio-api-v2010-responses#/operation/accountSid' }),
    messageSid: responses.compile({ $ref: 'twilio-api-v2010-responses#/operation/messageSid' }),
    message: responses.compile({ $ref: 'twilio-api-v2010-responses#/components/schemas/api.v2010.account.message' }),
    listQuery: requests.compile({ $ref: 'twilio-api-v2010-requests#/operation/listQuery' }),
    listQueryFields: new Set(listParameters.map((parameter) => parameter.name)),
    listResponse: pages.compile({ $ref: 'twilio-api-v2010-pages#/operation/listResponse' }),
    error: responses.compile(TWILIO_ERROR_SCHEMA),
  };
  return contract;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message}`).join('; ');
}

// ---------------------------------------------------------------------------------------------
// Twilio's answers

/** Twilio's error codes this endpoint answers with, with the HTTP status Twilio gives each. */
const TWILIO_ERRORS: Record<number, { status: number; message: (params: FormParams) => string }> = {
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
const CODE_FOR_STATUS: Record<number, number> = { 400: 20001, 401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503 };

/** Twilio's magic test numbers (as with test credentials): each To draws its documented error. */
const MAGIC_TO_ERRORS: Record<string, number> = {
  '+15005550001': 21211,
  '+15005550002': 21612,
  '+15005550004': 21610,
  '+15005550009': 21614,
};

/** Delivery outcomes an accepted message can have, and the callbacks each produces. */
export type DeliveryOutcome = 'delivered' | 'sent' | 'undelivered' | 'failed';
const CALLBACK_SEQUENCE: Record<DeliveryOutcome, string[]> = {
  delivered: ['queued', 'sent', 'delivered'],
  sent: ['queued', 'sent'],
  undelivered: ['queued', 'sent', 'undelivered'],
  failed: ['queued', 'failed'],
};
/** 30003 Unreachable destination handset; 30008 Unknown error. */
const DEFAULT_DELIVERY_ERROR: Record<'undelivered' | 'failed', number> = { undelivered: 30003, failed: 30008 };

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

type FormParams = Record<string, string | string[]>;

function first(value: string | string[] | undefined): string | undefined {
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
  httpClient: TwilioEndpointRequestClient;
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

/**
 * The `twilio` package's own HTTP client, sending to a local base URL instead of Twilio's hosts
 * (the package has no base-URL option; `httpClient` is its documented extension point).
 */
export class TwilioEndpointRequestClient extends RequestClient {
  constructor(private readonly baseUrl: string, options?: RequestClient.RequestClientOptions) {
    super(options);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    if (uri.hostname === 'twilio.com' || uri.hostname.endsWith('.twilio.com')) {
      const base = new URL(this.baseUrl);
      uri.protocol = base.protocol;
      uri.host = base.host;
    }
    return super.request({ ...opts, uri: uri.href });
  }
}

/** Twilio's request signature: HMAC-SHA1 with the auth token over the URL and the sorted parameters, base64. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function rfc2822(date: Date): string {
  // toUTCString gives "Thu, 24 Aug 2023 05:01:45 GMT"; Twilio writes the zone as +0000.
  return date.toUTCString().replace(/GMT$/, '+0000');
}

const DAY_MS = 86_400_000;

/**
 * The sent times a DateSent filter value covers, in whole seconds as Twilio keeps them: a GMT date
 * (`YYYY-MM-DD`) covers its day, a date-time its second. Undefined for a value that is no date.
 */
function sentDateRange(value: string): { start: number; end: number; day: { start: number; end: number } } | undefined {
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
const SENT_DATE_FILTERS: ReadonlyArray<[string, (sent: number, range: NonNullable<ReturnType<typeof sentDateRange>>) => boolean]> = [
  ['DateSent', (sent, range) => sent >= range.day.start && sent <= range.day.end],
  ['DateSent<', (sent, range) => sent <= range.end],
  ['DateSent>', (sent, range) => sent >= range.start],
];

function parseForm(raw: string): FormParams {
  const params: FormParams = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startTwilioEndpoint(options: TwilioEndpointOptions = {}): Promise<TwilioEndpoint> {
  const spec = twilioContract();
  const accountSid = options.accountSid ?? `AC${hex(16)}`;
  const authToken = options.authToken ?? hex(16);
  const callbackDelayMs = options.callbackDelayMs ?? 5;
  const defaultOutcome = options.outcome ?? 'delivered';
  const messages: TwilioMessageRecord[] = [];
  const requests: TwilioRequestRecord[] = [];
  const statusCallbacks: TwilioStatusCallback[] = [];
  const violations: string[] = [];
  const pendingCallbacks = new Set<Promise<void>>();
  let decide: ((request: TwilioCreateRequest) => TwilioAnswer | undefined | Promise<TwilioAnswer | undefined>) | undefined;
  let decideList: ((request: TwilioListRequest) => TwilioListAnswer | undefined | Promise<TwilioListAnswer | undefined>) | undefined;
  let createCount = 0;
  let listCount = 0;
  let closed = false;
  let listening = false;
  /** Requests whose answer the script said to lose. */
  const losses = new WeakMap<TwilioRequestRecord, LostAnswer>();

  const send = (response: ServerResponse, record: TwilioRequestRecord, status: number, body: Record<string, unknown>, validate = status < 400 ? spec.message : spec.error) => {
    if (!validate(body)) violations.push(`response ${status} to ${record.method} ${record.path} breaks the contract: ${describeErrors(validate.errors)}`);
    record.status = status;
    if (status >= 400) record.errorCode = body.code as number;
    const loss = losses.get(record);
    if (loss) {
      // The answer is ready and goes nowhere: the client waits for it until its timeout, or its
      // connection is reset under it.
      record.lost = loss;
      if (loss === 'reset') response.socket?.resetAndDestroy();
      return;
    }
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'twilio-request-id': `RQ${hex(16)}` });
    response.end(JSON.stringify(body));
  };

  /** The message resource as Twilio gives it now (status, error and sent date change after the create). */
  const currentResource = (message: TwilioMessageRecord): Record<string, unknown> => ({
    ...message.resource,
    status: message.status,
    error_code: message.errorCode,
    date_sent: message.sentAt ? rfc2822(message.sentAt) : null,
  });

  const sendError = (response: ServerResponse, record: TwilioRequestRecord, answer: { error?: number; status?: number; message?: string }) => {
    const code = answer.error ?? CODE_FOR_STATUS[answer.status ?? 400] ?? 20001;
    const known = TWILIO_ERRORS[code];
    const status = answer.status ?? known?.status ?? 400;
    send(response, record, status, {
      code,
      message: answer.message ?? known?.message(record.params) ?? `Error ${code}`,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status,
    });
  };

  const postCallbacks = (message: TwilioMessageRecord, outcome: DeliveryOutcome, deliveryErrorCode: number | undefined) => {
    const url = message.statusCallback;
    const chain = (async () => {
      for (const status of CALLBACK_SEQUENCE[outcome]) {
        await new Promise((resolve) => setTimeout(resolve, callbackDelayMs));
        if (closed) return;
        message.status = status;
        if (status !== 'queued' && status !== 'accepted') message.sentAt ??= new Date();
        const params: Record<string, string> = {
          AccountSid: accountSid,
          ApiVersion: '2010-04-01',
          MessageSid: message.sid,
          SmsSid: message.sid,
          MessageStatus: status,
          SmsStatus: status,
          To: message.to,
        };
        if (message.from) params.From = message.from;
        if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
        if (status === 'undelivered' || status === 'failed') {
          message.errorCode = deliveryErrorCode ?? DEFAULT_DELIVERY_ERROR[status];
          params.ErrorCode = String(message.errorCode);
        }
        if (!url) continue;
        const signature = twilioSignature(authToken, url, params);
        const callback: TwilioStatusCallback = { url, messageSid: message.sid, status, params, signature, sentAt: performance.now() };
        statusCallbacks.push(callback);
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': `${FORM}; charset=utf-8`,
              'x-twilio-signature': signature,
              'i-twilio-idempotency-token': `${message.sid}-${status}`,
              'user-agent': 'TwilioProxy/1.1',
            },
            body: new URLSearchParams(params).toString(),
          });
          callback.responseStatus = response.status;
          await response.arrayBuffer();
        } catch (error) {
          // Twilio does not retry a status callback it could not deliver; neither does this endpoint.
          callback.error = (error as Error).message;
        }
      }
    })();
    pendingCallbacks.add(chain);
    void chain.finally(() => pendingCallbacks.delete(chain));
  };

  const authorised = (request: IncomingMessage, pathAccount: string) => {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === accountSid && rest.join(':') === authToken && pathAccount === accountSid;
  };

  const handleCreate = async (response: ServerResponse, record: TwilioRequestRecord) => {
    const params = record.params;
    // Every request is held to the CreateMessageRequest schema (form values coerced to its types).
    const unknown = Object.keys(params).filter((key) => !spec.createRequestFields.has(key));
    if (unknown.length > 0) violations.push(`POST ${record.path}: parameters not in the spec: ${unknown.join(', ')}`);
    const coerced = structuredClone(params) as Record<string, unknown>;
    const schemaValid = spec.createRequest(coerced);
    const schemaErrors = schemaValid ? [] : [...(spec.createRequest.errors ?? [])];
    if (!schemaValid) violations.push(`POST ${record.path}: request breaks CreateMessageRequest: ${describeErrors(schemaErrors)}`);

    const to = first(params.To);
    const from = first(params.From);
    const body = first(params.Body);
    const messagingServiceSid = first(params.MessagingServiceSid);
    const statusCallback = first(params.StatusCallback);
    const index = createCount++;
    const answer = (await decide?.({ index, params, to, from, body, statusCallback })) ?? {};
    if (answer.loseAnswer) losses.set(record, answer.loseAnswer);
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.error !== undefined || (answer.status !== undefined && answer.status >= 400)) return sendError(response, record, answer);

    // Twilio's own checks, in the order Twilio applies them.
    const fieldError = (field: string) => schemaErrors.some((error) => error.instancePath === `/${field}` || (error.params as { missingProperty?: string }).missingProperty === field);
    if (!to) return sendError(response, record, { error: 21604 });
    if (fieldError('To')) return sendError(response, record, { error: 21211 });
    if (!from && !messagingServiceSid) return sendError(response, record, { error: 21603 });
    if (fieldError('From')) return sendError(response, record, { error: 21212 });
    if (fieldError('StatusCallback')) return sendError(response, record, { error: 21609 });
    if (!schemaValid) return sendError(response, record, { error: 20001, message: `Invalid parameter: ${describeErrors(schemaErrors)}` });
    if (!body && params.MediaUrl === undefined && params.ContentSid === undefined) return sendError(response, record, { error: 21602 });
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return sendError(response, record, { error: 21211 });
    const magic = MAGIC_TO_ERRORS[to];
    if (magic !== undefined) return sendError(response, record, { error: magic });
    if ([...(body ?? '')].length > 1600) return sendError(response, record, { error: 21617 });

    const sid = `SM${hex(16)}`;
    const now = rfc2822(new Date());
    const { encoding, segments } = smsSegments(body ?? '');
    // A Messaging Service picks the sender later: Twilio answers "accepted" and "0" segments then.
    const viaService = !from && Boolean(messagingServiceSid);
    const resource: Record<string, unknown> = {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: body ?? '',
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: from ?? null,
      messaging_service_sid: messagingServiceSid ?? null,
      num_media: '0',
      num_segments: viaService ? '0' : String(segments),
      price: null,
      price_unit: 'USD',
      sid,
      status: viaService ? 'accepted' : 'queued',
      subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
      to,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    };
    const message: TwilioMessageRecord = {
      sid,
      to,
      from: from ?? null,
      messagingServiceSid: messagingServiceSid ?? null,
      body: body ?? '',
      statusCallback,
      encoding,
      segments,
      status: resource.status as string,
      sentAt: null,
      errorCode: null,
      params,
      resource,
      receivedAt: record.receivedAt,
    };
    messages.push(message);
    send(response, record, 201, resource);
    postCallbacks(message, answer.outcome ?? defaultOutcome, answer.deliveryErrorCode);
  };

  const handleFetch = (response: ServerResponse, record: TwilioRequestRecord, sid: string) => {
    if (!spec.messageSid(sid)) violations.push(`GET ${record.path}: Sid breaks the spec: ${describeErrors(spec.messageSid.errors)}`);
    const message = messages.find((candidate) => candidate.sid === sid);
    if (!message) return sendError(response, record, { error: 20404, message: `The requested resource ${record.path} was not found` });
    send(response, record, 200, currentResource(message));
  };

  /**
   * The Messages list: filtered by To, From and sent date, newest first, one page of PageSize
   * (default 50). A DateSent filter matches only messages that have a sent date, as Twilio's
   * `date_sent` is null while a message waits in its queue.
   */
  const handleList = async (response: ServerResponse, record: TwilioRequestRecord) => {
    const params = record.params;
    const unknown = Object.keys(params).filter((key) => !spec.listQueryFields.has(key));
    if (unknown.length > 0) violations.push(`GET ${record.path}: parameters not in the spec: ${unknown.join(', ')}`);
    const coerced = structuredClone(params) as Record<string, unknown>;
    if (!spec.listQuery(coerced)) violations.push(`GET ${record.path}: query breaks the list operation's parameters: ${describeErrors(spec.listQuery.errors)}`);

    const answer = (await decideList?.({ index: listCount++, params })) ?? {};
    if (answer.loseAnswer) losses.set(record, answer.loseAnswer);
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.error !== undefined || (answer.status !== undefined && answer.status >= 400)) return sendError(response, record, answer);

    const to = first(params.To);
    const from = first(params.From);
    const sentTests: Array<(sent: number) => boolean> = [];
    for (const [name, test] of SENT_DATE_FILTERS) {
      const value = first(params[name]);
      if (value === undefined) continue;
      const range = sentDateRange(value);
      if (!range) return sendError(response, record, { error: 20001, message: `Invalid date value for ${name}: ${value}` });
      sentTests.push((sent) => test(sent, range));
    }
    const pageSize = Math.min(1000, Math.max(1, Number(first(params.PageSize) ?? 50) || 50));
    const page = Math.max(0, Number(first(params.Page) ?? 0) || 0);
    const matching = [...messages].reverse().filter((message) => {
      if (to !== undefined && message.to !== to) return false;
      if (from !== undefined && message.from !== from) return false;
      if (sentTests.length === 0) return true;
      if (!message.sentAt) return false;
      const sent = Math.floor(message.sentAt.getTime() / 1000) * 1000;
      return sentTests.every((test) => test(sent));
    });
    const start = page * pageSize;
    const items = matching.slice(start, start + pageSize);
    const pageUri = (n: number, token?: string) => {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(params)) {
        if (key === 'Page' || key === 'PageSize' || key === 'PageToken') continue;
        for (const item of [value].flat()) query.append(key, item);
      }
      query.set('PageSize', String(pageSize));
      query.set('Page', String(n));
      if (token) query.set('PageToken', token);
      return `${record.path}?${query.toString()}`;
    };
    const more = start + pageSize < matching.length;
    send(
      response,
      record,
      200,
      {
        first_page_uri: pageUri(0),
        end: items.length > 0 ? start + items.length - 1 : start,
        next_page_uri: more ? pageUri(page + 1, `PA${items.at(-1)!.sid}`) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        messages: items.map(currentResource),
        start,
        uri: pageUri(page, first(params.PageToken)),
      },
      spec.listResponse,
    );
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://endpoint');
    const raw = await readBody(request);
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const method = (request.method ?? 'GET').toUpperCase();
    const record: TwilioRequestRecord = {
      method,
      path: url.pathname,
      params: method === 'POST' && contentType === FORM ? parseForm(raw) : parseForm(url.searchParams.toString()),
      status: 0,
      receivedAt: performance.now(),
    };
    requests.push(record);

    const messagesMatch = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    const messageMatch = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/.exec(url.pathname);
    const pathAccount = decodeURIComponent((messagesMatch ?? messageMatch)?.[1] ?? '');
    if (!messagesMatch && !messageMatch) {
      violations.push(`${method} ${url.pathname}: not an operation this endpoint serves`);
      return sendError(response, record, { error: 20404, message: `The requested resource ${url.pathname} was not found` });
    }
    if (!spec.accountSid(pathAccount)) violations.push(`${method} ${url.pathname}: AccountSid breaks the spec: ${describeErrors(spec.accountSid.errors)}`);
    if (!authorised(request, pathAccount)) return sendError(response, record, { error: 20003 });

    if (messagesMatch && method === 'POST') {
      if (contentType !== FORM) {
        violations.push(`POST ${url.pathname}: content type ${contentType || '(none)'}, the spec wants ${FORM}`);
        return sendError(response, record, { error: 20001, message: `Unsupported content type ${contentType || '(none)'}` });
      }
      return handleCreate(response, record);
    }
    if (messagesMatch && method === 'GET') return handleList(response, record);
    if (messageMatch && method === 'GET') return handleFetch(response, record, decodeURIComponent(messageMatch[2]!));
    violations.push(`${method} ${url.pathname}: not an operation this endpoint serves`);
    return sendError(response, record, { error: 20004 });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      violations.push(`endpoint failure on ${request.method} ${request.url}: ${error.message}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 20500, message: 'Internal Server Error', more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 }));
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  const stopListening = async () => {
    if (!listening) return;
    listening = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    accountSid,
    authToken,
    messages,
    requests,
    statusCallbacks,
    violations,
    httpClient: new TwilioEndpointRequestClient(url, { keepAlive: false }),
    script: (next) => {
      decide = next;
    },
    scriptList: (next) => {
      decideList = next;
    },
    down: async () => {
      await stopListening();
      // An outage lasts a moment: clients in this process see their kept-alive connections close
      // before they try again, so their next request is refused rather than reset.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
    up: async () => {
      if (!listening && !closed) await listen(port);
    },
    callbacksSettled: async () => {
      while (pendingCallbacks.size > 0) await Promise.all([...pendingCallbacks]);
    },
    close: async () => {
      closed = true;
      await Promise.all([...pendingCallbacks]);
      await stopListening();
    },
  };
}
