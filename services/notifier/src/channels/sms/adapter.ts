import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';
import { ChannelError, type ChannelAdapter, type DeliveryReportListener, type DeliveryStatus, type RenderedNotice, type SendReceipt } from '../types';
import { BaseUrlRequestClient } from './request-client';

export interface SmsAdapterOptions {
  accountSid: string;
  authToken: string;
  /** Sender number or alphanumeric ID; empty to send through the Messaging Service. */
  from: string;
  messagingServiceSid: string;
  /** Public URL of POST /twilio/status as Twilio reaches it; empty: no delivery reports. */
  statusCallbackUrl: string;
  /** A Twilio-compatible endpoint instead of Twilio's hosts (tests, demo); empty for Twilio. */
  baseUrl: string;
  timeoutMs: number;
}

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
  return new ChannelError(`Twilio not reached${code ? ` (${code})` : ''}: ${e.message ?? String(error)}`, true, code, { cause: error });
}

/** Twilio's MessageStatus values that say something final or new about a message we sent. */
const REPORTED: Readonly<Record<string, DeliveryStatus>> = { sent: 'sent', delivered: 'delivered', undelivered: 'undelivered', failed: 'failed' };

/** The notice a status callback is about travels in its URL, which Twilio signs. */
const NOTICE_PARAMETER = 'notice';

/**
 * SMS notices through Twilio's Messages API with the `twilio` package. The text is already fitted
 * to its segment limit by the renderer; the status callback URL carries the notice id, so each
 * delivery report finds its ledger row even when it arrives before the send is marked.
 */
export class SmsAdapter implements ChannelAdapter {
  readonly channel = 'sms' as const;
  private readonly client: twilio.Twilio;
  private listener: DeliveryReportListener | undefined;

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

  async send(notice: RenderedNotice, to: string): Promise<SendReceipt> {
    const statusCallback = this.statusCallbackFor(notice.noticeId);
    try {
      const message = await this.client.messages.create({
        to,
        body: notice.text,
        ...(this.options.from ? { from: this.options.from } : { messagingServiceSid: this.options.messagingServiceSid }),
        ...(statusCallback ? { statusCallback } : {}),
      });
      // A Messaging Service answers "0" segments until it has picked the sender: our own count stands then.
      const segments = Number(message.numSegments) || notice.sms?.segments;
      return { providerMessageId: message.sid, ...(segments ? { segments } : {}), ...(notice.sms ? { encoding: notice.sms.encoding } : {}) };
    } catch (error) {
      throw classifyTwilioError(error);
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
