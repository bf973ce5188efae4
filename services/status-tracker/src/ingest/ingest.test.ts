import type { LookupAddress } from 'node:dns';
import type { CloudEvent } from '@faxnotify/contracts';
import { issueToken } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { FakeReplixFax } from '../testing/replixfax';
import { mapReplixFaxStatus, parseFaxPlusWebhook, toE164 } from './providers';

/**
 * Provider ingest over HTTP: Fax.Plus fax_sent webhooks and ReplixFax callbacks posted to us, and
 * the ReplixFax query-and-mark pattern against the provider's API faked at the HTTP boundary. A
 * result seen by post and by query is one record and one delivery.recipient.final.
 */
const FAXPLUS_SECRET = 'faxplus-shared-secret-0123';
const REPLIX_SECRET = 'replix-shared-secret-0123';

let service: TestApp;
const replix = new FakeReplixFax('api-user', 'api-password');

const asUser = async (user: string) => ({ authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user)}` });
const asUserJson = async (user: string) => ({ ...(await asUser(user)), 'content-type': 'application/json' });

beforeAll(async () => {
  // The ReplixFax stand-in listens on 127.0.0.1: this tracker's operator allows loopback.
  service = await startTestApp('ingest', { allowedPrivateRanges: ['127.0.0.0/8'] });
  await replix.start();
  const headers = await asUserJson('olga');
  expect(
    (await fetch(`${service.url}/v1/ingest/accounts/faxplus/olga-fp`, { method: 'PUT', headers, body: JSON.stringify({ secret: FAXPLUS_SECRET }) })).status,
  ).toBe(200);
  const replixAccount = await fetch(`${service.url}/v1/ingest/accounts/replixfax/olga-rpx`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ secret: REPLIX_SECRET, baseUrl: replix.url, username: 'api-user', password: 'api-password' }),
  });
  expect(await replixAccount.json()).toMatchObject({
    provider: 'replixfax',
    account: 'olga-rpx',
    ingestPath: '/ingest/replixfax/olga-rpx',
    baseUrl: replix.url,
    source: 'api',
  });
});

afterAll(async () => {
  await replix.stop();
  await service?.close();
});

const faxPlusHook = (session: string, faxId: string, status: string, extra: Record<string, unknown> = {}) => ({
  hook: { id: faxId, event: 'fax_sent', event_time: '2026-11-22 10:44:39', target: `${service.url}/ingest/faxplus/olga-fp` },
  data: {
    id: session,
    uid: '490ae330dbc749f0b6561dafa300f2fb',
    pages: 2,
    from: '+1 334-304-0000',
    to: '+1 202-555-0170',
    start_time: '2026-11-22 10:43:10',
    file: 'a1b2.tiff',
    file_name: 'invoice-77',
    status,
    cost: 2,
    ...extra,
  },
});

const postFaxPlus = (body: unknown, token = FAXPLUS_SECRET) =>
  fetch(`${service.url}/ingest/faxplus/olga-fp?token=${encodeURIComponent(token)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const countOf = async (faxId: string) => {
  const { db } = service.database;
  const [faxes, recipients, ingested, finals] = await Promise.all([
    db.selectFrom('faxes').select('id').where('id', '=', faxId).execute(),
    db.selectFrom('recipients').select('recipient_id').where('fax_id', '=', faxId).execute(),
    db.selectFrom('ingested_results').selectAll().where('fax_id', '=', faxId).execute(),
    db.selectFrom('outbox').selectAll().where('fax_id', '=', faxId).where('routing_key', '=', 'delivery.recipient.final').execute(),
  ]);
  return { faxes: faxes.length, recipients: recipients.length, ingested, finals };
};

describe('Fax.Plus fax_sent webhooks', () => {
  it('records a fax sent through Fax.Plus for the account owner, in our vocabulary', async () => {
    const response = await postFaxPlus(faxPlusHook('66df09cf1d6d0b295c363956', '66df09cf1d6d0b295c363956', 'failed_user_busy'));
    expect(response.status).toBe(200);
    const outcome = (await response.json()) as { faxId: string; duplicate: boolean; status: string };
    expect(outcome).toMatchObject({ recorded: true, duplicate: false, status: 'failed_user_busy' });
    const fax = await fetch(`${service.url}/v1/faxes/${outcome.faxId}`, { headers: await asUser('olga') });
    expect(await fax.json()).toMatchObject({
      state: 'failed',
      subject: '',
      from: '+13343040000',
      cost: 2,
      files: [{ name: 'invoice-77', pages: 2 }],
      recipients: [
        {
          number: '+12025550170',
          status: 'failed_user_busy',
          pagesSent: 0,
          pagesTotal: 2,
          reason: { code: 'failed_user_busy', detail: expect.stringContaining('Fax.Plus status=failed_user_busy') },
        },
      ],
    });
    const { finals } = await countOf(outcome.faxId);
    expect(finals).toHaveLength(1);
    expect((JSON.parse(finals[0].event_json) as CloudEvent<'delivery.recipient.final'>).data).toMatchObject({
      ownerId: 'olga',
      status: 'failed_user_busy',
      number: '+12025550170',
    });
  });

  it('keeps one record when the same webhook comes twice, and takes a retried session as a later attempt', async () => {
    const hook = faxPlusHook('77aa00000000000000000001', '77aa00000000000000000001', 'failed_no_answer');
    const first = (await (await postFaxPlus(hook)).json()) as { faxId: string };
    const second = (await (await postFaxPlus(hook)).json()) as { faxId: string; duplicate: boolean };
    expect(second).toMatchObject({ faxId: first.faxId, duplicate: true });
    // Fax.Plus retried the fax: a new session id under the same hook.id, later.
    const retried = faxPlusHook('77aa00000000000000000002', '77aa00000000000000000001', 'success');
    retried.hook.event_time = '2026-11-22 11:05:00';
    const third = (await (await postFaxPlus(retried)).json()) as { faxId: string; duplicate: boolean };
    expect(third).toMatchObject({ faxId: first.faxId, duplicate: false });
    const counts = await countOf(first.faxId);
    expect(counts).toMatchObject({ faxes: 1, recipients: 1 });
    expect(counts.ingested).toHaveLength(2); // two provider sessions, one fax
    expect(counts.finals).toHaveLength(1); // the recipient was announced once (the tracker's rule for later attempts)
    const recipient = await service.database.db.selectFrom('recipients').selectAll().where('fax_id', '=', first.faxId).executeTakeFirstOrThrow();
    expect(recipient).toMatchObject({ status: 'success', pages_sent: 2 });
  });

  it('refuses a wrong or missing secret and an unknown account alike, and a body it cannot use', async () => {
    const hook = faxPlusHook('88bb', '88bb', 'success');
    expect((await postFaxPlus(hook, 'wrong-secret-0123456789')).status).toBe(401);
    const noSecret = await fetch(`${service.url}/ingest/faxplus/olga-fp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hook),
    });
    expect(noSecret.status).toBe(401);
    const unknown = await fetch(`${service.url}/ingest/faxplus/nobody?token=${FAXPLUS_SECRET}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hook),
    });
    expect(unknown.status).toBe(401);
    // The secret also works as a header, for providers that allow custom headers.
    const viaHeader = await fetch(`${service.url}/ingest/faxplus/olga-fp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-faxnotify-ingest-secret': FAXPLUS_SECRET },
      body: JSON.stringify(hook),
    });
    expect(viaHeader.status).toBe(200);
    const bad = await postFaxPlus({ hook: { id: 'x', event: 'fax_sent' }, data: { id: 'x', status: 'success', to: 'not a number' } });
    expect(bad.status).toBe(400);
    // A received fax is taken (see inbound.test.ts), so one without its status is refused like any bad body.
    const received = await postFaxPlus({ hook: { id: 'x', event: 'fax_received' }, data: { id: 'x' } });
    expect(received.status).toBe(400);
  });
});

describe('ReplixFax: post and query', () => {
  const target = () => `${service.url}/ingest/replixfax/olga-rpx?token=${REPLIX_SECRET}`;
  const poll = async () => {
    const response = await fetch(`${service.url}/v1/ingest/accounts/replixfax/olga-rpx/poll`, { method: 'POST', headers: await asUser('olga') });
    expect(response.status).toBe(200);
    return (await response.json()) as { seen: number; recorded: number; marked: number };
  };

  it('records a fax found by the query, marks it only after, and keeps one record when its post comes later', async () => {
    replix.add({
      FaxId: '3301',
      FaxStatus: 'failed',
      ErrorCode: '2',
      ErrorText: 'Line busy',
      DestFaxNumber: '12025550181',
      CSI: '',
      CompleteTime: '2026-11-22T11:00:00Z',
      PagesSent: '0',
      TotalPages: '4',
    });
    expect(await poll()).toEqual({ seen: 1, recorded: 1, marked: 1 });
    expect(replix.faxes.get('3301')!.Mark).toBe(true);
    const faxId = 'rpx-olga-rpx-3301';
    let counts = await countOf(faxId);
    expect(counts.ingested).toMatchObject([
      { seen_by_query: 1, seen_by_post: 0, first_seen_via: 'query', status: 'failed_user_busy', marked_at: expect.any(String) },
    ]);
    // Marked after recording: the query's GET came first, then the PUT.
    const order = replix.requests.filter((r) => r.query.FaxStatus === 'failed' || r.path.endsWith('/3301')).map((r) => r.method);
    expect(order.indexOf('GET')).toBeLessThan(order.indexOf('PUT'));

    const late = await replix.post(target(), '3301');
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ faxId, duplicate: true, status: 'failed_user_busy' });
    counts = await countOf(faxId);
    expect(counts).toMatchObject({ faxes: 1, recipients: 1 });
    expect(counts.ingested).toMatchObject([{ seen_by_query: 1, seen_by_post: 1 }]);
    expect(counts.finals).toHaveLength(1);
    expect((JSON.parse(counts.finals[0].event_json) as CloudEvent<'delivery.recipient.final'>).data).toMatchObject({
      status: 'failed_user_busy',
      pagesTotal: 4,
      reason: { code: 'replixfax_2', detail: 'ReplixFax FaxStatus=failed ErrorCode=2 ErrorText=Line busy' },
    });
  });

  it('records a posted fax, and when marking it failed, the query finds it again without a second record', async () => {
    replix.add({
      FaxId: '3302',
      FaxStatus: 'sent',
      ErrorCode: '0',
      ErrorText: '',
      DestFaxNumber: '+1 (202) 555-0182',
      CSI: 'ACME <b>FAX</b>',
      CompleteTime: '2026-11-22T11:10:00Z',
      PagesSent: '3',
      TotalPages: '3',
    });
    replix.failMarks = true;
    const posted = await replix.post(target(), '3302');
    expect(await posted.json()).toMatchObject({ faxId: 'rpx-olga-rpx-3302', duplicate: false, status: 'success' });
    await eventually(async () => (await countOf('rpx-olga-rpx-3302')).ingested[0]?.mark_attempts === 1);
    expect(replix.faxes.get('3302')!.Mark).toBe(false);

    replix.failMarks = false;
    expect(await poll()).toEqual({ seen: 1, recorded: 0, marked: 1 }); // found again by the query, not recorded again, marked
    expect(replix.faxes.get('3302')!.Mark).toBe(true);
    const counts = await countOf('rpx-olga-rpx-3302');
    expect(counts).toMatchObject({ faxes: 1, recipients: 1 });
    expect(counts.ingested).toMatchObject([{ seen_by_post: 1, seen_by_query: 1, first_seen_via: 'post' }]);
    expect(counts.finals).toHaveLength(1);
    const recipient = await service.database.db.selectFrom('recipients').selectAll().where('fax_id', '=', 'rpx-olga-rpx-3302').executeTakeFirstOrThrow();
    expect(recipient).toMatchObject({ status: 'success', pages_sent: 3, remote_csid: 'ACME <b>FAX</b>', number: '+12025550182' });
    // Nothing left unmarked: the next query finds nothing.
    expect(await poll()).toEqual({ seen: 0, recorded: 0, marked: 0 });
  });

  it('keeps one record when post and query race', async () => {
    replix.add({
      FaxId: '3303',
      FaxStatus: 'failed',
      ErrorCode: '5',
      ErrorText: 'No answer',
      DestFaxNumber: '12025550183',
      CSI: '',
      CompleteTime: '2026-11-22T11:20:00Z',
      PagesSent: '0',
      TotalPages: '1',
    });
    replix.failMarks = true; // so the query still lists it, whichever of the two records first
    const [posted, polled] = await Promise.all([replix.post(target(), '3303'), poll()]);
    replix.failMarks = false;
    expect(posted.status).toBe(200);
    expect(polled.seen).toBe(1);
    await poll(); // marks it, unless the post's own mark got there first
    expect(replix.faxes.get('3303')!.Mark).toBe(true);
    const counts = await countOf('rpx-olga-rpx-3303');
    expect(counts).toMatchObject({ faxes: 1, recipients: 1 });
    expect(counts.ingested).toHaveLength(1);
    expect(counts.finals).toHaveLength(1);
    expect(counts.ingested[0].status).toBe('failed_no_answer');
  });

  it('ignores what is not final or not outgoing, and refuses a wrong secret', async () => {
    const form = (fields: Record<string, string>, token = REPLIX_SECRET) =>
      fetch(`${service.url}/ingest/replixfax/olga-rpx?token=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    expect((await form({ FaxId: '1', FaxStatus: 'sending', DestFaxNumber: '12025550100' })).status).toBe(202);
    // An inbound fax is taken (see inbound.test.ts): one without its receive time is refused.
    expect((await form({ FaxId: '2', FaxStatus: 'recvOk', Queue: 'ReceiveFax' })).status).toBe(400);
    expect((await form({ FaxId: '3', FaxStatus: 'sent', DestFaxNumber: '12025550100' }, 'wrong-secret-0123456789')).status).toBe(401);
    const basic = await fetch(`${service.url}/ingest/replixfax/olga-rpx`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`replix:${REPLIX_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ FaxId: '3', FaxStatus: 'sending', DestFaxNumber: '12025550100' }).toString(),
    });
    expect(basic.status).toBe(202);
  });

  it('records the query error when the provider refuses the credentials', async () => {
    const headers = await asUserJson('olga');
    await fetch(`${service.url}/v1/ingest/accounts/replixfax/olga-wrong`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ secret: REPLIX_SECRET, baseUrl: replix.url, username: 'api-user', password: 'not-the-password' }),
    });
    const response = await fetch(`${service.url}/v1/ingest/accounts/replixfax/olga-wrong/poll`, { method: 'POST', headers: await asUser('olga') });
    expect(response.status).toBe(502);
    const accounts = (await (await fetch(`${service.url}/v1/ingest/accounts`, { headers })).json()) as {
      accounts: Array<{ account: string; lastPollError: string }>;
    };
    expect(accounts.accounts.find((a) => a.account === 'olga-wrong')!.lastPollError).toMatch(/HTTP 401/);
  });
});

describe('ReplixFax: where the poller may go', () => {
  const RULE = 'provider APIs are called only at public addresses';
  /** A DNS of its own, which the system's resolver knows nothing of. */
  const dns: Record<string, LookupAddress[]> = {
    'replix.internal.test': [{ address: '127.0.0.1', family: 4 }],
    'metadata.internal.test': [{ address: '169.254.169.254', family: 4 }],
  };
  const resolveHost = async (hostname: string) =>
    dns[hostname] ?? Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
  const viaName = (host: string) => replix.url.replace('127.0.0.1', host);
  const register = async (app: TestApp, account: string, baseUrl: string) =>
    fetch(`${app.url}/v1/ingest/accounts/replixfax/${account}`, {
      method: 'PUT',
      headers: await asUserJson('olga'),
      body: JSON.stringify({ secret: REPLIX_SECRET, baseUrl, username: 'api-user', password: 'api-password' }),
    });
  const accountsOf = async (app: TestApp) =>
    (
      (await (await fetch(`${app.url}/v1/ingest/accounts`, { headers: await asUser('olga') })).json()) as {
        accounts: Array<{ account: string; lastPollError: string | null }>;
      }
    ).accounts;

  it('refuses a baseUrl at a link-local or private address when it is set, saying why', async () => {
    const refused: Array<[string, string]> = [
      ['http://169.254.169.254/', `baseUrl's host 169.254.169.254 is a link-local address; ${RULE}`],
      ['http://10.0.0.1/', `baseUrl's host 10.0.0.1 is a private (RFC 1918) address; ${RULE}`],
      ['http://[::ffff:10.0.0.1]:8080/restapi/v1', `baseUrl's host [::ffff:a00:1] is a private (RFC 1918) address; ${RULE}`],
      ['http://api-user:pw@replix.example.test/', 'baseUrl must not carry a user name or password: give them as username and password'],
    ];
    for (const [baseUrl, message] of refused) {
      const answer = await register(service, 'olga-internal', baseUrl);
      expect({ baseUrl, status: answer.status, body: await answer.json() }).toEqual({ baseUrl, status: 400, body: { error: 'bad_request', message } });
    }
    expect((await accountsOf(service)).map((a) => a.account)).not.toContain('olga-internal');
  });

  it('does not query a base URL whose host name resolves to loopback when loopback is not allowed: logged, nothing fetched', async () => {
    replix.add({
      FaxId: '3401',
      FaxStatus: 'failed',
      ErrorCode: '2',
      ErrorText: 'Line busy',
      DestFaxNumber: '12025550191',
      CSI: '',
      CompleteTime: '2026-11-22T12:00:00Z',
      PagesSent: '0',
      TotalPages: '1',
    });
    const strict = await startTestApp('ingest-strict', { resolveHost });
    try {
      // A host name is taken when it is set: what it resolves to is judged at every request.
      expect((await register(strict, 'olga-dns', viaName('replix.internal.test'))).status).toBe(200);
      const warn = jest.spyOn(strict.logger, 'warn');
      const before = replix.requests.length;
      const reason = `blocked: replix.internal.test resolves to 127.0.0.1, a loopback address; ${RULE}`;

      expect(await strict.poller.pollOnce()).toEqual({ seen: 0, recorded: 0, marked: 0 }); // the round the timer runs: no crash
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ account: 'olga-dns', err: reason }),
        'ReplixFax account not polled: its base URL leads to an address that is not allowed',
      );
      expect((await accountsOf(strict)).find((a) => a.account === 'olga-dns')!.lastPollError).toBe(reason);
      const now = await fetch(`${strict.url}/v1/ingest/accounts/replixfax/olga-dns/poll`, { method: 'POST', headers: await asUser('olga') });
      expect({ status: now.status, body: await now.json() }).toEqual({ status: 400, body: { error: 'bad_request', message: reason } });

      // A posted result is recorded, but marking it at the provider is refused the same way.
      const posted = await replix.post(`${strict.url}/ingest/replixfax/olga-dns?token=${REPLIX_SECRET}`, '3401');
      expect(posted.status).toBe(200);
      const ingested = await eventually(async () => {
        const row = await strict.database.db.selectFrom('ingested_results').selectAll().where('account', '=', 'olga-dns').executeTakeFirst();
        return row && row.mark_attempts > 0 ? row : undefined;
      });
      expect(ingested).toMatchObject({
        marked_at: null,
        mark_error: expect.stringContaining('replix.internal.test resolves to 127.0.0.1, a loopback address'),
      });
      expect(replix.requests.length).toBe(before);
      expect(replix.faxes.get('3401')!.Mark).toBe(false);
    } finally {
      await strict.close();
    }
  });

  it('queries that base URL where the operator allows loopback, and still refuses one resolving to link-local', async () => {
    const allowing = await startTestApp('ingest-dns-allowed', { resolveHost, allowedPrivateRanges: ['127.0.0.0/8'] });
    try {
      expect((await register(allowing, 'olga-dns', viaName('replix.internal.test'))).status).toBe(200);
      expect((await register(allowing, 'olga-meta', viaName('metadata.internal.test'))).status).toBe(200);
      const warn = jest.spyOn(allowing.logger, 'warn');
      expect(await allowing.poller.pollOnce()).toEqual({ seen: 1, recorded: 1, marked: 1 });
      expect(replix.faxes.get('3401')!.Mark).toBe(true);
      expect(
        (await allowing.database.db.selectFrom('ingested_results').selectAll().where('account', '=', 'olga-dns').execute()).map((r) => r.provider_fax_id),
      ).toEqual(['3401']);
      const accounts = await accountsOf(allowing);
      expect(accounts.find((a) => a.account === 'olga-dns')!.lastPollError).toBeNull();
      expect(accounts.find((a) => a.account === 'olga-meta')!.lastPollError).toBe(
        `blocked: metadata.internal.test resolves to 169.254.169.254, a link-local address; ${RULE}`,
      );
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ account: 'olga-meta' }), expect.stringMatching(/not polled/));
    } finally {
      await allowing.close();
    }
  });
});

