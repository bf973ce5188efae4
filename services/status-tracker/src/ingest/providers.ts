import { MAX_CSID_LENGTH, MAX_SUBJECT_LENGTH, isFinalStatus, type FinalStatus } from '@faxnotify/contracts';

/**
 * What the cloud fax providers tell us, turned into our vocabulary. A provider result is one
 * recipient's final outcome; the recorder turns it into the same fax.submitted / recipient result
 * flow the transmitter's events take, so tracking, notices and webhooks work alike.
 */
export type Provider = 'faxplus' | 'replixfax';
export const PROVIDERS: readonly Provider[] = ['faxplus', 'replixfax'];

export interface ProviderResult {
  provider: Provider;
  /** The provider's id of this result: Fax.Plus's fax session id, ReplixFax's FaxId. */
  providerFaxId: string;
  /** The provider's id of the fax it belongs to: Fax.Plus's `hook.id` (the same for a retried fax), ReplixFax's FaxId. */
  providerFaxKey: string;
  /** The numbers the result is for, in the provider's order: one recipient each (Fax.Plus's `to` may list several). */
  numbers: string[];
  /** The fax's sender number (E.164), when the provider gave one that is a number. */
  from: string | null;
  status: FinalStatus;
  /** The provider's own status words, as they came, for the record. */
  rawStatus: string;
  reason: { code: string; detail: string };
  pagesSent: number;
  pagesTotal: number;
  remoteCsid: string | null;
  startedAt: string | null;
  endedAt: string;
  /** When the fax was submitted to the provider, where it says (Fax.Plus's `submit_time`). */
  submittedAt: string | null;
  /** The provider's redial policy for the fax, where it says; none otherwise. */
  retry: { count: number; delayMinutes: number };
  fileName: string;
  subject: string;
  /** What the provider charged for the fax, in the account's currency; null when it did not say. */
  cost: number | null;
}

/** The most recipients one provider result is tracked for (fax.submitted's own limit). */
export const MAX_PROVIDER_RECIPIENTS = 1000;

/** A post we cannot use: answered 400 with the reason (the provider's retries will not fix it either). */
export class IngestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestError';
  }
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const str = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');
const int = (value: unknown): number | null => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : null;
};

/** Fax numbers as providers write them (`+1 334-304-1234`, `13343041234`) in E.164. */
export function toE164(raw: unknown): string {
  const text = str(raw).trim();
  const digits = text.replace(/[^\d]/g, '');
  const number = `+${digits.replace(/^00/, '')}`;
  // Only digits and the usual separators: a masked or lettered number is not one we can dial or show as such.
  if (!/^[+\d\s().-]+$/.test(text) || !/^\+[1-9]\d{1,14}$/.test(number))
    throw new IngestError(`not a fax number we can track: ${JSON.stringify(clip(text, 40))}`);
  return number;
}

/** Provider times: ISO 8601, or `YYYY-MM-DD HH:mm:ss` (Fax.Plus; UTC). A time without a zone is taken as UTC. */
export function providerTime(raw: unknown, field: string): string {
  const text = str(raw).trim();
  const plain = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?$/.exec(text);
  const ms = Date.parse(plain ? `${plain[1]}T${plain[2]}${plain[3] ?? ''}Z` : text);
  if (!text || Number.isNaN(ms)) throw new IngestError(`${field} is not a time: ${JSON.stringify(clip(text, 40))}`);
  return new Date(ms).toISOString();
}

/** Fax.Plus's `to`: one number, or a list of them (the outbox request's form). */
function faxPlusNumbers(raw: unknown): string[] {
  const list = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (list.length === 0) throw new IngestError('data.to names no number');
  if (list.length > MAX_PROVIDER_RECIPIENTS)
    throw new IngestError(`data.to names ${list.length} numbers; at most ${MAX_PROVIDER_RECIPIENTS} are tracked per fax`);
  return list.map((entry, i) => {
    try {
      return toE164(entry);
    } catch (error) {
      if (error instanceof IngestError && list.length > 1) throw new IngestError(`data.to[${i}]: ${error.message}`);
      throw error;
    }
  });
}

/** Fax.Plus's comment: the fax object's free-form text, or the outbox request's `{ text }`. */
const faxPlusComment = (raw: unknown): string => str(typeof raw === 'object' && raw !== null ? (raw as { text?: unknown }).text : raw);

/** A whole number within the contract's retry bounds, or 0 when absent or out of them. */
const bounded = (raw: unknown, max: number): number => {
  const n = int(raw);
  return n !== null && n <= max ? n : 0;
};

