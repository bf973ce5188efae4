import {
  connectXmppClient,
  startProsody,
  startTwilioEndpoint,
  type ProsodyServer,
  type TwilioEndpoint,
  type XmppTestClient,
} from '@faxnotify/notifier/testing';
import { startSmtpSink, type SmtpSink } from '@faxnotify/peers';

/**
 * The channel peers of a chaos run, in the run's own process, each counting what it received by
 * notice id: an SMTP server that can be taken down and brought back on the same port, the
 * Twilio-compatible endpoint (which can answer with errors and lose answers for a while), and
 * Prosody with a signed-in client per Jabber owner.
 */
export interface ChaosPeers {
  smtpPort: number;
  twilio: TwilioEndpoint;
  prosody: ProsodyServer;
  /** Notice ids as each channel's peer received them, one entry per copy. */
  received(): { email: string[]; sms: string[]; xmpp: string[] };
  /** When the last copy of any notice arrived (performance.now()). */
  lastReceivedAt(): number;
  smtpDown(): Promise<void>;
  smtpUp(): Promise<void>;
  /** From now on a share of the SMS sends is answered with 5xx or 429 and a share of the answers is lost; `off` restores normal answers. */
  twilioFaults(share: { errors: number; lost: number } | 'off'): void;
  stop(): Promise<void>;
}

/** The notice id in a Message-ID `<noticeId.channel@domain>`. */
const noticeOfMessageId = (messageId: string | undefined): string | undefined => /^<?([0-9a-f]+)\./.exec(messageId ?? '')?.[1];

export async function startChaosPeers(options: { xmppUsers: string[] }): Promise<ChaosPeers> {
  let smtp: SmtpSink | undefined = await startSmtpSink();
  const smtpPort = smtp.port;
  const mailsFromEarlierSinks: string[] = [];
  const closing: Array<Promise<void>> = [];
  let lastAt = 0;
  const [twilio, prosody] = await Promise.all([
    startTwilioEndpoint({ callbackDelayMs: 20 }),
    startProsody({
      users: [{ username: 'notifier', password: 'notifier-pw' }, ...options.xmppUsers.map((username) => ({ username, password: `${username}-pw` }))],
    }),
  ]);
  const clients: XmppTestClient[] = [];
  for (const username of options.xmppUsers) {
    clients.push(await connectXmppClient({ service: prosody.service, domain: prosody.domain, username, password: `${username}-pw`, reconnectDelayMs: 500 }));
  }
  const watch = (sink: SmtpSink) => {
    sink.onAccepted = () => {
      lastAt = performance.now();
    };
  };
  watch(smtp);
  const twilioCount = { at: 0 };
  const trackTwilio = () => {
    if (twilio.messages.length !== twilioCount.at) {
      twilioCount.at = twilio.messages.length;
      lastAt = performance.now();
    }
  };
  const xmppCount = { at: 0 };
  const trackXmpp = () => {
    const total = clients.reduce((sum, c) => sum + c.messages.length, 0);
    if (total !== xmppCount.at) {
      xmppCount.at = total;
      lastAt = performance.now();
    }
  };
  const ticker = setInterval(() => {
    trackTwilio();
    trackXmpp();
  }, 50);

  return {
    smtpPort,
    twilio,
    prosody,
    received: () => ({
      email: [...mailsFromEarlierSinks, ...(smtp?.mails ?? []).map((m) => noticeOfMessageId(m.messageId) ?? '')],
      sms: twilio.messages.map((m) => (m.statusCallback ? (new URL(m.statusCallback).searchParams.get('notice') ?? '') : '')),
      xmpp: clients.flatMap((c) => c.messages.map((m) => m.id ?? '')),
    }),
    lastReceivedAt: () => {
      trackTwilio();
      trackXmpp();
      return lastAt;
    },
    async smtpDown() {
      if (!smtp) return;
      const sink = smtp;
      smtp = undefined;
      // Refuse what is still on open connections (421: try later), then close the server.
      sink.respond = () => ({ code: 421, message: 'Service not available, closing transmission channel' });
      mailsFromEarlierSinks.push(...sink.mails.map((m) => noticeOfMessageId(m.messageId) ?? ''));
      // The listener closes at once; pooled connections are cut after smtp-server's grace period.
      closing.push(sink.close());
      await new Promise((resolve) => setTimeout(resolve, 100));
    },
    async smtpUp() {
      if (smtp) return;
      for (let tries = 0; ; tries++) {
        try {
          smtp = await startSmtpSink(smtpPort);
          watch(smtp);
          return;
        } catch (error) {
          if (tries > 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    },
    twilioFaults(share) {
      if (share === 'off') {
        twilio.script(undefined);
        return;
      }
      twilio.script(() => {
        const roll = Math.random();
        if (roll < share.errors / 2) return { status: 503 };
        if (roll < share.errors) return { status: 429, error: 20429 };
        if (roll < share.errors + share.lost) return { loseAnswer: Math.random() < 0.5 ? 'reset' : 'silence' };
        return undefined;
      });
    },
    async stop() {
      clearInterval(ticker);
      for (const client of clients) await client.stop().catch(() => undefined);
      await Promise.allSettled([smtp?.close(), twilio.close(), prosody.stop(), ...closing]);
    },
  };
}
