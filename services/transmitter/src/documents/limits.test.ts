/**
 * The checks made before anything is decoded: TIFF header bombs are built here in memory (real
 * G3 TIFF directories with a few bytes of image data, then their declared sizes changed), so no
 * large file exists anywhere and the refusal has nothing to decode.
 */
import { createBitmap, encodeMh, writeG3Tiff } from '@faxnotify/fax-line';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTiff, DEFAULT_DOCUMENT_LIMITS, decodingEstimate, fileSizeProblem, type DocumentLimits, zipPackageProblem } from './limits';
import { makeZipBombDocx } from './testing/bomb-documents';

const limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS;
const line = encodeMh(createBitmap(1728, 1));

/** A G3 TIFF of `count` pages, each declared `width` × `height` but holding one encoded row. */
function g3(count: number, width = 1728, height = 1): Buffer {
  return writeG3Tiff(Array.from({ length: count }, () => ({ width, height, xResolution: 204, yResolution: 196, data: line })));
}

/** Rewrites the value of `tag` in every directory of a little-endian TIFF. */
function setTag(tiff: Buffer, tag: number, value: number): Buffer {
  const out = Buffer.from(tiff);
  for (let ifd = out.readUInt32LE(4); ifd !== 0; ifd = out.readUInt32LE(ifd + 2 + out.readUInt16LE(ifd) * 12)) {
    for (let i = 0; i < out.readUInt16LE(ifd); i++) {
      const at = ifd + 2 + i * 12;
      if (out.readUInt16LE(at) !== tag) continue;
      if (out.readUInt16LE(at + 2) === 3) out.writeUInt16LE(value, at + 8);
      else out.writeUInt32LE(value, at + 8);
    }
  }
  return out;
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = work();
  return { value, ms: performance.now() - start };
}

describe('TIFF header checks', () => {
  it('passes a fax-ready TIFF with its pages as declared', () => {
    const check = checkTiff(g3(3, 1728, 1), limits);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.pages).toHaveLength(3);
    expect(check.pages[0]).toMatchObject({ width: 1728, height: 1, bitsPerSample: 1, samplesPerPixel: 1, compression: 3, stripBytes: line.length });
  });

  it('refuses a 20000 × 60000 page at once, naming the limit', () => {
    const bomb = g3(1, 20000, 60000);
    expect(bomb.length).toBeLessThan(1024);
    const { value, ms } = timed(() => checkTiff(bomb, limits));
    expect(value).toEqual({
      ok: false,
      kind: 'limit',
      detail: 'page 1 is 20,000 × 60,000 = 1,200,000,000 pixels, more than the limit of 40,000,000 (documents.maxPixelsPerPage)',
    });
    expect(ms).toBeLessThan(100);
  });

  it('refuses 10,000 pages after reading one directory past the limit', () => {
    const bomb = g3(10_000);
    const { value, ms } = timed(() => checkTiff(bomb, limits));
    expect(value).toEqual({ ok: false, kind: 'limit', detail: 'the TIFF has more than 200 pages, more than the limit of 200 (documents.maxPages)' });
    expect(ms).toBeLessThan(100);
    expect(checkTiff(bomb, { ...limits, maxPages: 10_000 }).ok).toBe(true);
    expect(checkTiff(g3(4), { ...limits, maxPages: 3 })).toMatchObject({ ok: false, detail: expect.stringContaining('documents.maxPages') as unknown });
  });

  it('refuses 10,000 huge pages on the first one', () => {
    expect(checkTiff(g3(10_000, 20000, 60000), limits)).toMatchObject({
      ok: false,
      kind: 'limit',
      detail: expect.stringMatching(/^page 1 is .*documents\.maxPixelsPerPage/) as unknown,
    });
  });

  it('takes strips that claim more bytes than the file holds as damage', () => {
    const lying = setTag(g3(1), 279, 0x7fffffff);
    expect(checkTiff(lying, limits)).toMatchObject({ ok: false, kind: 'damaged', detail: expect.stringContaining('2,147,483,647 bytes') as unknown });
  });

  it('refuses a page whose decoding would need more memory than allowed', () => {
    // 10 LZW pages of 6000 × 6000 RGB: each under the pixel limit, but 108 MB each once tiffcp has decompressed them.
    let tiff = setTag(g3(10, 6000, 6000), 259, 5);
    tiff = setTag(setTag(tiff, 258, 8), 277, 3);
    const check = checkTiff(tiff, limits);
    expect(check).toMatchObject({
      ok: false,
      kind: 'limit',
      detail: expect.stringMatching(/^decoding the TIFF needs about 20\d\d MB, more than the limit of 512 \(documents\.maxMemoryMb\)$/) as unknown,
    });
    expect(checkTiff(tiff, { ...limits, maxMemoryMb: 4096 }).ok).toBe(true);
  });

  it('takes a directory chain that loops as damage, without walking it forever', () => {
    const tiff = g3(2);
    const first = tiff.readUInt32LE(4);
    const second = tiff.readUInt32LE(first + 2 + tiff.readUInt16LE(first) * 12);
    tiff.writeUInt32LE(first, second + 2 + tiff.readUInt16LE(second) * 12);
    expect(checkTiff(tiff, { ...limits, maxPages: 10_000 })).toEqual({ ok: false, kind: 'damaged', detail: 'damaged TIFF: its directory chain loops' });
  });

  it('takes a directory outside the file, a zero-sized page and a cut header as damage', () => {
    const outside = g3(1);
    outside.writeUInt32LE(outside.length + 100, 4);
    expect(checkTiff(outside, limits)).toMatchObject({ ok: false, kind: 'damaged' });
    expect(checkTiff(setTag(g3(1), 256, 0), limits)).toMatchObject({ ok: false, kind: 'damaged', detail: 'damaged TIFF: page 1 is 0 × 1 pixels' });
    expect(checkTiff(g3(1).subarray(0, 6), limits)).toMatchObject({ ok: false, kind: 'damaged' });
  });
});