/**
 * A Fax.Plus `fax_sent` webhook: `hook` {id, event, event_time, target} and `data` {id, uid,
 * pages, from, to, start_time, file, file_name, status, cost}, read with the fields its fax object
 * adds (comment, submit_time, direction, max_retry, retry_delay). Every field the sources name has
 * its place: `to` (a number or a list of them) one recipient each, `from` the sender number (a
 * Fax.Plus user id, which free accounts have there, is no number: it is named in the detail),
 * `comment` the subject, `start_time` when the call started, `submit_time` when the fax was
 * submitted, `hook.event_time` when the result came, `cost` what the fax cost, `file_name` its
 * file, `uid` and `file` (the owner and the file id at Fax.Plus) in the result's detail. Fax.Plus
 * names no CSID of the receiver, so none is recorded. Its statuses are our vocabulary; one we do
 * not know is kept as `failed` with the word in the reason. Returns null for events other than
 * fax_sent, and for an incoming fax (fax_received is not ours to track).
 */
export function parseFaxPlusWebhook(body: unknown): ProviderResult | null {
  if (typeof body !== 'object' || body === null) throw new IngestError('the body is not a JSON object');
  const { hook, data } = body as { hook?: Record<string, unknown>; data?: Record<string, unknown> };
  if (!hook || typeof hook !== 'object' || !data || typeof data !== 'object') throw new IngestError('a Fax.Plus webhook has `hook` and `data` objects');
  if (str(hook.event) !== 'fax_sent' || str(data.direction) === 'incoming') return null;
  const sessionId = str(data.id);
  const faxKey = str(hook.id) || sessionId;
  if (!sessionId) throw new IngestError('data.id is missing');
  const raw = str(data.status);
  if (!raw) throw new IngestError('data.status is missing');
  const known = isFinalStatus(raw);
  const status: FinalStatus = known ? raw : 'failed';
  const numbers = faxPlusNumbers(data.to);
  const pages = int(data.pages) ?? 0;
  const startedAt = data.start_time ? providerTime(data.start_time, 'data.start_time') : null;
  const submittedAt = data.submit_time ? providerTime(data.submit_time, 'data.submit_time') : null;
  const endedAt = hook.event_time ? providerTime(hook.event_time, 'hook.event_time') : (startedAt ?? new Date().toISOString());
  const fromRaw = str(data.from).trim();
  let from: string | null = null;
  try {
    from = fromRaw ? toE164(fromRaw) : null;
  } catch {
    from = null;
  }
  const cost = typeof data.cost === 'number' || (typeof data.cost === 'string' && data.cost.trim() !== '') ? Number(data.cost) : NaN;
  // The source names `pages` the fax's pages and `partially_sent` a call that dropped after the
  // first of them went: how many is not said, so a partial result counts the first page as sent.
  const pagesSent = status === 'success' ? pages : status === 'partially_sent' ? Math.min(1, pages) : 0;
  const facts = [
    `Fax.Plus status=${raw}`,
    `session ${sessionId}${faxKey !== sessionId ? ` (a retry of ${faxKey})` : ''}`,
    ...(status === 'partially_sent' ? [`${pages} pages, the first sent before the call dropped (Fax.Plus does not say how many)`] : []),
    ...(fromRaw && from === null ? [`from ${fromRaw} (a Fax.Plus user, not a number)`] : []),
    ...(str(data.uid) ? [`owner ${str(data.uid)}`] : []),
    ...(str(data.file) ? [`file ${str(data.file)}`] : []),
    ...(known ? [] : ['not a status we know']),
  ];
  return {
    provider: 'faxplus',
    providerFaxId: sessionId,
    providerFaxKey: faxKey,
    numbers,
    from,
    status,
    rawStatus: clip(raw, 200),
    reason: { code: clip(known ? raw : 'faxplus_unknown_status', 64), detail: clip(facts.join('; '), 2000) },
    pagesSent,
    pagesTotal: pages,
    remoteCsid: null,
    startedAt,
    endedAt,
    submittedAt,
    retry: { count: bounded(data.max_retry, 3), delayMinutes: bounded(data.retry_delay, 1440) },
    fileName: clip(str(data.file_name), 255),
    subject: clip(faxPlusComment(data.comment), MAX_SUBJECT_LENGTH),
    cost: Number.isFinite(cost) && cost >= 0 ? cost : null,
  };
}

/**
 * ReplixFax's outbound statuses in our vocabulary. The provider reports `sent` or `failed` (with a
 * numeric ErrorCode specific to its fax server and an ErrorText), so a failure is classified by
 * its text; what we cannot classify stays the generic `failed` (or `partially_sent` when some
 * pages went). The raw words always stay in the reason detail. Null: not final yet.
 */
