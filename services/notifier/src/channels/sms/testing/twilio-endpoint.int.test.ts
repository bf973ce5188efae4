import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import twilio from 'twilio';
import { BaseUrlRequestClient } from '../request-client';
import { smsSize } from '../segments';
import { startTwilioEndpoint, twilioContract, twilioSignature, TWILIO_SPEC_PATH, type TwilioEndpoint } from '.';

/** A StatusCallback receiver standing in for the notifier's endpoint. */
async function startCallbackReceiver(): Promise<{
  url: string;
  received: Array<{ url: string; headers: Record<string, string | string[] | undefined>; params: Record<string, string> }>;
  close(): Promise<void>;
}> {
  const received: Array<{ url: string; headers: Record<string, string | string[] | undefined>; params: Record<string, string> }> = [];
  let base = '';
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        url: `${base}${request.url}`,
        headers: request.headers,
        params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { url: `${base}/sms/status?fax=42`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('Twilio-compatible endpoint', () => {
  let endpoint: TwilioEndpoint;
  let client: twilio.Twilio;

  beforeEach(async () => {
    endpoint = await startTwilioEndpoint({ callbackDelayMs: 1 });
    client = twilio(endpoint.accountSid, endpoint.authToken, { httpClient: endpoint.httpClient });
  });

  afterEach(async () => {
    await endpoint.close();
  });

  it('reads the OpenAPI document from the package fixtures', () => {
    expect(TWILIO_SPEC_PATH).toMatch(/services\/notifier\/src\/channels\/sms\/testing\/fixtures\/twilio_api_v2010\.json$/);
    expect(existsSync(TWILIO_SPEC_PATH.replace(/\.json$/, '.LICENSE'))).toBe(true);
  });

  it('holds responses to the api.v2010.account.message schema', () => {
    const { message, createRequest } = twilioContract();
    const valid = {
      sid: `SM${'a'.repeat(32)}`,
      account_sid: `AC${'b'.repeat(32)}`,
      status: 'queued',
      num_segments: '1',
      date_created: 'Thu, 24 Aug 2023 05:01:45 +0000',
      error_code: null,
    };
    expect(message(valid)).toBe(true);
    expect(message({ ...valid, sid: 'XX1' })).toBe(false);
    expect(message({ ...valid, status: 'lost' })).toBe(false);
    expect(message({ ...valid, num_segments: 1 })).toBe(false);
    expect(message({ ...valid, date_created: '2023-08-24T05:01:45Z' })).toBe(false);
    expect(createRequest({ To: '+393471234567', ValidityPeriod: '600', ProvideFeedback: 'true' })).toBe(true);
    expect(createRequest({ To: '+393471234567', ValidityPeriod: 'soon' })).toBe(false);
    expect(createRequest({ From: '+15017122661' })).toBe(false);

    const { listResponse, listQuery } = twilioContract();
    const page = {
      first_page_uri: '/2010-04-01/Accounts/AC1/Messages.json?PageSize=50&Page=0',
      next_page_uri: null,
      page: 0,
      page_size: 50,
      start: 0,
      end: 0,
      messages: [valid],
    };
    expect(listResponse(page)).toBe(true);
    expect(listResponse({ ...page, messages: [{ ...valid, sid: 'XX1' }] })).toBe(false);
    expect(listResponse({ ...page, page_size: '50' })).toBe(false);
    expect(listQuery({ To: '+393471234567', 'DateSent>': '2026-11-22T09:00:00Z', PageSize: '20' })).toBe(true);
    expect(listQuery({ 'DateSent>': 'yesterday' })).toBe(false);
    expect(listQuery({ PageSize: '0' })).toBe(false);
  });

  it('accepts a create from the real twilio client and answers 201 as Twilio does', async () => {
    const message = await client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'Fax delivered: 3 pages' });

    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe('queued');
    expect(message.numSegments).toBe('1');
    expect(message.to).toBe('+393471234567');
    expect(message.accountSid).toBe(endpoint.accountSid);
    expect(message.dateCreated).toBeInstanceOf(Date);
    expect(endpoint.requests).toEqual([
      expect.objectContaining({ method: 'POST', path: `/2010-04-01/Accounts/${endpoint.accountSid}/Messages.json`, status: 201 }),
    ]);
    expect(endpoint.messages[0]).toMatchObject({ sid: message.sid, body: 'Fax delivered: 3 pages', encoding: 'GSM-7', segments: 1 });
    // The endpoint held both the request and its own 201 to the spec.
    expect(endpoint.violations).toEqual([]);

    const fetched = await client.messages(message.sid).fetch();
    expect(fetched.sid).toBe(message.sid);
    expect(endpoint.violations).toEqual([]);
  });

  it('rejects a missing Body with 21602, as Twilio does', async () => {
    const failure = await client.messages.create({ to: '+393471234567', from: '+15017122661' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(twilio.RestException);
    expect(failure).toMatchObject({ status: 400, code: 21602, message: 'Message body is required.', moreInfo: 'https://www.twilio.com/docs/errors/21602' });
    expect(endpoint.messages).toEqual([]);
    expect(endpoint.violations).toEqual([]);
  });

  it('rejects an invalid number with 21211 and wrong credentials with 20003', async () => {
    await expect(client.messages.create({ to: '12345', from: '+15017122661', body: 'x' })).rejects.toMatchObject({ status: 400, code: 21211 });
    await expect(client.messages.create({ to: '+15005550001', from: '+15017122661', body: 'x' })).rejects.toMatchObject({ status: 400, code: 21211 });
    const stranger = twilio(endpoint.accountSid, 'not-the-token', { httpClient: endpoint.httpClient });
    await expect(stranger.messages.create({ to: '+393471234567', from: '+15017122661', body: 'x' })).rejects.toMatchObject({ status: 401, code: 20003 });
    expect(endpoint.messages).toEqual([]);
  });

  it('records a request that breaks the spec', async () => {
    const response = await fetch(`${endpoint.url}/2010-04-01/Accounts/${endpoint.accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${endpoint.accountSid}:${endpoint.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: '+393471234567', From: '+15017122661', Body: 'x', StatusCallback: 'not a url', statusCallback: 'typo' }).toString(),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 21609, status: 400 });
    expect(endpoint.violations.join('\n')).toMatch(/parameters not in the spec: statusCallback/);
    expect(endpoint.violations.join('\n')).toMatch(/StatusCallback must match format "uri"/);
  });

  it('follows a script: 500 then 201, and 21211 for a chosen number', async () => {
    endpoint.script(({ index, to }) => (to === '+393470000000' ? { error: 21211 } : index === 0 ? { status: 500 } : undefined));

    await expect(client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'first try' })).rejects.toMatchObject({ status: 500, code: 20500 });
    const retried = await client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'first try' });
    expect(retried.status).toBe('queued');
    await expect(client.messages.create({ to: '+393470000000', from: '+15017122661', body: 'x' })).rejects.toMatchObject({
      status: 400,
      code: 21211,
      message: "Invalid 'To' Phone Number: +393470000000",
    });

    expect(endpoint.requests.map((request) => request.status)).toEqual([500, 201, 400]);
    expect(endpoint.messages).toHaveLength(1);
    expect(endpoint.violations).toEqual([]);
  });

  it('posts status callbacks signed as Twilio signs them', async () => {
    const receiver = await startCallbackReceiver();
    try {
      endpoint.script(({ to }) => (to === '+393479999999' ? { outcome: 'undelivered', deliveryErrorCode: 30005 } : undefined));
      const delivered = await client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'delivered one', statusCallback: receiver.url });
      const undelivered = await client.messages.create({ to: '+393479999999', from: '+15017122661', body: 'lost one', statusCallback: receiver.url });
      await endpoint.callbacksSettled();

      const statuses = (sid: string) =>
        receiver.received.filter((callback) => callback.params.MessageSid === sid).map((callback) => callback.params.MessageStatus);
      expect(statuses(delivered.sid)).toEqual(['queued', 'sent', 'delivered']);
      expect(statuses(undelivered.sid)).toEqual(['queued', 'sent', 'undelivered']);
      const lost = receiver.received.find((callback) => callback.params.MessageStatus === 'undelivered');
      expect(lost?.params).toMatchObject({
        ErrorCode: '30005',
        To: '+393479999999',
        From: '+15017122661',
        AccountSid: endpoint.accountSid,
        ApiVersion: '2010-04-01',
      });

      for (const callback of receiver.received) {
        const signature = String(callback.headers['x-twilio-signature']);
        expect(twilio.validateRequest(endpoint.authToken, signature, callback.url, callback.params)).toBe(true);
        expect(twilio.validateRequest('another-token', signature, callback.url, callback.params)).toBe(false);
      }
      expect(endpoint.statusCallbacks.every((callback) => callback.responseStatus === 204)).toBe(true);
      expect(twilioSignature(endpoint.authToken, receiver.url, { b: '2', a: '1' })).toBe(
        twilio.getExpectedTwilioSignature(endpoint.authToken, receiver.url, { a: '1', b: '2' }),
      );

      const fetched = await client.messages(undelivered.sid).fetch();
      expect(fetched).toMatchObject({ status: 'undelivered', errorCode: 30005 });
      expect(endpoint.violations).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('lists messages filtered by To, From and sent date, newest first, one page at a time', async () => {
    const before = new Date(Date.now() - 2_000);
    const first = await client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'first' });
    const other = await client.messages.create({ to: '+393479999999', from: '+15017122661', body: 'to someone else' });
    const second = await client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'second' });
    const third = await client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'third' });
    await endpoint.callbacksSettled();

    const page = await client.messages.page({ to: '+393471234567', from: '+15017122661', dateSentAfter: before, pageSize: 2 });
    expect(page.instances.map((message) => message.sid)).toEqual([third.sid, second.sid]);
    expect(page.instances[0]).toMatchObject({ body: 'third', to: '+393471234567', from: '+15017122661', direction: 'outbound-api', status: 'delivered' });
    expect(page.instances[0].dateSent).toBeInstanceOf(Date);
    expect(page.nextPageUrl).toBeDefined();
    const next = await page.nextPage();
    expect(next?.instances.map((message) => message.sid)).toEqual([first.sid]);
    expect(next?.nextPageUrl).toBeUndefined();

    const request = endpoint.requests.find((candidate) => candidate.method === 'GET' && candidate.params.PageSize === '2')!;
    expect(Object.keys(request.params).sort()).toEqual(['DateSent>', 'From', 'PageSize', 'To']);
    expect(request.params['DateSent>']).toBe(before.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    // On or after a moment later than every send, on or before one earlier than every send: nothing.
    const sids = async (params: Parameters<typeof client.messages.page>[0]) => (await client.messages.page(params)).instances.map((message) => message.sid);
    expect(await sids({ to: '+393471234567', dateSentAfter: new Date(Date.now() + 5_000) })).toEqual([]);
    expect(await sids({ to: '+393471234567', dateSentBefore: new Date(Date.now() - 60_000) })).toEqual([]);
    expect(await sids({ to: '+393479999999', dateSentBefore: new Date(Date.now() + 5_000) })).toEqual([other.sid]);
    expect((await client.messages.list({ dateSent: new Date() })).map((message) => message.sid).sort()).toEqual(
      [first.sid, other.sid, second.sid, third.sid].sort(),
    );
    expect(endpoint.violations).toEqual([]);
  });

  it('lists a queued message, which has no sent date yet, only without a DateSent filter', async () => {
    const slow = await startTwilioEndpoint({ callbackDelayMs: 400 });
    try {
      const slowClient = twilio(slow.accountSid, slow.authToken, { httpClient: slow.httpClient });
      const since = new Date(Date.now() - 2_000);
      const queued = await slowClient.messages.create({ to: '+393471234567', from: '+15017122661', body: 'waiting' });
      const sids = async (params: Parameters<typeof slowClient.messages.page>[0]) =>
        (await slowClient.messages.page(params)).instances.map((message) => message.sid);
      expect(await sids({ to: '+393471234567', dateSentAfter: since })).toEqual([]);
      expect(await sids({ to: '+393471234567' })).toEqual([queued.sid]);
      await slow.callbacksSettled();
      expect(await sids({ to: '+393471234567', dateSentAfter: since })).toEqual([queued.sid]);
      expect(slow.violations).toEqual([]);
    } finally {
      await slow.close();
    }
  });

  it('records a list query that breaks the spec', async () => {
    const response = await fetch(
      `${endpoint.url}/2010-04-01/Accounts/${endpoint.accountSid}/Messages.json?To=%2B393471234567&MessagingServiceSid=MG${'1'.repeat(32)}&PageSize=5000`,
      {
        headers: { authorization: `Basic ${Buffer.from(`${endpoint.accountSid}:${endpoint.authToken}`).toString('base64')}` },
      },
    );
    expect(response.status).toBe(200);
    expect(endpoint.violations.join('\n')).toMatch(/parameters not in the spec: MessagingServiceSid/);
    expect(endpoint.violations.join('\n')).toMatch(/PageSize must be <= 1000/);
  });

  it.each(['silence', 'reset'] as const)('stores and sends a message whose answer it loses (%s)', async (loseAnswer) => {
    endpoint.script(() => ({ loseAnswer }));
    const impatient = twilio(endpoint.accountSid, endpoint.authToken, {
      httpClient: new BaseUrlRequestClient(endpoint.url, { keepAlive: false, timeout: 300 }),
    });
    const failure = await impatient.messages.create({ to: '+393471234567', from: '+15017122661', body: 'lost answer' }).catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(twilio.RestException);
    expect((failure as { code?: string }).code).toBe(loseAnswer === 'silence' ? 'ECONNABORTED' : 'ECONNRESET');
    expect(endpoint.messages).toHaveLength(1);
    expect(endpoint.requests).toEqual([expect.objectContaining({ method: 'POST', status: 201, lost: loseAnswer })]);
    await endpoint.callbacksSettled();
    expect(endpoint.messages[0]).toMatchObject({ body: 'lost answer', status: 'delivered' });
    endpoint.script(undefined);
    endpoint.scriptList(() => ({ loseAnswer }));
    await expect(impatient.messages.page({ to: '+393471234567' })).rejects.toMatchObject({ code: loseAnswer === 'silence' ? 'ECONNABORTED' : 'ECONNRESET' });
    endpoint.scriptList(() => ({ status: 503 }));
    await expect(client.messages.page({ to: '+393471234567' })).rejects.toMatchObject({ status: 503, code: 20503 });
    expect(endpoint.violations).toEqual([]);
  });

  it('goes down (connection refused) and comes back on the same port with its messages', async () => {
    const sent = await client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'before' });
    await endpoint.down();
    await expect(client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'while down' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await endpoint.up();
    expect((await client.messages(sent.sid).fetch()).body).toBe('before');
    await client.messages.create({ to: '+393471234567', from: '+15017122661', body: 'after' });
    expect(endpoint.messages.map((message) => message.body)).toEqual(['before', 'after']);
    expect(endpoint.violations).toEqual([]);
  });

  it('counts segments for an English (GSM-7) and a Russian (UCS-2) body as the notifier does', async () => {
    const english = 'Fax "Quarterly report" to +39 06 1234567 (CSID ACME ROMA): delivered, 3 pages at 14:05. Details: https://fax.example/r/7Gx2';
    const russian = 'Факс «Квартальный отчёт» на +7 495 123-45-67 (CSID ООО РОМАШКА): доставлен, 3 стр. в 14:05. Подробнее: https://fax.example/r/7Gx2';
    expect(smsSize(english)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(smsSize(russian)).toEqual({ encoding: 'UCS-2', segments: 2, units: russian.length });

    const sentEnglish = await client.messages.create({ to: '+393471234567', from: '+15017122661', body: english });
    const sentRussian = await client.messages.create({ to: '+74951234567', from: '+15017122661', body: russian });
    expect(sentEnglish.numSegments).toBe('1');
    expect(sentRussian.numSegments).toBe('2');
    expect(endpoint.messages.map((message) => message.encoding)).toEqual(['GSM-7', 'UCS-2']);
    expect(endpoint.violations).toEqual([]);
  });
});
