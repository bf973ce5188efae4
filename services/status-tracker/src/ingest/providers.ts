import { MAX_CSID_LENGTH, isFinalStatus, type FinalStatus } from '@faxnotify/contracts';

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
  number: string;
  status: FinalStatus;
  /** The provider's own status words, as they came, for the record. */
  rawStatus: string;
  reason: { code: string; detail: string };
  pagesSent: number;
  pagesTotal: number;
  remoteCsid: string | null;
  startedAt: string | null;
  endedAt: string;
  fileName: string;
  subject: string;
}

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
  if (!/^[+\d\s().-]+$/.test(text) || !/^\+[1-9]\d{1,14}$/.test(number)) throw new IngestError(`not a fax number we can track: ${JSON.stringify(clip(text, 40))}`);
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

/**
 * A Fax.Plus `fax_sent` webhook: `hook` {id, event, event_time, target} and `data` {id, uid,
 * pages, from, to, start_time, file, file_name, status, cost}. Its statuses are our vocabulary;
 * one we do not know is kept as `failed` with the word in the reason. Returns null for events
 * other than fax_sent (fax_received is not ours to track).
 */
export function parseFaxPlusWebhook(body: unknown): ProviderResult | null {
  if (typeof body !== 'object' || body === null) throw new IngestError('the body is not a JSON object');
  const { hook, data } = body as { hook?: Record<string, unknown>; data?: Record<string, unknown> };
  if (!hook || typeof hook !== 'object' || !data || typeof data !== 'object') throw new IngestError('a Fax.Plus webhook has `hook` and `data` objects');
  if (str(hook.event) !== 'fax_sent') return null;
  const sessionId = str(data.id);
  const faxKey = str(hook.id) || sessionId;
  if (!sessionId) throw new IngestError('data.id is missing');
  const raw = str(data.status);
  if (!raw) throw new IngestError('data.status is missing');
  const known = isFinalStatus(raw);
  const status: FinalStatus = known ? raw : 'failed';
  const pages = int(data.pages) ?? 0;
  const startedAt = data.start_time ? providerTime(data.start_time, 'data.start_time') : null;
  const endedAt = hook.event_time ? providerTime(hook.event_time, 'hook.event_time') : (startedAt ?? new Date().toISOString());
  return {
    provider: 'faxplus',
    providerFaxId: sessionId,
    providerFaxKey: faxKey,
    number: toE164(data.to),
    status,
    rawStatus: clip(raw, 200),
    reason: {
      code: clip(known ? raw : 'faxplus_unknown_status', 64),
      detail: clip(`Fax.Plus status=${raw}; session ${sessionId}${faxKey !== sessionId ? ` (a retry of ${faxKey})` : ''}${known ? '' : '; not a status we know'}`, 2000),
    },
    // Fax.Plus reports the pages of the fax, not how many arrived: all of them only on success.
    pagesSent: status === 'success' ? pages : 0,
    pagesTotal: pages,
    remoteCsid: null,
    startedAt,
    endedAt,
    fileName: clip(str(data.file_name), 255),
    subject: '',
  };
}

/**
 * ReplixFax's outbound statuses in our vocabulary. The provider reports `sent` or `failed` (with a
 * numeric ErrorCode specific to its fax server and an ErrorText), so a failure is classified by
 * its text; what we cannot classify stays the generic `failed` (or `partially_sent` when some
 * pages went). The raw words always stay in the reason detail. Null: not final yet.
 */
export function mapReplixFaxStatus(input: { faxStatus: string; errorCode: string; errorText: string; pagesSent: number; pagesTotal: number | null }): FinalStatus | null {
  const status = input.faxStatus.trim().toLowerCase().replace(/[\s_-]/g, '');
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
    number: toE164(first(fields, 'DestFaxNumber', 'FaxNumber', 'RecipientFaxNumber', 'DestinationFax')),
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
    fileName: '',
    subject: clip(str(first(fields, 'Subject', 'CoverSubject')), 1000),
  };
}
