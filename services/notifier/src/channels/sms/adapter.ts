import { Counter } from 'prom-client';
import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';
import type { MessageInstance } from 'twilio/lib/rest/api/v2010/account/message';
import type { NotifierConfig } from '../../config';
import {
  ChannelError,
  type ChannelAdapter,
  type DeliveryReportListener,
  type DeliveryStatus,
  type LostSend,
  type RenderedNotice,
  type SendReceipt,
} from '../types';
import { BaseUrlRequestClient } from './request-client';

/** The `twilio` section of the notifier's configuration (see its schema for what each setting means). */
export type SmsAdapterOptions = NotifierConfig['twilio'];

/**
 * Twilio's error codes for a number that cannot take this SMS: retrying cannot help. Every other
 * 4xx is permanent too (a request Twilio refuses stays refused); these get a plain description.
 */
export const NUMBER_ERRORS: Readonly<Record<number, string>> = {
  21211: "invalid 'To' phone number",
  21214: "'To' phone number cannot be reached",
  21217: 'phone number does not appear to be valid',
  21401: 'invalid phone number',
  21407: 'destination not supported',
  21408: 'sending to this region is not enabled',
  21610: 'the recipient has unsubscribed (replied STOP)',
  21612: "'To' phone number is not reachable by SMS",
  21614: "'To' number is not a mobile number",
};

/**
 * Failures that happen before a request leaves this host (no connection, no address, a TLS
 * certificate refused): Twilio cannot have acted on the request.
 */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Whether Twilio may have acted on a request whose answer we did not get: true for a timeout, a
 * connection reset or closed after the request went out, or an answer we could not read; false
 * for an HTTP answer (Twilio said what it did) and for a request that never left this host.
 */
export function answerMayBeLost(error: unknown): boolean {
  const e = error as { status?: unknown; code?: unknown };
  if (typeof e.status === 'number') return false;
  return !(typeof e.code === 'string' && NOT_SENT_CODES.has(e.code));
}

/**
 * A Twilio failure as a ChannelError: 429 and 5xx are transient (the bus retries with backoff),
 * other HTTP errors permanent; no answer at all (refused, reset, timed out) is transient.
 */
