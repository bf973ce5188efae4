import type { DeliveryFaxFinal, DeliveryRecipientFinal } from '@faxnotify/contracts';
import type { MessageBus } from '@faxnotify/kit';
import { eventually, type SmtpSink } from '@faxnotify/peers';
import type { RunningNotifier } from '../index';
import { bearer, finalResult, settingsApi, startMailNotifier, startTrackerBus, type MailNotifier } from '../testing/notices';
import { seedConfirmedAddresses } from '../testing/confirmed';
import { summaryResultId } from './notices';
import { faxFinal } from './testing';

const SECRET = 'notifier-summary-secret-0123456789';
let stack: MailNotifier;
let smtp: SmtpSink;
let notifier: RunningNotifier;
let bus: MessageBus;
const api = settingsApi(() => notifier.url, SECRET);

const settings = (address: string, extra: Record<string, unknown> = {}) => ({
  email: { enabled: true, address },
  locale: 'en',
  timeZone: 'Europe/Rome',
  notifyOn: 'all',
  ...extra,
});
const mailsOf = (faxId: string) => smtp.mails.filter((m) => String(m.references).includes(`<fax.${faxId}@`));
const isSummary = (mail: { subject?: string }) => /\(\d+\/\d+\)$/.test(mail.subject ?? '');

/** What the tracker publishes for one fax: a result per recipient (saying how many there are), then the fax's final event. */
async function publishFax(fax: DeliveryFaxFinal): Promise<void> {
  for (const r of fax.recipients) {
    const result: DeliveryRecipientFinal = finalResult(fax.faxId, {
      resultId: `${fax.faxId}:${r.recipientId}`,
      recipientId: r.recipientId,
      number: r.number,
      ownerId: fax.ownerId,
      subject: fax.subject,
      status: r.status,
      pagesSent: r.pagesSent,
      pagesTotal: r.pagesTotal,
      remoteCsid: r.remoteCsid,
      endedAt: r.endedAt!,
      attempts: r.attempts!,
      links: fax.links,
      recipientCount: fax.recipients.length,
    });
    await bus.publish('delivery.recipient.final', result);
  }
  await bus.publish('delivery.fax.final', fax);
}

/** Waits until the notifier has a final email ledger row for every recipient of the fax and, when `summary`, for its summary. */
const settled = (fax: DeliveryFaxFinal, summary = true) =>
  eventually(async () => {
    const ids = fax.recipients.map((r) => `${fax.faxId}:${r.recipientId}`);
    const rows = await Promise.all([...ids, ...(summary ? [summaryResultId(fax.faxId)] : [])].map((id) => notifier.ledger.get(id, 'email')));
    return rows.every((row) => row && ['sent', 'skipped', 'failed'].includes(row.status)) ? rows : undefined;
  }, 30_000);

/**
 * The fax's summary rows on every channel once its final event has been handled: a fax of alice's
 * that does get a summary is published after it, and its summary waited for, with time for the
 * event before it to finish. A summary the owner does not ask for has no row.
 */
