import { issueToken } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { receivedPdf } from '../inbox/documents';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { FakeFaxPlus } from '../testing/faxplus';
import { testPage } from '../testing/received';
import { FakeReplixFax } from '../testing/replixfax';
import { parseFaxPlusReceived, providerFile } from './inbound';

/**
 * Received faxes from providers over HTTP, with the providers' APIs as real HTTP servers: a Fax.Plus
 * `fax_received` webhook whose file is downloaded with the account's token, and ReplixFax inbound
 * faxes by push, by the administrative account's query, and by both. Each is one Inbox record and
 * one delivery.fax.received in the outbox, owned by the account's owner.
 */
const FAXPLUS_SECRET = 'faxplus-inbound-secret-0123';
const REPLIX_SECRET = 'replix-inbound-secret-0123';
const FAXPLUS_TOKEN = 'faxplus-personal-access-token';

let service: TestApp;
const faxplus = new FakeFaxPlus(FAXPLUS_TOKEN);
const replix = new FakeReplixFax('replix-admin', 'admin-password');
const page = testPage(1100, 'standard', 1).page;
const PDF = receivedPdf([{ width: page.width, rows: page.rows, resolution: 'standard', data: Buffer.from(page.data, 'base64') }]);

const asJson = async (user: string) => ({ authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user)}`, 'content-type': 'application/json' });
const faxplusTarget = () => `${service.url}/ingest/faxplus/vera-fp?token=${FAXPLUS_SECRET}`;
const replixTarget = () => `${service.url}/ingest/replixfax/vera-rpx?token=${REPLIX_SECRET}`;
const db = () => service.database.db;
const record = (id: string) => db().selectFrom('received_faxes').selectAll().where('id', '=', id).executeTakeFirst();
const notices = (id: string) =>
  db()
    .selectFrom('outbox')
    .select(['event_json'])
    .where('routing_key', '=', 'delivery.fax.received')
    .where('dedupe_key', '=', `delivery.fax.received:${id}`)
    .execute();
const poll = async () => {
  const response = await fetch(`${service.url}/v1/ingest/accounts/replixfax/vera-rpx/poll`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, 'olga')}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { seen: number; recorded: number; marked: number };
};

const received = (id: string, data: Record<string, unknown> = {}) => ({
  hook: { id, event: 'fax_received', event_time: '2026-12-07 09:15:42', target: 'https://tracker.example.test/ingest/faxplus/vera-fp' },
  data: {
    id,
    uid: '490ae330dbc749f0b6561dafa300f2fb',
    direction: 'incoming',
    from: '+39 06 1234 5678',
    to: '+39 06 9876 5432',
    pages: 2,
    status: 'success',
    start_time: '2026-12-07 09:14:10',
    file: `file-${id}`,
    file_name: `fax-from-390612345678`,
    ...data,
  },
});

beforeAll(async () => {
  service = await startTestApp('ingest-inbound', { allowedPrivateRanges: ['127.0.0.0/8'] });
  await Promise.all([faxplus.start(), replix.start()]);
  const headers = await asJson('olga');
  const put = (path: string, body: unknown) => fetch(`${service.url}/v1/ingest/accounts/${path}`, { method: 'PUT', headers, body: JSON.stringify(body) });
  expect((await put('faxplus/vera-fp', { secret: FAXPLUS_SECRET, ownerId: 'vera', baseUrl: faxplus.url, password: FAXPLUS_TOKEN })).status).toBe(200);
  expect(
    (await put('replixfax/vera-rpx', { secret: REPLIX_SECRET, ownerId: 'vera', baseUrl: replix.url, username: 'replix-admin', password: 'admin-password' }))
      .status,
  ).toBe(200);
});

afterAll(async () => {
  await service?.close();
  await Promise.all([faxplus.stop(), replix.stop()]);
});

describe('reading a Fax.Plus received-fax webhook', () => {
  it('maps from, to, pages, status, times and the file id; ignores a sent fax', () => {
    expect(parseFaxPlusReceived(received('fr-0', { status: 'partially_received', csid: 'ACME FAX' }))).toEqual({
      provider: 'faxplus',
      providerFaxId: 'fr-0',
      callerNumber: '+39 06 1234 5678',
      calledNumber: '+39 06 9876 5432',
      remoteCsid: 'ACME FAX',
      status: 'partially_received',
      rawStatus: 'partially_received',
      pagesReceived: 2,
      startedAt: '2026-12-07T09:14:10.000Z',
      endedAt: '2026-12-07T09:15:42.000Z',
      fileId: 'file-fr-0',
    });
    const sent = received('fs-0', { direction: 'outgoing' });
    expect(parseFaxPlusReceived({ ...sent, hook: { ...sent.hook, event: 'fax_sent' } })).toBeNull();
    // A Fax.Plus user id in place of a number is not shown as a number.
    expect(parseFaxPlusReceived(received('fr-1', { from: '490ae330dbc749f0b6561dafa300f2fb' }))?.callerNumber).toBeNull();
  });

  it('knows a provider file by its first bytes', () => {
    expect(providerFile(PDF).contentType).toBe('application/pdf');
    expect(providerFile(Buffer.from('II*\0rest')).contentType).toBe('image/tiff');
    expect(() => providerFile(Buffer.from('<html>'))).toThrow('neither a PDF nor a TIFF');
  });
});

describe('Fax.Plus received faxes', () => {
  it('downloads the file with the account token and records it once in the owner Inbox, with one notice', async () => {
    faxplus.files.set('file-fp-100', { contentType: 'application/pdf', data: PDF });
    const first = await faxplus.post(faxplusTarget(), received('fp-100', { status: 'partially_received' }));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ recorded: true, duplicate: false, receivedId: 'fxp-vera-fp-fp-100', status: 'partially_received' });
    const again = await faxplus.post(faxplusTarget(), received('fp-100', { status: 'partially_received' }));
    expect(await again.json()).toMatchObject({ recorded: true, duplicate: true });
    // Known already: not downloaded a second time.
    expect(faxplus.downloads.filter((id) => id === 'file-fp-100')).toHaveLength(1);
    const row = await record('fxp-vera-fp-fp-100');
    expect(row).toMatchObject({
      owner_id: 'vera',
      source: 'faxplus',
      line_id: null,
      caller_number: '+39 06 1234 5678',
      called_number: '+39 06 9876 5432',
      status: 'partially_received',
      pages: 2,
      started_at: '2026-12-07T09:14:10.000Z',
      ended_at: '2026-12-07T09:15:42.000Z',
      file_type: 'application/pdf',
    });
    expect(Buffer.from(row!.file_data!).equals(PDF)).toBe(true);
    const sent = await notices('fxp-vera-fp-fp-100');
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0].event_json)).toMatchObject({
      type: 'faxnotify.delivery.fax.received.v1',
      data: { ownerId: 'vera', status: 'partially_received', pagesReceived: 2, document: { contentType: 'application/pdf', data: PDF.toString('base64') } },
    });
  });

  it('a download that fails is answered 503 (the provider posts again) and recorded when it works', async () => {
    faxplus.files.set('file-fp-101', { contentType: 'application/pdf', data: PDF });
    faxplus.failDownloads = true;
    const failed = await faxplus.post(faxplusTarget(), received('fp-101'));
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ error: 'download_failed' });
    expect(await record('fxp-vera-fp-fp-101')).toBeUndefined();
    faxplus.failDownloads = false;
    expect((await faxplus.post(faxplusTarget(), received('fp-101'))).status).toBe(200);
    expect(await record('fxp-vera-fp-fp-101')).toMatchObject({ owner_id: 'vera', status: 'success' });
    expect(await notices('fxp-vera-fp-fp-101')).toHaveLength(1);
  });

  it('a failed reception without a file is recorded as failed, with nothing to download', async () => {
    const response = await faxplus.post(faxplusTarget(), received('fp-104', { status: 'failed_normal_clearing', file: undefined, pages: 0 }));
    expect(await response.json()).toMatchObject({ recorded: true, duplicate: false, status: 'failed' });
    expect(faxplus.downloads).not.toContain('file-fp-104');
    expect(await record('fxp-vera-fp-fp-104')).toMatchObject({ status: 'failed', pages: 0, file_type: null });
    expect(await notices('fxp-vera-fp-fp-104')).toHaveLength(1);
  });

  it('a bad webhook is a clear 400 and records nothing', async () => {
    const { file: _file, ...noFile } = received('fp-102').data;
    const bad = await faxplus.post(faxplusTarget(), { hook: received('fp-102').hook, data: noFile });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'bad_request', message: 'data.file is missing: a received fax has a file to download' });
    const badTime = await faxplus.post(faxplusTarget(), received('fp-103', { start_time: 'yesterday' }));
    expect(badTime.status).toBe(400);
    expect(await record('fxp-vera-fp-fp-102')).toBeUndefined();
    expect(await record('fxp-vera-fp-fp-103')).toBeUndefined();
  });
});

describe('ReplixFax inbound faxes', () => {
  const inbound = (id: string) =>
    replix.addInbound(
      {
        FaxId: id,
        FaxStatus: 'Received',
        ANI: '+390612345678',
        DNIS: '+390698765432',
        CSI: 'ACME SALES',
        Pages: '1',
        ReceiveTime: '2026-12-07T10:00:00Z',
        FaxUserId: 'vera',
      },
      PDF,
    );

  it('push only: recorded from the post, content retrieved, marked at the provider', async () => {
    inbound('9001');
    const posted = await replix.postInbound(replixTarget(), '9001');
    expect(posted.status).toBe(200);
    expect(await posted.json()).toMatchObject({ recorded: true, duplicate: false, receivedId: 'rpx-vera-rpx-9001', status: 'success' });
    expect(await record('rpx-vera-rpx-9001')).toMatchObject({
      owner_id: 'vera',
      source: 'replixfax',
      caller_number: '+390612345678',
      remote_csid: 'ACME SALES',
    });
    await eventually(() => replix.inbound.get('9001')?.Mark, 5000);
    expect(await notices('rpx-vera-rpx-9001')).toHaveLength(1);
  });

  it('query only: the administrative account lists the unmarked fax, its content is retrieved, it is marked', async () => {
    inbound('9002');
    const report = await poll();
    expect(report).toMatchObject({ recorded: 1 });
    expect(replix.inbound.get('9002')?.Mark).toBe(true);
    const row = await record('rpx-vera-rpx-9002');
    expect(Buffer.from(row!.file_data!).equals(PDF)).toBe(true);
    expect(await notices('rpx-vera-rpx-9002')).toHaveLength(1);
  });

  it('both: the query lists a fax the post recorded (its mark lost): one record, one notice, no second download', async () => {
    inbound('9003');
    expect((await replix.postInbound(replixTarget(), '9003')).status).toBe(200);
    await eventually(() => replix.inbound.get('9003')?.Mark, 5000);
    replix.inbound.get('9003')!.Mark = false;
    await poll();
    expect(replix.inbound.get('9003')?.Mark).toBe(true);
    expect(replix.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/inboundfaxes/9003/content'))).toHaveLength(1);
    expect(await db().selectFrom('received_faxes').select('id').where('id', '=', 'rpx-vera-rpx-9003').execute()).toHaveLength(1);
    expect(await notices('rpx-vera-rpx-9003')).toHaveLength(1);
  });

  it('content that cannot be had: the post gets 503, the fax stays unmarked and the next query records it', async () => {
    inbound('9004');
    replix.failContent = true;
    expect((await replix.postInbound(replixTarget(), '9004')).status).toBe(503);
    await poll();
    expect(replix.inbound.get('9004')?.Mark).toBe(false);
    expect(await record('rpx-vera-rpx-9004')).toBeUndefined();
    replix.failContent = false;
    await poll();
    expect(replix.inbound.get('9004')?.Mark).toBe(true);
    expect(await record('rpx-vera-rpx-9004')).toMatchObject({ owner_id: 'vera', status: 'success' });
    expect(await notices('rpx-vera-rpx-9004')).toHaveLength(1);
  });

  it('a bad push is a clear 400 and records nothing', async () => {
    const noTime = await replix.postInbound(replixTarget(), 'none', { FaxId: '9005', ANI: '+390612345678' });
    expect(noTime.status).toBe(400);
    expect(await noTime.json()).toEqual({ error: 'bad_request', message: 'ReceiveTime is missing' });
    const noId = await replix.postInbound(replixTarget(), 'none', { ANI: '+390612345678', ReceiveTime: '2026-12-07T10:00:00Z' });
    expect(await noId.json()).toEqual({ error: 'bad_request', message: 'FaxId is missing' });
    expect(await record('rpx-vera-rpx-9005')).toBeUndefined();
  });
});
