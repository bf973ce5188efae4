/**
 * Office documents, text and JPEG pictures through the conversion pool with the real converters:
 * the DOCX, DOC, RTF, XLSX and XLS files are made here by LibreOffice itself from a text and a CSV,
 * the JPEG and PNGs by Ghostscript; each is sniffed by its bytes (the files carry no telling name) and sent
 * as many fax pages as it has. A zip-bomb DOCX ends within the document's time limit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blackPixelCount, FAX_WIDTH, pageBitmap } from '@faxnotify/fax-line';
import { sniffFile, sniffSource } from './office';
import { ConversionPool } from './prepare';
import { makeSampleFiles } from './testing/sample-documents';

let dir: string;
let pool: ConversionPool;
const made: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'office-'));
  // The text is long enough for two pages in Writer's default style.
  Object.assign(made, makeSampleFiles(dir));
  const ps = join(dir, 'picture.ps');
  // PNGs in grey with alpha-free 8 bits and 1-bit black and white, besides the colour one.
  for (const [name, device] of [
    ['pnggray', 'pnggray'],
    ['pngmono', 'pngmono'],
  ]) {
    made[name] = join(dir, `${name}-file`);
    execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', `-sDEVICE=${device}`, '-r100', `-sOutputFile=${made[name]}`, ps]);
  }
  pool = new ConversionPool({ workers: 2 });
}, 120_000);

afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('office documents, text and pictures to fax pages', () => {
  it('sniffs each by its bytes, not by a name', async () => {
    for (const format of ['txt', 'docx', 'doc', 'rtf', 'xlsx', 'xls', 'jpeg', 'png']) {
      await expect(sniffSource(made[format])).resolves.toBe(format);
    }
    for (const format of ['txt', 'docx', 'doc', 'rtf', 'xlsx', 'xls', 'jpeg', 'png', 'pdf', 'tiff']) {
      await expect(sniffFile(made[format])).resolves.toBe(format);
    }
    const binary = join(dir, 'binary');
    writeFileSync(binary, Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x00]));
    await expect(sniffSource(binary)).resolves.toBeNull();
  });

  it.each([
    ['txt', 2],
    ['docx', 2],
    ['doc', 2],
    ['rtf', 2],
    ['xlsx', 1],
    ['xls', 1],
    ['jpeg', 1],
    ['png', 1],
    ['pnggray', 1],
    ['pngmono', 1],
  ])(
    'converts %s to %i fax page(s) with ink on them',
    async (format, pages) => {
      const result = await pool.prepare(made[format], {});
      if (!result.ok) throw new Error(`${result.status}: ${result.detail}`);
      expect(result.format).toBe('pdf');
      expect(result.document.pages).toHaveLength(pages);
      for (const page of result.document.pages) {
        expect(page.width).toBe(FAX_WIDTH);
        expect(page.resolution).toBe('fine');
        expect(blackPixelCount(pageBitmap(page))).toBeGreaterThan(1_000);
      }
      if (format.startsWith('png') || format === 'jpeg') {
        // The picture's white background stays white: well under a tenth of the page is ink.
        const page = result.document.pages[0];
        expect(blackPixelCount(pageBitmap(page))).toBeLessThan((page.width * page.height) / 10);
      }
    },
    60_000,
  );

  it('two conversions side by side each get their pages (a profile each)', async () => {
    const [a, b] = await Promise.all([pool.prepare(made.docx, {}), pool.prepare(made.rtf, {})]);
    expect(a.ok && a.document.pages.length).toBe(2);
    expect(b.ok && b.document.pages.length).toBe(2);
  }, 60_000);

  it('refuses a file that is none of the formats as failed_mimetype_not_supported', async () => {
    const binary = join(dir, 'not-a-document');
    writeFileSync(binary, Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(64)]));
    const result = await pool.prepare(binary, {});
    expect(result).toMatchObject({ ok: false, status: 'failed_mimetype_not_supported' });
  });

  it('a PNG over documents.maxPixelsPerPage ends as failed_image_preparation before it is decoded', async () => {
    const result = await pool.prepare(made.png, { limits: { maxPixelsPerPage: 100_000 } });
    expect(result).toMatchObject({ ok: false, status: 'failed_image_preparation' });
    expect(!result.ok && result.detail).toMatch(/PNG picture has \d+x\d+ pixels, more than the limit of 100,000 \(documents\.maxPixelsPerPage\)/);
  });

  it('a broken DOCX ends as failed_office_converter_issue', async () => {
    const broken = join(dir, 'broken-docx');
    // A zip's local header and the content-types name, with nothing a reader can open behind it.
    writeFileSync(broken, Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(26), Buffer.from('[Content_Types].xml word/document.xml')]));
    const result = await pool.prepare(broken, {});
    expect(result).toMatchObject({ ok: false, status: 'failed_office_converter_issue' });
  }, 60_000);

  it('a zip-bomb DOCX ends within the time limit', async () => {
    const work = mkdtempSync(join(dir, 'bomb-'));
    execFileSync('unzip', ['-q', made.docx, '-d', work]);
    // About 200 MB of paragraphs that deflate to well under a megabyte.
    const paragraph = '<w:p><w:r><w:t>bomb</w:t></w:r></w:p>';
    const body = paragraph.repeat(Math.floor((200 * 1024 * 1024) / paragraph.length));
    writeFileSync(
      join(work, 'word/document.xml'),
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
    );
    const bomb = join(dir, 'bomb-docx');
    execFileSync('zip', ['-q', '-r', '-9', bomb, '.'], { cwd: work });
    rmSync(work, { recursive: true, force: true });
    const started = Date.now();
    const result = await pool.prepare(`${bomb}.zip`, { limits: { maxSeconds: 15 } });
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(['failed_image_preparation', 'failed_office_converter_issue']).toContain(result.status);
  }, 90_000);
});
