/**
 * Jabber as a conversation, against a real Prosody: the status tracker and the notifier on one
 * RabbitMQ vhost, fax events published as the transmitter publishes them. The owner answers the
 * notices from their verified Jabber address: `status` lists their faxes still in progress (read
 * from the tracker), `resend` after a failed fax's notice makes the tracker resend that fax to its
 * failed recipient, and the answers come in the owner's language without repeating what was typed.
 * A stranger's `resend` does nothing and is counted on /metrics. `mute 2h` holds the next Jabber
 * notice (the quiet hours' held notices) until the mute ends, and `unmute` lets it go at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken, MessageBus, createLogger } from '@faxnotify/kit';
import { startNotifier, type RunningNotifier } from '@faxnotify/notifier';
import { connectXmppClient, seedConfirmedAddresses, startProsody, type ProsodyServer, type XmppTestClient } from '@faxnotify/notifier/testing';
import { createTestVhost, eventually, type TestVhost } from '@faxnotify/peers';
import { startStatusTracker, type RunningStatusTracker } from '@faxnotify/status-tracker';

jest.setTimeout(120_000);

const SECRET = 'jabber-conversation-secret-0123456789';
const SUBMITTED_AT = '2026-12-07T09:00:00.000Z';
const number = (n: number) => `+1202555${String(100 + n).padStart(4, '0')}`;

let dir: string;
let vhost: TestVhost;
let prosody: ProsodyServer;
let tracker: RunningStatusTracker;
let notifier: RunningNotifier;
let transmitterBus: MessageBus;
let owner: XmppTestClient;
let stranger: XmppTestClient;
let ownerToken: string;

/** The fax's events as the transmitter publishes them: submitted, then a final result for each recipient given one. */
async function fax(faxId: string, subject: string, results: Array<'success' | 'failed_user_busy' | undefined>): Promise<void> {
  await transmitterBus.publish(
    'fax.submitted',
    {
      faxId,
      ownerId: 'olivia',
      subject,
      recipients: results.map((_, i) => ({ recipientId: `r${i + 1}`, number: number(i + 1) })),
      files: [{ name: 'report.pdf', pages: 2 }],
      pages: 2,
      submittedAt: SUBMITTED_AT,
      retry: { count: 0, delayMinutes: 1 },
    },
    { subject: `fax/${faxId}` },
  );
  await eventually(async () => (await trackerFax(faxId)) !== null, 20_000, 100);
  for (const [i, status] of results.entries()) {
    if (!status) continue;
    const recipientId = `r${i + 1}`;
    const sent = status === 'success' ? 2 : 0;
    await transmitterBus.publish(
      'fax.recipient.result',
      {
        faxId,
        recipientId,
        number: number(i + 1),
        attempt: 1,
        sequence: 3,
        status,
        reason: status === 'success' ? { code: 'OK', detail: 'MCF after EOP; DCN' } : { code: 'BUSY', detail: 'ATD -> BUSY' },
        pagesSent: sent,
        pagesTotal: 2,
        remoteCsid: sent > 0 ? 'ACME FAX' : null,
        startedAt: sent > 0 ? SUBMITTED_AT : null,
        endedAt: '2026-12-07T09:01:00.000Z',
        attempts: 1,
      },
      { subject: `fax/${faxId}/recipient/${recipientId}` },
    );
  }
}

const trackerFax = async (faxId: string): Promise<{ state: string; resentAs: string[] } | null> => {
  const response = await fetch(`${tracker.url}/v1/faxes/${faxId}`, { headers: { authorization: `Bearer ${ownerToken}` } });
  return response.ok ? ((await response.json()) as { state: string; resentAs: string[] }) : null;
};

/** The notifier's count of ignored messages from addresses that are no owner's verified one. */
const strangerCount = async (): Promise<number> => {
  const metrics = await (await fetch(`${notifier.url}/metrics`)).text();
  return Number(/^faxnotify_xmpp_commands_total\{result="stranger"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
};

/** Sends a command and waits for the one answer it gets. */
const ask = async (text: string): Promise<string> => {
  const before = owner.messages.length;
  await owner.sendChat(prosody.jid('notifier'), text);
  const messages = await owner.waitForMessages(before + 1, 20_000);
  return messages[before].body;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jabber-conversation-'));
  [vhost, prosody] = await Promise.all([
    createTestVhost('jabber-conversation'),
    startProsody({
      users: [
        { username: 'notifier', password: 'notifier-pw' },
        { username: 'olivia', password: 'olivia-pw' },
        { username: 'mallory', password: 'mallory-pw' },
      ],
    }),
  ]);
  tracker = await startStatusTracker({
    'log.level': 'silent',
    'amqp.url': vhost.amqpUrl,
    'db.sqlitePath': join(dir, 'tracker.sqlite'),
    'http.port': 0,
    'auth.jwtSecret': SECRET,
    'outbox.pollMs': 200,
  });
  notifier = await startNotifier({
    'log.level': 'silent',
    'amqp.url': vhost.amqpUrl,
    'db.sqlitePath': join(dir, 'notifier.sqlite'),
    'http.port': 0,
    'auth.jwtSecret': SECRET,
    'xmpp.service': prosody.service,
    'xmpp.domain': prosody.domain,
    'xmpp.username': 'notifier',
    'xmpp.password': 'notifier-pw',
    'xmpp.allowPlainWithoutTls': true,
    'xmpp.timeoutMs': 5_000,
    'ledger.heldPollMs': 200,
    // The owner's commands in this file, and one more: the next is refused.
    'xmpp.commandsPerHour': 9,
    'tracker.url': tracker.url,
  });
  await (notifier.adapters.get('xmpp') as unknown as { waitOnline(): Promise<void> }).waitOnline();
  transmitterBus = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('transmitter-events', 'silent') });
  await transmitterBus.start();
  ownerToken = await issueToken({ secret: SECRET }, 'olivia');
  const saved = await fetch(`${notifier.url}/v1/settings`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      email: { enabled: false, address: null },
      sms: { enabled: false, number: null },
      xmpp: { enabled: true, jid: prosody.jid('olivia') },
      locale: 'it',
      timeZone: 'Europe/Rome',
      notifyOn: 'all',
    }),
  });
  expect(saved.status).toBe(200);
  await seedConfirmedAddresses(notifier.config, 'olivia', { xmpp: prosody.jid('olivia') });
  owner = await connectXmppClient({ service: prosody.service, domain: prosody.domain, username: 'olivia', password: 'olivia-pw' });
  stranger = await connectXmppClient({ service: prosody.service, domain: prosody.domain, username: 'mallory', password: 'mallory-pw' });
}, 60_000);

