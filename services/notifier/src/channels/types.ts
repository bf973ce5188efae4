import type { Locale, SmsEncoding } from '@faxnotify/contracts';

export type Channel = 'email' | 'sms' | 'xmpp';
export const CHANNELS: readonly Channel[] = ['email', 'sms', 'xmpp'];

/** How an SMS text is encoded: GSM-7 when every character is in the GSM alphabet, UCS-2 otherwise. */
export type { SmsEncoding };

/** A notice rendered for one channel, ready for its adapter. */
export interface RenderedNotice {
  channel: Channel;
  locale: Locale;
  /**
   * The notice's own id (the same for every try of one result on one channel). Adapters hand it to
   * the provider so that delivery reports name it: the XMPP stanza id, the SMS status-callback URL.
   */
  noticeId: string;
  /** Title (email Subject); already free of control characters and length-bounded. */
  title: string;
  /** Plain-text body. */
  text: string;
  /** HTML body, where the channel has one. */
  html?: string;
  /** SMS: the encoding and number of parts the text takes (already fitted to the limit). */
  sms?: { encoding: SmsEncoding; segments: number };
  /** Threading: this notice's own id and the id of its fax's thread root (email Message-ID / References); empty for a message in no thread. */
  messageId: string;
  threadId: string;
  /** An earlier send of this notice that may have reached the provider without its answer reaching us (kept in the ledger). */
  lostSend?: LostSend;
  /** The one-click unsubscribe link (RFC 8058) of the owner's notices on this channel; email puts it in List-Unsubscribe. */
  unsubscribeUrl?: string;
  /** Files the notice carries (a received fax's PDF); the email adapter attaches them, channels without attachments give the link only. */
  attachments?: NoticeAttachment[];
}

/** A file sent with a notice. */
export interface NoticeAttachment {
  /** A plain file name (no path, no control characters). */
  fileName: string;
  contentType: string;
  content: Buffer;
}

/** A send that may have reached the provider without its answer reaching us. */
export interface LostSend {
  /** When the earliest such send began (ms since the epoch): no message of it can be older. */
  startedAt: number;
  /** When the latest such answer was found missing (ms since the epoch). */
  lostAt: number;
}

/** What a provider said when it accepted a notice. */
export interface SendReceipt {
  providerMessageId: string;
  /** SMS: the parts it is billed and sent as. */
  segments?: number;
  encoding?: SmsEncoding;
  /** Email: the SMTP server's reply code to the message. */
  smtpCode?: number;
}

/** What a provider reported later about a notice it had accepted. */
export type DeliveryStatus = 'sent' | 'delivered' | 'undelivered' | 'failed';

export interface DeliveryReport {
  channel: Channel;
  /** RenderedNotice.noticeId of the notice it is about. */
  noticeId: string;
  status: DeliveryStatus;
  /** The provider's message id, when the report carries one (checked against the ledger). */
  providerMessageId?: string;
  /** The provider's error code for an undelivered or failed notice (Twilio's ErrorCode). */
  errorCode?: string;
  /** Who confirmed it (an XMPP receipt's sender, as the server stamped it): must be the address the notice went to. */
  fromAddress?: string;
}

export type DeliveryReportListener = (report: DeliveryReport) => Promise<void>;

/**
 * One interface per channel: an adapter sends a rendered notice to one address and returns the
 * provider's message id, or throws a ChannelError that says whether trying again can help.
 * Adapters whose provider reports delivery later (SMS status callbacks, XMPP receipts) pass those
 * reports to the listener the notifier registers.
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  send(notice: RenderedNotice, to: string): Promise<SendReceipt>;
  /** Registers the one listener for delivery reports. */
  onDeliveryReport?(listener: DeliveryReportListener): void;
  /** Whether the provider can be reached (for /readyz); adapters that cannot tell return true. */
  verify?(): Promise<boolean>;
  close(): Promise<void>;
}

/** A provider refused or failed. `transient`: try again later (4xx SMTP, 429/5xx, a dropped connection); otherwise record it as failed. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  /** Set when the provider may have the notice although its answer was lost: the retry must look before it sends. */
  lostSend?: LostSend;

  constructor(
    message: string,
    readonly transient: boolean,
    readonly providerCode?: string | number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
