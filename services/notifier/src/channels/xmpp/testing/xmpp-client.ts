import { randomBytes, randomUUID } from 'node:crypto';

// @xmpp/client ships as an ES module only; a dynamic import keeps this package CommonJS.
const xmppClientModule = () => import('@xmpp/client');
type XmppClientModule = Awaited<ReturnType<typeof xmppClientModule>>;
export type XmppClient = ReturnType<XmppClientModule['client']>;
type Element = ReturnType<XmppClientModule['xml']>;

const NS_RECEIPTS = 'urn:xmpp:receipts';
const NS_DELAY = 'urn:xmpp:delay';

/** A message as the test user's client received it. */
export interface ReceivedChat {
  /** The stanza id the sender gave, if any. */
  id: string | undefined;
  from: string;
  to: string;
  /** `chat`, `normal`, `headline`…; a missing type attribute reads as `normal`. */
  type: string;
  body: string;
  /** XEP-0203 stamp: present when the server stored the message while the user was offline. */
  delayStamp: string | undefined;
  /** Whether the sender asked for a XEP-0184 receipt. */
  receiptRequested: boolean;
  /** The stanza as serialised XML, for checks on escaping. */
  xml: string;
  receivedAt: number;
}

export interface XmppTestClientOptions {
  /** e.g. `xmpp://127.0.0.1:5222` (ProsodyServer.service). */
  service: string;
  domain: string;
  username: string;
  password: string;
  resource?: string;
  /** Answer XEP-0184 receipt requests, as a real client does (default true). */
  answerReceipts?: boolean;
  /** Send initial presence on every login, which is what releases the server's offline store (default true). */
  sendPresence?: boolean;
  /** Wait before each reconnection attempt after the server went away (default 250 ms). */
  reconnectDelayMs?: number;
}

export interface XmppTestClient {
  /** Bare JID of the account. */
  jid: string;
  /** Chat and normal messages with a body, in arrival order. */
  messages: ReceivedChat[];
  /** Receipts this client got back for messages it sent (the ids they acknowledge). */
  receipts: Array<{ id: string; from: string }>;
  /** Errors the connection reported (a test can assert there were none). */
  errors: Error[];
  /** How many times the client came online (1 + reconnections). */
  readonly onlineCount: number;
  /** Sends a chat message; returns its id. */
  sendChat(to: string, body: string, options?: { id?: string; requestReceipt?: boolean }): Promise<string>;
  /** Resolves with the messages once at least `count` have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedChat[]>;
  /** Resolves once the client is online again (after a server restart). */
  waitOnline(timeoutMs?: number): Promise<void>;
  /** The underlying @xmpp/client entity, for anything not covered here. */
  client: XmppClient;
  stop(): Promise<void>;
}

function stanzaId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * A user's XMPP client for tests: logs in with PLAIN over loopback (SCRAM costs ~750 ms a login,
 * PLAIN ~13 ms), records every message it receives, answers receipt requests, and reconnects by
 * itself when the server restarts, so a test can check what a user finally saw.
 */
