import type { Locale } from '@faxnotify/contracts';

export type Channel = 'email' | 'sms' | 'xmpp';

/** A notice rendered for one channel, ready for its adapter. */
export interface RenderedNotice {
  channel: Channel;
  locale: Locale;
  /** Title (email Subject); already free of control characters and length-bounded. */
  title: string;
  /** Plain-text body. */
  text: string;
  /** HTML body, where the channel has one. */
  html?: string;
  /** Threading: this notice's own id and the id of its fax's thread root (email Message-ID / References). */
  messageId: string;
  threadId: string;
}

/**
 * One interface per channel: an adapter sends a rendered notice to one address and returns the
 * provider's message id, or throws a ChannelError that says whether trying again can help.
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  send(notice: RenderedNotice, to: string): Promise<{ providerMessageId: string }>;
  /** Whether the provider can be reached (for /readyz); adapters that cannot tell return true. */
  verify?(): Promise<boolean>;
  close(): Promise<void>;
}

/** A provider refused or failed. `transient`: try again later (4xx SMTP, 429/5xx, a dropped connection); otherwise record it as failed. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    message: string,
    readonly transient: boolean,
    readonly providerCode?: string | number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
