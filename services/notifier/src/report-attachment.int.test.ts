import { createServer, type Server } from 'node:http';
import { createLogger, issueToken, signedCookieValue } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { ConfirmationReports } from './report-attachment';
import { CHANNELS_SECRET, settingsFor, useChannelPeers } from './testing/channels';
import { finalResult } from './testing/notices';
import { SettingsStore } from './settings';

/**
 * The confirmation report is never on a notice's critical path: with the status tracker down (a
 * port nothing listens on), an owner who wants the report gets her email notice without it, once.
 * (The report attached from a real tracker is test/e2e/confirmation-report.int.test.ts.)
 */
jest.setTimeout(60_000);

const DOWN = 'http://127.0.0.1:9/v1/faxes/{faxId}/report.pdf';
const peers = useChannelPeers('notifier-report-outage', [], { 'tracker.reportUrlTemplate': DOWN, 'tracker.reportTimeoutMs': 2000 });

it('sends the email notice without the report when the tracker cannot be reached', async () => {
  const body = { ...settingsFor({ email: 'una@example.test' }), email: { enabled: true, address: 'una@example.test', attachReport: true } };
  const saved = await peers.api('PUT', '/v1/settings', 'una', body);
  expect(saved.status).toBe(200);
  expect((saved.body as { email: { attachReport: boolean } }).email.attachReport).toBe(true);
  await peers.saveConfirmed('una', { email: 'una@example.test' });
  // Saving again without the field keeps the choice.
  expect(((await peers.api('GET', '/v1/settings', 'una')).body as { email: { attachReport: boolean } }).email.attachReport).toBe(true);

  await peers.bus.publish('delivery.recipient.final', peers.final('fax-report-down', 'una'));
  await eventually(async () => (await peers.notifier.ledger.get('fax-report-down:r1', 'email'))?.status === 'sent', 20_000);
  const mails = peers.mailsTo('una@example.test');
  expect(mails).toHaveLength(1);
  expect(mails[0].attachments).toEqual([]);
});

it("is a checkbox of the settings page's email fieldset, ticked as saved, and unticking it turns it off", async () => {
  const token = await issueToken({ secret: CHANNELS_SECRET }, 'una', 3600, { sid: 'session-of-una' });
  const session = `faxnotify_session=${encodeURIComponent(signedCookieValue(CHANNELS_SECRET, token))}`;
  const opened = await fetch(`${peers.notifier.url}/settings`, { headers: { cookie: session } });
  const html = await opened.text();
  expect(html).toMatch(/<input type="checkbox" id="email-attach-report" name="email_attach_report" value="on" checked>/);
  expect(html).toContain('<label for="email-attach-report">Attach the confirmation report (PDF) once a fax is finished</label>');
  const cookies = [session, ...opened.headers.getSetCookie().map((c) => c.split(';')[0])];
  const fields = {
    csrf: /name="csrf" value="([^"]+)"/.exec(html)![1],
    email_enabled: 'on',
    email_address: 'una@example.test',
    locale: 'en',
    time_zone: 'Europe/Rome',
    notify_on: 'all',
  };
  const posted = await fetch(`${peers.notifier.url}/settings`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
    body: new URLSearchParams(fields).toString(),
  });
  expect(posted.status).toBe(303);
  expect(((await peers.api('GET', '/v1/settings', 'una')).body as { email: { attachReport: boolean } }).email.attachReport).toBe(false);
});

describe('fetching a report', () => {
  let server: Server;
  let answer: (response: import('node:http').ServerResponse) => void;
  let url = '';
  const seen: Array<{ url?: string; authorization?: string }> = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push({ url: request.url, authorization: request.headers.authorization });
      answer(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/faxes/{faxId}/report.pdf`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const settings = new SettingsStore(undefined as never, { locale: 'it', timeZone: 'Europe/Rome' }).defaultsFor();
  const reports = (timeoutMs = 2000) =>
    new ConfirmationReports({ urlTemplate: url, timeoutMs, auth: { secret: CHANNELS_SECRET }, logger: createLogger('report-test', 'silent') });

  // A fake at the network boundary: the faults a real tracker does not make on demand (errors, a hang, a wrong body).
  it('takes a final fax’s PDF, asking as the owner; leaves out an error, a non-PDF, a fax in progress and a hang', async () => {
    answer = (r) =>
      r
        .writeHead(200, {
          'content-type': 'application/pdf',
          'x-faxnotify-fax-state': 'partial',
          'content-disposition': 'inline; filename="rapporto-fax-f1.pdf"',
        })
        .end('%PDF-1.7 report');
    const attached = await reports().fetchFor(finalResult('f1', { ownerId: 'una' }), settings);
    expect(attached).toEqual({ fileName: 'rapporto-fax-f1.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7 report') });
    expect(seen.at(-1)!.url).toBe('/v1/faxes/f1/report.pdf');
    const claims = JSON.parse(Buffer.from(seen.at(-1)!.authorization!.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'una', locale: 'it', tz: 'Europe/Rome' });
    expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(120);

    answer = (r) => r.writeHead(200, { 'content-type': 'application/pdf', 'x-faxnotify-fax-state': 'in_progress' }).end('%PDF-1.7');
    expect(await reports().fetchFor(finalResult('f2'), settings)).toBeUndefined();
    answer = (r) => r.writeHead(503).end('down');
    expect(await reports().fetchFor(finalResult('f3'), settings)).toBeUndefined();
    answer = (r) => r.writeHead(200, { 'x-faxnotify-fax-state': 'failed' }).end('<html>sign in</html>');
    expect(await reports().fetchFor(finalResult('f4'), settings)).toBeUndefined();
    answer = () => undefined;
    const started = Date.now();
    expect(await reports(300).fetchFor(finalResult('f5'), settings)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
