import { eventually } from '@faxnotify/peers';
import { seedConfirmedAddresses } from '../testing/confirmed';
import { useChannelPeers } from '../testing/channels';
import { summaryResultId } from './notices';
import { faxFinal } from './testing';

/**
 * Fax summaries by SMS and Jabber against real peers (a Twilio-compatible endpoint, Prosody) with
 * the notifier's clock driven by the test: the counts and the link, and quiet hours holding them.
 */

const clock = { offset: 0 };
const now = () => new Date(Date.now() + clock.offset);
const setClock = (iso: string) => (clock.offset = Date.parse(iso) - Date.now());

const peers = useChannelPeers('notifier-summary-channels', ['sara', 'tina'], { 'ledger.heldPollMs': 200 }, { now });
const { smsTo, chatsFor, mailsTo, api } = peers;

async function save(user: string, number: string, extra: Record<string, unknown> = {}) {
  const response = await api('PUT', '/v1/settings', user, {
    email: { enabled: true, address: `${user}@example.test` },
    sms: { enabled: true, number },
    xmpp: { enabled: true, jid: `${user}@localhost` },
    locale: 'en',
    timeZone: 'Europe/Rome',
    notifyOn: 'all',
    ...extra,
  });
  expect(response.status).toBe(200);
  await seedConfirmedAddresses(peers.notifier.config, user, { email: `${user}@example.test`, sms: number, xmpp: `${user}@localhost` });
}

afterEach(() => setClock(new Date().toISOString()));

it('sends the counts and the link by SMS and Jabber, and the rows by email, once each', async () => {
  await save('sara', '+12025550171');
  const fax = faxFinal('sum-ch-1', 12, { ownerId: 'sara' });
  await peers.bus.publish('delivery.fax.final', fax);
  await eventually(() => smsTo('+12025550171').length === 1 && chatsFor('sara').length === 1 && mailsTo('sara@example.test').length === 1, 20_000);
  const sms = smsTo('+12025550171')[0].body;
  expect(sms).toContain('Partially delivered: Q3 report');
  expect(sms).toContain('Delivered 10, partial 1, failed 1 of 12');
  expect(sms).toContain('http://127.0.0.1:8082/faxes/sum-ch-1');
  const chat = chatsFor('sara')[0].body;
  expect(chat).toContain('Delivered: 10, partially delivered: 1, not delivered: 1 (of 12 recipients)');
  expect(chat).toContain('Open the fax: http://127.0.0.1:8082/faxes/sum-ch-1');
  expect(chat).not.toContain('+12025551000');
  const mail = mailsTo('sara@example.test')[0];
  expect(mail.subject).toBe('Partially delivered: Q3 report (10/12)');
  // One-click unsubscribe, as on every email notice.
  const raw = peers.smtp.raw.find((r) => r.includes('sara@example.test') && r.includes('(10/12)'))!.replace(/\r?\n[ \t]+/g, ' ');
  expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
  expect(/^List-Unsubscribe: +<([^>]+)>\r?$/m.exec(raw)?.[1]).toMatch(new RegExp(`^${peers.notifier.url}/unsubscribe/[A-Za-z0-9_-]+\\.email\\.`));

  await peers.bus.publish('delivery.fax.final', fax);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(smsTo('+12025550171')).toHaveLength(1);
  expect(chatsFor('sara')).toHaveLength(1);
  for (const channel of ['email', 'sms', 'xmpp'] as const) {
    expect(await peers.notifier.ledger.get(summaryResultId('sum-ch-1'), channel)).toMatchObject({ status: 'sent', sends: 1 });
  }
}, 60_000);

