import { randomBytes } from 'node:crypto';
import { Counter } from 'prom-client';
import { errorMessage, type Logger } from '@faxnotify/kit';
import type { NotifierConfig } from '../../config';
import { ChannelError, type ChannelAdapter, type DeliveryReportListener, type RenderedNotice, type SendReceipt } from '../types';

// @xmpp/client ships as an ES module only; a dynamic import keeps this package CommonJS.
const xmppModule = () => import('@xmpp/client');
type XmppModule = Awaited<ReturnType<typeof xmppModule>>;
type XmppClient = ReturnType<XmppModule['client']>;
type XmlElement = ReturnType<XmppModule['xml']>;

const NS_RECEIPTS = 'urn:xmpp:receipts';
const NS_PING = 'urn:xmpp:ping';
const NS_HINTS = 'urn:xmpp:hints';
const NS_STANZA_ID = 'urn:xmpp:sid:0';
/** Idle connections are checked this often, so a connection that died silently is replaced. */
const KEEPALIVE_MS = 60_000;

const sendsCounter = new Counter({
  name: 'faxnotify_xmpp_sends_total',
  help: 'XMPP notices by what became of the send: confirmed by the server, refused while disconnected, or lost with the connection before the server confirmed it (tried again; the one case that can repeat a message).',
  labelNames: ['result'],
});

/** What became of sends so far (also exported as faxnotify_xmpp_sends_total). */
export interface XmppSendCounts {
  confirmed: number;
  offline: number;
  unconfirmed: number;
}

/** The connection settings of the notifier's `xmpp` section (see its schema for what each setting means), and a logger. */
export type XmppAdapterOptions = Omit<NotifierConfig['xmpp'], 'commandsPerHour'> & { logger: Logger };

/**
 * Characters XML 1.0 does not allow (C0 controls other than tab and newlines, lone surrogates,
 * U+FFFE/U+FFFF): the library escapes markup but would put these on the wire, and the server
 * would close the stream over them.
 */
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;
export const xmlSafe = (text: string): string => text.replace(NOT_XML_CHAR, '');

const bare = (jid: string): string => jid.split('/')[0].toLowerCase();

/** A chat message someone sent to the service's account: the sender as the server stamped it (bare JID), and the text as typed (untrusted). */
export interface IncomingChat {
  from: string;
  body: string;
  /** The sender's stanza id, when it gave one (a retransmitted message has the same). */
  id: string | undefined;
}

export type IncomingChatListener = (chat: IncomingChat) => Promise<void>;
/** Told of each notice the server confirmed, with the address it went to. */
export type SentNoticeListener = (notice: RenderedNotice, to: string) => Promise<void>;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Jabber notices over one long-lived connection of the service's own account. Each notice is a
 * `chat` message asking for a XEP-0184 receipt, sent together with a ping to the server: the
 * server handles a stream's stanzas in order, so its answer to the ping proves it took the message
 * (delivered, or stored for an offline user). A message the server did not confirm before the
 * connection dropped is a transient failure, tried again once the connection is back; @xmpp's own
 * reconnect tries once per disconnect, so this adapter reconnects itself, with backoff, until it
 * is back or closed.
 */
export class XmppAdapter implements ChannelAdapter {
  readonly channel = 'xmpp' as const;
  private client: XmppClient | undefined;
  private xml: XmppModule['xml'] | undefined;
  private listener: DeliveryReportListener | undefined;
  private chatListener: IncomingChatListener | undefined;
  private sentListener: SentNoticeListener | undefined;
  private readonly waiters = new Map<string, Waiter>();
  private closed = false;
  private failedAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private readonly onlineWaiters = new Set<() => void>();
  /** Logins so far (the first one and every reconnection), for metrics and tests. */
  connections = 0;
  /**
   * This process's resource: the configured prefix and a suffix of its own, so notifier replicas
   * sharing the account do not replace each other's sessions. It stays the same across
   * reconnections, so receipts addressed to it still arrive.
   */
  readonly resource: string;
  readonly sends: XmppSendCounts = { confirmed: 0, offline: 0, unconfirmed: 0 };

  private count(result: keyof XmppSendCounts): void {
    this.sends[result] += 1;
    sendsCounter.inc({ result });
  }

  constructor(private readonly options: XmppAdapterOptions) {
    this.resource = `${options.resource}.${randomBytes(3).toString('hex')}`;
  }

  /** Starts connecting; does not wait for the server, which may be down at start. */
  start(): void {
    this.scheduleConnect(0);
  }

  get online(): boolean {
    return this.client?.status === 'online';
  }

