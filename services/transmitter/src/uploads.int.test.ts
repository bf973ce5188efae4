/**
 * Uploads of every format Fax.Plus lists (DOC, DOCX, PDF, TXT, RTF, JPG/JPEG, PNG, TIFF, XLS, XLSX)
 * through the API of a running transmitter with no lines: each told by its content under a name that
 * says nothing, kept with its format's extension, the `format` query checked against the content, and
 * a fax of an office file and a picture prepared to the pages fax.submitted reports. A
 * password-protected PDF is taken at upload and its fax ends as failed_unknown_converter_issue.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CreatedView, ErrorView } from './api';
import type { FileFormat } from './documents';
import { makeSampleFiles } from './documents/testing/sample-documents';
import { EXTENSION } from './uploads';
import type { FaxView } from './outbox';
import { api, faxIdOf, finalFax, startTestTransmitter, upload, type TestTransmitter } from './testing/harness';

jest.setTimeout(120_000);

let t: TestTransmitter;
let url: string;
let alice: string;
let made: Record<FileFormat, string>;

beforeAll(async () => {
  t = await startTestTransmitter('uploads', { 'dial.region': 'US' });
  url = t.service.url;
  alice = await t.token('alice');
  made = makeSampleFiles(t.dir);
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('uploads of every listed format', () => {
  it.each(Object.keys(EXTENSION) as FileFormat[])('keeps a %s file by its content, with its extension, named or not', async (format) => {
    const plain = await upload(url, alice, made[format], { name: 'document.bin' });
    expect(plain.status).toBe(200);
    expect(plain.body.path).toMatch(new RegExp(`^/storage/[0-9a-f-]{36}\\.${EXTENSION[format]}$`));
    // The format the client names, in Fax.Plus's spelling or the extension's, upper case too.
    const named = await upload(url, alice, made[format], { format: EXTENSION[format].toUpperCase() });
    expect(named.status).toBe(200);
    expect(named.body.path.endsWith(`.${EXTENSION[format]}`)).toBe(true);
    const aliased = await upload(url, alice, made[format], { format });
    expect(aliased.status).toBe(200);
  });

  it('refuses a named format the content is not, saying what the content is', async () => {
    const wrong = await upload<ErrorView>(url, alice, made.docx, { format: 'pdf' });
    expect(wrong).toEqual({
      status: 400,
      body: { error: 'failed_mimetype_not_supported', description: 'the file is a DOCX document, not PDF as the format says' },
    });
    expect((await upload<ErrorView>(url, alice, made.rtf, { format: 'txt' })).body.error).toBe('failed_mimetype_not_supported');
    expect((await upload<ErrorView>(url, alice, made.xls, { format: 'doc' })).body.error).toBe('failed_mimetype_not_supported');
    const unknown = await upload<ErrorView>(url, alice, made.png, { format: 'gif' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.description).toContain('format must be one of pdf, tiff, doc, docx, txt, rtf, jpg, jpeg, png, xls, xlsx');
  });

  it('faxes a DOCX and a PNG as one fax: the pages are prepared and reported in fax.submitted', async () => {
    const docx = (await upload(url, alice, made.docx, { name: 'letter.docx' })).body.path;
    const png = (await upload(url, alice, made.png, { name: 'picture.png' })).body.path;
    const created = await api<CreatedView>(url, alice, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550103'], files: [docx, png] });
    expect(created.status).toBe(201);
    const faxId = await faxIdOf(url, alice, created.body.id, 90_000);
    const submitted = await t.events.waitFor((e) => e.type === 'faxnotify.fax.submitted.v2' && (e.data as { faxId: string }).faxId === faxId, 30_000);
    expect(submitted.data).toMatchObject({
      files: [
        { name: 'letter.docx', pages: 2 },
        { name: 'picture.png', pages: 1 },
      ],
      pages: 3,
    });
  });

  it('takes a password-protected PDF, whose fax ends as failed_unknown_converter_issue', async () => {
    const ps = join(t.dir, 'secret.ps');
    writeFileSync(ps, '%!PS\n/Helvetica findfont 30 scalefont setfont 72 700 moveto (Secret) show showpage\n');
    const secret = join(t.dir, 'secret.pdf');
    execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-sDEVICE=pdfwrite', '-sOwnerPassword=owner', '-sUserPassword=user', `-sOutputFile=${secret}`, ps]);
    const uploaded = await upload(url, alice, secret);
    expect(uploaded.status).toBe(200);
    const created = await api<CreatedView>(url, alice, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550104'], files: [uploaded.body.path] });
    const faxId = await faxIdOf(url, alice, created.body.id, 60_000);
    const fax: FaxView = await finalFax(url, alice, faxId, 60_000);
    expect(fax.recipients.map((r) => r.status)).toEqual(['failed_unknown_converter_issue']);
  });
});