it('holds an SMS summary arriving in quiet hours and sends it once when they end', async () => {
  await save('tina', '+12025550172', { sms: { enabled: true, number: '+12025550172', quietHours: { start: '22:00', end: '07:00' } } });
  // 23:30 in Rome: quiet for SMS; email and Jabber have none.
  setClock('2026-12-07T22:30:00Z');
  await peers.bus.publish('delivery.fax.final', faxFinal('sum-ch-quiet', 8, { ownerId: 'tina' }));
  await eventually(async () => (await peers.notifier.ledger.get(summaryResultId('sum-ch-quiet'), 'sms'))?.status === 'held', 10_000);
  expect(await peers.notifier.ledger.get(summaryResultId('sum-ch-quiet'), 'sms')).toMatchObject({ not_before: '2026-12-08T06:00:00.000Z' });
  await eventually(() => chatsFor('tina').length === 1 && mailsTo('tina@example.test').length === 1, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(smsTo('+12025550172')).toHaveLength(0);

  setClock('2026-12-08T06:00:05Z');
  await eventually(() => smsTo('+12025550172').length === 1, 10_000);
  expect(smsTo('+12025550172')[0].body).toContain('of 8');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(smsTo('+12025550172')).toHaveLength(1);
  expect(await peers.notifier.ledger.get(summaryResultId('sum-ch-quiet'), 'sms')).toMatchObject({ status: 'sent', sends: 1 });
}, 60_000);

it('writes one row for a summary on email only, and none for an owner whose mode gives no summary', async () => {
  await save('ursula', '+12025550173', { summary: { mode: 'fax', channels: ['email'] } });
  await peers.bus.publish('delivery.fax.final', faxFinal('sum-ch-email', 3, { ownerId: 'ursula' }));
  // The channels start at once and SMS and Jabber return at once: once the email is sent, the event is done.
  await eventually(async () => (await peers.notifier.ledger.get(summaryResultId('sum-ch-email'), 'email'))?.status === 'sent', 20_000);
  expect(mailsTo('ursula@example.test')).toHaveLength(1);
  expect(await peers.notifier.ledger.get(summaryResultId('sum-ch-email'), 'sms')).toBeUndefined();
  expect(await peers.notifier.ledger.get(summaryResultId('sum-ch-email'), 'xmpp')).toBeUndefined();

  // Summaries off (a notice per recipient): no row on any channel, though all three are on.
  await save('ursula', '+12025550173', { summary: { mode: 'recipient', channels: ['email', 'sms', 'xmpp'] } });
  await peers.bus.publish('delivery.fax.final', faxFinal('sum-ch-none', 12, { ownerId: 'ursula' }));
  // The event after it on the same queue, with a summary: once it is sent, the one before has been handled.
  await peers.bus.publish('delivery.fax.final', faxFinal('sum-ch-after', 12, { ownerId: 'sara' }));
  await eventually(async () => (await peers.notifier.ledger.get(summaryResultId('sum-ch-after'), 'email'))?.status === 'sent', 20_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const channel of ['email', 'sms', 'xmpp'] as const) expect(await peers.notifier.ledger.get(summaryResultId('sum-ch-none'), channel)).toBeUndefined();
  expect(mailsTo('ursula@example.test')).toHaveLength(1);
  expect(smsTo('+12025550173')).toHaveLength(0);
}, 60_000);

it('ends a held SMS summary as skipped when SMS was turned off in the quiet hours', async () => {
  // Summaries by SMS only: email and Jabber have none.
  const quiet = {
    sms: { enabled: true, number: '+12025550174', quietHours: { start: '22:00', end: '07:00' } },
    summary: { mode: 'fax', channels: ['sms'] },
  };
  await save('vera', '+12025550174', quiet);
  setClock('2026-12-07T22:30:00Z');
  await peers.bus.publish('delivery.fax.final', faxFinal('sum-ch-off', 8, { ownerId: 'vera' }));
  await eventually(async () => (await peers.notifier.ledger.get(summaryResultId('sum-ch-off'), 'sms'))?.status === 'held', 10_000);
  await save('vera', '+12025550174', { ...quiet, sms: { ...quiet.sms, enabled: false } });

  setClock('2026-12-08T06:00:05Z');
  const row = await eventually(async () => {
    const sms = await peers.notifier.ledger.get(summaryResultId('sum-ch-off'), 'sms');
    return sms?.status === 'skipped' ? sms : undefined;
  }, 10_000);
  expect(row).toMatchObject({ status: 'skipped', sends: 0, error: 'sms notices are off' });
  expect(smsTo('+12025550174')).toHaveLength(0);
}, 60_000);
