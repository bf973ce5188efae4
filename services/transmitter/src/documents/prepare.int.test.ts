import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapForResolution, blackPixelCount, createBitmap, FAX_WIDTH, halveRows, pageBitmap, pageFromBitmap, writeG3Tiff } from '@faxnotify/fax-line';
import { prepareDocument, prepareDocuments } from './prepare';
import { makeSamplePdf, toPbm } from './testing/sample-documents';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'prepare-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function squares(width: number, height: number): ReturnType<typeof createBitmap> {
  const bitmap = createBitmap(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((Math.floor(x / 40) + Math.floor(y / 40)) % 2 === 0) bitmap.data[y * bitmap.rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return bitmap;
}

describe('PDF to fax pages', () => {
  it('renders every page at fax width, fine by default, and counts them', async () => {
    const pdf = makeSamplePdf(dir, 'two', [['First page'], ['Second page', 'more text']]);
    const result = await prepareDocument(pdf);
    if (!result.ok) throw new Error(result.detail);
    expect(result.format).toBe('pdf');
    expect(result.document.pages).toHaveLength(2);
    for (const page of result.document.pages) {
      expect(page.width).toBe(FAX_WIDTH);
      expect(page.resolution).toBe('fine');
      // A4 at 196 lines per inch.
      expect(page.height).toBeGreaterThan(2200);
      expect(blackPixelCount(pageBitmap(page))).toBeGreaterThan(10_000);
    }
    expect(result.document.pages[0].data.equals(result.document.pages[1].data)).toBe(false);
  });

  it('renders at standard resolution on request', async () => {
    const pdf = makeSamplePdf(dir, 'one', [['Standard']]);
    const result = await prepareDocument(pdf, { resolution: 'standard' });
    if (!result.ok) throw new Error(result.detail);
    expect(result.document.pages[0].resolution).toBe('standard');
    expect(result.document.pages[0].height).toBeGreaterThan(1100);
    expect(result.document.pages[0].height).toBeLessThan(1200);
  });

  it("reports a damaged PDF as failed_convert_to_tiff_issue with the converter's words", async () => {
    const path = join(dir, 'broken.pdf');
    writeFileSync(path, '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const result = await prepareDocument(path);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe('failed_convert_to_tiff_issue');
    expect(result.detail.length).toBeGreaterThan(0);
  });

  it('reports a missing converter as failed_unknown_converter_issue', async () => {
    const pdf = makeSamplePdf(dir, 'nogs', [['x']]);
    const result = await prepareDocument(pdf, { ghostscript: '/nonexistent/gs' });
    expect(result).toMatchObject({ ok: false, status: 'failed_unknown_converter_issue' });
  });
});

describe('TIFF normalisation', () => {
  it('keeps a fax-ready G3 TIFF pixel for pixel', async () => {
    const bitmap = squares(1728, 400);
    const page = pageFromBitmap(bitmap, 'fine');
    const path = join(dir, 'ready.tif');
    writeFileSync(path, writeG3Tiff([{ width: 1728, height: 400, xResolution: 204, yResolution: 196, data: page.data }]));
    const result = await prepareDocument(path);
    if (!result.ok) throw new Error(result.detail);
    expect(result.format).toBe('tiff');
    expect(result.document.pages[0].resolution).toBe('fine');
    expect(Buffer.from(pageBitmap(result.document.pages[0]).data)).toEqual(Buffer.from(bitmap.data));
  });

  it('scales a 300 dpi LZW greyscale scan to 1728 pixels and the nearest fax resolution', async () => {
    // 8.5 x 2 inches at 300 dpi, grey squares on white.
    const width = 2550;
    const height = 600;
    const pgm = Buffer.alloc(width * height, 255);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((Math.floor(x / 60) + Math.floor(y / 60)) % 2 === 0) pgm[y * width + x] = 40;
    writeFileSync(join(dir, 'scan.pgm'), Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`), pgm]));
    execFileSync('ppm2tiff', ['-c', 'lzw', '-R', '300', join(dir, 'scan.pgm'), join(dir, 'scan.tif')]);
    const result = await prepareDocument(join(dir, 'scan.tif'));
    if (!result.ok) throw new Error(result.detail);
    const page = result.document.pages[0];
    expect(page.width).toBe(1728);
    expect(page.resolution).toBe('fine');
    // 8.5 in at 204 dpi is 1734 pixels: fitted into 1728; 2 in at 196 lines per inch.
    expect(page.height).toBeGreaterThan(380);
    expect(page.height).toBeLessThan(400);
    const black = blackPixelCount(pageBitmap(page));
    expect(black / (1728 * page.height)).toBeGreaterThan(0.4);
    expect(black / (1728 * page.height)).toBeLessThan(0.6);
  });

  it('reads 2-D coded, multi-page TIFF through tiffcp', async () => {
    const bitmap = squares(1728, 200);
    writeFileSync(join(dir, 'sq.pbm'), toPbm(bitmap));
    execFileSync('ppm2tiff', ['-c', 'g3:2d', '-R', '204', join(dir, 'sq.pbm'), join(dir, 'a.tif')]);
    execFileSync('tiffset', ['-s', '283', '98', join(dir, 'a.tif')]);
    execFileSync('tiffcp', [join(dir, 'a.tif'), join(dir, 'a.tif'), join(dir, 'two2d.tif')]);
    const result = await prepareDocument(join(dir, 'two2d.tif'));
    if (!result.ok) throw new Error(result.detail);
    expect(result.document.pages).toHaveLength(2);
    expect(result.document.pages[1].resolution).toBe('standard');
    expect(Buffer.from(pageBitmap(result.document.pages[1]).data)).toEqual(Buffer.from(bitmap.data));
  });

  it('reports a damaged TIFF as failed_image_preparation', async () => {
    const good = readFileSync(join(dir, 'ready.tif'));
    const damaged = Buffer.from(good);
    damaged.writeUInt32LE(good.length + 1000, 4); // first directory beyond the end of the file
    writeFileSync(join(dir, 'damaged.tif'), damaged);
    expect(await prepareDocument(join(dir, 'damaged.tif'))).toMatchObject({ ok: false, status: 'failed_image_preparation' });
  });
});

describe('files that are not documents', () => {
  it('reports other types as failed_mimetype_not_supported', async () => {
    // Text is faxed (see office.int.test.ts); a GIF picture is not among the formats.
    writeFileSync(join(dir, 'note.gif'), Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(32)]));
    expect(await prepareDocument(join(dir, 'note.gif'))).toMatchObject({ ok: false, status: 'failed_mimetype_not_supported' });
  });

  it('concatenates several files and names the one that failed', async () => {
    const pdf = makeSamplePdf(dir, 'multi', [['a']]);
    const good = await prepareDocuments([pdf, join(dir, 'ready.tif')]);
    expect(good.ok && good.document.pages.length).toBe(2);
    const bad = await prepareDocuments([pdf, join(dir, 'note.gif')]);
    expect(bad).toMatchObject({ ok: false, status: 'failed_mimetype_not_supported' });
    expect(!bad.ok && bad.detail).toMatch(/^file 2 of 2/);
  });
});

describe('resolution for a receiver', () => {
  it('merges line pairs of a fine page for a standard-only receiver', () => {
    const bitmap = squares(1728, 101);
    const page = pageFromBitmap(bitmap, 'fine');
    const standard = bitmapForResolution(page, false);
    expect(standard.resolution).toBe('standard');
    expect(standard.bitmap.height).toBe(51);
    expect(Buffer.from(standard.bitmap.data)).toEqual(Buffer.from(halveRows(bitmap).data));
    expect(bitmapForResolution(page, true).bitmap.height).toBe(101);
  });
});
