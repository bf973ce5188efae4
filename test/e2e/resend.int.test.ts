/**
 * Resend to the failed, end to end: the transmitter (a scripted Class 1 modem line) and the status
 * tracker on one RabbitMQ vhost. A three-recipient fax ends with its middle recipient partially
 * sent (the line drops during its third page); in Chromium its owner clicks "Resend to failed"
 * with "only the missing pages": the tracker orders, the transmitter sends exactly that number
 * only page 3, and the two faxes link to each other on their pages. Then the `faxnotify resend`
 * command: refused for a fax where nothing failed, and the same request id resends once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken, signedCookieValue } from '@faxnotify/kit';
import { ScriptedModem } from '@faxnotify/fax-line/testing';
import { CHROMIUM_LAUNCH, eventually } from '@faxnotify/peers';
import { SESSION_COOKIE, startStatusTracker, type RunningStatusTracker } from '@faxnotify/status-tracker';
import {
  api,
  FAST_RETRIES,
  faxIdOf,
  finalFax,
  makeSamplePdf,
  RESEND_EXIT,
  runResend,
  startTestTransmitter,
  TEST_SECRET,
  upload,
  type TestTransmitter,
} from '@faxnotify/transmitter/testing';
import { chromium, type BrowserContext } from 'playwright-core';

jest.setTimeout(180_000);

const NUMBERS = ['+12025550101', '+12025550102', '+12025550103'];

interface TrackerFax {
  state: string;
  resendOf: string | null;
  resentAs: string[];
  recipients: Array<{ number: string; status: string; pagesSent: number; pagesTotal: number }>;
}

let modem: ScriptedModem;
let transmitter: TestTransmitter;
let tracker: RunningStatusTracker;
let token: string;
let original: string;
let browserDir: string;
let context: BrowserContext | undefined;

const trackerFax = async (faxId: string): Promise<TrackerFax | null> => {
  const response = await fetch(`${tracker.url}/v1/faxes/${faxId}`, { headers: { authorization: `Bearer ${token}` } });
  return response.ok ? ((await response.json()) as TrackerFax) : null;
};
/** Waits until the tracker has the fax with every recipient final. */
const finalInTracker = (faxId: string) =>
  eventually(async () => ((await trackerFax(faxId))?.state ?? 'in_progress') !== 'in_progress' && trackerFax(faxId), 60_000, 200);

const output = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, env: {} } };
};

beforeAll(async () => {
  // One line, so the recipients are dialled in order: r1's call is page transmissions 1–3, r2's 4–6 (the line drops in its third page), r3's 7–9.
  modem = await ScriptedModem.start({ kind: 'class1', csi: 'REMOTE 9', noCarrierDuringPage: { transmission: 6, afterBytes: 200 } });
  transmitter = await startTestTransmitter('resend-e2e', {
    ...FAST_RETRIES,
    lines: [{ id: 'scripted-1', kind: 'class1', device: modem.device, timers: { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 } }],
  });
  browserDir = mkdtempSync(join(tmpdir(), 'faxnotify-resend-'));
  tracker = await startStatusTracker({
    'log.level': 'silent',
    'amqp.url': transmitter.vhost.amqpUrl,
    'db.sqlitePath': join(browserDir, 'tracker.sqlite'),
    'http.port': 0,
    'auth.jwtSecret': TEST_SECRET,
    'outbox.pollMs': 200,
  });
  token = await issueToken({ secret: TEST_SECRET }, 'alice');
  const pdf = makeSamplePdf(transmitter.dir, 'three', [['page 1'], ['page 2'], ['page 3']]);
  const path = (await upload(transmitter.service.url, token, pdf)).body.path;
  const created = await api<{ id: string }>(transmitter.service.url, token, 'POST', '/v3/accounts/self/outbox', {
    files: [path],
    to: NUMBERS,
    comment: { text: 'Q3 report' },
    retry: { count: 0 },
  });
  original = await faxIdOf(transmitter.service.url, token, created.body.id);
  await finalFax(transmitter.service.url, token, original, 60_000);
});

