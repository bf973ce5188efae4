import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { QUEUES } from '@faxnotify/contracts';
import { MessageBus, createLogger, issueToken } from '@faxnotify/kit';
import * as notifierTesting from '@faxnotify/notifier/testing';
import { scriptFaxEvents } from '@faxnotify/transmitter';
import { STACK_JWT_SECRET } from '../support/stack';
import { quorumMembers, startRabbitCluster } from './cluster';
import { faultPlan, runFaults, terminateBackends } from './faults';
import { startReplicas, type Replicas } from './fleet';
import { startChaosPeers } from './peers';
import { allArrived, goalsMet, tally, type ChaosChannel, type ExpectedNotice, type FaultRecord, type Tally } from './report';

export interface ChaosOptions {
  results: number;
  /** One fault of each kind, closer together (the run inside npm test). */
  short: boolean;
  /** Owners the results are spread over: all on email, every tenth-ish on SMS and Jabber. */
  owners?: number;
  /** How long to wait for the last notices after the faults and the publishing are over. */
  drainTimeoutMs?: number;
  /** Progress lines (stderr for the command). */
  log?: (line: string) => void;
  /** Aborting stops everything the run started (nodes, processes, databases, folders); `runChaos` then rejects. */
  signal?: AbortSignal;
}

export interface ChaosReport extends Omit<Tally, 'notices'> {
  results: number;
  notices: Tally['notices'];
  goals: { lost: number; duplicatedRate: number };
  ok: boolean;
  /** Seconds from the end of the last fault to the last notice received (0 when everything was in before). */
  drainSeconds: number;
  publishSeconds: number;
  totalSeconds: number;
  faults: FaultRecord[];
  cluster: { nodes: number; workQueueMembers: Record<string, number> };
  /** Service processes that exited on their own during the run (each was started again); any is a failure. */
  crashes: Replicas['crashes'];
  /** Where the services' logs were written when a goal was missed. */
  logs?: string;
}

const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Which channels an owner has on: everyone email; owners 0–2 of every ten SMS, 2–3 Jabber. */
export const ownerChannels = (index: number): ChaosChannel[] => [
  'email',
  ...(index % 10 < 3 ? (['sms'] as const) : []),
  ...(index % 10 === 2 || index % 10 === 3 ? (['xmpp'] as const) : []),
];

