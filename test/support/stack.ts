import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@faxnotify/kit';
import { seedConfirmedAddresses } from '@faxnotify/notifier/testing';
import { createTestVhost, startSmtpSink, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import { freePort, startService, type RunningService } from './processes';

/** The secret the stack's services share for bearer tokens (a test and demo value only). */
export const STACK_JWT_SECRET = 'faxnotify-local-stack-secret-0123456789';

export interface Stack {
  vhost: TestVhost;
  smtp: SmtpSink;
  tracker: RunningService;
  notifier: RunningService;
  dataDir: string;
  env: Record<string, string>;
  /** A bearer token for a user, with optional claims (`locale`, `tz` for the pages). */
  token(userId: string, claims?: Record<string, unknown>, ttlSeconds?: number): Promise<string>;
  /**
   * Saves a user's notification settings through the notifier's API and records their addresses
   * as confirmed in its database (the stack's suites are not about confirmation); with
   * `{ confirmed: false }` the addresses stay unconfirmed, for the owner to confirm with a code.
   */
  saveSettings(userId: string, settings: Record<string, unknown>, options?: { confirmed?: boolean }): Promise<void>;
  /** Starts the notifier again (after a kill) with the same settings. */
  restartNotifier(): Promise<RunningService>;
  stop(): Promise<void>;
}

/**
 * The services as an operator runs them — separate processes on embedded SQLite — with a private
 * RabbitMQ virtual host and a real SMTP server that keeps what it receives.
 */
export async function startStack(
  label: string,
  options: {
    keepData?: boolean;
    extraEnv?: Record<string, string>;
    /** The services' HTTP ports, when something must name them before they start (an identity provider's redirect URIs); free ones by default. */
    ports?: { tracker: number; notifier: number };
    /** Options for node itself in both services, e.g. `--cpu-prof --cpu-prof-dir=DIR` for profiles. */
    nodeArgs?: string[];
  } = {},
): Promise<Stack> {
  const vhost = await createTestVhost(label);
  const smtp = await startSmtpSink();
  const dataDir = mkdtempSync(join(tmpdir(), `faxnotify-${label}-`));
  const env: Record<string, string> = {
    AMQP_URL: vhost.amqpUrl,
    JWT_SECRET: STACK_JWT_SECRET,
    STATUS_TRACKER_SQLITE_PATH: join(dataDir, 'status-tracker.sqlite'),
    NOTIFIER_SQLITE_PATH: join(dataDir, 'notifier.sqlite'),
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    ...options.extraEnv,
  };
  const [trackerPort, notifierPort] = options.ports ? [options.ports.tracker, options.ports.notifier] : [await freePort(), await freePort()];
  env.STATUS_TRACKER_HTTP_PORT = String(trackerPort);
  env.NOTIFIER_HTTP_PORT = String(notifierPort);
  env.FAX_URL_TEMPLATE = `http://127.0.0.1:${trackerPort}/faxes/{faxId}`;
  env.SETTINGS_URL_TEMPLATE = `http://127.0.0.1:${notifierPort}/settings`;
  // The notifier fetches confirmation reports from this stack's tracker (for owners who attach them).
  env.TRACKER_REPORT_URL_TEMPLATE = `http://127.0.0.1:${trackerPort}/v1/faxes/{faxId}/report.pdf`;
  // Owners' Jabber commands (status, resend) ask this stack's tracker.
  env.TRACKER_URL = `http://127.0.0.1:${trackerPort}`;
  const tracker = await startService('status-tracker', env, undefined, options.nodeArgs).catch(async (error: unknown) => {
    await smtp.close();
    throw error;
  });
  let notifier = await startService('notifier', env, undefined, options.nodeArgs);
  const token = (userId: string, claims: Record<string, unknown> = {}, ttlSeconds = 3600) =>
    issueToken({ secret: STACK_JWT_SECRET }, userId, ttlSeconds, claims);
  const stack: Stack = {
    vhost,
    smtp,
    tracker,
    get notifier() {
      return notifier;
    },
    dataDir,
    env,
    token,
    async saveSettings(userId, settings, { confirmed = true } = {}) {
      const response = await fetch(`${notifier.url}/v1/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${await token(userId)}`, 'content-type': 'application/json' },
        body: JSON.stringify(settings),
      });
      if (!response.ok) throw new Error(`saving settings failed: ${response.status} ${await response.text()}`);
      if (!confirmed) return;
      const saved = (await response.json()) as { email: { address: string | null }; sms: { number: string | null }; xmpp: { jid: string | null } };
      await seedConfirmedAddresses({ db: { url: env.NOTIFIER_DATABASE_URL ?? '', sqlitePath: env.NOTIFIER_SQLITE_PATH } }, userId, {
        email: saved.email.address,
        sms: saved.sms.number,
        xmpp: saved.xmpp.jid,
      });
    },
    async restartNotifier() {
      notifier = await startService('notifier', env, undefined, options.nodeArgs);
      return notifier;
    },
    async stop() {
      await Promise.allSettled([notifier.stop(), tracker.stop()]);
      await smtp.close();
      await vhost.delete();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}
