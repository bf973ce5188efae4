import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@faxnotify/peers';
import { connectXmppClient, startProsody, type ProsodyServer, type XmppTestClient } from './testing';
import { createLogger } from '@faxnotify/kit';
import { ChannelError, type DeliveryReport, type RenderedNotice } from '../types';
import { XmppAdapter, xmlSafe, type XmppAdapterOptions } from './adapter';

// ltx is what @xmpp parses with; a stanza it can parse back is well-formed XML.
const ltx = () => import('ltx');

let prosody: ProsodyServer;
const clients: XmppTestClient[] = [];
const adapters: XmppAdapter[] = [];

const options = (overrides: Partial<XmppAdapterOptions> = {}): XmppAdapterOptions => ({
  service: prosody.service,
  domain: prosody.domain,
  username: 'notifier',
  password: 'notifier-pw',
  resource: 'notifier-test',
  allowPlainWithoutTls: true,
  reconnectInitialMs: 50,
  reconnectMaxMs: 400,
  timeoutMs: 3_000,
  logger: createLogger('xmpp-test', process.env.XMPP_TEST_LOG ?? 'silent'),
  ...overrides,
});

async function startAdapter(overrides: Partial<XmppAdapterOptions> = {}): Promise<{ adapter: XmppAdapter; reports: DeliveryReport[] }> {
  const adapter = new XmppAdapter(options(overrides));
  adapters.push(adapter);
  const reports: DeliveryReport[] = [];
  adapter.onDeliveryReport(async (report) => void reports.push(report));
  adapter.start();
  return { adapter, reports };
}

async function user(username: string, extra: { answerReceipts?: boolean } = {}): Promise<XmppTestClient> {
  const client = await connectXmppClient({ service: prosody.service, domain: prosody.domain, username, password: `${username}-pw`, ...extra });
  clients.push(client);
  return client;
}

let sequence = 0;
const notice = (text: string, overrides: Partial<RenderedNotice> = {}): RenderedNotice => ({
  channel: 'xmpp',
  locale: 'en',
  noticeId: `notice${String(++sequence).padStart(18, '0')}`,
  title: '',
  text,
  messageId: '<x@y>',
  threadId: '<t@y>',
  ...overrides,
});