/**
 * The chaos run: a 3-node RabbitMQ cluster, a fresh PostgreSQL database per service, two replicas
 * each of the status tracker and the notifier, the channel peers; `results` per-recipient results
 * published as the transmitter would, faults injected meanwhile; then what each peer received is
 * counted per result and channel.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const owners = options.owners ?? 50;
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const databases = { tracker: `chaos_tracker_${runId}`, notifier: `chaos_notifier_${runId}` };
  const ownerIds = Array.from({ length: owners }, (_, i) => `owner${i}`);
  const xmppUsers = ownerIds.filter((_, i) => ownerChannels(i).includes('xmpp'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const began = performance.now();
  let trackers: Replicas | undefined;
  let notifiers: Replicas | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    })());
  const aborted = new Promise<never>((_, reject) =>
    options.signal?.addEventListener('abort', () => {
      log('stopping: cleaning up');
      void cleanUp().finally(() => reject(new Error('chaos run aborted')));
    }),
  );
  aborted.catch(() => undefined);
  try {
    log('starting the RabbitMQ cluster, PostgreSQL databases and channel peers');
    const cluster = await startRabbitCluster({ label: 'chaos' });
    cleanups.push(() => cluster.stop());
    await admin(`CREATE DATABASE ${databases.tracker}`);
    await admin(`CREATE DATABASE ${databases.notifier}`);
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${databases.tracker} WITH (FORCE)`));
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${databases.notifier} WITH (FORCE)`));
    const peers = await startChaosPeers({ xmppUsers });
    cleanups.push(() => peers.stop());

    // Each replica lists the nodes from a different first one, so connections spread over the cluster.
    const urlsFrom = (first: number) => cluster.amqpUrls.map((_, i) => cluster.amqpUrls[(i + first) % cluster.amqpUrls.length]).join(',');
    const common = {
      JWT_SECRET: STACK_JWT_SECRET,
      STATUS_TRACKER_DATABASE_URL: `${POSTGRES_URL}/${databases.tracker}`,
      NOTIFIER_DATABASE_URL: `${POSTGRES_URL}/${databases.notifier}`,
      FAX_URL_TEMPLATE: 'http://faxnotify.test/faxes/{faxId}',
      SETTINGS_URL_TEMPLATE: 'http://faxnotify.test/settings',
    };
    log('starting two status trackers and two notifiers');
    trackers = await startReplicas('status-tracker', 2, (slot) => ({ ...common, AMQP_URL: urlsFrom(slot) }), 'STATUS_TRACKER_HTTP_PORT');
    cleanups.push(() => trackers!.stop());
    notifiers = await startReplicas(
      'notifier',
      2,
      (slot, port) => ({
        ...common,
        AMQP_URL: urlsFrom(slot + 1),
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(peers.smtpPort),
        SMTP_TIMEOUT_MS: '5000',
        TWILIO_ACCOUNT_SID: peers.twilio.accountSid,
        TWILIO_AUTH_TOKEN: peers.twilio.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_STATUS_CALLBACK_URL: `http://127.0.0.1:${port}/twilio/status`,
        TWILIO_BASE_URL: peers.twilio.url,
        TWILIO_TIMEOUT_MS: '3000',
        XMPP_SERVICE: peers.prosody.service,
        XMPP_DOMAIN: peers.prosody.domain,
        XMPP_USERNAME: 'notifier',
        XMPP_PASSWORD: 'notifier-pw',
        XMPP_ALLOW_PLAIN_WITHOUT_TLS: 'true',
        XMPP_RECONNECT_INITIAL_MS: '100',
        XMPP_RECONNECT_MAX_MS: '1000',
        XMPP_TIMEOUT_MS: '3000',
        // Each owner gets hundreds of notices within the hour: the per-owner limits against abuse are off here.
        NOTIFIER_RATE_LIMIT_EMAIL_NOTICES: '0',
        NOTIFIER_RATE_LIMIT_SMS_NOTICES: '0',
        NOTIFIER_RATE_LIMIT_XMPP_NOTICES: '0',
      }),
      'NOTIFIER_HTTP_PORT',
    );
    cleanups.push(() => notifiers!.stop());

    await saveOwnerSettings(notifiers.url(0), ownerIds, `${POSTGRES_URL}/${databases.notifier}`);
    const expected: ExpectedNotice[] = [];
    for (let i = 0; i < options.results; i++) {
      const resultId = `chaos-${i}:r1`;
      for (const channel of ownerChannels(i % owners)) expected.push({ resultId, channel, noticeId: notifierTesting.noticeIdOf(resultId, channel) });
    }

    const publisher = new MessageBus({ url: urlsFrom(2), source: '/faxnotify/transmitter', logger: createLogger('chaos', 'silent') });
    await publisher.start();
    cleanups.push(() => publisher.close());

    const startedAt = performance.now();
    const progress = setInterval(() => {
      const got = peers.received();
      log(
        `${Math.round((performance.now() - startedAt) / 1000)}s: emails ${got.email.length}, SMS ${got.sms.length}, Jabber ${got.xmpp.length} of ${expected.length}`,
      );
    }, 10_000);
    cleanups.push(async () => clearInterval(progress));
    let publishedAt = 0;
    const publishing = publishResults(publisher, options.results, owners).then(() => {
      publishedAt = performance.now();
      log(`published ${options.results} results in ${Math.round((publishedAt - startedAt) / 1000)}s`);
    });
    const plan = faultPlan(
      {
        killNotifier: (slot) => notifiers!.killAndRestart(slot),
        killTracker: (slot) => trackers!.killAndRestart(slot),
        stopBrokerNode: (index) => cluster.stopNode(index),
        startBrokerNode: (index) => cluster.startNode(index),
        smtpDown: () => peers.smtpDown(),
        smtpUp: () => peers.smtpUp(),
        twilioFaults: (on) => peers.twilioFaults(on ? { errors: 0.2, lost: 0.03 } : 'off'),
        restartProsody: () => peers.prosody.restart(500),
        dropDatabaseConnections: () => terminateBackends(`${POSTGRES_URL}/postgres`, Object.values(databases)),
      },
      options.short,
    );
    const faults = await Promise.race([runFaults(plan, startedAt, log), aborted]);
    await Promise.race([publishing, aborted]);
    const lastFaultEnd = startedAt + Math.max(...faults.map((f) => f.until ?? f.at)) * 1000;

    // Waits while notices keep arriving (a slow machine drains slowly), up to the drain limit.
    const drainDeadline = performance.now() + (options.drainTimeoutMs ?? (options.short ? 180_000 : 1_800_000));
    const idleLimitMs = 150_000;
    while (!allArrived(expected, peers.received()) && performance.now() < drainDeadline) {
      if (options.signal?.aborted) await aborted;
      if (performance.now() - Math.max(peers.lastReceivedAt(), lastFaultEnd) > idleLimitMs) break;
      await sleep(1000);
    }
    // Copies still on their way (a resend after a claim ran out) arrive within a few seconds.
    await sleep(5000);
    const counted = tally(expected, peers.received());
    const members: Record<string, string[]> = await quorumMembers(cluster).catch(() => ({}));
    const report: ChaosReport = {
      results: options.results,
      ...counted,
      goals: { lost: 0, duplicatedRate: 0.001 },
      ok: goalsMet(counted) && trackers.crashes.length + notifiers.crashes.length === 0,
      crashes: [...trackers.crashes, ...notifiers.crashes],
      drainSeconds: Math.max(0, Math.round((peers.lastReceivedAt() - lastFaultEnd) / 100) / 10),
      publishSeconds: Math.round((publishedAt - startedAt) / 100) / 10,
      totalSeconds: Math.round((performance.now() - began) / 100) / 10,
      faults,
      cluster: {
        nodes: cluster.nodes.length,
        workQueueMembers: Object.fromEntries(Object.values(QUEUES).map((q) => [q.name, members[q.name]?.length ?? 0])),
      },
    };
    if (!report.ok) {
      report.logs = join(tmpdir(), `faxnotify-chaos-${runId}.log`);
      const queues = await cluster
        .ctl(0, 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged', 'consumers', 'leader', '--quiet')
        .catch((error: unknown) => String(error));
      writeFileSync(report.logs, `${queues}\n${trackers.output()}\n${notifiers.output()}`);
    }
    return report;
  } finally {
    await cleanUp();
  }
}

/** Settings for every owner through the notifier's API, their addresses recorded as confirmed (confirmation has suites of its own). */
async function saveOwnerSettings(notifierUrl: string, ownerIds: string[], notifierDatabaseUrl: string): Promise<void> {
  for (const [i, ownerId] of ownerIds.entries()) {
    const on = ownerChannels(i);
    const addresses = {
      email: `${ownerId}@example.test`,
      sms: on.includes('sms') ? `+39333${1_000_000 + i}` : null,
      xmpp: on.includes('xmpp') ? `${ownerId}@localhost` : null,
    };
    await notifierTesting.seedConfirmedAddresses({ db: { url: notifierDatabaseUrl, sqlitePath: '' } }, ownerId, addresses);
    const response = await fetch(`${notifierUrl}/v1/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await issueToken({ secret: STACK_JWT_SECRET }, ownerId, 3600)}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        email: { enabled: true, address: addresses.email },
        sms: { enabled: Boolean(addresses.sms), number: addresses.sms },
        xmpp: { enabled: Boolean(addresses.xmpp), jid: addresses.xmpp },
        locale: i % 2 ? 'ru' : 'en',
        timeZone: 'Europe/Rome',
        notifyOn: 'all',
      }),
    });
    if (!response.ok) throw new Error(`saving the settings of ${ownerId} failed: ${response.status} ${await response.text()}`);
  }
}

/** Publishes the results as the transmitter does, 16 faxes at a time, each event again until the broker confirms it. */
async function publishResults(bus: MessageBus, results: number, owners: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < results) {
      const i = next++;
      const { events } = scriptFaxEvents({
        faxId: `chaos-${i}`,
        ownerId: `owner${i % owners}`,
        subject: `Chaos ${i}`,
        pages: 1,
        recipients: [{ number: '+79161234567', attempts: [{ csid: 'CHAOS', pagesConfirmed: 1, status: 'success', reason: { code: 'OK', detail: '' } }] }],
      });
      // The submission and the result: progress events change nothing the notices depend on.
      for (const e of events.filter((event) => event.key === 'fax.submitted' || event.key === 'fax.recipient.result')) {
        for (let tries = 0; ; tries++) {
          try {
            await bus.publish(e.key, e.data, { subject: e.subject, time: e.time, id: `${e.key}:chaos-${i}:${e.subject}:${e.time}` });
            break;
          } catch (error) {
            if (tries > 100) throw error;
            await sleep(250);
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
