import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryRecipientFinal, NotificationOutcome } from '@faxnotify/contracts';
import type { MessageBus } from '@faxnotify/kit';
import { createTestVhost, eventually, freePort, startSmtpSink, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import type { XmppAdapter } from '../channels/xmpp/adapter';
import { startNotifier, type RunningNotifier } from '../index';
import { connectXmppClient, startProsody, startTwilioEndpoint, type ProsodyServer, type TwilioEndpoint, type XmppTestClient } from './index';
import { bearer as bearerOf, collectOutcomes, finalResult, settingsApi, startTrackerBus, type OutcomeCollector } from './notices';
import { seedConfirmedAddresses } from './confirmed';

/**
 * The notifier with all three channels against real peers, for the channel suites: RabbitMQ, an
 * SMTP server, Prosody and a Twilio-compatible endpoint holding every request to Twilio's OpenAPI
 * document. Not part of the `./testing` export.
 */

/** The notifier's JWT secret in the channel suites. */
export const CHANNELS_SECRET = 'notifier-channels-secret-0123456789';

/** The channels a user turns on in their settings, with their address on each. */
export interface Channels {
  email?: string;
  sms?: string;
  xmpp?: string;
  locale?: 'ru' | 'en' | 'it';
  notifyOn?: 'all' | 'failures';
}

/** A full settings body with these channels on and every other off. */
export const settingsFor = (channels: Channels) => ({
  email: { enabled: Boolean(channels.email), address: channels.email ?? null },
  sms: { enabled: Boolean(channels.sms), number: channels.sms ?? null },
  xmpp: { enabled: Boolean(channels.xmpp), jid: channels.xmpp ?? null },
  locale: channels.locale ?? 'en',
  timeZone: channels.locale === 'ru' ? 'Europe/Moscow' : 'Europe/Rome',
  notifyOn: channels.notifyOn ?? 'all',
});

/** The running peers and notifier of one suite; set before its first test. */
export interface ChannelPeers {
  vhost: TestVhost;
  smtp: SmtpSink;
  prosody: ProsodyServer;
  twilioEndpoint: TwilioEndpoint;
  notifier: RunningNotifier;
  /** The status tracker's side of the bus: results are published through it. */
  bus: MessageBus;
  collector: OutcomeCollector;
  /** The signed-in XMPP client of each user the suite asked for. */
  xmppUsers: Map<string, XmppTestClient>;
  /** The notifier's JSON API as a user. */
  api: ReturnType<typeof settingsApi>;
  /** `Bearer <token>` for a user. */
  bearer: (user: string) => Promise<string>;
  /** A delivery.recipient.final for this fax, owned by this user. */
  final: (id: string, ownerId: string, overrides?: Partial<DeliveryRecipientFinal>) => DeliveryRecipientFinal;
  /** The latest outcome of a fax on a channel. */
  outcomeOf: (faxId: string, channel: string) => NotificationOutcome | undefined;
  /** The SMS messages the Twilio endpoint accepted for this number. */
  smsTo: (number: string) => TwilioEndpoint['messages'];
  /** Every request the Twilio endpoint got for this number. */
  requestsTo: (number: string) => TwilioEndpoint['requests'];
  /** The mails the SMTP server got for this address. */
  mailsTo: (address: string) => SmtpSink['mails'];
  /** The XMPP messages this user's client got. */
  chatsFor: (user: string) => XmppTestClient['messages'];
  /**
   * Saves these settings and confirms each address the way its owner does: asks the notifier for a
   * code, reads it where the channel delivered it (the SMTP server, the Twilio endpoint, the user's
   * XMPP client) and types it back. The code messages are left out of mailsTo, smsTo, requestsTo
   * and chatsFor, so a test counts its notices only.
   */
  saveAndConfirm: (user: string, channels: Channels) => Promise<void>;
  /** Saves these settings and records their addresses as confirmed directly (for tests whose subject is not confirmation). */
  saveConfirmed: (user: string, channels: Channels) => Promise<void>;
  /** Stops the notifier and starts it again on the same database, port and peers (a restart). */
  restartNotifier: () => Promise<void>;
}

/** The six-digit code in a confirmation message. */
export const codeIn = (text: string | undefined): string | undefined => /\b(\d{6})\b/.exec(text ?? '')?.[1];

/**
 * Starts the peers and the notifier before the suite's first test (Prosody with an account for the
 * notifier and one for each of `users`, each signed in), stops them after its last, and after every
 * test checks that the notifier's requests and the endpoint's answers held to Twilio's OpenAPI
 * document throughout. `config` overrides settings of the notifier (e.g. `channels.codeIntervalMs`).
 */
export function useChannelPeers(
  label: string,
  users: readonly string[],
  config: Record<string, unknown> = {},
  options: Parameters<typeof startNotifier>[2] = {},
): ChannelPeers {
  let dir: string | undefined;
  const xmppUsers = new Map<string, XmppTestClient>();
  /** The code messages saveAndConfirm read, left out of what the tests count. */
  const codeMessages = new Set<unknown>();
  const codeBodies = new Set<string>();
  const save = async (user: string, channels: Channels) => {
    const response = await peers.api('PUT', '/v1/settings', user, settingsFor(channels));
    if (response.status !== 200) throw new Error(`saving settings failed: ${response.status} ${JSON.stringify(response.body)}`);
  };
  const peers = {
    xmppUsers,
    api: settingsApi(() => peers.notifier.url, CHANNELS_SECRET),
    bearer: (user: string) => bearerOf(CHANNELS_SECRET, user),
    final: (id: string, ownerId: string, overrides: Partial<DeliveryRecipientFinal> = {}) => finalResult(id, { ownerId, ...overrides }),
    outcomeOf: (faxId: string, channel: string) => peers.collector.outcomes.filter((o) => o.faxId === faxId && o.channel === channel).at(-1),
    smsTo: (number: string) => peers.twilioEndpoint.messages.filter((m) => m.to === number && !codeMessages.has(m)),
    requestsTo: (number: string) => peers.twilioEndpoint.requests.filter((r) => r.params.To === number && !codeBodies.has(String(r.params.Body))),
    mailsTo: (address: string) => peers.smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address) && !codeMessages.has(m)),
    chatsFor: (user: string) => xmppUsers.get(user)!.messages.filter((m) => !codeMessages.has(m)),
    saveConfirmed: async (user: string, channels: Channels) => {
      await save(user, channels);
      await seedConfirmedAddresses(peers.notifier.config, user, channels);
    },
    saveAndConfirm: async (user: string, channels: Channels) => {
      await save(user, channels);
      const inbox = {
        email: () => peers.smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes(channels.email!)).map((m) => ({ message: m, text: m.text })),
        sms: () => peers.twilioEndpoint.messages.filter((m) => m.to === channels.sms).map((m) => ({ message: m, text: m.body })),
        xmpp: () => xmppUsers.get(user)!.messages.map((m) => ({ message: m, text: m.body })),
      };
      for (const channel of ['email', 'sms', 'xmpp'] as const) {
        if (!channels[channel]) continue;
        const before = inbox[channel]().length;
        const asked = await peers.api('POST', `/v1/settings/channels/${channel}/code`, user, {});
        if (asked.status !== 202) throw new Error(`asking for a ${channel} code failed: ${asked.status} ${JSON.stringify(asked.body)}`);
        const received = await eventually(
          () =>
            inbox[channel]()
              .slice(before)
              .find((m) => codeIn(m.text)),
          10_000,
        );
        codeMessages.add(received.message);
        if (channel === 'sms') codeBodies.add(received.text ?? '');
        const confirmed = await peers.api('POST', `/v1/settings/channels/${channel}/confirm`, user, { code: codeIn(received.text) });
        if (confirmed.status !== 200) throw new Error(`confirming ${channel} failed: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
      }
    },
  } as ChannelPeers;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `${label}-`));
    [peers.vhost, peers.smtp, peers.prosody, peers.twilioEndpoint] = await Promise.all([
      createTestVhost(label),
      startSmtpSink(),
      startProsody({ users: [{ username: 'notifier', password: 'notifier-pw' }, ...users.map((username) => ({ username, password: `${username}-pw` }))] }),
      startTwilioEndpoint({ callbackDelayMs: 5 }),
    ]);
    const { prosody, twilioEndpoint } = peers;
    const port = await freePort();
    const sqlitePath = join(dir, 'notifier.sqlite');
    const start = async () => {
      peers.notifier = await startNotifier(
        {
          'http.port': port,
          'db.sqlitePath': sqlitePath,
          'smtp.port': peers.smtp.port,
          'amqp.url': peers.vhost.amqpUrl,
          'auth.jwtSecret': CHANNELS_SECRET,
          'log.level': 'silent',
          'links.settingsUrlTemplate': `http://127.0.0.1:${port}/settings`,
          'twilio.accountSid': twilioEndpoint.accountSid,
          'twilio.authToken': twilioEndpoint.authToken,
          'twilio.from': '+15005550006',
          'twilio.statusCallbackUrl': `http://127.0.0.1:${port}/twilio/status`,
          'twilio.baseUrl': twilioEndpoint.url,
          'twilio.timeoutMs': 5_000,
          'xmpp.service': prosody.service,
          'xmpp.domain': prosody.domain,
          'xmpp.username': 'notifier',
          'xmpp.password': 'notifier-pw',
          'xmpp.allowPlainWithoutTls': true,
          'xmpp.reconnectInitialMs': 100,
          'xmpp.reconnectMaxMs': 1_000,
          'xmpp.timeoutMs': 3_000,
          ...config,
        },
        {},
        options,
      );
      await (peers.notifier.adapters.get('xmpp') as XmppAdapter).waitOnline();
    };
    await start();
    peers.restartNotifier = async () => {
      await peers.notifier.stop();
      await start();
    };
    for (const username of users) {
      xmppUsers.set(username, await connectXmppClient({ service: prosody.service, domain: prosody.domain, username, password: `${username}-pw` }));
    }
    peers.bus = await startTrackerBus(peers.vhost.amqpUrl);
    peers.collector = await collectOutcomes(peers.vhost.amqpUrl);
  }, 30_000);

  afterAll(async () => {
    await peers.collector?.close();
    await peers.bus?.close();
    for (const client of xmppUsers.values()) await client.stop();
    await peers.notifier?.stop();
    await Promise.all([peers.smtp?.close(), peers.twilioEndpoint?.close(), peers.prosody?.stop()]);
    await peers.vhost?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  afterEach(() => {
    peers.twilioEndpoint.script(undefined);
    // The notifier's requests and the endpoint's answers held to Twilio's OpenAPI document throughout.
    expect(peers.twilioEndpoint.violations).toEqual([]);
  });

  return peers;
}
