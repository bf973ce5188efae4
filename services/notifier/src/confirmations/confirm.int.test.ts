import { eventually } from '@faxnotify/peers';
import { codeIn, settingsFor, useChannelPeers } from '../testing/channels';

/**
 * Confirming an address on each channel against the real peers: the code goes out through the
 * channel's own adapter (SMTP server, Twilio-compatible endpoint, Prosody), is read where it
 * arrived and typed back through the API; notices wait until then and are recorded as skipped.
 */

const INTERVAL_MS = 1_500;
const peers = useChannelPeers('notifier-confirmations', ['mia', 'noah'], { 'channels.codeIntervalMs': INTERVAL_MS, 'channels.codesPerHour': 4 });
const { api, final, outcomeOf } = peers;

const askCode = (user: string, channel: string) => api('POST', `/v1/settings/channels/${channel}/code`, user, {});
const confirm = (user: string, channel: string, code: string | undefined) => api('POST', `/v1/settings/channels/${channel}/confirm`, user, { code });
const channelsOf = async (user: string) =>
  (await api('GET', '/v1/settings/channels', user)).body as { required: boolean; channels: Record<string, Record<string, unknown>> };
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mailsTo = (address: string) => peers.smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address));
const smsTo = (number: string) => peers.twilioEndpoint.messages.filter((m) => m.to === number);

/** Publishes a result and waits for its outcome on this channel. */
async function notice(faxId: string, owner: string, channel: string) {
  await peers.bus.publish('delivery.recipient.final', final(faxId, owner));
  return eventually(() => outcomeOf(faxId, channel), 10_000);
}

it('email: skipped until confirmed, the code comes by mail, a wrong code is refused, the right one confirms', async () => {
  expect((await api('PUT', '/v1/settings', 'mia', settingsFor({ email: 'mia@example.test', locale: 'it' }))).status).toBe(200);
  expect((await channelsOf('mia')).channels.email).toMatchObject({ address: 'mia@example.test', available: true, confirmed: false, codePending: false });

  expect(await notice('mia-early', 'mia', 'email')).toMatchObject({ outcome: 'skipped', reason: 'address not confirmed', address: 'mia@example.test' });
  expect(mailsTo('mia@example.test')).toHaveLength(0);

  const asked = await askCode('mia', 'email');
  expect(asked).toMatchObject({ status: 202, body: { channel: 'email', address: 'mia@example.test', codeExpiresAt: expect.any(String) } });
  const mail = await eventually(() => mailsTo('mia@example.test')[0], 10_000);
  const code = codeIn(mail.subject);
  expect(code).toMatch(/^\d{6}$/);
  // In the owner's language, valid 15 minutes, outside any fax's thread.
  expect(mail.subject).toBe(`Il tuo codice di conferma faxnotify: ${code}`);
  expect(mail.text).toContain('valido per 15 minuti');
  expect(mail.html).toContain(`<strong>${code}</strong>`);
  expect(mail.inReplyTo).toBeUndefined();
  expect((await channelsOf('mia')).channels.email).toMatchObject({ confirmed: false, codePending: true });

  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  expect(await confirm('mia', 'email', wrong)).toMatchObject({ status: 400, body: { error: 'wrong_code', message: 'that code is not right: 4 tries left' } });
  expect(await confirm('mia', 'email', 'abc')).toMatchObject({ status: 400, body: { error: 'bad_request' } });
  expect(await confirm('mia', 'email', code)).toMatchObject({ status: 200, body: { address: 'mia@example.test', confirmed: true, codePending: false } });
  expect(await askCode('mia', 'email')).toMatchObject({ status: 409, body: { error: 'already_confirmed' } });

  expect(await notice('mia-later', 'mia', 'email')).toMatchObject({ outcome: 'sent', address: 'mia@example.test' });
  expect(mailsTo('mia@example.test').map((m) => m.subject)).toEqual([mail.subject, 'Consegnato: Q3 report']);
  // The early notice stays skipped: it is not sent after the fact.
  expect(outcomeOf('mia-early', 'email')).toMatchObject({ outcome: 'skipped' });
});

it('SMS: the code comes by SMS; a second request within the interval answers 429 with Retry-After; a changed number needs its own code', async () => {
  await peers.saveConfirmed('noah', { email: 'noah@example.test' });
  expect((await api('PUT', '/v1/settings', 'noah', settingsFor({ email: 'noah@example.test', sms: '+39 333 765 4321' }))).status).toBe(200);
  expect((await askCode('noah', 'sms')).status).toBe(202);
  const limited = await fetch(`${peers.notifier.url}/v1/settings/channels/sms/code`, {
    method: 'POST',
    headers: { authorization: await peers.bearer('noah') },
  });
  expect(limited.status).toBe(429);
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(Math.ceil(INTERVAL_MS / 1000));
  expect(await limited.json()).toMatchObject({ error: 'too_many_codes', message: expect.stringMatching(/try again in \d+ s/) });

  const sms = await eventually(() => smsTo('+393337654321')[0], 10_000);
  expect(sms.body).toMatch(/^faxnotify code: \d{6}\n/);
  expect(sms.encoding).toBe('GSM-7');
  expect(smsTo('+393337654321')).toHaveLength(1);
  expect((await confirm('noah', 'sms', codeIn(sms.body))).status).toBe(200);
  expect(await notice('noah-1', 'noah', 'sms')).toMatchObject({ outcome: expect.stringMatching(/^(sent|delivered)$/), address: '+393337654321' });

  // A new number is not confirmed: its notices are skipped and it gets nothing.
  expect((await api('PUT', '/v1/settings', 'noah', settingsFor({ email: 'noah@example.test', sms: '+393337654322' }))).status).toBe(200);
  expect((await channelsOf('noah')).channels.sms).toMatchObject({ address: '+393337654322', confirmed: false });
  expect(await notice('noah-2', 'noah', 'sms')).toMatchObject({ outcome: 'skipped', reason: 'address not confirmed', address: '+393337654322' });
  expect(smsTo('+393337654322')).toHaveLength(0);
  // Back to the confirmed number: no new code needed.
  expect((await api('PUT', '/v1/settings', 'noah', settingsFor({ email: 'noah@example.test', sms: '+393337654321' }))).status).toBe(200);
  expect((await channelsOf('noah')).channels.sms).toMatchObject({ confirmed: true });
  expect(await notice('noah-3', 'noah', 'sms')).toMatchObject({ outcome: expect.stringMatching(/^(sent|delivered)$/) });
  // The email address, confirmed from the start, was never held back.
  expect(outcomeOf('noah-2', 'email')).toMatchObject({ outcome: 'sent' });
});