  /** Resolves once connected (for start-up and tests). */
  async waitOnline(timeoutMs = this.options.timeoutMs): Promise<void> {
    if (this.online) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.onlineWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.onlineWaiters.delete(done);
        reject(new Error(`XMPP not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this.onlineWaiters.add(done);
    });
  }

  onDeliveryReport(listener: DeliveryReportListener): void {
    this.listener = listener;
  }

  /** Registers the one listener for chat messages people send to the service's account (Jabber commands). */
  onChat(listener: IncomingChatListener): void {
    this.chatListener = listener;
  }

  /** Registers the one listener told of each notice the server confirmed. */
  onSent(listener: SentNoticeListener): void {
    this.sentListener = listener;
  }

  /**
   * An answer to someone who wrote to the service: one chat message, no receipt asked. Throws a
   * transient ChannelError while disconnected. The text is made XML-safe; the library escapes markup.
   */
  async reply(to: string, text: string, locale: string): Promise<void> {
    const client = this.client;
    const xml = this.xml;
    if (!client || !xml || client.status !== 'online') throw new ChannelError('XMPP is not connected', true, 'not-connected');
    const id = `answer-${randomBytes(8).toString('hex')}`;
    await client.send(
      xml('message', { to, type: 'chat', id, 'xml:lang': locale }, xml('body', {}, xmlSafe(text)), xml('origin-id', { xmlns: NS_STANZA_ID, id })),
    );
  }

  async send(notice: RenderedNotice, to: string): Promise<SendReceipt> {
    const client = this.client;
    const xml = this.xml;
    if (!client || !xml || client.status !== 'online') {
      this.count('offline');
      throw new ChannelError('XMPP is not connected; trying again later', true, 'not-connected');
    }
    const message = xml(
      'message',
      { to, type: 'chat', id: notice.noticeId, 'xml:lang': notice.locale },
      xml('body', {}, xmlSafe(notice.text)),
      xml('request', { xmlns: NS_RECEIPTS }),
      xml('origin-id', { xmlns: NS_STANZA_ID, id: notice.noticeId }),
      xml('store', { xmlns: NS_HINTS }),
    );
    const pingId = `confirm-${randomBytes(8).toString('hex')}`;
    const ping = xml('iq', { type: 'get', id: pingId, to: this.options.domain }, xml('ping', { xmlns: NS_PING }));
    const confirmed = this.awaitAnswer(pingId);
    try {
      // One write: the message and the ping reach the server together.
      await client.sendMany([message, ping]);
      await confirmed;
    } catch (error) {
      this.dropWaiter(pingId);
      confirmed.catch(() => undefined);
      this.count('unconfirmed');
      if (error instanceof ChannelError) throw error;
      throw new ChannelError(`XMPP send failed: ${(error as Error).message}`, true, 'send-failed', { cause: error });
    }
    this.count('confirmed');
    this.sentListener?.(notice, to).catch((error: unknown) =>
      this.options.logger.warn({ err: errorMessage(error), noticeId: notice.noticeId }, 'could not record the Jabber notice for replies'),
    );
    return { providerMessageId: notice.noticeId };
  }

  async verify(): Promise<boolean> {
    return this.online;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepaliveTimer);
    await this.connecting?.catch(() => undefined);
    this.rejectWaiters('the notifier is stopping');
    const client = this.client;
    this.client = undefined;
    if (client) await this.dispose(client, true);
  }

  private awaitAnswer(id: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new ChannelError(`the XMPP server did not confirm within ${this.options.timeoutMs} ms`, true, 'timeout'));
        // A connection that stops answering is replaced.
        const client = this.client;
        if (client) this.connectionLost(client, 'no answer from the server');
      }, this.options.timeoutMs);
      this.waiters.set(id, { resolve, reject, timer });
    });
  }

  private dropWaiter(id: string): void {
    const waiter = this.waiters.get(id);
    if (waiter) clearTimeout(waiter.timer);
    this.waiters.delete(id);
  }

  private rejectWaiters(reason: string): void {
    for (const [id, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new ChannelError(`XMPP connection lost before the server confirmed the message (${reason})`, true, 'disconnected'));
      this.waiters.delete(id);
    }
  }

  private scheduleConnect(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.connecting = this.connect()
        .catch((error: unknown) => {
          this.failedAttempts += 1;
          const delay = Math.min(this.options.reconnectMaxMs, this.options.reconnectInitialMs * 2 ** (this.failedAttempts - 1)) * (0.75 + Math.random() * 0.5);
          this.options.logger.warn({ err: errorMessage(error), attempt: this.failedAttempts, retryInMs: Math.round(delay) }, 'XMPP login failed; trying again');
          this.scheduleConnect(delay);
        })
        .finally(() => {
          this.connecting = undefined;
        });
    }, delayMs);
  }

  private async connect(): Promise<void> {
    const { client: createClient, xml } = await xmppModule();
    this.xml = xml;
    const { domain, username, password, allowPlainWithoutTls } = this.options;
    const client = createClient({
      service: this.options.service || `xmpp://${domain}:5222`,
      domain,
      resource: this.resource,
      timeout: this.options.timeoutMs,
      credentials: async (authenticate, mechanisms, _fast, entity) => {
        if (!entity.isSecure() && !allowPlainWithoutTls) throw new Error('the server offered no TLS; refusing to log in over an unencrypted connection');
        const mechanism = allowPlainWithoutTls && mechanisms.includes('PLAIN') ? 'PLAIN' : 'SCRAM-SHA-1';
        if (!mechanisms.includes(mechanism)) throw new Error(`the server does not offer ${mechanism} (offers ${mechanisms.join(', ')})`);
        await authenticate({ username, password }, mechanism, xml('user-agent', { id: `faxnotify-${this.resource}` }));
      },
    });
    // Reconnection is this adapter's: a fresh client per connection, retried until it works.
    client.reconnect.stop();
    client.on('error', (error: Error) => this.options.logger.debug({ err: error.message }, 'XMPP connection error'));
    client.on('stanza', (stanza: XmlElement) => this.onStanza(stanza));
    client.on('status', (status: string) => {
      if (status !== 'online' && status !== 'open' && this.client === client) this.connectionLost(client, status);
    });

    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.start(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no login within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
        }),
      ]);
      // Presence makes the server hand over receipts it stored while this account was offline.
      await client.send(xml('presence', {}, xml('priority', {}, '0')));
    } catch (error) {
      await this.dispose(client, false);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (this.closed || client.status !== 'online') {
      await this.dispose(client, true);
      if (!this.closed) throw new Error(`connection ${client.status} right after login`);
      return;
    }
    this.client = client;
    this.failedAttempts = 0;
    this.connections += 1;
    this.options.logger.info({ jid: String(client.jid), secure: client.isSecure(), connections: this.connections }, 'XMPP connected');
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => void this.keepalive(client), KEEPALIVE_MS);
    this.keepaliveTimer.unref();
    for (const waiter of [...this.onlineWaiters]) waiter();
  }

  private async keepalive(client: XmppClient): Promise<void> {
    if (this.client !== client || client.status !== 'online' || !this.xml) return;
    const id = `keepalive-${randomBytes(6).toString('hex')}`;
    const answered = this.awaitAnswer(id);
    try {
      await client.send(this.xml('iq', { type: 'get', id, to: this.options.domain }, this.xml('ping', { xmlns: NS_PING })));
      await answered;
    } catch {
      this.dropWaiter(id);
      answered.catch(() => undefined);
    }
  }

  /** The connection is gone (or useless): every unconfirmed send fails transiently, and a new connection is started. */
  private connectionLost(client: XmppClient, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.keepaliveTimer);
    this.options.logger.warn({ reason }, 'XMPP connection lost; reconnecting');
    this.rejectWaiters(reason);
    void this.dispose(client, false);
    this.scheduleConnect(this.options.reconnectInitialMs * (0.75 + Math.random() * 0.5));
  }

  private async dispose(client: XmppClient, graceful: boolean): Promise<void> {
    try {
      if (graceful && client.status === 'online' && this.xml) await client.send(this.xml('presence', { type: 'unavailable' }));
    } catch {
      // going away anyway
    }
    await client.stop().catch(() => undefined);
    client.removeAllListeners('stanza');
    client.removeAllListeners('status');
  }

  private onStanza(stanza: XmlElement): void {
    if (stanza.is('iq')) {
      const id = String(stanza.attrs.id ?? '');
      const waiter = this.waiters.get(id);
      // Any answer, a result or an error, shows the server has handled everything sent before it.
      if (waiter && (stanza.attrs.type === 'result' || stanza.attrs.type === 'error')) {
        clearTimeout(waiter.timer);
        this.waiters.delete(id);
        waiter.resolve();
      }
      return;
    }
    if (!stanza.is('message') || stanza.attrs.type === 'error') return;
    const received = stanza.getChild('received', NS_RECEIPTS);
    if (!received && stanza.attrs.type === 'chat') {
      this.onChatStanza(stanza);
      return;
    }
    // Attributes are whatever the server sent: checked below before use.
    const noticeId: unknown = received?.attrs.id;
    const from: unknown = stanza.attrs.from;
    if (typeof noticeId !== 'string' || typeof from !== 'string' || !this.listener) return;
    this.listener({ channel: 'xmpp', noticeId, status: 'delivered', fromAddress: bare(from) }).catch((error: unknown) =>
      this.options.logger.warn({ err: errorMessage(error), noticeId }, 'could not record an XMPP receipt'),
    );
  }

  /** A person's chat message with a body, handed to the chat listener; anything it throws is logged, never reaches the connection. */
  private onChatStanza(stanza: XmlElement): void {
    const from: unknown = stanza.attrs.from;
    const body = stanza.getChildText('body');
    if (typeof from !== 'string' || body === null || !this.chatListener) return;
    // Chat states and messages of the service's own account (other replicas) are not commands.
    if (bare(from) === `${this.options.username}@${this.options.domain}`.toLowerCase()) return;
    const id: unknown = stanza.attrs.id;
    this.chatListener({ from: bare(from), body, id: typeof id === 'string' ? id : undefined }).catch((error: unknown) =>
      this.options.logger.warn({ err: errorMessage(error) }, 'could not answer a Jabber message'),
    );
  }
}