async function summaryRowsAfter(fax: DeliveryFaxFinal) {
  const later = faxFinal(`${fax.faxId}-later`, 6);
  await bus.publish('delivery.fax.final', later);
  await eventually(async () => (await notifier.ledger.get(summaryResultId(later.faxId), 'email'))?.status === 'sent' || undefined, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return Promise.all((['email', 'sms', 'xmpp'] as const).map((channel) => notifier.ledger.get(summaryResultId(fax.faxId), channel)));
}

beforeAll(async () => {
  stack = await startMailNotifier('notifier-summary', SECRET);
  ({ smtp, notifier } = stack);
  bus = await startTrackerBus(stack.vhost.amqpUrl);
  const owners: Array<[string, Record<string, unknown>]> = [
    ['alice', {}],
    ['bob', { summary: { mode: 'recipient' } }],
    ['carol', { summary: { mode: 'both' } }],
    ['dave', { notifyOn: 'failures', summary: { mode: 'fax' } }],
    ['erin', { summary: { mode: 'auto', threshold: 50, channels: ['sms'] } }],
  ];
  for (const [owner, extra] of owners) {
    expect((await api('PUT', '/v1/settings', owner, settings(`${owner}@example.test`, extra))).status).toBe(200);
    await seedConfirmedAddresses(notifier.config, owner, { email: `${owner}@example.test` });
  }
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await stack?.close();
}, 30_000);

it('shows and checks the summary choice in the settings API (auto above 5 recipients on every channel by default)', async () => {
  expect((await api('GET', '/v1/settings', 'nobody-yet')).body.summary).toEqual({ mode: 'auto', threshold: 5, channels: ['email', 'sms', 'xmpp'] });
  expect((await api('GET', '/v1/settings', 'erin')).body.summary).toEqual({ mode: 'auto', threshold: 50, channels: ['sms'] });
  for (const [summary, field] of [
    [{ mode: 'sometimes' }, 'summary.mode'],
    [{ threshold: -1 }, 'summary.threshold'],
    [{ threshold: 2.5 }, 'summary.threshold'],
    [{ channels: ['fax'] }, 'summary.channels.0'],
  ] as const) {
    const bad = await api('PUT', '/v1/settings', 'erin', settings('erin@example.test', { summary }));
    expect([bad.status, bad.body.field]).toEqual([400, field]);
  }
  // A client that leaves the summary out keeps it.
  expect((await api('PUT', '/v1/settings', 'erin', settings('erin@example.test', { locale: 'it' }))).body.summary).toEqual({
    mode: 'auto',
    threshold: 50,
    channels: ['sms'],
  });
}, 90_000);

it('sends one summary instead of forty notices for a 40-recipient fax, once, in the fax thread', async () => {
  const fax = faxFinal('sum-40', 40);
  await publishFax(fax);
  const rows = await settled(fax);
  expect(rows.slice(0, 40).map((row) => [row!.status, row!.error])).toEqual(
    Array(40).fill(['skipped', 'the fax summary stands for this result on this channel']),
  );
  const [mail] = await eventually(() => (mailsOf('sum-40').length > 0 ? mailsOf('sum-40') : undefined), 15_000);
  expect(mail.subject).toBe('Partially delivered: Q3 report (31/40)');
  expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('alice@example.test');
  expect(mail.inReplyTo).toMatch(/^<fax\.sum-40@[^>]+>$/);
  expect(mail.messageId).toMatch(/^<[0-9a-f]{24}\.email@/);
  expect((mail.html as string).match(/<tr class="recipient/g)).toHaveLength(40);
  for (const r of fax.recipients) expect(mail.text).toContain(`${r.number}${r.remoteCsid ? ` (${r.remoteCsid})` : ''} |`);
  expect(rows[40]).toMatchObject({ status: 'sent', sends: 1, recipient_id: '(summary)', fax_id: 'sum-40', smtp_code: 250 });
  // Summaries on every channel, but only email is on: the summary has one row, the channels that are off none.
  expect(await notifier.ledger.get(summaryResultId('sum-40'), 'sms')).toBeUndefined();
  expect(await notifier.ledger.get(summaryResultId('sum-40'), 'xmpp')).toBeUndefined();

  // The fax's final event again (a redelivery, the tracker's sweep): nothing more goes out.
  await bus.publish('delivery.fax.final', fax);
  await publishFax(faxFinal('sum-40-after', 6));
  await eventually(() => mailsOf('sum-40-after').length > 0 || undefined, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(mailsOf('sum-40')).toHaveLength(1);
  expect((await notifier.ledger.get(summaryResultId('sum-40'), 'email'))!.sends).toBe(1);
}, 90_000);

it("keeps a notice per recipient up to the threshold, and per the owner's mode, with no record of a summary not asked for", async () => {
  // alice, auto: 5 recipients are not more than 5.
  const five = faxFinal('sum-5', 5);
  await publishFax(five);
  await settled(five, false);
  expect(await summaryRowsAfter(five)).toEqual([undefined, undefined, undefined]);
  expect(mailsOf('sum-5').filter((m) => !isSummary(m))).toHaveLength(5);

  // bob: always per recipient, summaries off: no summary row on any channel.
  const bobs = faxFinal('sum-bob', 8, { ownerId: 'bob' });
  await publishFax(bobs);
  await settled(bobs, false);
  expect(await summaryRowsAfter(bobs)).toEqual([undefined, undefined, undefined]);
  expect(mailsOf('sum-bob').map(isSummary)).toEqual(Array(8).fill(false));

  // carol: both, in one thread.
  const carols = faxFinal('sum-carol', 3, { ownerId: 'carol' });
  await publishFax(carols);
  await settled(carols);
  const mails = mailsOf('sum-carol');
  expect(mails.filter(isSummary)).toHaveLength(1);
  expect(mails).toHaveLength(4);
  expect(new Set(mails.map((m) => m.inReplyTo)).size).toBe(1);
  expect(new Set(mails.map((m) => m.messageId)).size).toBe(4);

  // erin: summaries by SMS only (which she has off), so her email keeps a notice per recipient whatever the count.
  const erins = faxFinal('sum-erin', 7, { ownerId: 'erin' });
  await publishFax(erins);
  await settled(erins, false);
  expect(await summaryRowsAfter(erins)).toEqual([undefined, undefined, undefined]);
  expect(mailsOf('sum-erin').filter((m) => !isSummary(m))).toHaveLength(7);
}, 90_000);

it('does not send a summary of a fully delivered fax to an owner who asked for failures only', async () => {
  const delivered = faxFinal('sum-dave-ok', 3, { ownerId: 'dave' });
  delivered.recipients = delivered.recipients.map((r) => ({ ...r, status: 'success', pagesSent: 2 }));
  delivered.state = 'delivered';
  const partial = faxFinal('sum-dave-bad', 10, { ownerId: 'dave' });
  await publishFax(delivered);
  await publishFax(partial);
  expect((await settled(delivered))[3]).toMatchObject({ status: 'skipped', error: 'the owner gets email notices of failures only' });
  expect((await settled(partial))[10]).toMatchObject({ status: 'sent' });
  expect(mailsOf('sum-dave-ok')).toHaveLength(0);
  expect(mailsOf('sum-dave-bad').map((m) => m.subject)).toEqual(['Partially delivered: Q3 report (8/10)']);
}, 90_000);

it('lets the owner choose on the settings page, in their language', async () => {
  const headers = { authorization: await bearer(SECRET, 'frank') };
  await seedConfirmedAddresses(notifier.config, 'frank', { email: 'frank@example.test' });
  const page = await (await fetch(`${notifier.url}/settings`, { headers })).text();
  expect(page).toContain('Faxes to many recipients');
  expect(page).toMatch(/id="summary-mode-auto" name="summary_mode" value="auto" checked/);
  expect(page).toMatch(/id="summary-threshold" name="summary_threshold" value="5"/);
  expect(page).toMatch(/id="summary-channel-sms" name="summary_sms" aria-describedby="summary-channels-hint" checked/);

  const form = new URLSearchParams({
    email_enabled: 'on',
    email_address: 'frank@example.test',
    locale: 'ru',
    time_zone: 'Europe/Moscow',
    notify_on: 'all',
    summary_mode: 'fax',
    summary_threshold: '3',
    summary_email: 'on',
  });
  const saved = await fetch(`${notifier.url}/settings`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    redirect: 'manual',
  });
  expect(saved.status).toBe(303);
  expect((await api('GET', '/v1/settings', 'frank')).body.summary).toEqual({ mode: 'fax', threshold: 3, channels: ['email'] });
  const shown = await (await fetch(`${notifier.url}/settings`, { headers })).text();
  expect(shown).toContain('Факсы многим получателям');
  expect(shown).toMatch(/id="summary-mode-fax" name="summary_mode" value="fax" checked/);
  expect(shown).not.toMatch(/name="summary_sms"[^>]* checked/);

  form.set('summary_threshold', 'many');
  const refused = await fetch(`${notifier.url}/settings`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  expect(refused.status).toBe(400);
  expect(await refused.text()).toContain('id="summary-threshold-error"');
  expect((await api('GET', '/v1/settings', 'frank')).body.summary).toEqual({ mode: 'fax', threshold: 3, channels: ['email'] });
}, 90_000);