it('Jabber: the code comes as a chat message; five wrong tries void it; a new code confirms', async () => {
  expect((await api('PUT', '/v1/settings', 'mia', settingsFor({ xmpp: 'mia@localhost', locale: 'ru' }))).status).toBe(200);
  const chats = () => peers.xmppUsers.get('mia')!.messages;
  expect((await askCode('mia', 'xmpp')).status).toBe(202);
  const first = await eventually(() => chats().find((m) => codeIn(m.body)), 10_000);
  expect(first.body).toMatch(/^Ваш код подтверждения faxnotify: \d{6}\n/);
  expect(first.body).toContain('mia@localhost');
  const code = codeIn(first.body)!;
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  for (const left of [4, 3, 2, 1])
    expect((await confirm('mia', 'xmpp', wrong)).body).toMatchObject({ error: 'wrong_code', message: `that code is not right: ${left} tries left` });
  expect(await confirm('mia', 'xmpp', wrong)).toMatchObject({ status: 400, body: { error: 'code_void' } });
  expect(await confirm('mia', 'xmpp', code)).toMatchObject({ status: 400, body: { error: 'no_code' } });
  expect(await notice('mia-x1', 'mia', 'xmpp')).toMatchObject({ outcome: 'skipped', reason: 'address not confirmed' });

  await wait(INTERVAL_MS);
  expect((await askCode('mia', 'xmpp')).status).toBe(202);
  const second = await eventually(() => chats().find((m) => m !== first && codeIn(m.body)), 10_000);
  expect((await confirm('mia', 'xmpp', codeIn(second.body))).status).toBe(200);
  expect(await notice('mia-x2', 'mia', 'xmpp')).toMatchObject({ outcome: expect.stringMatching(/^(sent|delivered)$/), address: 'mia@localhost' });
  // The email address mia confirmed in the first test, saved again after being cleared, needs no new code.
  expect((await channelsOf('mia')).channels.email).toMatchObject({ address: null, confirmed: false });
  expect((await api('PUT', '/v1/settings', 'mia', settingsFor({ email: 'mia@example.test', xmpp: 'mia@localhost' }))).status).toBe(200);
  expect((await channelsOf('mia')).channels).toMatchObject({ email: { confirmed: true }, xmpp: { confirmed: true } });
});

it('answers only the token owner, and names what is missing', async () => {
  expect((await api('GET', '/v1/settings/channels', null)).status).toBe(401);
  expect((await api('POST', '/v1/settings/channels/email/code', null, {})).status).toBe(401);
  expect((await api('POST', '/v1/settings/channels/email/confirm', null, { code: '123456' })).status).toBe(401);
  expect((await api('POST', '/v1/settings/channels/fax/code', null, {})).status).toBe(401);
  expect((await api('POST', '/v1/settings/channels/fax/code', 'nobody', {})).status).toBe(400);
  expect((await api('POST', '/v1/settings/channels/email/confirm', 'nobody', {})).status).toBe(400);
  expect(await askCode('nobody', 'sms')).toMatchObject({ status: 409, body: { error: 'no_address' } });
  expect(await confirm('nobody', 'sms', '123456')).toMatchObject({ status: 409, body: { error: 'no_address' } });
  // Another user sees their own (empty) state, never mia's.
  expect((await channelsOf('nobody')).channels.xmpp).toMatchObject({ address: null, confirmed: false });
  expect((await channelsOf('nobody')).required).toBe(true);
});

it('says so when the channel refuses the code (SMTP 550), and the refusal still counts towards the limits', async () => {
  expect((await api('PUT', '/v1/settings', 'nobody', settingsFor({ email: 'refused@example.test' }))).status).toBe(200);
  peers.smtp.respond = (mail) => (mail.subject?.includes('confirmation code') ? { code: 550, message: 'Mailbox unavailable' } : undefined);
  try {
    const refused = await askCode('nobody', 'email');
    expect(refused).toMatchObject({
      status: 502,
      body: { error: 'send_failed', message: expect.stringMatching(/^the code could not be sent: SMTP 550: .*Mailbox unavailable/) },
    });
    expect(await askCode('nobody', 'email')).toMatchObject({ status: 429, body: { error: 'too_many_codes' } });
  } finally {
    peers.smtp.respond = undefined;
  }
});
