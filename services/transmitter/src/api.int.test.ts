/**
 * The fax API on a running transmitter with no lines, so nothing is dialled: tokens and
 * scoping, the limits and their error codes, and the outbox before sending.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSamplePdf } from './documents/testing/sample-documents';
import type { CreatedView, ErrorView, OutboxListView } from './api';
import type { FaxView, OutboxEntryView } from './outbox';
import { api, faxIdOf, startTestTransmitter, upload, type TestTransmitter } from './testing/harness';

jest.setTimeout(30_000);

let t: TestTransmitter;
let url: string;
let alice: string;
let pdf: string;

beforeAll(async () => {
  t = await startTestTransmitter('api', { 'limits.maxBytes': 2 * 1024 * 1024, 'dial.region': 'US' });
  url = t.service.url;
  alice = await t.token('alice');
  pdf = makeSamplePdf(t.dir, 'letter', [['faxnotify api test', 'one page']]);
});

afterAll(async () => {
  await t?.close();
});

const future = () => new Date(Date.now() + 3_600_000).toISOString();

async function uploadedPath(token = alice): Promise<string> {
  const { status, body } = await upload(url, token, pdf);
  expect(status).toBe(200);
  return body.path;
}

describe('fax API', () => {
  it("answers 401 without a valid token and 404 for another user's account", async () => {
    expect((await api(url, null, 'GET', '/v3/accounts/self/outbox')).status).toBe(401);
    expect((await api(url, 'not-a-token', 'GET', '/v3/accounts/self/outbox')).status).toBe(401);
    const other = await api(url, alice, 'GET', '/v3/accounts/bob/outbox');
    expect(other).toEqual({ status: 404, body: { error: 'not_found', description: 'no such account' } });
    expect((await api(url, alice, 'GET', '/v3/accounts/alice/outbox')).status).toBe(200);
    expect((await upload(url, alice, pdf, { user: 'bob' })).status).toBe(404);
  });

  it('stores uploads by their content, whatever their name, and refuses anything not on the list', async () => {
    const { status, body } = await upload(url, alice, pdf, { format: 'pdf' });
    expect(status).toBe(200);
    expect(body.path).toMatch(/^\/storage\/[0-9a-f-]{36}\.pdf$/);

    const png = join(t.dir, 'photo.pdf');
    writeFileSync(png, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]));
    const renamed = await upload(url, alice, png);
    expect(renamed.status).toBe(200);
    expect(renamed.body.path).toMatch(/^\/storage\/[0-9a-f-]{36}\.png$/);

    const gif = join(t.dir, 'letter.docx');
    writeFileSync(gif, Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(300)]));
    const refused = await upload<ErrorView>(url, alice, gif);
    expect(refused).toMatchObject({ status: 400, body: { error: 'failed_mimetype_not_supported' } });
    expect(refused.body.description).toContain('DOC, DOCX, PDF, TXT, RTF, JPEG, PNG, TIFF, XLS or XLSX');

    // The client's word is checked against the content too.
    expect((await upload<ErrorView>(url, alice, pdf, { format: 'tiff' })).body.error).toBe('failed_mimetype_not_supported');
    expect((await upload<ErrorView>(url, alice, pdf, { format: 'docx' })).body.error).toBe('failed_mimetype_not_supported');
    expect((await upload<ErrorView>(url, alice, pdf, { format: 'gif' })).body.error).toBe('failed_mimetype_not_supported');
    expect((await upload(url, alice, pdf, { field: 'document' })).status).toBe(400);

    const big = join(t.dir, 'big.pdf');
    writeFileSync(big, Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2 * 1024 * 1024 + 10, 0x20)]));
    expect(await upload(url, alice, big)).toMatchObject({ status: 413, body: { error: 'file_too_large' } });
  });

  it('refuses more than 10 files, too many bytes, unknown files and bad numbers before anything is queued', async () => {
    const path = await uploadedPath();
    const eleven = await api(url, alice, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550101'], files: Array(11).fill(path) });
    expect(eleven).toMatchObject({ status: 400, body: { error: 'too_many_files' } });

    const bobsPath = await uploadedPath(await t.token('bob'));
    const notHers = await api(url, alice, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550101'], files: [bobsPath] });
    expect(notHers).toMatchObject({ status: 400, body: { error: 'file_not_found' } });

    for (const number of ['12', '+1 555 555 0100', 'fax me', '+12025550101 ext. 12']) {
      const bad = await api(url, alice, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550101', number], files: [path] });
      expect(bad).toMatchObject({ status: 400, body: { error: 'failed_invalid_number_format' } });
      expect(bad.body.description).toContain(JSON.stringify(number));
    }
    expect((await api(url, alice, 'POST', '/v3/accounts/self/outbox', { to: [], files: [path] })).status).toBe(400);
    expect((await api(url, alice, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550101'], files: [path], retry: { count: 4 } })).status).toBe(400);
    expect((await api(url, alice, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550101'], files: [path], send_time: 'tomorrow' })).status).toBe(400);
    expect((await api<OutboxListView>(url, alice, 'GET', '/v3/accounts/self/outbox')).body.records).toEqual([]);
  });

  it('queues a good submission with numbers in E.164, then lists, changes and cancels it before it is sent', async () => {
    const path = await uploadedPath();
    const sendTime = future();
    const created = await api<CreatedView>(url, alice, 'POST', '/v3/accounts/self/outbox', {
      from: '+1 202 555 0100',
      to: ['(202) 555-0101', '+44 20 7946 0958'],
      files: [path],
      comment: { text: 'Quarterly report' },
      send_time: sendTime,
      retry: { count: 2, delay: 5 },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(id).toMatch(/^outbox-/);

    const list = await api<OutboxListView>(url, alice, 'GET', '/v3/accounts/self/outbox');
    expect(list.body.records).toHaveLength(1);
    expect(list.body.records[0]).toMatchObject({
      id,
      uid: 'alice',
      src: '+12025550100',
      to: ['+12025550101', '+442079460958'],
      files: [path],
      comment: { text: 'Quarterly report' },
      status: 'scheduled',
      send_time: sendTime,
      retry: { count: 2, delay: 5 },
      fax_id: null,
    });
    expect((await api(url, await t.token('bob'), 'GET', `/v3/accounts/self/outbox/${id}`)).status).toBe(404);

    const changed = await api<OutboxEntryView>(url, alice, 'PUT', `/v3/accounts/self/outbox/${id}`, {
      to: ['+12025550102'],
      comment: { text: 'Q3 report, final' },
      send_time: '2099-01-02 03:04:05 +0000',
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      to: ['+12025550102'],
      comment: { text: 'Q3 report, final' },
      send_time: '2099-01-02T03:04:05.000Z',
      files: [path],
      retry: { count: 2, delay: 5 },
    });
    expect((await api(url, alice, 'PUT', `/v3/accounts/self/outbox/${id}`, { to: ['oops'] })).body.error).toBe('failed_invalid_number_format');

    expect((await api(url, await t.token('bob'), 'DELETE', `/v3/accounts/self/outbox/${id}`)).status).toBe(404);
    expect((await api(url, alice, 'DELETE', `/v3/accounts/self/outbox/${id}`)).status).toBe(204);
    expect((await api(url, alice, 'GET', `/v3/accounts/self/outbox/${id}`)).status).toBe(404);
    expect((await api<OutboxListView>(url, alice, 'GET', '/v3/accounts/self/outbox')).body.records).toEqual([]);
  });

  it('sends an entry when its time comes: the fax id takes over and fax.submitted goes out; the entry can no longer change', async () => {
    const path = await uploadedPath();
    const created = await api<CreatedView>(url, alice, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550103'], files: [path], comment: { text: 'Now' } });
    const id = created.body.id;
    const faxId = await faxIdOf(url, alice, id);
    const submitted = await t.events.waitFor((e) => e.type === 'faxnotify.fax.submitted.v2' && (e.data as { faxId: string }).faxId === faxId);
    expect(submitted.data).toMatchObject({
      faxId,
      outboxId: id,
      ownerId: 'alice',
      subject: 'Now',
      recipients: [{ recipientId: 'r1', number: '+12025550103' }],
      files: [{ name: 'letter.pdf', pages: 1 }],
      pages: 1,
      retry: { count: 2, delayMinutes: 0 },
    });
    expect(submitted.subject).toBe(`fax/${faxId}`);
    expect((await api(url, alice, 'PUT', `/v3/accounts/self/outbox/${id}`, { comment: { text: 'late' } })).body.error).toBe('already_sent');
    expect((await api(url, alice, 'DELETE', `/v3/accounts/self/outbox/${id}`)).status).toBe(409);

    const fax = await api<FaxView>(url, alice, 'GET', `/v3/accounts/self/faxes/${faxId}`);
    expect(fax.body).toMatchObject({
      id: faxId,
      outbox_id: id,
      status: 'in_progress',
      page_count: 1,
      recipients: [{ recipient_id: 'r1', to: '+12025550103', status: 'queued', final: false, attempt: 0, max_attempts: 3 }],
    });
    expect((await api(url, await t.token('bob'), 'GET', `/v3/accounts/self/faxes/${faxId}`)).status).toBe(404);
  });
});
