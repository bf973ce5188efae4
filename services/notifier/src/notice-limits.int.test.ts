import type { MessageBus } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { seedConfirmedAddresses } from './testing/confirmed';
import { collectOutcomes, finalResult, settingsApi, startMailNotifier, startTrackerBus, type MailNotifier, type OutcomeCollector } from './testing/notices';

/**
 * The notifier's limits. Notices per owner and channel over rateLimits.notices, through RabbitMQ
 * to the SMTP sink: the notice over the limit is not sent, and the ledger and the outcome say it
 * was skipped and why. Sign-in attempts per client address over rateLimits.signIn: 429.
 */
const SECRET = 'notifier-limits-secret-0123456789';
let stack: MailNotifier;
let bus: MessageBus;
let collector: OutcomeCollector;

beforeAll(async () => {
  stack = await startMailNotifier('notifier-limits', SECRET, {
    'rateLimits.notices.email': 3,
    'rateLimits.notices.windowSeconds': 3600,
    'rateLimits.signIn.max': 2,
    'rateLimits.signIn.windowSeconds': 600,
  });
  bus = await startTrackerBus(stack.vhost.amqpUrl);
  collector = await collectOutcomes(stack.vhost.amqpUrl);
  const api = settingsApi(() => stack.notifier.url, SECRET);
  for (const user of ['gina', 'hugo']) {
    const address = `${user}@example.test`;
    expect((await api('PUT', '/v1/settings', user, { email: { enabled: true, address }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' })).status).toBe(200);
    await seedConfirmedAddresses(stack.notifier.config, user, { email: address });
  }
}, 30_000);

afterAll(async () => {
  await collector?.close();
  await bus?.close();
  await stack?.close();
});

const outcomeOf = (faxId: string) => collector.outcomes.find((o) => o.faxId === faxId);

it("skips an owner's fourth email notice in the hour, recording why, and counts a notice once however often its result comes", async () => {
  for (const faxId of ['gina-1', 'gina-2']) await bus.publish('delivery.recipient.final', finalResult(faxId, { ownerId: 'gina' }));
  await eventually(() => ['gina-1', 'gina-2'].every((faxId) => outcomeOf(faxId)?.outcome === 'sent'), 20_000);
  // The same result again is the same notice, already sent: it is not counted a second time.
  await bus.publish('delivery.recipient.final', finalResult('gina-1', { ownerId: 'gina' }));
  await eventually(() => collector.outcomes.filter((o) => o.faxId === 'gina-1').length === 2, 20_000);
  await bus.publish('delivery.recipient.final', finalResult('gina-3', { ownerId: 'gina' }));
  await eventually(() => outcomeOf('gina-3')?.outcome === 'sent', 20_000);
  await bus.publish('delivery.recipient.final', finalResult('gina-4', { ownerId: 'gina' }));
  await eventually(() => outcomeOf('gina-4') !== undefined, 20_000);

  expect(outcomeOf('gina-4')).toMatchObject({ outcome: 'skipped', channel: 'email', reason: 'rate limit: 3 email notices per hour', ownerId: 'gina' });
  expect(await stack.notifier.ledger.get('gina-4:r1', 'email')).toMatchObject({ status: 'skipped', error: 'rate limit: 3 email notices per hour', sends: 1 });
  expect(stack.smtp.mails.filter((m) => JSON.stringify(m.to).includes('gina@example.test'))).toHaveLength(3);

  // Another owner has a count of their own.
  await bus.publish('delivery.recipient.final', finalResult('hugo-1', { ownerId: 'hugo' }));
  await eventually(() => outcomeOf('hugo-1')?.outcome === 'sent', 20_000);
});

it('answers the third sign-in attempt from one address with 429 before anything else happens', async () => {
  const attempt = (path: string) => fetch(`${stack.notifier.url}${path}`, { redirect: 'manual' });
  // No identity provider is set up here: an attempt let through is told so.
  expect((await attempt('/auth/login?next=/settings')).status).toBe(404);
  expect((await attempt('/auth/callback?state=s&code=c')).status).toBe(404);
  const refused = await attempt('/auth/login?next=/settings');
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await refused.json()).toMatchObject({ error: 'rate_limited', limit: 2, windowSeconds: 600 });
});
