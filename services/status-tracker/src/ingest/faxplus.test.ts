import { issueToken } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import type { FaxView } from '../api';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { WebhookReceiver } from '../testing/webhook-receiver';
import type { FaxSentBody } from '../webhooks';
import { IngestError, parseFaxPlusWebhook } from './providers';

/**
 * Every field of Fax.Plus's fax_sent webhook and fax object (the sources: its API guide and its fax
 * schema) in its place on our record: several `to` numbers, the sender number, the comment as the
 * subject, the submit and start times, the retry policy, the cost, a partial result's pages, and
 * the owner's own webhook carrying what each field means there.
 */
const SECRET = 'faxplus-fields-secret-0123';
const hook = (data: Record<string, unknown>, event = 'fax_sent') => ({
  hook: { id: String(data.id), event, event_time: '2026-11-22 10:44:39', target: 'https://tracker.example.test/ingest/faxplus/x' },
  data: {
    uid: '490ae330dbc749f0b6561dafa300f2fb',
    pages: 3,
    from: '+39 06 1234 5678',
    to: '+1 202-555-0170',
    start_time: '2026-11-22 10:43:10',
    status: 'success',
    ...data,
  },
});

describe('reading a Fax.Plus fax_sent webhook', () => {
  it('maps every field the sources name', () => {
    const result = parseFaxPlusWebhook(
      hook({
        id: 'fp-1',
        to: ['+1 202-555-0170', '+44 20 7946 0958'],
        comment: { text: 'Contract, signed' },
        submit_time: '2026-11-22 10:40:00',
        file: '5ad8f0c1e2',
        file_name: 'fax-from-390612345678',
        cost: 6,
        max_retry: 2,
        retry_delay: 10,
        direction: 'outgoing',
      }),
    );
    expect(result).toMatchObject({
      providerFaxId: 'fp-1',
      numbers: ['+12025550170', '+442079460958'],
      from: '+390612345678',
      subject: 'Contract, signed',
      submittedAt: '2026-11-22T10:40:00.000Z',
      startedAt: '2026-11-22T10:43:10.000Z',
      endedAt: '2026-11-22T10:44:39.000Z',
      retry: { count: 2, delayMinutes: 10 },
      fileName: 'fax-from-390612345678',
      cost: 6,
      pagesSent: 3,
      pagesTotal: 3,
      // Fax.Plus names no CSID of the receiver: none is made up.
      remoteCsid: null,
    });
    // The owner and file ids at Fax.Plus have no field of ours: the detail keeps them.
    expect(result?.reason.detail).toContain('owner 490ae330dbc749f0b6561dafa300f2fb');
    expect(result?.reason.detail).toContain('file 5ad8f0c1e2');
  });

  it('takes the fax object comment as text, a lone `to` as one number, and no cost or sender where none is given', () => {
    const result = parseFaxPlusWebhook(hook({ id: 'fp-2', comment: 'Invoice 77', from: '', cost: undefined }));
    expect(result).toMatchObject({
      numbers: ['+12025550170'],
      subject: 'Invoice 77',
      from: null,
      cost: null,
      submittedAt: null,
      retry: { count: 0, delayMinutes: 0 },
    });
  });

  it('counts the first page as sent for partially_sent, and says how little Fax.Plus tells', () => {
    const result = parseFaxPlusWebhook(hook({ id: 'fp-3', status: 'partially_sent', pages: 4 }));
    expect(result).toMatchObject({ status: 'partially_sent', pagesSent: 1, pagesTotal: 4 });
    expect(result?.reason.detail).toContain('4 pages, the first sent before the call dropped (Fax.Plus does not say how many)');
    expect(parseFaxPlusWebhook(hook({ id: 'fp-4', status: 'failed_no_answer' }))).toMatchObject({ pagesSent: 0, pagesTotal: 3 });
  });

  it('keeps a Fax.Plus user id in `from` as what it is, not as a number', () => {
    const result = parseFaxPlusWebhook(hook({ id: 'fp-5', from: '490ae330dbc749f0b6561dafa300f2fb' }));
    expect(result?.from).toBeNull();
    expect(result?.reason.detail).toContain('from 490ae330dbc749f0b6561dafa300f2fb (a Fax.Plus user, not a number)');
  });

  it('is not about an incoming fax, and refuses a `to` list with a bad or no number, naming which', () => {
    expect(parseFaxPlusWebhook(hook({ id: 'fp-6', direction: 'incoming' }))).toBeNull();
    expect(() => parseFaxPlusWebhook(hook({ id: 'fp-7', to: ['+12025550170', 'reception'] }))).toThrow(/data\.to\[1\]: not a fax number/);
    expect(() => parseFaxPlusWebhook(hook({ id: 'fp-8', to: [] }))).toThrow(IngestError);
    expect(() => parseFaxPlusWebhook(hook({ id: 'fp-9', submit_time: 'yesterday' }))).toThrow(/data\.submit_time is not a time/);
  });
});