afterAll(async () => {
  await owner?.stop();
  await stranger?.stop();
  await transmitterBus?.close();
  await notifier?.stop();
  await tracker?.stop();
  await prosody?.stop();
  await vhost?.delete();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('answers status with the owner’s faxes still in progress, in the owner’s language', async () => {
  // One recipient of two has its result: the fax is still in progress, and its notice came.
  await fax('fax-jc-running', 'Listino <prezzi>', ['success', undefined]);
  await owner.waitForMessages(1, 30_000);
  const answer = await ask('status');
  expect(answer).toContain('Fax ancora in invio');
  expect(answer).toContain('fax-jc-running');
  expect(answer).toContain('«Listino <prezzi>»');
  expect(answer).toContain('1/2');
});

it('resends the fax of the last notice to its failed recipient when the owner answers resend', async () => {
  const before = owner.messages.length;
  await fax('fax-jc-failed', 'Ordine 42', ['success', 'failed_user_busy']);
  await owner.waitForMessages(before + 2, 30_000);
  await eventually(
    async () => (await trackerFax('fax-jc-failed'))?.state === 'partial' || (await trackerFax('fax-jc-failed'))?.state === 'failed',
    20_000,
    100,
  );
  const answer = await ask('resend');
  expect(answer).toContain('fax-jc-failed');
  expect(answer).toContain('(1)');
  const resent = await eventually(async () => (await trackerFax('fax-jc-failed'))?.resentAs.length === 1 && (await trackerFax('fax-jc-failed'))!, 20_000, 100);
  expect(resent.resentAs).toHaveLength(1);
  // A fax of another owner, or none at all, is not resent.
  expect(await ask('resend fax-of-someone-else')).toContain('Tra i tuoi fax non ce n’è uno così');
  // The running fax has not ended: nothing to resend yet.
  expect(await ask('resend fax-jc-running')).toContain('è ancora in invio');
});

it('ignores and counts a stranger’s resend, and never repeats what was typed', async () => {
  const counted = await strangerCount();
  await stranger.sendChat(prosody.jid('notifier'), 'resend fax-jc-failed');
  await stranger.sendChat(prosody.jid('notifier'), 'status');
  await eventually(async () => (await strangerCount()) === counted + 2, 20_000, 100);
  // Answered nothing, resent nothing.
  const help = await ask('aiuto <b>&amp;</b> =HYPERLINK("x")');
  expect(help).toContain('Non conosco questo comando');
  expect(help).toContain('mute 2h');
  expect(help).not.toContain('HYPERLINK');
  expect(help).not.toContain('<b>');
  expect(stranger.messages).toEqual([]);
  expect((await trackerFax('fax-jc-failed'))!.resentAs).toHaveLength(1);
});

it('holds the next Jabber notice through a mute, and sends it when the owner unmutes', async () => {
  const muted = await ask('mute 2h');
  expect(muted).toContain('Niente avvisi Jabber fino alle');
  const before = owner.messages.length;
  await fax('fax-jc-muted', 'Fattura', ['failed_user_busy']);
  const held = await eventually(
    async () => {
      const row = await notifier.ledger.get('fax-jc-muted:r1', 'xmpp');
      return row?.status === 'held' && row;
    },
    20_000,
    100,
  );
  // Held until the mute's end, two hours from now (give or take the test's own time).
  expect(Math.abs(Date.parse(held.not_before!) - (Date.now() + 2 * 3600_000))).toBeLessThan(60_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(owner.messages.slice(before)).toEqual([]);

  // The answer and the released notice, in whichever order they come.
  const start = owner.messages.length;
  await owner.sendChat(prosody.jid('notifier'), 'unmute');
  const bodies = (await owner.waitForMessages(start + 2, 20_000)).slice(start).map((m) => m.body);
  expect(bodies).toContain('Gli avvisi Jabber sono di nuovo attivi.');
  expect(bodies.filter((body) => body.includes('Fattura'))).toHaveLength(1);
  await eventually(async () => (await notifier.ledger.get('fax-jc-muted:r1', 'xmpp'))?.status === 'sent', 10_000, 50);
  // Nothing was muted any more.
  expect(await ask('unmute')).toBe('Gli avvisi Jabber non erano disattivati.');
});

it('refuses the commands of an address over its hourly limit, in the owner’s language', async () => {
  // Eight commands so far; the ninth is answered, the tenth refused.
  expect(await ask('help')).toContain('status');
  expect(await ask('status')).toBe('Troppi comandi: attendi un poco prima del prossimo.');
  expect(stranger.messages).toEqual([]);
});
