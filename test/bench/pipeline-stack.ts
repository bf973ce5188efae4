import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { MessageBus, createLogger } from '@faxnotify/kit';
import {
  connectXmppClient,
  startProsody,
  startTwilioEndpoint,
  type ProsodyServer,
  type TwilioEndpoint,
  type XmppTestClient,
} from '@faxnotify/notifier/testing';
import { QUEUES } from '@faxnotify/contracts';
import { eventually } from '@faxnotify/peers';
import { scriptFaxEvents } from '@faxnotify/transmitter';
import { startStack, type Stack } from '../support/stack';
import { handledTotal } from './pipeline-stages';

const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface BenchStack {
  stack: Stack;
  bus: MessageBus;
  prosody: ProsodyServer;
  twilio: TwilioEndpoint;
  /** The Jabber user the XMPP notices and the raw XMPP chats go to. */
  jabber: XmppTestClient;
  database: 'sqlite' | 'postgres';
  stop(): Promise<void>;
}

/**
 * The tracker and the notifier as separate processes (SQLite, or PostgreSQL with `pg`: a fresh
 * database each), with every channel's peer: the stack's SMTP server, Prosody with a signed-in
 * user, and the Twilio-compatible endpoint. Per-owner notice limits are off, as for a bulk sender
 * who raised them; `nodeArgs` go to node in both services (e.g. `--cpu-prof`).
 */
export async function startBenchStack(options: { pg: boolean; nodeArgs?: string[] }): Promise<BenchStack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const dbEnv: Record<string, string> = {};
    if (options.pg) {
      const suffix = randomBytes(4).toString('hex');
      for (const [key, name] of [
        ['STATUS_TRACKER_DATABASE_URL', `bench_tracker_${suffix}`],
        ['NOTIFIER_DATABASE_URL', `bench_notifier_${suffix}`],
      ]) {
        await admin(`CREATE DATABASE ${name}`);
        cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
        dbEnv[key] = `${POSTGRES_URL}/${name}`;
      }
    }
    const [prosody, twilio] = await Promise.all([
      startProsody({
        users: [
          { username: 'notifier', password: 'notifier-pw' },
          { username: 'owner', password: 'owner-pw' },
        ],
      }),
      startTwilioEndpoint(),
    ]);
    cleanups.push(() => Promise.allSettled([prosody.stop(), twilio.close()]));
    const jabber = await connectXmppClient({ service: prosody.service, domain: prosody.domain, username: 'owner', password: 'owner-pw' });
    cleanups.push(() => jabber.stop());
    const stack = await startStack('bench', {
      extraEnv: {
        LOG_LEVEL: 'warn',
        NOTIFIER_RATE_LIMIT_EMAIL_NOTICES: '0',
        NOTIFIER_RATE_LIMIT_SMS_NOTICES: '0',
        NOTIFIER_RATE_LIMIT_XMPP_NOTICES: '0',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_BASE_URL: twilio.url,
        XMPP_SERVICE: prosody.service,
        XMPP_DOMAIN: prosody.domain,
        XMPP_USERNAME: 'notifier',
        XMPP_PASSWORD: 'notifier-pw',
        XMPP_ALLOW_PLAIN_WITHOUT_TLS: 'true',
        ...dbEnv,
      },
      nodeArgs: options.nodeArgs,
    });
    cleanups.push(() => stack.stop());
    const bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('bench', 'silent') });
    cleanups.push(() => bus.close());
    await bus.start();
    return { stack, bus, prosody, twilio, jabber, database: options.pg ? 'postgres' : 'sqlite', stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export type BenchFax = ReturnType<typeof scriptFaxEvents> & { faxId: string };

/** `n` one-recipient faxes of `owner`, each delivered (submission first, the result last). */
export function benchFaxes(owner: string, n: number): BenchFax[] {
  return Array.from({ length: n }, (_, i) =>
    scriptFaxEvents({
      faxId: `${owner}-${i}`,
      ownerId: owner,
      subject: `Invoice ${i}`,
      pages: 2,
      recipients: [
        {
          number: '+12025550101',
          attempts: [{ csid: 'ACME SALES FAX', pagesConfirmed: 2, status: 'success', reason: { code: 'OK', detail: 'MCF after EOP' } }],
        },
      ],
    }),
  );
}

export const resultOf = (fax: BenchFax) => fax.events[fax.events.length - 1];

export function publishResult(bus: MessageBus, fax: BenchFax): Promise<unknown> {
  const result = resultOf(fax);
  return bus.publish(result.key, result.data, { subject: result.subject });
}

/**
 * Publishes the faxes' submissions and waits until the tracker has handled them all (counted from
 * its own metrics: the management API's queue depth lags by seconds and can read 0 before the
 * submissions are in it), so that what is timed afterwards is result → notice alone and does not
 * queue behind submissions.
 */
export async function submitAll(bench: BenchStack, faxes: BenchFax[]): Promise<void> {
  const queue = QUEUES.trackerFaxEvents.name;
  const before = await handledTotal(bench.stack.tracker.url, queue);
  for (let i = 0; i < faxes.length; i += 200)
    await Promise.all(faxes.slice(i, i + 200).map((f) => bench.bus.publish(f.events[0].key, f.events[0].data as never, { subject: f.events[0].subject })));
  await eventually(async () => (await handledTotal(bench.stack.tracker.url, queue)) - before >= faxes.length, 30 * 60_000, 100);
}

/** The fax id in an email's References / In-Reply-To (`<fax.ID@…>`). */
export const faxIdOfMail = (mail: { references?: string | string[]; inReplyTo?: string }): string | undefined =>
  /fax\.([^@>]+)@/.exec([mail.references ?? [], mail.inReplyTo ?? ''].flat().join(' '))?.[1];