export function mapReplixFaxStatus(input: {
  faxStatus: string;
  errorCode: string;
  errorText: string;
  pagesSent: number;
  pagesTotal: number | null;
}): FinalStatus | null {
  const status = input.faxStatus
    .trim()
    .toLowerCase()
    .replace(/[\s_-]/g, '');
  const partial = input.pagesSent > 0;
  if (['sent', 'sendok', 'success', 'completed', 'complete', 'ok'].includes(status)) {
    return input.pagesTotal !== null && input.pagesSent < input.pagesTotal && partial ? 'partially_sent' : 'success';
  }
  if (!['failed', 'sendfailed', 'error', 'fail', 'sendfail'].includes(status)) return null;
  const text = `${input.errorText} ${input.errorCode}`.toLowerCase();
  if (partial) return 'partially_sent';
  if (/busy/.test(text)) return 'failed_user_busy';
  if (/no ?answer|not answer|no response|ring ?no ?answer/.test(text)) return 'failed_no_answer';
  if (/unallocated|not in service|does not exist|disconnected|no such number/.test(text)) return 'failed_unallocated_number';
  if (/invalid (fax )?number|number format|bad number/.test(text)) return 'failed_invalid_number_format';
  if (/credit|balance|insufficient funds/.test(text)) return 'insufficient_credit';
  if (/convert|conversion|render/.test(text)) return 'failed_convert_to_tiff_issue';
  if (/unsupported (file|format|type)|mime/.test(text)) return 'failed_mimetype_not_supported';
  return 'failed';
}

const first = (fields: Record<string, unknown>, ...names: string[]): unknown => {
  for (const name of names) if (fields[name] !== undefined && fields[name] !== '') return fields[name];
  return undefined;
};

/**
 * A ReplixFax outbound fax, as its URL callback posts it (form fields) or its REST query lists it
 * (JSON): FaxId, FaxStatus, ErrorCode, ErrorText, the destination number, CSI (the receiver's
 * station id), CompleteTime, pages sent. Field names beyond those the provider's documentation
 * shows for the callback (CSI, CompleteTime, and the inbound notice's FaxId, FaxStatus, ErrorCode,
 * ErrorText, DestFaxNumber) are accepted under the likely alternatives. Null: not final, or not
 * an outgoing fax.
 */
export function parseReplixFaxOutbound(fields: Record<string, unknown>): ProviderResult | null {
  const queue = str(fields.Queue);
  if (queue && queue.toLowerCase() === 'receivefax') return null;
  const faxId = str(first(fields, 'FaxId', 'FaxID', 'Id'));
  if (!faxId) throw new IngestError('FaxId is missing');
  const faxStatus = str(fields.FaxStatus);
  if (!faxStatus) throw new IngestError('FaxStatus is missing');
  const errorCode = str(fields.ErrorCode);
  const errorText = str(fields.ErrorText);
  const pagesSent = int(first(fields, 'PagesSent', 'SentPages', 'Pages')) ?? 0;
  const pagesTotal = int(first(fields, 'TotalPages', 'PageCount', 'NumberOfPages', 'Pages'));
  const status = mapReplixFaxStatus({ faxStatus, errorCode, errorText, pagesSent, pagesTotal });
  if (!status) return null;
  const endedAt = providerTime(first(fields, 'CompleteTime', 'CompletedTime', 'SentTime', 'DateTime') ?? new Date().toISOString(), 'CompleteTime');
  const startRaw = first(fields, 'SendTime', 'StartTime', 'SubmitTime');
  const csi = str(fields.CSI).trim();
  return {
    provider: 'replixfax',
    providerFaxId: faxId,
    providerFaxKey: faxId,
    numbers: [toE164(first(fields, 'DestFaxNumber', 'FaxNumber', 'RecipientFaxNumber', 'DestinationFax'))],
    from: null,
    status,
    rawStatus: clip(`${faxStatus}${errorCode ? ` ${errorCode}` : ''}`, 200),
    reason: {
      code: clip(errorCode && errorCode !== '0' ? `replixfax_${errorCode}` : `replixfax_${faxStatus.toLowerCase()}`, 64),
      detail: clip(`ReplixFax FaxStatus=${faxStatus} ErrorCode=${errorCode || '0'}${errorText ? ` ErrorText=${errorText}` : ''}`, 2000),
    },
    pagesSent,
    pagesTotal: Math.max(pagesTotal ?? pagesSent, pagesSent),
    remoteCsid: csi ? clip(csi, MAX_CSID_LENGTH) : null,
    startedAt: startRaw ? providerTime(startRaw, 'SendTime') : null,
    endedAt,
    submittedAt: null,
    retry: { count: 0, delayMinutes: 0 },
    fileName: '',
    subject: clip(str(first(fields, 'Subject', 'CoverSubject')), 1000),
    cost: null,
  };
}