export async function connectXmppClient(options: XmppTestClientOptions): Promise<XmppTestClient> {
  const { client: createClient, xml } = await xmppClientModule();
  const { username, password } = options;
  const answerReceipts = options.answerReceipts ?? true;
  const sendPresence = options.sendPresence ?? true;
  const xmpp = createClient({
    service: options.service,
    domain: options.domain,
    resource: options.resource ?? `test-${stanzaId()}`,
    // Forces PLAIN: the client picks SCRAM on a connection without TLS.
    credentials: (authenticate) => authenticate({ username, password }, 'PLAIN', xml('user-agent', { id: randomUUID() })),
  });

  const messages: ReceivedChat[] = [];
  const receipts: Array<{ id: string; from: string }> = [];
  const errors: Error[] = [];
  /** A failed send is recorded as the connection's errors are (whatever was thrown, as an Error). */
  const recordError = (error: unknown) => void errors.push(error instanceof Error ? error : new Error(String(error)));
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  let onlineCount = 0;
  let stopped = false;
  let presenceSent: Promise<void> = Promise.resolve();

  // Without an error listener an emitted error would crash the test process.
  xmpp.on('error', (error: Error) => {
    errors.push(error);
  });

  // The server echoes initial presence back to the resource that sent it; only after that echo is
  // the resource available, so a message sent to the user a moment later is not stored offline.
  let presenceEchoed: (() => void) | undefined;
  xmpp.on('online', () => {
    onlineCount += 1;
    if (sendPresence) {
      const echoed = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        presenceEchoed = () => {
          clearTimeout(timer);
          presenceEchoed = undefined;
          resolve();
        };
      });
      presenceSent = xmpp
        .send(xml('presence'))
        .then(() => echoed)
        .catch(recordError);
    }
    notify();
  });

  xmpp.on('stanza', (stanza: Element) => {
    if (stanza.is('presence') && !stanza.attrs.type && String(stanza.attrs.from ?? '') === String(xmpp.jid ?? '')) {
      presenceEchoed?.();
      return;
    }
    if (!stanza.is('message')) return;
    const type = stanza.attrs.type ?? 'normal';
    const from = String(stanza.attrs.from ?? '');
    const received = stanza.getChild('received', NS_RECEIPTS);
    if (received?.attrs.id) receipts.push({ id: String(received.attrs.id), from });
    const body = stanza.getChildText('body');
    if (body === null || type === 'error') {
      notify();
      return;
    }
    const id = stanza.attrs.id === undefined ? undefined : String(stanza.attrs.id);
    const receiptRequested = stanza.getChild('request', NS_RECEIPTS) !== undefined;
    messages.push({
      id,
      from,
      to: String(stanza.attrs.to ?? ''),
      type,
      body,
      delayStamp: stanza.getChild('delay', NS_DELAY)?.attrs.stamp,
      receiptRequested,
      xml: stanza.toString(),
      receivedAt: performance.now(),
    });
    if (answerReceipts && receiptRequested && id !== undefined && from) {
      xmpp.send(xml('message', { to: from, id: stanzaId() }, xml('received', { xmlns: NS_RECEIPTS, id }))).catch(recordError);
    }
    notify();
  });

  // @xmpp/reconnect tries once per disconnect; if that attempt finds the server still down nothing
  // tries again, so keep nudging it until the client is back or stopped. Its default 1 s wait is
  // shortened so restart tests stay quick.
  const reconnectDelayMs = options.reconnectDelayMs ?? 250;
  xmpp.reconnect.delay = reconnectDelayMs;
  const watchdog = setInterval(
    () => {
      if (!stopped && (xmpp.status === 'disconnect' || xmpp.status === 'offline') && onlineCount > 0) {
        xmpp.reconnect.scheduleReconnect();
      }
    },
    Math.max(reconnectDelayMs * 2, 250),
  );
  watchdog.unref();

  try {
    await xmpp.start();
  } catch (error) {
    stopped = true;
    clearInterval(watchdog);
    xmpp.reconnect.stop();
    await xmpp.stop().catch(() => undefined);
    throw new Error(`XMPP login of ${username}@${options.domain} at ${options.service} failed: ${(error as Error).message}`);
  }
  await presenceSent;

  const waitFor = (condition: () => boolean, timeoutMs: number, what: () => string) =>
    new Promise<void>((resolve, reject) => {
      if (condition()) return resolve();
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(what()));
      }, timeoutMs);
      waiters.add(check);
    });

  return {
    jid: `${username}@${options.domain}`,
    messages,
    receipts,
    errors,
    get onlineCount() {
      return onlineCount;
    },
    client: xmpp,
    sendChat: async (to, body, sendOptions = {}) => {
      const id = sendOptions.id ?? stanzaId();
      const children = [xml('body', {}, body)];
      if (sendOptions.requestReceipt) children.push(xml('request', { xmlns: NS_RECEIPTS }));
      await xmpp.send(xml('message', { to, type: 'chat', id }, ...children));
      return id;
    },
    waitForMessages: async (count, timeoutMs = 10_000) => {
      await waitFor(
        () => messages.length >= count,
        timeoutMs,
        () => `${username} received ${messages.length} of ${count} messages within ${timeoutMs} ms`,
      );
      return messages;
    },
    waitOnline: async (timeoutMs = 10_000) => {
      await waitFor(
        () => xmpp.status === 'online',
        timeoutMs,
        () => `${username} not online within ${timeoutMs} ms (status ${xmpp.status})`,
      );
      await presenceSent;
    },
    stop: async () => {
      stopped = true;
      clearInterval(watchdog);
      xmpp.reconnect.stop();
      if (xmpp.status === 'online') await xmpp.send(xml('presence', { type: 'unavailable' })).catch(() => undefined);
      await xmpp.stop().catch(() => undefined);
    },
  };
}
