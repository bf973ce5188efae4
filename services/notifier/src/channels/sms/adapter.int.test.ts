import { createServer, type Server } from 'node:http';
import { noticeContext, renderNotice } from '../../render';
import { sampleResult } from '../../testing/notices';
import { ChannelError, type DeliveryReport, type RenderedNotice } from '../types';
import { SmsAdapter, type SmsAdapterOptions } from './adapter';
import { smsSize } from './segments';
import { startTwilioEndpoint, twilioSignature, type TwilioEndpoint } from './testing';

const notice = (text: string, overrides: Partial<RenderedNotice> = {}): RenderedNotice => {
  const size = smsSize(text);
  return {
    channel: 'sms',
    locale: 'en',
    noticeId: 'n0123456789abcdef01234567',
    title: '',
    text,
    sms: { encoding: size.encoding, segments: size.segments },
    messageId: '<x@y>',
    threadId: '<t@y>',
    ...overrides,
  };
};

/** Stands in for the notifier's HTTP route: hands the callback to the adapter as POST /twilio/status does. */
async function startCallbackRoute(adapter: () => SmsAdapter): Promise<{ url: string; answers: number[]; close(): Promise<void> }> {
  const answers: number[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = request.url ?? '';
      const query = raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : '';
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const signature = request.headers['x-twilio-signature'];
      void adapter()
        .handleStatusCallback({ query, signature: typeof signature === 'string' ? signature : undefined, params })
        .then((accepted) => {
          answers.push(accepted ? 204 : 403);
          response.writeHead(accepted ? 204 : 403).end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/twilio/status`;
  return { url, answers, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('SMS adapter against a Twilio-compatible endpoint', () => {
  let endpoint: TwilioEndpoint;
  let adapter: SmsAdapter;
  let route: Awaited<ReturnType<typeof startCallbackRoute>>;
  let reports: DeliveryReport[];

  beforeAll(async () => {
    endpoint = await startTwilioEndpoint({ callbackDelayMs: 1 });
    route = await startCallbackRoute(() => adapter);
    adapter = new SmsAdapter({
      accountSid: endpoint.accountSid,
      authToken: endpoint.authToken,
      from: '+15005550006',
      messagingServiceSid: '',
      statusCallbackUrl: route.url,
      baseUrl: endpoint.url,
      timeoutMs: 5_000,
      lookupPageSize: 50,
      lookupSettleMs: 1,
    });
    adapter.onDeliveryReport(async (report) => void reports.push(report));
  });

  afterAll(async () => {
    await adapter?.close();
    await endpoint?.close();
    await route?.close();
  });

  beforeEach(() => {
    reports = [];
    endpoint.script(undefined);
  });

  afterEach(() => {
    expect(endpoint.violations).toEqual([]);
  });

  it("sends the text, records Twilio's segments, and takes the signed status callbacks", async () => {
    const sms = renderNotice(
      'sms',
      'ru',
      noticeContext(sampleResult({ subject: 'Отчёт за третий квартал' }), {
        locale: 'ru',
        timeZone: 'Europe/Rome',
        settingsUrl: 'http://127.0.0.1:8083/settings',
      }),
    );
    const receipt = await adapter.send(notice(sms.text, { noticeId: 'aaaabbbbccccddddeeeeffff', sms: sms.sms! }), '+393331234567');
    const message = endpoint.messages.at(-1)!;
    expect(receipt).toEqual({ providerMessageId: message.sid, segments: message.segments, encoding: 'UCS-2' });
    expect(message).toMatchObject({ to: '+393331234567', from: '+15005550006', body: sms.text, encoding: 'UCS-2' });
    expect(message.segments).toBeLessThanOrEqual(2);
    expect(message.statusCallback).toBe(`${route.url}?notice=aaaabbbbccccddddeeeeffff`);
    await endpoint.callbacksSettled();
    expect(route.answers).toEqual([204, 204, 204]);
    expect(reports).toEqual([
      { channel: 'sms', noticeId: 'aaaabbbbccccddddeeeeffff', status: 'sent', providerMessageId: message.sid },
      { channel: 'sms', noticeId: 'aaaabbbbccccddddeeeeffff', status: 'delivered', providerMessageId: message.sid },
    ]);
  });

  it("reports an undelivered message with Twilio's ErrorCode", async () => {
    endpoint.script(() => ({ outcome: 'undelivered', deliveryErrorCode: 30005 }));
    const receipt = await adapter.send(notice('Delivered: x'), '+393331234567');
    await endpoint.callbacksSettled();
    expect(reports.at(-1)).toEqual({
      channel: 'sms',
      noticeId: 'n0123456789abcdef01234567',
      status: 'undelivered',
      providerMessageId: receipt.providerMessageId,
      errorCode: '30005',
    });
  });

  it('refuses a status callback whose signature does not hold', async () => {
    const params = { MessageSid: `SM${'1'.repeat(32)}`, MessageStatus: 'delivered', AccountSid: endpoint.accountSid };
    const url = `${route.url}?notice=n0123456789abcdef01234567`;
    expect(
      await adapter.handleStatusCallback({ query: 'notice=n0123456789abcdef01234567', signature: twilioSignature('wrong-token', url, params), params }),
    ).toBe(false);
    expect(await adapter.handleStatusCallback({ query: 'notice=n0123456789abcdef01234567', signature: undefined, params })).toBe(false);
    // Signed for another notice: the URL is part of what is signed.
    expect(await adapter.handleStatusCallback({ query: 'notice=other', signature: twilioSignature(endpoint.authToken, url, params), params })).toBe(false);
    expect(reports).toEqual([]);
    expect(
      await adapter.handleStatusCallback({ query: 'notice=n0123456789abcdef01234567', signature: twilioSignature(endpoint.authToken, url, params), params }),
    ).toBe(true);
    expect(reports).toEqual([{ channel: 'sms', noticeId: 'n0123456789abcdef01234567', status: 'delivered', providerMessageId: params.MessageSid }]);
  });

  it.each([
    [500, undefined],
    [503, undefined],
    [429, undefined],
  ])('turns HTTP %i into a transient ChannelError', async (status) => {
    endpoint.script(() => ({ status }));
    const error = await adapter.send(notice('Delivered: x'), '+393331234567').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect(error).toMatchObject({ transient: true });
    expect((error as Error).message).toContain(`Twilio ${status}`);
  });

  it.each([21211, 21614, 21610, 21612, 21408, 21217])('turns Twilio error %i into a permanent failure', async (code) => {
    endpoint.script(() => ({ error: code, status: 400 }));
    const error = await adapter.send(notice('Delivered: x'), '+393331234567').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect(error).toMatchObject({ transient: false, providerCode: code });
  });

  it('answers the invalid-number magic test number permanently', async () => {
    const error = await adapter.send(notice('Delivered: x'), '+15005550001').catch((e: unknown) => e);
    expect(error).toMatchObject({ transient: false, providerCode: 21211 });
    expect((error as Error).message).toMatch(/21211: invalid 'To' phone number/);
  });
});

describe('SMS adapter after a lost answer', () => {
  let endpoint: TwilioEndpoint;
  let number = 393330000000;
  /** A number of its own for each test, so Twilio's list holds only that test's messages to it. */
  const nextNumber = () => `+${++number}`;
  const adapterFor = (overrides: Partial<SmsAdapterOptions> = {}) =>
    new SmsAdapter({
      accountSid: endpoint.accountSid,
      authToken: endpoint.authToken,
      from: '+15005550006',
      messagingServiceSid: '',
      statusCallbackUrl: 'http://127.0.0.1:9/twilio/status',
      baseUrl: endpoint.url,
      // Short, so that an answer that never comes is given up quickly.
      timeoutMs: 400,
      lookupPageSize: 50,
      lookupSettleMs: 1,
      ...overrides,
    });
  const creates = (to: string) => endpoint.requests.filter((request) => request.method === 'POST' && request.params.To === to);
  const lookups = (to: string) => endpoint.requests.filter((request) => request.method === 'GET' && request.params.To === to);
  const sentTo = (to: string) => endpoint.messages.filter((message) => message.to === to);

  beforeAll(async () => {
    endpoint = await startTwilioEndpoint({ callbackDelayMs: 1 });
  });

  afterAll(async () => {
    await endpoint?.close();
  });

  afterEach(async () => {
    endpoint.script(undefined);
    endpoint.scriptList(undefined);
    await endpoint.up();
    // The look-ups, like the sends, are held to Twilio's OpenAPI document.
    expect(endpoint.violations).toEqual([]);
  });

  it.each(['reset', 'silence'] as const)('finds the message Twilio stored when its answer was lost (%s) and sends no second SMS', async (loseAnswer) => {
    const adapter = adapterFor();
    const to = nextNumber();
    const text = notice('Delivered: Q3 report\nTo: +12025550101, 3 pages');
    endpoint.script(() => ({ loseAnswer }));
    const lost = await adapter.send(text, to).catch((e: unknown) => e);
    expect(lost).toMatchObject({ transient: true, message: expect.stringMatching(/^Twilio's answer lost/) });
    expect(sentTo(to)).toHaveLength(1);
    endpoint.script(undefined);
    await endpoint.callbacksSettled();

    const receipt = await adapter.send(text, to);
    expect(receipt).toEqual({ providerMessageId: sentTo(to)[0].sid, segments: 1, encoding: 'GSM-7' });
    expect(sentTo(to)).toHaveLength(1);
    expect(creates(to)).toHaveLength(1);
    // One bounded look-up: this number, our sender, sent since the lost send began, one page.
    expect(lookups(to)).toHaveLength(1);
    const query = lookups(to)[0].params;
    expect(Object.keys(query).sort()).toEqual(['DateSent>', 'From', 'PageSize', 'To']);
    expect(query).toMatchObject({ To: to, From: '+15005550006', PageSize: '50' });
    const windowStart = Date.parse(String(query['DateSent>']));
    expect(windowStart).toBeLessThanOrEqual(Date.parse(sentTo(to)[0].resource.date_created as string));
    expect(windowStart).toBeGreaterThan(Date.now() - 5 * 60_000);

    // Resolved: the next notice to this number is sent without a look-up.
    await adapter.send(notice('Failed: other fax', { noticeId: 'n-other-notice-000000000' }), to);
    expect(lookups(to)).toHaveLength(1);
    expect(sentTo(to)).toHaveLength(2);
  });

  it('sends again when the lost request never created a message, matching the text exactly', async () => {
    const adapter = adapterFor();
    const to = nextNumber();
    // A message to the same number whose text differs by one character is not the one lost.
    await adapterFor().send(notice('Delivered: x.', { noticeId: 'n-look-alike-0000000000' }), to);
    endpoint.script(() => ({ status: 500, loseAnswer: 'reset' }));
    await expect(adapter.send(notice('Delivered: x'), to)).rejects.toMatchObject({ transient: true, message: expect.stringMatching(/^Twilio's answer lost/) });
    expect(sentTo(to)).toHaveLength(1);
    endpoint.script(undefined);
    await endpoint.callbacksSettled();

    const receipt = await adapter.send(notice('Delivered: x'), to);
    expect(sentTo(to).map((message) => message.body)).toEqual(['Delivered: x.', 'Delivered: x']);
    expect(receipt.providerMessageId).toBe(sentTo(to)[1].sid);
    expect(lookups(to)).toHaveLength(1);
  });

  it('does not send while an absence could still be Twilio not listing the message yet', async () => {
    const adapter = adapterFor({ lookupSettleMs: 60_000 });
    const to = nextNumber();
    endpoint.script(() => ({ status: 500, loseAnswer: 'reset' }));
    await expect(adapter.send(notice('Delivered: y'), to)).rejects.toMatchObject({ transient: true });
    endpoint.script(undefined);
    const error = await adapter.send(notice('Delivered: y'), to).catch((e: unknown) => e);
    expect(error).toMatchObject({ transient: true, message: expect.stringMatching(/its message is not found \(Twilio may not list it yet\); not sent again/) });
    expect(creates(to)).toHaveLength(1);
    expect(sentTo(to)).toHaveLength(0);
  });

  it('does not decide from a full page of newer messages', async () => {
    const adapter = adapterFor({ lookupPageSize: 1 });
    const to = nextNumber();
    endpoint.script(() => ({ loseAnswer: 'reset' }));
    await expect(adapter.send(notice('Delivered: z'), to)).rejects.toMatchObject({ transient: true });
    endpoint.script(undefined);
    await adapterFor().send(notice('Delivered: a later notice', { noticeId: 'n-later-notice-00000000' }), to);
    await endpoint.callbacksSettled();
    await expect(adapter.send(notice('Delivered: z'), to)).rejects.toMatchObject({
      transient: true,
      message: expect.stringMatching(/more than 1 messages to this number since then/),
    });
    expect(sentTo(to)).toHaveLength(2);
  });

  it('retries later without sending when the look-up itself fails, then finds the message', async () => {
    const adapter = adapterFor();
    const to = nextNumber();
    endpoint.script(() => ({ loseAnswer: 'reset' }));
    await expect(adapter.send(notice('Delivered: w'), to)).rejects.toMatchObject({ transient: true });
    endpoint.script(undefined);
    await endpoint.callbacksSettled();

    endpoint.scriptList(() => ({ status: 503 }));
    await expect(adapter.send(notice('Delivered: w'), to)).rejects.toMatchObject({
      transient: true,
      message: expect.stringMatching(/looking for its message failed \(Twilio 503/),
    });
    endpoint.scriptList(() => ({ loseAnswer: 'silence' }));
    await expect(adapter.send(notice('Delivered: w'), to)).rejects.toMatchObject({
      transient: true,
      message: expect.stringMatching(/looking for its message failed \(Twilio's answer lost/),
    });
    endpoint.scriptList(undefined);
    await endpoint.down();
    await expect(adapter.send(notice('Delivered: w'), to)).rejects.toMatchObject({
      transient: true,
      message: expect.stringMatching(/looking for its message failed \(Twilio not reached \(ECONNREFUSED\)/),
    });
    await endpoint.up();
    expect(creates(to)).toHaveLength(1);

    const receipt = await adapter.send(notice('Delivered: w'), to);
    expect(receipt.providerMessageId).toBe(sentTo(to)[0].sid);
    expect(sentTo(to)).toHaveLength(1);
    expect(creates(to)).toHaveLength(1);
  });

  it('looks up a Messaging Service send by its service, as the list has no such filter', async () => {
    const service = `MG${'2'.repeat(32)}`;
    const adapter = adapterFor({ from: '', messagingServiceSid: service });
    const to = nextNumber();
    // The same text to the same number from a plain sender is not the service's message.
    await adapterFor().send(notice('Delivered: v', { noticeId: 'n-plain-sender-000000000' }), to);
    endpoint.script(() => ({ loseAnswer: 'reset' }));
    await expect(adapter.send(notice('Delivered: v'), to)).rejects.toMatchObject({ transient: true });
    endpoint.script(undefined);
    await endpoint.callbacksSettled();

    const receipt = await adapter.send(notice('Delivered: v'), to);
    const viaService = sentTo(to).find((message) => message.messagingServiceSid === service)!;
    expect(receipt).toEqual({ providerMessageId: viaService.sid, segments: 1, encoding: 'GSM-7' });
    expect(Object.keys(lookups(to)[0].params).sort()).toEqual(['DateSent>', 'PageSize', 'To']);
    expect(sentTo(to)).toHaveLength(2);
  });

  it('sends on the retry with no look-up after connection refused or a clear 5xx', async () => {
    const adapter = adapterFor();
    const refused = nextNumber();
    await endpoint.down();
    await expect(adapter.send(notice('Delivered: u'), refused)).rejects.toMatchObject({
      transient: true,
      providerCode: 'ECONNREFUSED',
      message: expect.stringMatching(/^Twilio not reached/),
    });
    await endpoint.up();
    await adapter.send(notice('Delivered: u'), refused);
    expect(sentTo(refused)).toHaveLength(1);
    expect(lookups(refused)).toHaveLength(0);

    const failing = nextNumber();
    endpoint.script(({ to }) => (to === failing && creates(failing).length === 1 ? { status: 500 } : undefined));
    await expect(adapter.send(notice('Delivered: t', { noticeId: 'n-clear-500-000000000000' }), failing)).rejects.toMatchObject({
      transient: true,
      providerCode: 20500,
    });
    await adapter.send(notice('Delivered: t', { noticeId: 'n-clear-500-000000000000' }), failing);
    expect(creates(failing).map((request) => request.status)).toEqual([500, 201]);
    expect(sentTo(failing)).toHaveLength(1);
    expect(lookups(failing)).toHaveLength(0);
  });
});