describe('status mapping', () => {
  it.each([
    [{ faxStatus: 'sent', errorCode: '0', errorText: '', pagesSent: 3, pagesTotal: 3 }, 'success'],
    [{ faxStatus: 'sent', errorCode: '0', errorText: '', pagesSent: 2, pagesTotal: 3 }, 'partially_sent'],
    [{ faxStatus: 'failed', errorCode: '17', errorText: 'Busy signal', pagesSent: 0, pagesTotal: 3 }, 'failed_user_busy'],
    [{ faxStatus: 'failed', errorCode: '18', errorText: 'No answer from remote', pagesSent: 0, pagesTotal: 3 }, 'failed_no_answer'],
    [{ faxStatus: 'failed', errorCode: '1', errorText: 'Number not in service', pagesSent: 0, pagesTotal: 3 }, 'failed_unallocated_number'],
    [{ faxStatus: 'failed', errorCode: '9', errorText: 'Invalid fax number', pagesSent: 0, pagesTotal: 3 }, 'failed_invalid_number_format'],
    [{ faxStatus: 'failed', errorCode: '40', errorText: 'Document conversion failed', pagesSent: 0, pagesTotal: 0 }, 'failed_convert_to_tiff_issue'],
    [{ faxStatus: 'failed', errorCode: '31', errorText: 'Call dropped', pagesSent: 1, pagesTotal: 3 }, 'partially_sent'],
    [{ faxStatus: 'failed', errorCode: '99', errorText: 'Something else', pagesSent: 0, pagesTotal: 3 }, 'failed'],
    [{ faxStatus: 'sending', errorCode: '', errorText: '', pagesSent: 1, pagesTotal: 3 }, null],
  ])('maps ReplixFax %j to %s', (input, expected) => {
    expect(mapReplixFaxStatus(input)).toBe(expected);
  });

  it('takes Fax.Plus statuses as ours and keeps an unknown one as failed with its word', () => {
    expect(
      parseFaxPlusWebhook({
        hook: { id: 'h', event: 'fax_sent', event_time: '2026-01-01 00:00:00' },
        data: { id: 'h', to: '+15551234567', status: 'failed_fs_49', pages: 1 },
      }),
    ).toMatchObject({ status: 'failed_fs_49' });
    expect(
      parseFaxPlusWebhook({
        hook: { id: 'h', event: 'fax_sent', event_time: '2026-01-01 00:00:00' },
        data: { id: 'h', to: '+15551234567', status: 'exploded', pages: 1 },
      }),
    ).toMatchObject({
      status: 'failed',
      rawStatus: 'exploded',
      reason: { code: 'faxplus_unknown_status' },
    });
  });

  it('reads fax numbers as providers write them', () => {
    expect(toE164('+1 334-304-1234')).toBe('+13343041234');
    expect(toE164('0044 20 7946 0000')).toBe('+442079460000');
    expect(() => toE164('+1 334-304-xxxx')).toThrow(/not a fax number/);
  });
});