afterAll(async () => {
  await context?.close();
  await tracker?.stop();
  await transmitter?.close();
  await modem?.stop();
  if (browserDir) rmSync(browserDir, { recursive: true, force: true });
});

it('resends from the fax page to exactly the failed number, only its missing page, and links the two faxes', async () => {
  const before = await finalInTracker(original);
  expect(before.state).toBe('partial');
  expect(before.recipients.map((r) => [r.number, r.status, r.pagesSent, r.pagesTotal])).toEqual([
    [NUMBERS[0], 'success', 3, 3],
    [NUMBERS[1], 'partially_sent', 2, 3],
    [NUMBERS[2], 'success', 3, 3],
  ]);

  context = await chromium.launchPersistentContext(browserDir, { ...CHROMIUM_LAUNCH, locale: 'en-GB' });
  const url = new URL(tracker.url);
  await context.addCookies([{ name: SESSION_COOKIE, value: signedCookieValue(TEST_SECRET, token), domain: url.hostname, path: '/' }]);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${tracker.url}/faxes/${original}`);
  await page.getByLabel('send only the missing pages').check();
  await page.getByRole('button', { name: 'Resend to failed' }).click();
  await page.waitForURL(/\?resent=fax-/);
  const resent = new URL(page.url()).searchParams.get('resent')!;
  await expect(page.locator('.resend-done').textContent()).resolves.toContain(resent);
  await expect(page.locator('.resent-as a').textContent()).resolves.toBe(resent);

  const after = await finalInTracker(resent);
  expect(after).toMatchObject({ state: 'delivered', resendOf: original });
  expect(after.recipients.map((r) => [r.number, r.status, r.pagesSent, r.pagesTotal])).toEqual([[NUMBERS[1], 'success', 1, 1]]);
  expect((await trackerFax(original))?.resentAs).toEqual([resent]);
  // The line dialled the three numbers, then the partial one again.
  expect(modem.record.commands.filter((c) => c.startsWith('ATD'))).toEqual([...NUMBERS.map((n) => `ATD${n.slice(1)}`), `ATD${NUMBERS[1].slice(1)}`]);

  // The new fax's page says what it resends; a fax where nothing failed has no button.
  await page.getByRole('link', { name: resent }).click();
  await expect(page.locator('.resend-of a').textContent()).resolves.toBe(original);
  expect(await page.getByRole('button', { name: 'Resend to failed' }).count()).toBe(0);
});

it('resends with the command: refused where nothing failed, once per request id', async () => {
  const delivered = (await trackerFax(original))!.resentAs[0];
  const refused = output();
  expect(await runResend([delivered, '--tracker', tracker.url, '--token', token], refused.io)).toBe(RESEND_EXIT.refused);
  expect(refused.err.join('')).toContain('nothing to resend');

  const first = output();
  expect(await runResend([original, '--tracker', tracker.url, '--token', token, '--request-id', 'cli-once'], first.io)).toBe(RESEND_EXIT.resent);
  const newFax = /resent as (fax-[0-9a-f-]+)/.exec(first.out.join(''))?.[1];
  expect(first.out.join('')).toContain(`${NUMBERS[1]}  all pages`);
  const again = output();
  expect(await runResend([original, '--tracker', tracker.url, '--token', token, '--request-id', 'cli-once'], again.io)).toBe(RESEND_EXIT.resent);
  expect(again.out.join('')).toContain(`already resent as ${newFax}`);
  const sent = await finalInTracker(newFax!);
  expect(sent.recipients.map((r) => [r.number, r.status, r.pagesSent, r.pagesTotal])).toEqual([[NUMBERS[1], 'success', 3, 3]]);
  expect((await trackerFax(original))?.resentAs.sort()).toEqual([delivered, newFax].sort());
});
