import { eventually } from '@faxnotify/peers';
import { twilioSignature } from './testing';
import { useChannelPeers } from './testing/channels';

/**
 * Notices on all three channels against real peers: RabbitMQ, an SMTP server, Prosody and a
 * Twilio-compatible endpoint holding every request to Twilio's OpenAPI document.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\ufffe\uffff]/;

const peers = useChannelPeers('notifier-channels', ['olga', 'xena', 'fred', 'hank', 'ivan']);
const { final, outcomeOf, smsTo, requestsTo, mailsTo, chatsFor } = peers;

describe('notices on email, SMS and XMPP', () => {
  beforeAll(async () => {
    // Each owner confirms each address with the code the channel brought, as on the settings page.
    const save = peers.saveAndConfirm;
    await Promise.all([
      save('olga', { email: 'olga@example.test', sms: '+79161234567', xmpp: 'olga@localhost', locale: 'ru' }),
      save('xena', { xmpp: 'xena@localhost', locale: 'it' }),
      save('fred', { email: 'fred@example.test', sms: '+12025550188', xmpp: 'fred@localhost', notifyOn: 'failures' }),
      save('hank', { email: 'hank@example.test', sms: '+12025550123', xmpp: 'hank@localhost' }),
    ]);
  }, 30_000);

  it("sends one email, one SMS and one XMPP message in the owner's language", async () => {
    await peers.bus.publish('delivery.recipient.final', final('olga-1', 'olga', { subject: 'Квартальный отчёт' }));
    await eventually(() => ['email', 'sms', 'xmpp'].every((channel) => outcomeOf('olga-1', channel)), 10_000);

    const mails = mailsTo('olga@example.test');
    expect(mails.map((m) => m.subject)).toEqual(['Доставлено: Квартальный отчёт']);
    expect(mails[0].text).toContain('Получатель: +12025550101 (ACME)');

    const sms = smsTo('+79161234567');
    expect(sms).toHaveLength(1);
    expect(sms[0].body).toBe('Доставлено: Квартальный отчёт\n+12025550101 (ACME), 1 стр., 22.11, 12:00\nhttp://127.0.0.1:8082/faxes/olga-1');
    expect(sms[0]).toMatchObject({ from: '+15005550006', encoding: 'UCS-2' });
    expect(sms[0].segments).toBeLessThanOrEqual(2);

    const chats = await eventually(() => chatsFor('olga').length > 0 && chatsFor('olga'), 10_000);
    expect(chats).toHaveLength(1);
    expect(chats[0]).toMatchObject({
      type: 'chat',
      from: expect.stringMatching(/^notifier@localhost\/faxnotify-notifier\.[0-9a-f]{6}$/),
      receiptRequested: true,
    });
    expect(chats[0].body).toMatch(/^Доставлено: Квартальный отчёт\nПолучатель: \+12025550101 \(ACME\)\n/);
    expect(chats[0].body).toContain(`Настройки уведомлений: ${peers.notifier.url}/settings`);

    // What went out and what became of it, per channel: the SMS status callback and the XMPP receipt come back as "delivered".
    await eventually(() => outcomeOf('olga-1', 'sms')?.outcome === 'delivered' && outcomeOf('olga-1', 'xmpp')?.outcome === 'delivered', 10_000);
    expect(outcomeOf('olga-1', 'email')).toMatchObject({ outcome: 'sent', address: 'olga@example.test', locale: 'ru', attempts: 1 });
    // The parts and encoding it went out as, and Twilio's status callback word, as fields; nothing left over for the reason.
    expect(outcomeOf('olga-1', 'sms')).toMatchObject({
      outcome: 'delivered',
      address: '+79161234567',
      providerMessageId: sms[0].sid,
      sms: { segments: sms[0].segments, encoding: 'UCS-2' },
      provider: { status: 'delivered' },
    });
    expect(outcomeOf('olga-1', 'sms')!.reason).toBeUndefined();
    expect(outcomeOf('olga-1', 'xmpp')).toMatchObject({ outcome: 'delivered', address: 'olga@localhost', reason: 'receipt received' });
  });

  it('sends a user with only XMPP on only an XMPP message', async () => {
    await peers.bus.publish('delivery.recipient.final', final('xena-1', 'xena', { status: 'failed_user_busy', pagesSent: 0 }));
    await eventually(() => outcomeOf('xena-1', 'xmpp'), 10_000);
    const [chat] = await eventually(() => chatsFor('xena').length > 0 && chatsFor('xena'), 10_000);
    expect(chat.body).toMatch(/^Non consegnato: Q3 report\n/);
    expect(chat.body).toContain('Stato: Linea occupata.');
    // The channels she has off get no notice and no record (their outcomes would have come before the XMPP one, which waits for the send).
    expect(outcomeOf('xena-1', 'email')).toBeUndefined();
    expect(outcomeOf('xena-1', 'sms')).toBeUndefined();
    expect(mailsTo('xena')).toHaveLength(0);
    expect(peers.twilioEndpoint.requests.filter((r) => String(r.params.Body ?? '').includes('xena-1'))).toHaveLength(0);
  });

  it('sends nothing for a success to an owner who wants failures only', async () => {
    await peers.bus.publish('delivery.recipient.final', final('fred-ok', 'fred'));
    await eventually(() => ['email', 'sms', 'xmpp'].every((channel) => outcomeOf('fred-ok', channel)), 10_000);
    // Fred's notifyOn is each channel's choice, as none has one of its own.
    for (const [channel, name] of [
      ['email', 'email'],
      ['sms', 'SMS'],
      ['xmpp', 'Jabber (XMPP)'],
    ])
      expect(outcomeOf('fred-ok', channel)).toMatchObject({ outcome: 'skipped', reason: `the owner gets ${name} notices of failures only` });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo('fred@example.test')).toHaveLength(0);
    expect(requestsTo('+12025550188')).toHaveLength(0);
    expect(chatsFor('fred')).toHaveLength(0);
  });

  it('sends an English SMS as GSM-7 and a Russian one as UCS-2, both within 2 segments', async () => {
    const long = `Contract renewal for the distribution agreement, signed copies of pages ${'1 to 40 '.repeat(20)}`;
    await peers.bus.publish('delivery.recipient.final', final('hank-long', 'hank', { subject: long, status: 'partially_sent', pagesSent: 2, pagesTotal: 5 }));
    await peers.bus.publish(
      'delivery.recipient.final',
      final('olga-long', 'olga', {
        subject: `Договор поставки, подписанные страницы ${'с 1 по 40 '.repeat(20)}`,
        status: 'partially_sent',
        pagesSent: 2,
        pagesTotal: 5,
      }),
    );
    await eventually(() => outcomeOf('hank-long', 'sms') && outcomeOf('olga-long', 'sms'), 10_000);
    const english = smsTo('+12025550123').find((m) => m.body.includes('hank-long'))!;
    const russian = smsTo('+79161234567').find((m) => m.body.includes('olga-long'))!;
    expect(english).toMatchObject({ encoding: 'GSM-7' });
    expect(english.segments).toBeLessThanOrEqual(2);
    expect(english.body).toMatch(
      /^Partially delivered: Contract renewal.*\.\.\.\nPartially sent\nTo: \+12025550101 \(ACME\), 2 of 5 pages, 22\/11, 10:00\nhttp:\/\/127\.0\.0\.1:8082\/faxes\/hank-long$/,
    );
    expect(russian).toMatchObject({ encoding: 'UCS-2' });
    expect(russian.segments).toBeLessThanOrEqual(2);
    expect(russian.body).toMatch(/^Доставлено частично: Договор поставки.*\.\.\.\n/);
    expect(outcomeOf('hank-long', 'sms')!.sms).toEqual({ segments: english.segments, encoding: 'GSM-7' });
    expect(outcomeOf('olga-long', 'sms')!.sms).toEqual({ segments: russian.segments, encoding: 'UCS-2' });
  });

  it('retries after Twilio answers 500 and sends one SMS', async () => {
    await peers.saveConfirmed('ivan', { sms: '+393331234567' });
    peers.twilioEndpoint.script((request) => (request.to === '+393331234567' && requestsTo('+393331234567').length === 1 ? { status: 500 } : undefined));
    await peers.bus.publish('delivery.recipient.final', final('ivan-500', 'ivan'));
    const outcome = await eventually(() => outcomeOf('ivan-500', 'sms'), 15_000);
    expect(outcome).toMatchObject({ outcome: expect.stringMatching(/^(sent|delivered)$/), attempts: 2 });
    expect(requestsTo('+393331234567').map((r) => r.status)).toEqual([500, 201]);
    expect(smsTo('+393331234567')).toHaveLength(1);
  });

  it('records an invalid number (21211) as failed and does not retry', async () => {
    await peers.saveConfirmed('ivan', { sms: '+15005550001' });
    await peers.bus.publish('delivery.recipient.final', final('ivan-21211', 'ivan'));
    const outcome = await eventually(() => outcomeOf('ivan-21211', 'sms'), 10_000);
    expect(outcome).toMatchObject({ outcome: 'failed', attempts: 1, reason: expect.stringMatching(/^Twilio 400 error 21211: invalid 'To' phone number/) });
    // Twilio refused the request: no message went out, and no status callback will come.
    expect(outcome.sms).toBeUndefined();
    expect(outcome.provider).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(requestsTo('+15005550001').map((r) => [r.status, r.errorCode])).toEqual([[400, 21211]]);
  });

  it("records an undelivered SMS with the carrier's error code", async () => {
    await peers.saveConfirmed('ivan', { sms: '+393331234568' });
    peers.twilioEndpoint.script((request) => (request.to === '+393331234568' ? { outcome: 'undelivered', deliveryErrorCode: 30003 } : undefined));
    await peers.bus.publish('delivery.recipient.final', final('ivan-30003', 'ivan'));
    const outcome = await eventually(() => (outcomeOf('ivan-30003', 'sms')?.outcome === 'failed' ? outcomeOf('ivan-30003', 'sms') : undefined), 10_000);
    expect(outcome).toMatchObject({ sms: { segments: 1, encoding: 'GSM-7' }, provider: { status: 'undelivered', errorCode: '30003' } });
    expect(outcome.reason).toBeUndefined();
  });

  it('answers a status callback with a bad signature 403 and records a good one', async () => {
    await peers.saveConfirmed('ivan', { sms: '+393331234569' });
    // Twilio only says "sent" for this one; the test then signs "delivered" itself.
    peers.twilioEndpoint.script((request) => (request.to === '+393331234569' ? { outcome: 'sent' } : undefined));
    await peers.bus.publish('delivery.recipient.final', final('ivan-cb', 'ivan'));
    await eventually(() => outcomeOf('ivan-cb', 'sms'), 10_000);
    await peers.twilioEndpoint.callbacksSettled();
    const message = smsTo('+393331234569')[0];
    expect(peers.twilioEndpoint.statusCallbacks.filter((c) => c.messageSid === message.sid).map((c) => [c.status, c.responseStatus])).toEqual([
      ['queued', 204],
      ['sent', 204],
    ]);
    const url = message.statusCallback!;
    const params = { AccountSid: peers.twilioEndpoint.accountSid, MessageSid: message.sid, MessageStatus: 'delivered', To: message.to };
    const callback = (signature: string, body = params) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(body).toString(),
      });

    expect((await callback('forged')).status).toBe(403);
    expect((await callback(twilioSignature('not-the-token', url, params))).status).toBe(403);
    // Signed, but the body was changed on the way.
    expect((await callback(twilioSignature(peers.twilioEndpoint.authToken, url, params), { ...params, MessageStatus: 'failed' })).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(outcomeOf('ivan-cb', 'sms')!.outcome).toBe('sent');
    // Twilio's own "sent" callback is in the outcome as the provider's status.
    expect(peers.collector.outcomes.filter((o) => o.faxId === 'ivan-cb' && o.channel === 'sms').map((o) => o.provider?.status)).toContain('sent');

    expect((await callback(twilioSignature(peers.twilioEndpoint.authToken, url, params))).status).toBe(204);
    await eventually(() => outcomeOf('ivan-cb', 'sms')?.outcome === 'delivered', 5_000);
    expect(outcomeOf('ivan-cb', 'sms')).toMatchObject({
      outcome: 'delivered',
      providerMessageId: message.sid,
      sms: { segments: 1, encoding: 'GSM-7' },
      provider: { status: 'delivered' },
    });
  });

  it('lets a hostile CSID and subject reach SMS and XMPP harmless', async () => {
    const subject = 'Invoice\r\n\u0000\u0007\u001b[2J<message to="x@evil"><body>pwn</body></message>]]>&amp;\u202eexe.pdf\ud800';
    const remoteCsid = '\u0000EVIL\r\nCSID</body>\u0085\u000b';
    await peers.bus.publish('delivery.recipient.final', final('hank-hostile', 'hank', { subject, remoteCsid, status: 'failed_no_answer', pagesSent: 0 }));
    await eventually(() => outcomeOf('hank-hostile', 'sms') && outcomeOf('hank-hostile', 'xmpp'), 10_000);
    const sms = smsTo('+12025550123').find((m) => m.body.includes('hank-hostile'))!;
    expect(sms.body).not.toMatch(CONTROL);
    expect(sms.body.split('\n')).toHaveLength(4);
    expect(sms.body).toContain('(EVIL CSID</body>)');
    expect(sms.segments).toBeLessThanOrEqual(2);
    const chat = await eventually(() => chatsFor('hank').find((m) => m.body.includes('EVIL')), 10_000);
    expect(chat.body).not.toMatch(CONTROL);
    expect(chat.body).toContain('<message to="x@evil"><body>pwn</body></message>]]>&amp;');
    expect(chat.body).toContain('Recipient: +12025550101 (EVIL CSID</body>)');
    // The stanza as it arrived parses as XML and carries the text as text, not as elements.
    const { parse } = await import('ltx');
    const stanza = parse(chat.xml);
    expect(stanza.getChildren('body')).toHaveLength(1);
    expect(stanza.getChildText('body')).toBe(chat.body);
    expect(chat.xml).not.toContain('<message to="x@evil">');
  });
});
