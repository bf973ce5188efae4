import { eventually } from '@faxnotify/peers';
import { seedConfirmedAddresses } from './testing/confirmed';
import { useChannelPeers } from './testing/channels';
import { receivedFax } from './testing/notices';

/**
 * Per-channel choices against real peers (RabbitMQ, an SMTP server, Prosody, a Twilio-compatible
 * endpoint): which results each channel gets, quiet hours of SMS and Jabber with the notifier's
 * clock driven by the test, and one-click unsubscribe as a mail client does it.
 */

/** The notifier's clock: real time moved by `offset`, so a test can put it in the night and then in the morning. */
const clock = { offset: 0 };
const now = () => new Date(Date.now() + clock.offset);
/** Puts the notifier's clock at this instant (it runs on from there). */
const setClock = (iso: string) => (clock.offset = Date.parse(iso) - Date.now());

const peers = useChannelPeers('notifier-channel-choices', ['nina', 'rita'], { 'ledger.heldPollMs': 200 }, { now });
const { final, outcomeOf, smsTo, mailsTo, chatsFor, api } = peers;

/** Saves full settings for a user (Rome time) and records the addresses as confirmed. */
async function save(user: string, body: Record<string, unknown>, addresses: { email?: string; sms?: string; xmpp?: string }) {
  const response = await api('PUT', '/v1/settings', user, { locale: 'en', timeZone: 'Europe/Rome', ...body });
  expect(response.status).toBe(200);
  await seedConfirmedAddresses(peers.notifier.config, user, addresses);
  return response.body as Record<string, Record<string, unknown>>;
}

const NIGHT = { start: '22:00', end: '07:00' };

afterEach(() => setClock(new Date().toISOString()));

describe('which results each channel gets', () => {
  it('sends every result by email and only failures by SMS, and takes notifyOn for channels without a choice', async () => {
    const body = await save(
      'paul',
      {
        email: { enabled: true, address: 'paul@example.test', results: 'all' },
        sms: { enabled: true, number: '+12025550142', results: 'failures' },
        xmpp: { enabled: false, jid: null },
        notifyOn: 'all',
      },
      { email: 'paul@example.test', sms: '+12025550142' },
    );
    expect(body).toMatchObject({ email: { results: 'all' }, sms: { results: 'failures', quietHours: null }, xmpp: { results: 'all' } });

    await peers.bus.publish('delivery.recipient.final', final('paul-ok', 'paul'));
    await peers.bus.publish(
      'delivery.recipient.final',
      final('paul-failed', 'paul', { status: 'failed', pagesSent: 0, reason: { code: 'NO_ANSWER', detail: '' } }),
    );
    await eventually(() => ['paul-ok', 'paul-failed'].every((fax) => outcomeOf(fax, 'email') && outcomeOf(fax, 'sms')), 15_000);
    expect(outcomeOf('paul-ok', 'email')).toMatchObject({ outcome: 'sent' });
    expect(outcomeOf('paul-ok', 'sms')).toMatchObject({ outcome: 'skipped', reason: 'the owner gets SMS notices of failures only' });
    expect(outcomeOf('paul-failed', 'sms')?.outcome).toMatch(/sent|delivered/);
    expect(mailsTo('paul@example.test')).toHaveLength(2);
    expect(smsTo('+12025550142')).toHaveLength(1);

    // An old client that sends notifyOn only changes the channels without a choice of their own.
    const old = await api('PUT', '/v1/settings', 'paul', {
      email: { enabled: true, address: 'paul@example.test' },
      locale: 'en',
      timeZone: 'Europe/Rome',
      notifyOn: 'failures',
    });
    expect(old.body).toMatchObject({ notifyOn: 'failures', email: { results: 'all' }, sms: { results: 'failures' }, xmpp: { results: 'failures' } });
    expect(
      (await api('PUT', '/v1/settings', 'paul', { email: { enabled: true, address: null, results: 'sometimes' }, locale: 'en', timeZone: 'UTC' })).body,
    ).toMatchObject({
      field: 'email.results',
    });
  }, 30_000);
});

