/**
 * A Jabber `resend` reply makes the new fax, end to end: the transmitter on a scripted Class 1
 * modem line, the status tracker and the notifier on one RabbitMQ vhost, the notifier's Jabber
 * account on a real Prosody. A three-recipient fax ends with its middle recipient partially sent
 * (the line drops during its third page); its owner gets the three Jabber notices and answers the
 * last one with `resend`: the tracker orders the resend, and the transmitter sends the fax again
 * to exactly that number, over the line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@faxnotify/kit';
import { ScriptedModem } from '@faxnotify/fax-line/testing';
import { startNotifier, type RunningNotifier } from '@faxnotify/notifier';
import { connectXmppClient, seedConfirmedAddresses, startProsody, type ProsodyServer, type XmppTestClient } from '@faxnotify/notifier/testing';
import { eventually } from '@faxnotify/peers';
import { startStatusTracker, type RunningStatusTracker } from '@faxnotify/status-tracker';
import {
  api,
  FAST_RETRIES,
  faxIdOf,
  finalFax,
  makeSamplePdf,
  startTestTransmitter,
  TEST_SECRET,
  upload,
  type TestTransmitter,
} from '@faxnotify/transmitter/testing';

jest.setTimeout(180_000);

const NUMBERS = ['+12025550111', '+12025550112', '+12025550113'];

interface TrackerFax {
  state: string;
  resendOf: string | null;
  resentAs: string[];
  recipients: Array<{ number: string; status: string; pagesSent: number; pagesTotal: number }>;
}

let modem: ScriptedModem;
let transmitter: TestTransmitter;
let tracker: RunningStatusTracker;
let prosody: ProsodyServer;
let notifier: RunningNotifier;
let owner: XmppTestClient;
let token: string;
let dir: string;

const trackerFax = async (faxId: string): Promise<TrackerFax | null> => {
  const response = await fetch(`${tracker.url}/v1/faxes/${faxId}`, { headers: { authorization: `Bearer ${token}` } });
  return response.ok ? ((await response.json()) as TrackerFax) : null;
};
const finalInTracker = (faxId: string) =>
  eventually(async () => ((await trackerFax(faxId))?.state ?? 'in_progress') !== 'in_progress' && trackerFax(faxId), 60_000, 200);

beforeAll(async () => {
  // One line: r1's call is page transmissions 1–3, r2's 4–6 (the line drops in its third page), r3's 7–9.
  modem = await ScriptedModem.start({ kind: 'class1', csi: 'REMOTE 9', noCarrierDuringPage: { transmission: 6, afterBytes: 200 } });
  transmitter = await startTestTransmitter('jabber-resend', {
    ...FAST_RETRIES,
    lines: [{ id: 'scripted-1', kind: 'class1', device: modem.device, timers: { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 } }],
  });
  dir = mkdtempSync(join(tmpdir(), 'faxnotify-jabber-resend-'));
  prosody = await startProsody({
    users: [
      { username: 'notifier', password: 'notifier-pw' },
      { username: 'alice', password: 'alice-pw' },
    ],
  });
  tracker = await startStatusTracker({
    'log.level': 'silent',
    'amqp.url': transmitter.vhost.amqpUrl,
    'db.sqlitePath': join(dir, 'tracker.sqlite'),
    'http.port': 0,
    'auth.jwtSecret': TEST_SECRET,
    'outbox.pollMs': 200,
  });
  notifier = await startNotifier({
    'log.level': 'silent',
    'amqp.url': transmitter.vhost.amqpUrl,
    'db.sqlitePath': join(dir, 'notifier.sqlite'),
    'http.port': 0,
    'auth.jwtSecret': TEST_SECRET,
    'xmpp.service': prosody.service,
    'xmpp.domain': prosody.domain,
    'xmpp.username': 'notifier',
    'xmpp.password': 'notifier-pw',
    'xmpp.allowPlainWithoutTls': true,
    'tracker.url': tracker.url,
  });
  await (notifier.adapters.get('xmpp') as unknown as { waitOnline(): Promise<void> }).waitOnline();
  token = await issueToken({ secret: TEST_SECRET }, 'alice');
  const saved = await fetch(`${notifier.url}/v1/settings`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      email: { enabled: false, address: null },
      sms: { enabled: false, number: null },
      xmpp: { enabled: true, jid: prosody.jid('alice') },
      locale: 'en',
      timeZone: 'Europe/London',
      notifyOn: 'all',
    }),
  });
  expect(saved.status).toBe(200);
  await seedConfirmedAddresses(notifier.config, 'alice', { xmpp: prosody.jid('alice') });
  owner = await connectXmppClient({ service: prosody.service, domain: prosody.domain, username: 'alice', password: 'alice-pw' });
}, 90_000);

afterAll(async () => {
  await owner?.stop();
  await notifier?.stop();
  await tracker?.stop();
  await transmitter?.close();
  await modem?.stop();
  await prosody?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('resends the fax of the notice the owner answered to exactly its failed number', async () => {
  const pdf = makeSamplePdf(transmitter.dir, 'three', [['page 1'], ['page 2'], ['page 3']]);
  const path = (await upload(transmitter.service.url, token, pdf)).body.path;
  const created = await api<{ id: string }>(transmitter.service.url, token, 'POST', '/v3/accounts/self/outbox', {
    files: [path],
    to: NUMBERS,
    comment: { text: 'Q3 report' },
    retry: { count: 0 },
  });
  const original = await faxIdOf(transmitter.service.url, token, created.body.id);
  await finalFax(transmitter.service.url, token, original, 60_000);
  const before = await finalInTracker(original);
  expect(before.recipients.map((r) => [r.number, r.status])).toEqual([
    [NUMBERS[0], 'success'],
    [NUMBERS[1], 'partially_sent'],
    [NUMBERS[2], 'success'],
  ]);
  // A Jabber notice per recipient.
  await owner.waitForMessages(3, 30_000);

  const asked = owner.messages.length;
  await owner.sendChat(prosody.jid('notifier'), 'resend');
  const [answer] = (await owner.waitForMessages(asked + 1, 20_000)).slice(asked);
  expect(answer.body).toBe(`Fax ${original} will be sent again to 1 recipient(s) that did not get every page. You will be notified of the results.`);

  const resentAs = await eventually(
    async () => {
      const fax = await trackerFax(original);
      return fax && fax.resentAs.length > 0 && fax.resentAs;
    },
    30_000,
    200,
  );
  expect(resentAs).toHaveLength(1);
  const resent = await finalInTracker(resentAs[0]);
  expect(resent).toMatchObject({ state: 'delivered', resendOf: original });
  expect(resent.recipients.map((r) => [r.number, r.status, r.pagesSent, r.pagesTotal])).toEqual([[NUMBERS[1], 'success', 3, 3]]);
  // The line dialled the three numbers, then the partial one again.
  expect(modem.record.commands.filter((c) => c.startsWith('ATD'))).toEqual([...NUMBERS.map((n) => `ATD${n.slice(1)}`), `ATD${NUMBERS[1].slice(1)}`]);
  // And its owner hears of the new fax's result on Jabber too (the resend keeps the subject).
  const after = await owner.waitForMessages(asked + 2, 30_000);
  expect(after.slice(asked + 1).some((m) => m.body.includes('Q3 report'))).toBe(true);
});
