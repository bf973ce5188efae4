import type { MessageBus } from '@faxnotify/kit';
import { eventually, type SmtpSink, type TestVhost } from '@faxnotify/peers';
import type { RunningNotifier } from './index';
import {
  collectOutcomes,
  finalResult as final,
  settingsApi,
  startMailNotifier,
  startTrackerBus,
  type MailNotifier,
  type OutcomeCollector,
} from './testing/notices';
import { seedConfirmedAddresses } from './testing/confirmed';

const SECRET = 'notifier-test-secret-0123456789';
let vhost: TestVhost;
let smtp: SmtpSink;
let notifier: RunningNotifier;
let bus: MessageBus;
let stack: MailNotifier;
let collector: OutcomeCollector;

const api = settingsApi(() => notifier.url, SECRET);

const settings = (address: string, notifyOn = 'all') => ({ email: { enabled: true, address }, locale: 'en', timeZone: 'Europe/Rome', notifyOn });

beforeAll(async () => {
  stack = await startMailNotifier('notifier-test', SECRET);
  ({ vhost, smtp, notifier } = stack);
  bus = await startTrackerBus(vhost.amqpUrl);
  collector = await collectOutcomes(vhost.amqpUrl);
});

afterAll(async () => {
  await collector?.close();
  await bus?.close();
  await stack?.close();
});

beforeEach(() => {
  smtp.respond = undefined;
});

const mailsTo = (address: string) => smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address));

describe('settings API', () => {
  it('refuses requests without a valid token', async () => {
    expect((await api('GET', '/v1/settings', null)).status).toBe(401);
    const response = await fetch(`${notifier.url}/v1/settings`, { headers: { authorization: 'Bearer not.a.token' } });
    expect(response.status).toBe(401);
  });

  it('names the field of a bad value', async () => {
    expect((await api('PUT', '/v1/settings', 'alice', { ...settings('not-an-address') })).body.message).toMatch(/email\/address/);
    expect((await api('PUT', '/v1/settings', 'alice', { ...settings('a@example.test'), locale: 'de' })).body.message).toMatch(/locale/);
    const zone = await api('PUT', '/v1/settings', 'alice', { ...settings('a@example.test'), timeZone: 'Mars/Olympus' });
    expect(zone.status).toBe(400);
    expect(zone.body.field).toBe('timeZone');
  });

  it("keeps each user's settings to that user", async () => {
    await api('PUT', '/v1/settings', 'carol', settings('carol@example.test'));
    expect((await api('GET', '/v1/settings', 'carol')).body.email).toMatchObject({ enabled: true, address: 'carol@example.test', results: 'all' });
    expect((await api('GET', '/v1/settings', 'dave')).body.email).toMatchObject({ enabled: false, address: null });
  });
});

