/**
 * The transmitter as its tests (and the cross-service tests) run it: a private RabbitMQ vhost,
 * a temporary SQLite file and files folder, a token, and a listener on faxnotify.fax that keeps
 * every event the transmitter published, in arrival order.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { connect, type ChannelModel } from 'amqplib';
import { EXCHANGES, type CloudEvent, type EventKey } from '@faxnotify/contracts';
import { issueToken } from '@faxnotify/kit';
import { createTestVhost, eventually, type TestVhost } from '@faxnotify/peers';
import type { ErrorView, UploadedView } from '../api';
import { startTransmitter, type FaxView, type OutboxEntryView, type RunningTransmitter, type StartTransmitterOptions } from '../index';

export const TEST_SECRET = 'transmitter-test-secret-0123456789';

/** Short waits everywhere, so a retry test takes seconds. */
export const FAST_RETRIES = {
  'retry.busySeconds': 1,
  'retry.noAnswerSeconds': 1,
  'retry.temporarySeconds': 1,
  'retry.interruptedSeconds': 1,
  'retry.internalSeconds': 1,
  'retry.restartSeconds': 1,
  'scheduler.pollMs': 100,
  'outbox.pollMs': 200,
};

export interface EventLog {
  events: CloudEvent[];
  /** The events of one fax, in arrival order. */
  of(faxId: string, key?: EventKey): CloudEvent[];
  /** Waits for an event matching `predicate`. */
  waitFor(predicate: (event: CloudEvent) => boolean, timeoutMs?: number): Promise<CloudEvent>;
  close(): Promise<void>;
}

/** Listens to everything on faxnotify.fax in a vhost, from now on. */
export async function listenToFaxEvents(amqpUrl: string): Promise<EventLog> {
  const connection: ChannelModel = await connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(EXCHANGES.fax, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, EXCHANGES.fax, '#');
  const events: CloudEvent[] = [];
  await channel.consume(queue, (message) => {
    if (!message) return;
    events.push(JSON.parse(message.content.toString('utf8')) as CloudEvent);
    channel.ack(message);
  });
  const keyOf = (event: CloudEvent): string => event.type.replace(/^faxnotify\./, '').replace(/\.v\d+$/, '');
  return {
    events,
    of: (faxId, key) => events.filter((e) => (e.data as { faxId: string }).faxId === faxId && (!key || keyOf(e) === key)),
    waitFor: (predicate, timeoutMs = 20_000) => eventually(() => events.find(predicate), timeoutMs, 50),
    close: async () => {
      await connection.close().catch(() => undefined);
    },
  };
}

export interface TestTransmitter {
  service: RunningTransmitter;
  vhost: TestVhost;
  dir: string;
  events: EventLog;
  /** A token for `user`. */
  token(user?: string): Promise<string>;
  /** Starts another transmitter on the same database, files and vhost (after `service.stop()`): a restart. */
  restart(overrides?: Record<string, unknown>, options?: StartTransmitterOptions): Promise<RunningTransmitter>;
  close(): Promise<void>;
}

/** PostgreSQL for the tests that run on it too; `none` skips them. */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** A fresh PostgreSQL database; returns its URL and how to drop it. */
export async function createTestPostgres(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { Client } = await import('pg');
  const name = `transmitter_test_${label.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}`;
  const admin = async (query: string) => {
    const client = new Client({ connectionString: `${TEST_POSTGRES_URL}/postgres` });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  return { url: `${TEST_POSTGRES_URL}/${name}`, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export async function startTestTransmitter(
  label: string,
  overrides: Record<string, unknown> = {},
  options: StartTransmitterOptions = {},
  storage: { postgres?: boolean } = {},
): Promise<TestTransmitter> {
  const vhost = await createTestVhost(label);
  const dir = mkdtempSync(join(tmpdir(), `transmitter-${label}-`));
  const postgres = storage.postgres ? await createTestPostgres(label) : null;
  const base = {
    'log.level': process.env.TRANSMITTER_TEST_LOG ?? 'silent',
    'amqp.url': vhost.amqpUrl,
    'db.sqlitePath': join(dir, 'transmitter.sqlite'),
    'db.url': postgres?.url ?? '',
    'files.dir': join(dir, 'files'),
    'http.port': 0,
    'auth.jwtSecret': TEST_SECRET,
    'scheduler.stopGraceMs': 0,
  };
  const events = await listenToFaxEvents(vhost.amqpUrl);
  const running: RunningTransmitter[] = [];
  running.push(await startTransmitter({ ...base, ...overrides }, options));
  return {
    get service() {
      return running[running.length - 1];
    },
    vhost,
    dir,
    events,
    token: (user = 'alice') => issueToken({ secret: TEST_SECRET }, user),
    async restart(more = {}, moreOptions = {}) {
      const next = await startTransmitter({ ...base, ...overrides, ...more }, moreOptions);
      running.push(next);
      return next;
    },
    async close() {
      await Promise.allSettled(running.map((service) => service.stop()));
      await events.close();
      await vhost.delete();
      await postgres?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Uploads a file through the API; returns the HTTP status and body, read as the answer the test
 * expects: the stored file's path, or (`upload<ErrorView>`) why it was refused.
 */
export async function upload<Answer = UploadedView>(
  url: string,
  token: string,
  path: string,
  options: { name?: string; format?: string; user?: string; field?: string } = {},
): Promise<{ status: number; body: Answer }> {
  const form = new FormData();
  form.append(options.field ?? 'fax_file', new Blob([readFileSync(path)]), options.name ?? basename(path));
  const query = options.format ? `?format=${options.format}` : '';
  const response = await fetch(`${url}/v3/accounts/${options.user ?? 'self'}/files${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as Answer };
}

/**
 * Any JSON call to the API; the body is read as the answer the test expects of the route (an entry,
 * a fax, a list), an error by default, and is null when the answer had none.
 */
export async function api<Answer = ErrorView>(
  url: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Answer }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Answer };
}

/** Waits until the outbox entry became a fax; returns the fax id. */
export async function faxIdOf(url: string, token: string, outboxId: string, timeoutMs = 20_000): Promise<string> {
  return eventually(async () => (await api<OutboxEntryView | null>(url, token, 'GET', `/v3/accounts/self/outbox/${outboxId}`)).body?.fax_id, timeoutMs, 50);
}

/** Waits until every recipient of a fax is final; returns the fax view. */
export async function finalFax(url: string, token: string, faxId: string, timeoutMs = 30_000): Promise<FaxView> {
  return eventually(
    async () => {
      const { body } = await api<FaxView | null>(url, token, 'GET', `/v3/accounts/self/faxes/${faxId}`);
      return body && body.recipients.every((r) => r.final) ? body : null;
    },
    timeoutMs,
    100,
  );
}