describe('other limits', () => {
  it('refuses a file over the byte limit, naming it', () => {
    expect(fileSizeProblem(limits.maxBytes, limits)).toBeNull();
    expect(fileSizeProblem(limits.maxBytes + 1, limits)).toBe('the file has 31,457,281 bytes, more than the limit of 31,457,280 (documents.maxBytes)');
  });

  it('estimates decoding memory from the declared shapes', () => {
    const page = { width: 1728, height: 2200, bitsPerSample: 1, samplesPerPixel: 1, compression: 3, t4Options: 4, stripBytes: 1000 };
    // A fax-ready page is read as it is: the file twice and three bitmaps of the page.
    expect(decodingEstimate(1000, [page])).toBe(2000 + 3 * 216 * 2200);
    const lzw = { ...page, compression: 5, bitsPerSample: 8 };
    expect(decodingEstimate(1000, [lzw, lzw])).toBe(2000 + 2 * 2 * 1728 * 2200 + 3 * 216 * 2200);
  });
});

describe('OOXML packages', () => {
  it('refuses a zip bomb by the sizes its central directory declares, and takes a package within the limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-package-'));
    try {
      // 4 MB of paragraphs in a package of a few kilobytes.
      const bomb = readFileSync(makeZipBombDocx(dir, 4));
      expect(bomb.length).toBeLessThan(100_000);
      const detail = zipPackageProblem(bomb, { ...limits, maxBytes: 1_000_000 });
      expect(detail).toEqual({
        overLimit: true,
        detail: expect.stringMatching(/^the package unpacks to 4,19\d,\d{3} bytes, more than the limit of 1,000,000 \(documents\.maxBytes\)$/) as unknown,
      });
      expect(zipPackageProblem(bomb, limits)).toBeNull();
      expect(zipPackageProblem(bomb.subarray(0, bomb.length - 30), limits)).toMatchObject({ overLimit: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