describe('notices through RabbitMQ to SMTP', () => {
  beforeAll(async () => {
    expect((await api('PUT', '/v1/settings', 'alice', settings('alice@example.test'))).status).toBe(200);
    expect((await api('PUT', '/v1/settings', 'frank', settings('frank@example.test', 'failures'))).status).toBe(200);
    // Confirmation has suites of its own (confirmations/*.int.test.ts): these addresses are recorded as confirmed.
    await seedConfirmedAddresses(notifier.config, 'alice', { email: 'alice@example.test' });
    await seedConfirmedAddresses(notifier.config, 'frank', { email: 'frank@example.test' });
  });

  it('sends one email per result, even when the result arrives twice', async () => {
    await bus.publish('delivery.recipient.final', final('twice'));
    await bus.publish('delivery.recipient.final', final('twice'));
    await eventually(() => collector.outcomes.filter((o) => o.faxId === 'twice').length >= 2);
    await new Promise((r) => setTimeout(r, 500));
    const mails = smtp.mails.filter((m) => m.subject === 'Delivered: Q3 report' && String(m.references).includes('fax.twice@'));
    expect(mails).toHaveLength(1);
    expect(collector.outcomes.find((o) => o.faxId === 'twice')).toMatchObject({
      channel: 'email',
      outcome: 'sent',
      address: 'alice@example.test',
      attempts: 1,
      smtp: { code: 250 },
    });
    // Only the current version is published.
    expect([...collector.types]).toEqual(['faxnotify.notification.outcome.v2']);
  });

  it('retries after SMTP 451 and the email arrives once', async () => {
    let refused = 0;
    smtp.respond = (mail) => {
      if (!String(mail.references).includes('fax.greylisted@') || refused > 0) return undefined;
      refused++;
      return { code: 451, message: 'Try again later' };
    };
    await bus.publish('delivery.recipient.final', final('greylisted'));
    const outcome = await eventually(() => collector.outcomes.find((o) => o.faxId === 'greylisted'), 15_000);
    expect(outcome).toMatchObject({ outcome: 'sent', attempts: 2, smtp: { code: 250 } });
    expect(smtp.mails.filter((m) => String(m.references).includes('fax.greylisted@'))).toHaveLength(1);
    expect(refused).toBe(1);
  });

  it('records SMTP 550 as failed without retrying', async () => {
    let tries = 0;
    smtp.respond = (mail) => (String(mail.references).includes('fax.refused@') && ++tries ? { code: 550, message: 'Mailbox unavailable' } : undefined);
    await bus.publish('delivery.recipient.final', final('refused'));
    const outcome = await eventually(() => collector.outcomes.find((o) => o.faxId === 'refused'));
    expect(outcome).toMatchObject({ outcome: 'failed', smtp: { code: 550 } });
    expect(outcome.reason).toMatch(/^SMTP 550: .*Mailbox unavailable/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(tries).toBe(1);
  });

  it('skips a success for an owner who wants failures only, and sends the failure', async () => {
    await bus.publish('delivery.recipient.final', final('frank-ok', { ownerId: 'frank' }));
    await bus.publish('delivery.recipient.final', final('frank-busy', { ownerId: 'frank', status: 'failed_user_busy', pagesSent: 0, remoteCsid: null }));
    await eventually(() => collector.outcomes.find((o) => o.faxId === 'frank-busy'));
    expect(collector.outcomes.find((o) => o.faxId === 'frank-ok')).toMatchObject({
      outcome: 'skipped',
      reason: 'the owner gets email notices of failures only',
    });
    expect(mailsTo('frank@example.test').map((m) => m.subject)).toEqual(['Not delivered: Q3 report']);
  });

  it('records a channel the owner turned on but this notifier has no adapter for as skipped', async () => {
    const both = { ...settings('gina@example.test'), sms: { enabled: true, number: '+393331234567' }, xmpp: { enabled: true, jid: 'gina@localhost' } };
    expect((await api('PUT', '/v1/settings', 'gina', both)).status).toBe(200);
    await seedConfirmedAddresses(notifier.config, 'gina', { email: 'gina@example.test', sms: '+393331234567', xmpp: 'gina@localhost' });
    await bus.publish('delivery.recipient.final', final('gina-1', { ownerId: 'gina' }));
    await eventually(() => ['email', 'sms', 'xmpp'].every((channel) => collector.outcomes.some((o) => o.faxId === 'gina-1' && o.channel === channel)));
    const of = (channel: string) => collector.outcomes.find((o) => o.faxId === 'gina-1' && o.channel === channel);
    expect(of('email')).toMatchObject({ outcome: 'sent', address: 'gina@example.test' });
    expect(of('sms')).toMatchObject({ outcome: 'skipped', address: '+393331234567', reason: 'SMS notices are not set up on this notifier' });
    expect(of('xmpp')).toMatchObject({ outcome: 'skipped', address: 'gina@localhost', reason: 'Jabber (XMPP) notices are not set up on this notifier' });
  });

  it('lets no header injection through from a hostile subject', async () => {
    await bus.publish('delivery.recipient.final', final('hostile', { subject: 'Hi\r\nBcc: evil@example.test\r\n<script>x</script>' }));
    await eventually(() => collector.outcomes.find((o) => o.faxId === 'hostile'));
    const raw = smtp.raw.find((r) => r.includes('fax.hostile@'))!;
    expect(raw).not.toMatch(/^Bcc:/im);
    const mail = smtp.mails.find((m) => String(m.references).includes('fax.hostile@'))!;
    expect(mail.subject).toBe('Delivered: Hi Bcc: evil@example.test <script>x</script>');
    expect(mail.bcc).toBeUndefined();
    expect(String(mail.html)).not.toContain('<script>x');
  });
});
