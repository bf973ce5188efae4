import { createTransport, type Transporter } from 'nodemailer';
import type { NotifierConfig } from '../../config';
import { ChannelError, type ChannelAdapter, type RenderedNotice, type SendReceipt } from '../types';
import { subjectHeader } from './subject';

/** The `smtp` section of the notifier's configuration (see its schema for what each setting means). */
export type EmailAdapterOptions = NotifierConfig['smtp'];

/** Network failures nodemailer reports without an SMTP reply: all worth another try. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EPROTOCOL']);

/**
 * Email notices over SMTP with nodemailer's pooled transport. SMTP 4xx replies and network
 * failures are transient; 5xx replies are permanent (the address or message is refused).
 */
export class EmailAdapter implements ChannelAdapter {
  readonly channel = 'email' as const;
  private readonly transport: Transporter;

  constructor(private readonly options: EmailAdapterOptions) {
    this.transport = createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      requireTLS: options.requireTls,
      auth: options.user ? { user: options.user, pass: options.password } : undefined,
      pool: true,
      maxConnections: options.maxConnections,
      maxMessages: options.maxMessages,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    });
  }

  async send(notice: RenderedNotice, to: string): Promise<SendReceipt> {
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        to,
        subject: subjectHeader(notice.title),
        text: notice.text,
        html: notice.html,
        messageId: notice.messageId,
        // A message outside any fax's thread (a confirmation code) has no thread root.
        ...(notice.threadId ? { inReplyTo: notice.threadId, references: [notice.threadId] } : {}),
        headers: {
          'Auto-Submitted': 'auto-generated',
          'Content-Language': notice.locale,
          // RFC 8058: a mail client may unsubscribe with one POST to the List-Unsubscribe address (nodemailer writes that header, not this one).
          ...(notice.unsubscribeUrl ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
        },
        ...(notice.unsubscribeUrl ? { list: { unsubscribe: notice.unsubscribeUrl } } : {}),
        ...(notice.attachments?.length
          ? { attachments: notice.attachments.map((a) => ({ filename: a.fileName, contentType: a.contentType, content: a.content })) }
          : {}),
      });
      const smtpCode = smtpReplyCode(info.response);
      return { providerMessageId: info.messageId ?? notice.messageId, ...(smtpCode ? { smtpCode } : {}) };
    } catch (error) {
      throw classifySmtpError(error);
    }
  }

  async verify(): Promise<boolean> {
    return this.transport.verify().then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** The reply code at the start of an SMTP server's final reply (`250 2.0.0 Ok: queued as …`). */
export function smtpReplyCode(reply: unknown): number | undefined {
  const match = typeof reply === 'string' ? /^([2-5][0-9]{2})(?:[ -]|$)/.exec(reply) : null;
  return match ? Number(match[1]) : undefined;
}

/** A refused or failed send: `providerCode` is the SMTP reply code (a number) when the server replied, nodemailer's error code otherwise. */
export function classifySmtpError(error: unknown): ChannelError {
  const e = error as { responseCode?: number; code?: string; response?: string; message?: string };
  const reply = e.response ?? e.message ?? String(error);
  if (typeof e.responseCode === 'number') {
    return new ChannelError(`SMTP ${e.responseCode}: ${reply}`, e.responseCode < 500, e.responseCode, { cause: error });
  }
  return new ChannelError(`SMTP ${e.code ?? 'error'}: ${reply}`, e.code === undefined || TRANSIENT_CODES.has(e.code), e.code, { cause: error });
}