export function classifyTwilioError(error: unknown): ChannelError {
  const e = error as { status?: unknown; code?: unknown; message?: string };
  if (typeof e.status === 'number') {
    const code = typeof e.code === 'number' ? e.code : undefined;
    const transient = e.status === 429 || e.status >= 500;
    const known = code !== undefined ? NUMBER_ERRORS[code] : undefined;
    const what = known ? `${known} (${e.message ?? ''})` : (e.message ?? 'error');
    return new ChannelError(`Twilio ${e.status}${code !== undefined ? ` error ${code}` : ''}: ${what}`, transient, code ?? e.status, { cause: error });
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  const what = answerMayBeLost(error) ? "Twilio's answer lost" : 'Twilio not reached';
  return new ChannelError(`${what}${code ? ` (${code})` : ''}: ${e.message ?? String(error)}`, true, code, { cause: error });
}

const lostAnswerLookups = new Counter({
  name: 'faxnotify_sms_lost_answer_lookups_total',
  help: "Look-ups of an SMS whose send lost Twilio's answer, by result: found (recorded as sent, not sent again), absent (sent again), undecided (retried later), failed (retried later).",
  labelNames: ['result'],
});

/**
 * How far before a lost send the look-up window opens: Twilio's clock and ours differ a little,
 * and Twilio keeps its dates in whole seconds.
 */
const LOOKUP_CLOCK_MARGIN_MS = 60_000;
/**
 * Lost sends are remembered this long (the bus's retries end well within it), and at most this
 * many, so the memory stays bounded whatever happens to the notices.
 */
const LOST_SEND_MEMORY_MS = 6 * 3_600_000;
const LOST_SEND_MEMORY_ENTRIES = 10_000;

/** What Twilio said about the message it took for a notice. */
function receiptOf(message: MessageInstance, notice: RenderedNotice): SendReceipt {
  // A Messaging Service answers "0" segments until it has picked the sender: our own count stands then.
  const segments = Number(message.numSegments) || notice.sms?.segments;
  return { providerMessageId: message.sid, ...(segments ? { segments } : {}), ...(notice.sms ? { encoding: notice.sms.encoding } : {}) };
}

/** Twilio's MessageStatus values that say something final or new about a message we sent. */
const REPORTED: Readonly<Record<string, DeliveryStatus>> = { sent: 'sent', delivered: 'delivered', undelivered: 'undelivered', failed: 'failed' };

/** The notice a status callback is about travels in its URL, which Twilio signs. */
const NOTICE_PARAMETER = 'notice';

/**
 * SMS notices through Twilio's Messages API with the `twilio` package. The text is already fitted
 * to its segment limit by the renderer; the status callback URL carries the notice id, so each
 * delivery report finds its ledger row even when it arrives before the send is marked.
 *
 * Twilio's Messages API takes no idempotency key, so a send whose answer was lost (a timeout, a
 * connection dropped after the request went out) may have created the message. The retry of such
 * a notice first looks for that message in Twilio's list and, when it is there, records its SID
 * instead of sending a second SMS. A clear HTTP answer (4xx, 5xx) or a request that never left
 * this host needs no look-up. A lost send travels with the error (ChannelError.lostSend) into the
 * send ledger, which hands it to whichever notifier process takes the retry (RenderedNotice.lostSend);
 * this process also remembers its own, for retries before the ledger row is read again.
 */
export class SmsAdapter implements ChannelAdapter {
  readonly channel = 'sms' as const;
  private readonly client: twilio.Twilio;
  private listener: DeliveryReportListener | undefined;
  /** By notice id; insertion order is age order. */
  private readonly lostSends = new Map<string, LostSend>();

  constructor(private readonly options: SmsAdapterOptions) {
    const clientOptions = { timeout: options.timeoutMs, keepAlive: true };
    const httpClient = options.baseUrl ? new BaseUrlRequestClient(options.baseUrl, clientOptions) : new RequestClient(clientOptions);
    // Retries are the bus's job (with backoff, visible in the ledger), not the client's.
    this.client = twilio(options.accountSid, options.authToken, { httpClient, autoRetry: false });
  }

  onDeliveryReport(listener: DeliveryReportListener): void {
    this.listener = listener;
  }

  /** The StatusCallback URL for one notice, or undefined when no callback URL is configured. */
  statusCallbackFor(noticeId: string): string | undefined {
    if (!this.options.statusCallbackUrl) return undefined;
    const url = new URL(this.options.statusCallbackUrl);
    url.searchParams.set(NOTICE_PARAMETER, noticeId);
    return url.href;
  }

  /**
   * Sends the notice, or, when an earlier send of it lost Twilio's answer, first looks for the
   * message that send may have created. One call creates at most one message.
   */
  async send(notice: RenderedNotice, to: string): Promise<SendReceipt> {
    // Remembered here, or by the ledger when the earlier send was made by another process.
    const lost = this.lostSends.get(notice.noticeId) ?? notice.lostSend;
    if (lost) {
      const found = await this.findLostSend(notice, to, lost).catch((error: unknown) => {
        if (error instanceof ChannelError) error.lostSend = lost;
        throw error;
      });
      if (found) {
        this.lostSends.delete(notice.noticeId);
        return receiptOf(found, notice);
      }
    }
    const statusCallback = this.statusCallbackFor(notice.noticeId);
    const startedAt = Date.now();
    try {
      const message = await this.client.messages.create({
        to,
        body: notice.text,
        ...(this.options.from ? { from: this.options.from } : { messagingServiceSid: this.options.messagingServiceSid }),
        ...(statusCallback ? { statusCallback } : {}),
      });
      // A success we cannot read may still be a created message.
      if (!message.sid) throw new Error('Twilio answered without a message SID');
      this.lostSends.delete(notice.noticeId);
      return receiptOf(message, notice);
    } catch (error) {
      const failure = classifyTwilioError(error);
      if (answerMayBeLost(error)) {
        failure.lostSend = { startedAt: lost?.startedAt ?? startedAt, lostAt: Date.now() };
        this.rememberLostSend(notice.noticeId, failure.lostSend);
      } else if (lost) {
        // Still unknown whether the earlier lost send created a message: keep looking on later tries.
        failure.lostSend = lost;
      }
      throw failure;
    }
  }

  /**
   * The message a send with a lost answer created, from one page of Twilio's Messages list:
   * messages to this number from our sender (`From` filter; a Messaging Service is not a filter of
   * the list, so its messages are told by their messaging_service_sid), sent since the lost send
   * began (`DateSent>`), newest first, then matched on direction, sender and the exact text.
   * The status callback URL, which carries the notice id, would tell two equal texts apart, but
   * the Message resource does not show it: two notices with the same text to the same number
   * within the window are taken for one another.
   *
   * Undefined means Twilio does not have it, and the caller sends. Throws a transient ChannelError
   * (retry later, do not send) when the look-up fails or cannot decide: the page is full of newer
   * messages, or the answer was lost too recently for an absence to mean anything.
   *
   * The edge that remains: Twilio lists a message only once it has it in its message log, and a
   * DateSent filter only matches a message once it has a sent date (date_sent stays empty while
   * the message waits in Twilio's queue, e.g. behind a sender's throughput limit). A message
   * created by the lost send but not listed yet after `lookupSettleMs` is missed, and the SMS is
   * sent a second time.
   */
  private async findLostSend(notice: RenderedNotice, to: string, lost: LostSend): Promise<MessageInstance | undefined> {
    const { from, messagingServiceSid, lookupPageSize, lookupSettleMs } = this.options;
    const since = lost.startedAt - LOOKUP_CLOCK_MARGIN_MS;
    let page: Awaited<ReturnType<twilio.Twilio['messages']['page']>>;
    try {
      page = await this.client.messages.page({ to, ...(from ? { from } : {}), dateSentAfter: new Date(since), pageSize: lookupPageSize });
    } catch (error) {
      lostAnswerLookups.inc({ result: 'failed' });
      const cause = classifyTwilioError(error);
      throw new ChannelError(
        `Twilio's answer to an earlier send was lost, and looking for its message failed (${cause.message}); not sent again until it is known`,
        true,
        cause.providerCode,
        { cause: error },
      );
    }
    const listed = page.instances;
    const ours = listed.filter(
      (message) =>
        message.direction === 'outbound-api' &&
        message.to === to &&
        (from ? message.from === from : message.messagingServiceSid === messagingServiceSid) &&
        message.body === notice.text &&
        (message.dateCreated?.getTime() ?? 0) >= since,
    );
    // Newest first: the oldest match is the one the earliest lost send created.
    const found = ours.at(-1);
    if (found) {
      lostAnswerLookups.inc({ result: 'found' });
      return found;
    }
    const oldestListed = listed.at(-1)?.dateSent?.getTime();
    const wholeWindowListed = !page.nextPageUrl || (oldestListed !== undefined && oldestListed < since);
    const settled = Date.now() - lost.lostAt >= lookupSettleMs;
    if (!wholeWindowListed || !settled) {
      lostAnswerLookups.inc({ result: 'undecided' });
      const why = !wholeWindowListed ? `more than ${lookupPageSize} messages to this number since then` : 'Twilio may not list it yet';
      throw new ChannelError(`Twilio's answer to an earlier send was lost and its message is not found (${why}); not sent again until it is known`, true);
    }
    lostAnswerLookups.inc({ result: 'absent' });
    return undefined;
  }

  private rememberLostSend(noticeId: string, lost: LostSend): void {
    this.lostSends.delete(noticeId);
    this.lostSends.set(noticeId, lost);
    const expired = Date.now() - LOST_SEND_MEMORY_MS;
    for (const [id, entry] of this.lostSends) {
      if (entry.lostAt >= expired && this.lostSends.size <= LOST_SEND_MEMORY_ENTRIES) break;
      this.lostSends.delete(id);
    }
  }

  /**
   * A status callback as POST /twilio/status received it. `query` is the raw query string of the
   * request; the signed URL is the configured public callback URL with that query. Returns false
   * when the signature does not hold (the caller answers 403).
   */
  async handleStatusCallback(request: { query: string; signature: string | undefined; params: Record<string, string> }): Promise<boolean> {
    if (!this.options.statusCallbackUrl || !request.signature) return false;
    const base = new URL(this.options.statusCallbackUrl);
    const signedUrl = `${base.origin}${base.pathname}${request.query ? `?${request.query}` : ''}`;
    if (!twilio.validateRequest(this.options.authToken, request.signature, signedUrl, request.params)) return false;
    const noticeId = new URLSearchParams(request.query).get(NOTICE_PARAMETER);
    const status = REPORTED[request.params.MessageStatus ?? ''];
    if (noticeId && status && this.listener) {
      await this.listener({
        channel: 'sms',
        noticeId,
        status,
        ...(request.params.MessageSid ? { providerMessageId: request.params.MessageSid } : {}),
        ...(request.params.ErrorCode ? { errorCode: request.params.ErrorCode.slice(0, 16) } : {}),
      });
    }
    return true;
  }

  async close(): Promise<void> {
    // The client holds pooled sockets only; they close with the process.
  }
}
