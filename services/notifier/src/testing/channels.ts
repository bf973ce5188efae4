import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryRecipientFinal, NotificationOutcome } from '@faxnotify/contracts';
import type { MessageBus } from '@faxnotify/kit';
import { createTestVhost, freePort, startSmtpSink, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import type { XmppAdapter } from '../channels/xmpp/adapter';
import { startNotifier, type RunningNotifier } from '../index';
import { connectXmppClient, startProsody, startTwilioEndpoint, type ProsodyServer, type TwilioEndpoint, type XmppTestClient } from './index';
import { bearer as bearerOf, collectOutcomes, finalResult, settingsApi, startTrackerBus, type OutcomeCollector } from './notices';

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
}

/**
 * Starts the peers and the notifier before the suite's first test (Prosody with an account for the
 * notifier and one for each of `users`, each signed in), stops them after its last, and after every
 * test checks that the notifier's requests and the endpoint's answers held to Twilio's OpenAPI
 * document throughout.
 */
export function useChannelPeers(label: string, users: readonly string[]): ChannelPeers {
  let dir: string | undefined;
  const xmppUsers = new Map<string, XmppTestClient>();
  const peers = {
    xmppUsers,
    api: settingsApi(() => peers.notifier.url, CHANNELS_SECRET),
    bearer: (user: string) => bearerOf(CHANNELS_SECRET, user),
    final: (id: string, ownerId: string, overrides: Partial<DeliveryRecipientFinal> = {}) => finalResult(id, { ownerId, ...overrides }),
    outcomeOf: (faxId: string, channel: string) => peers.collector.outcomes.filter((o) => o.faxId === faxId && o.channel === channel).at(-1),
    smsTo: (number: string) => peers.twilioEndpoint.messages.filter((m) => m.to === number),
    requestsTo: (number: string) => peers.twilioEndpoint.requests.filter((r) => r.params.To === number),
    mailsTo: (address: string) => peers.smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address)),
    chatsFor: (user: string) => xmppUsers.get(user)!.messages,
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
    peers.notifier = await startNotifier(
      {
        'http.port': port,
        'db.sqlitePath': join(dir, 'notifier.sqlite'),
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
      },
      {},
    );
    await (peers.notifier.adapters.get('xmpp') as XmppAdapter).waitOnline();
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
  });

  afterEach(() => {
    peers.twilioEndpoint.script(undefined);
    // The notifier's requests and the endpoint's answers held to Twilio's OpenAPI document throughout.
    expect(peers.twilioEndpoint.violations).toEqual([]);
  });

  return peers;
}