beforeAll(async () => {
  prosody = await startProsody({
    users: ['notifier', 'alice', 'bob', 'carol', 'dave'].map((username) => ({ username, password: `${username}-pw` })),
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.stop();
  for (const adapter of adapters.splice(0)) await adapter.close();
  if (!prosody.running) await prosody.up();
});

afterAll(async () => {
  await prosody?.stop();
});

// A Prosody restart and the reconnect it causes take several seconds on a busy machine; the waits
// inside each test bound what they wait for.
jest.setTimeout(30_000);

describe('XMPP adapter against Prosody', () => {
  it('sends a chat message asking for a receipt, and reports the receipt', async () => {
    const alice = await user('alice');
    const { adapter, reports } = await startAdapter();
    await adapter.waitOnline();
    const sent = notice('Delivered: Q3 report\nRecipient: +12025550101 (ACME)', { locale: 'ru' });
    const receipt = await adapter.send(sent, alice.jid);
    expect(receipt).toEqual({ providerMessageId: sent.noticeId });
    const [message] = await alice.waitForMessages(1);
    expect(message).toMatchObject({ id: sent.noticeId, type: 'chat', body: sent.text, receiptRequested: true, from: `notifier@localhost/${adapter.resource}` });
    expect(adapter.resource).toMatch(/^notifier-test\.[0-9a-f]{6}$/);
    expect(message.xml).toContain('xml:lang="ru"');
    await eventually(() => reports.length > 0, 5_000);
    expect(reports).toEqual([{ channel: 'xmpp', noticeId: sent.noticeId, status: 'delivered', fromAddress: 'alice@localhost' }]);
  });

  it('keeps a hostile body XML-safe: markup escaped, characters XML 1.0 forbids removed', async () => {
    const bob = await user('bob');
    const { adapter } = await startAdapter();
    await adapter.waitOnline();
    const hostile = 'Subject </body><body>x</body>]]>&amp; <script>\u0000\u0001\u0008\u000b\u001b\ufffe\ud800 "q" \'a\' CSID\u0007';
    await adapter.send(notice(`Delivered: ${hostile}`), bob.jid);
    const [message] = await bob.waitForMessages(1);
    // eslint-disable-next-line no-control-regex
    expect(message.body).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\ud800-\udfff]/);
    expect(message.body).toBe('Delivered: Subject </body><body>x</body>]]>&amp; <script> "q" \'a\' CSID');
    const { parse } = await ltx();
    expect(parse(message.xml).getChildText('body')).toBe(message.body);
    // Still connected: the server did not close the stream over the message.
    expect(adapter.online).toBe(true);
    expect(xmlSafe('a\u0000b\u{1f600}c')).toBe('ab\u{1f600}c');
  });

  it("has an offline user's message stored by the server and delivered at the next login", async () => {
    const { adapter } = await startAdapter();
    await adapter.waitOnline();
    const sent = notice('Delivered: while you were away');
    await adapter.send(sent, 'carol@localhost');
    const carol = await user('carol');
    const [message] = await carol.waitForMessages(1);
    expect(message).toMatchObject({ id: sent.noticeId, body: sent.text });
    expect(message.delayStamp).toBeDefined();
  });

  it('fails transiently while the server is down and reconnects, however long the outage', async () => {
    const dave = await user('dave');
    const { adapter } = await startAdapter();
    await adapter.waitOnline();
    const before = adapter.connections;
    await prosody.down();
    await eventually(() => !adapter.online, 3_000, 10);
    const error = await adapter.send(notice('Delivered: during the outage'), dave.jid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect(error).toMatchObject({ transient: true });
    // Several reconnection attempts fail while the server stays down (@xmpp's own reconnect tries only once).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(adapter.connections).toBe(before);
    await prosody.up();
    await adapter.waitOnline(10_000);
    expect(adapter.connections).toBe(before + 1);
    await dave.waitOnline(10_000);
    await adapter.send(notice('Delivered: after the outage'), dave.jid);
    await eventually(() => dave.messages.some((m) => m.body === 'Delivered: after the outage'), 5_000);
    expect(dave.messages.map((m) => m.body)).toEqual(['Delivered: after the outage']);
  });

  it('fails a send transiently when the connection drops before the server confirmed it, and the retry arrives once', async () => {
    const alice = await user('alice');
    const { adapter } = await startAdapter();
    await adapter.waitOnline();
    const before = { ...adapter.sends };
    // Freeze the server so the message is written but never confirmed, then kill it.
    const pid = Number(readFileSync(join(dirname(prosody.configPath), 'prosody.pid'), 'utf8').trim());
    // As root the server runs under runuser, which stops itself when its child stops: it is
    // continued after the kill so that it reaps the server and exits.
    const parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    process.kill(pid, 'SIGSTOP');
    const sent = notice('Delivered: written, never confirmed');
    const pending = adapter.send(sent, alice.jid).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(pid, 'SIGKILL');
    if (parent !== process.pid) process.kill(parent, 'SIGCONT');
    const error = await pending;
    expect(error).toBeInstanceOf(ChannelError);
    expect(error).toMatchObject({ transient: true });
    expect((error as Error).message).toMatch(/before the server confirmed/);
    expect(adapter.sends.unconfirmed - before.unconfirmed).toBe(1);

    await eventually(() => !prosody.running, 5_000, 20);
    await prosody.up();
    await adapter.waitOnline(10_000);
    await alice.waitOnline(10_000);
    // What the bus does after a transient failure: the same notice again.
    await adapter.send(sent, alice.jid);
    await eventually(() => alice.messages.length > 0, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alice.messages.map((m) => [m.id, m.body])).toEqual([[sent.noticeId, sent.text]]);
  });

  it('refuses to log in without TLS unless PLAIN over plain TCP is allowed', async () => {
    const { adapter } = await startAdapter({ allowPlainWithoutTls: false });
    await expect(adapter.waitOnline(1_500)).rejects.toThrow(/not connected/);
    await expect(adapter.send(notice('Delivered: x'), 'alice@localhost')).rejects.toMatchObject({ transient: true });
  });
});

describe('XMPP adapter with TLS and SCRAM (the production defaults)', () => {
  let secure: ProsodyServer;
  let certDir: string;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'notifier-xmpp-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    // Prosody runs as its own user and must read them.
    chmodSync(certDir, 0o755);
    chmodSync(join(certDir, 'key.pem'), 0o644);
    secure = await startProsody({
      users: [{ username: 'notifier', password: 'notifier-pw' }],
      extraModules: ['tls'],
      extraConfig: `ssl = { certificate = ${JSON.stringify(join(certDir, 'cert.pem'))}; key = ${JSON.stringify(join(certDir, 'key.pem'))} }\nc2s_require_encryption = true\nallow_unencrypted_plain_auth = false\n-- Only SCRAM is offered, so a login proves the adapter chose it.\ndisable_sasl_mechanisms = { "PLAIN" }`,
    });
  });

  afterAll(async () => {
    await secure?.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('logs in over STARTTLS with SCRAM-SHA-1 when PLAIN without TLS is not allowed', async () => {
    // The throwaway certificate is trusted as NODE_EXTRA_CA_CERTS would trust a private CA (that
    // variable is read only when a process starts); the certificate is still verified.
    const connect = tls.connect;
    const ca = [...tls.rootCertificates, readFileSync(join(certDir, 'cert.pem'), 'utf8')];
    const trusting = ((options: tls.ConnectionOptions, ...rest: unknown[]) =>
      (connect as (...args: unknown[]) => tls.TLSSocket)({ ...options, ca }, ...rest)) as typeof tls.connect;
    tls.connect = trusting;
    try {
      const { adapter } = await startAdapter({ service: secure.service, allowPlainWithoutTls: false, timeoutMs: 8_000 });
      await adapter.waitOnline(8_000);
      expect(adapter.online).toBe(true);
      expect(await adapter.verify()).toBe(true);
      const log = readFileSync(secure.logPath, 'utf8');
      expect(log).toMatch(/Authenticated as notifier@localhost/);
    } finally {
      tls.connect = connect;
    }
  }, 15_000);
});