describe('quiet hours', () => {
  it('holds an SMS and a Jabber result arriving in quiet hours and sends each once when they end', async () => {
    await save(
      'nina',
      {
        email: { enabled: true, address: 'nina@example.test' },
        sms: { enabled: true, number: '+12025550143', quietHours: NIGHT },
        xmpp: { enabled: true, jid: 'nina@localhost', quietHours: { start: '23:00', end: '06:30' } },
        notifyOn: 'all',
      },
      { email: 'nina@example.test', sms: '+12025550143', xmpp: 'nina@localhost' },
    );
    // 23:30 in Rome (CET): quiet for both.
    setClock('2026-12-07T22:30:00Z');
    await peers.bus.publish('delivery.recipient.final', final('nina-1', 'nina'));
    await eventually(() => outcomeOf('nina-1', 'email'), 10_000);
    await eventually(async () => (await peers.notifier.ledger.get('nina-1:r1', 'sms'))?.status === 'held', 10_000);
    await eventually(async () => (await peers.notifier.ledger.get('nina-1:r1', 'xmpp'))?.status === 'held', 10_000);
    expect(await peers.notifier.ledger.get('nina-1:r1', 'sms')).toMatchObject({ not_before: '2026-12-08T06:00:00.000Z' });
    expect(await peers.notifier.ledger.get('nina-1:r1', 'xmpp')).toMatchObject({ not_before: '2026-12-08T05:30:00.000Z' });
    // The email was not held; the held ones are not sent while it stays night (the scheduler runs every 200 ms).
    expect(mailsTo('nina@example.test')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(smsTo('+12025550143')).toHaveLength(0);
    expect(chatsFor('nina')).toHaveLength(0);
    expect(outcomeOf('nina-1', 'sms')).toBeUndefined();

    // 06:45: the Jabber quiet hours are over, not the SMS ones.
    setClock('2026-12-08T05:45:00Z');
    await eventually(() => chatsFor('nina').length === 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(smsTo('+12025550143')).toHaveLength(0);

    // 07:00:05: the SMS goes out, once.
    setClock('2026-12-08T06:00:05Z');
    await eventually(() => smsTo('+12025550143').length === 1, 10_000);
    await eventually(() => outcomeOf('nina-1', 'sms'), 10_000);
    expect(outcomeOf('nina-1', 'sms')?.outcome).toMatch(/sent|delivered/);
    expect(smsTo('+12025550143')[0].body).toContain('Delivered');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(smsTo('+12025550143')).toHaveLength(1);
    expect(chatsFor('nina')).toHaveLength(1);
    expect(await peers.notifier.ledger.get('nina-1:r1', 'sms')).toMatchObject({ status: 'sent', sends: 1 });
  }, 60_000);

  it('loses nothing when the notifier restarts while a notice is held, and a redelivered result is not sent twice', async () => {
    await save(
      'rita',
      {
        email: { enabled: false, address: null },
        sms: { enabled: true, number: '+12025550144', quietHours: NIGHT },
        xmpp: { enabled: false, jid: null },
        notifyOn: 'all',
      },
      { sms: '+12025550144' },
    );
    setClock('2026-12-08T03:00:00Z');
    await peers.bus.publish('delivery.recipient.final', final('rita-1', 'rita'));
    await eventually(async () => (await peers.notifier.ledger.get('rita-1:r1', 'sms'))?.status === 'held', 10_000);
    // The same result again (a re-publish) while held: still one held notice.
    await peers.bus.publish('delivery.recipient.final', final('rita-1', 'rita'));

    await peers.restartNotifier();
    expect(await peers.notifier.ledger.get('rita-1:r1', 'sms')).toMatchObject({ status: 'held', not_before: '2026-12-08T06:00:00.000Z' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(smsTo('+12025550144')).toHaveLength(0);

    setClock('2026-12-08T06:00:01Z');
    await eventually(() => smsTo('+12025550144').length === 1, 10_000);
    await peers.bus.publish('delivery.recipient.final', final('rita-1', 'rita'));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(smsTo('+12025550144')).toHaveLength(1);
    expect(await peers.notifier.ledger.get('rita-1:r1', 'sms')).toMatchObject({ status: 'sent', sends: 1, possible_duplicates: 0 });
  }, 60_000);
});

describe('quiet hours for received faxes', () => {
  it('holds the SMS of a fax received in quiet hours and sends it once when they end; the email goes at once', async () => {
    await save(
      'vera',
      {
        email: { enabled: true, address: 'vera@example.test' },
        sms: { enabled: true, number: '+12025550146', quietHours: NIGHT },
        xmpp: { enabled: false, jid: null },
        notifyOn: 'all',
      },
      { email: 'vera@example.test', sms: '+12025550146' },
    );
    setClock('2026-12-08T23:15:00Z');
    await peers.bus.publish('delivery.fax.received', receivedFax('vera-in-1', { ownerId: 'vera' }));
    await eventually(() => mailsTo('vera@example.test').length === 1, 10_000);
    await eventually(async () => (await peers.notifier.ledger.get('received/vera-in-1', 'sms'))?.status === 'held', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(smsTo('+12025550146')).toHaveLength(0);

    setClock('2026-12-09T06:00:02Z');
    await eventually(() => smsTo('+12025550146').length === 1, 10_000);
    expect(smsTo('+12025550146')[0].body).toContain('ACME SALES FAX');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(smsTo('+12025550146')).toHaveLength(1);
    expect(await peers.notifier.ledger.get('received/vera-in-1', 'sms')).toMatchObject({ status: 'sent', sends: 1 });
  }, 40_000);
});

describe('one-click unsubscribe', () => {
  it('carries List-Unsubscribe and List-Unsubscribe-Post; a GET only asks; the POST a mail client sends turns email off', async () => {
    await save(
      'owen',
      {
        email: { enabled: true, address: 'owen@example.test' },
        sms: { enabled: true, number: '+12025550145' },
        xmpp: { enabled: false, jid: null },
        notifyOn: 'all',
      },
      { email: 'owen@example.test', sms: '+12025550145' },
    );
    await peers.bus.publish('delivery.recipient.final', final('owen-1', 'owen'));
    await eventually(() => mailsTo('owen@example.test').length === 1, 10_000);
    // The header as it arrived, unfolded (RFC 5322 lets a long one go on the next line).
    const raw = peers.smtp.raw.find((r) => r.includes('owen@example.test'))!.replace(/\r?\n[ \t]+/g, ' ');
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    const link = /^List-Unsubscribe: +<([^>]+)>\r?$/m.exec(raw)?.[1];
    expect(link).toMatch(new RegExp(`^${peers.notifier.url}/unsubscribe/[A-Za-z0-9_-]+\\.email\\.[A-Za-z0-9_-]{22}$`));

    // A mail scanner following the link changes nothing: the page asks, with a button.
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Stop the email notices of the results of your faxes?');
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect((await api('GET', '/v1/settings', 'owen')).body).toMatchObject({ email: { results: 'all' } });

    // A forged or altered token is refused.
    expect((await fetch(link!.replace(/.{4}$/, 'AAAA'), { method: 'POST', body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }) })).status).toBe(404);
    expect((await fetch(link!.replace('.email.', '.sms.'), { method: 'POST', body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }) })).status).toBe(
      404,
    );

    // RFC 8058: a POST with the body List-Unsubscribe=One-Click as multipart/form-data, no cookie, no sign-in.
    const form = new FormData();
    form.append('List-Unsubscribe', 'One-Click');
    const posted = await fetch(link!, { method: 'POST', body: form });
    expect(posted.status).toBe(200);
    expect(await posted.text()).toContain('You will get no more email notices');
    expect((await api('GET', '/v1/settings', 'owen')).body).toMatchObject({ email: { enabled: true, results: 'none' }, sms: { results: 'all' } });
    // Again, and URL-encoded as some clients send it: the same, still 200.
    const again = await fetch(link!, { method: 'POST', body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }) });
    expect(again.status).toBe(200);

    // The next result sends no email; SMS is untouched.
    await peers.bus.publish('delivery.recipient.final', final('owen-2', 'owen'));
    await eventually(() => outcomeOf('owen-2', 'email') && outcomeOf('owen-2', 'sms'), 10_000);
    expect(outcomeOf('owen-2', 'email')).toMatchObject({ outcome: 'skipped', reason: 'the owner turned email notices of results off' });
    expect(mailsTo('owen@example.test')).toHaveLength(1);
    expect(smsTo('+12025550145')).toHaveLength(2);
  }, 30_000);
});