describe('a Fax.Plus fax on our record and in the owner webhook', () => {
  let service: TestApp;
  const receiver = new WebhookReceiver();
  // olga may set up provider accounts (and owns the one set up here), as in the other ingest tests.
  const headers = async () => ({ authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, 'olga')}`, 'content-type': 'application/json' });
  const post = (body: unknown) =>
    fetch(`${service.url}/ingest/faxplus/olga-fp?token=${SECRET}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const hooksOf = (faxId: string) => receiver.received.filter((r) => r.body.includes(faxId)).map((r) => JSON.parse(r.body) as FaxSentBody);

  beforeAll(async () => {
    service = await startTestApp('ingest-faxplus', { allowedPrivateRanges: ['127.0.0.0/8'] });
    await receiver.start();
    receiver.secret = 'olga-webhook-secret-0123456789';
    service.webhooks.start();
    expect(
      (await fetch(`${service.url}/v1/ingest/accounts/faxplus/olga-fp`, { method: 'PUT', headers: await headers(), body: JSON.stringify({ secret: SECRET }) }))
        .status,
    ).toBe(200);
    expect(
      (
        await fetch(`${service.url}/v1/webhooks`, {
          method: 'PUT',
          headers: await headers(),
          body: JSON.stringify({ url: receiver.url, secret: receiver.secret }),
        })
      ).status,
    ).toBe(200);
  });

  afterAll(async () => {
    await receiver.stop();
    await service?.close();
  });

  it('records one recipient per `to` number, with the sender number, subject and cost on the fax', async () => {
    const response = await post(
      hook({ id: 'fp-list', to: ['+1 202-555-0170', '+44 20 7946 0958'], comment: { text: 'Price list' }, cost: 6, file_name: 'prices' }),
    );
    expect(response.status).toBe(200);
    const { faxId } = (await response.json()) as { faxId: string };
    const fax = (await (await fetch(`${service.url}/v1/faxes/${faxId}`, { headers: await headers() })).json()) as FaxView;
    expect(fax).toMatchObject({ from: '+390612345678', subject: 'Price list', cost: 6, state: 'delivered', files: [{ name: 'prices', pages: 3 }] });
    expect(fax.recipients.map((r) => [r.recipientId, r.number, r.status, r.pagesSent])).toEqual([
      ['r1', '+12025550170', 'success', 3],
      ['r2', '+442079460958', 'success', 3],
    ]);
    await eventually(() => hooksOf(faxId).length === 2);
    for (const body of hooksOf(faxId)) {
      expect(body.data).toMatchObject({ from: '+390612345678', file_name: 'prices', status: 'success' });
      // The cost is the whole fax's: not one recipient's to report.
      expect(body.data).not.toHaveProperty('cost');
    }
    // The fax page shows them too.
    const html = await (await fetch(`${service.url}/faxes/${faxId}?lang=en`, { headers: await headers() })).text();
    expect(html).toContain('<dt>From</dt><dd class="number">+390612345678</dd>');
    expect(html).toContain('<dt>Cost</dt><dd>6</dd>');
    // The same post again is the same record.
    expect(await (await post(hook({ id: 'fp-list', to: ['+1 202-555-0170', '+44 20 7946 0958'], cost: 6 }))).json()).toMatchObject({ faxId, duplicate: true });
  });

  it("hands a one-recipient fax's cost and a partial result's pages on to the webhook", async () => {
    const response = await post(hook({ id: 'fp-partial', status: 'partially_sent', pages: 5, cost: 1.5 }));
    const { faxId } = (await response.json()) as { faxId: string };
    await eventually(() => hooksOf(faxId).length === 1);
    expect(hooksOf(faxId)[0].data).toMatchObject({ from: '+390612345678', to: '+12025550170', status: 'partially_sent', pages: 5, pages_sent: 1, cost: 1.5 });
    expect(hooksOf(faxId)[0].data).not.toHaveProperty('file');
  });
});
