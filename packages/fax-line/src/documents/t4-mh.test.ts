import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bitmap, createBitmap } from './bitmap';
import { CODE_TABLES, decodeMh, encodeMh, reverseBitOrder } from './t4-mh';
import { readTiff, writeG3Tiff } from './tiff';

/** A page of random runs, long and short, so that terminating and make-up codes of both colours occur. */
function randomRuns(width: number, height: number, seed: number): Bitmap {
  let state = seed;
  const random = (): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const bitmap = createBitmap(width, height);
  for (let y = 0; y < height; y++) {
    let x = 0;
    let black = random() < 0.3;
    while (x < width) {
      const kind = random();
      const run = kind < 0.6 ? Math.floor(random() * 64) : kind < 0.9 ? Math.floor(random() * 400) : Math.floor(random() * width);
      for (let i = x; i < Math.min(width, x + run); i++) if (black) bitmap.data[y * bitmap.rowBytes + (i >> 3)]! |= 0x80 >> (i & 7);
      x += run;
      black = !black;
    }
  }
  return bitmap;
}

function toPbm(bitmap: Bitmap): Buffer {
  return Buffer.concat([Buffer.from(`P4\n${bitmap.width} ${bitmap.height}\n`, 'latin1'), Buffer.from(bitmap.data)]);
}

describe('T.4 Modified Huffman codes', () => {
  it('has complete, prefix-free code tables', () => {
    for (const table of [CODE_TABLES.WHITE_TERMINATING, CODE_TABLES.BLACK_TERMINATING]) {
      expect(table.map(([run]) => run)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    }
    // Decoding builds a tree and rejects any code that is a prefix of another.
    expect(() => decodeMh(Buffer.alloc(4), 8)).not.toThrow();
  });

  it('decodes what it encodes, with fill for a minimum scan line time and RTC', () => {
    const bitmap = randomRuns(1728, 120, 7);
    const plain = decodeMh(encodeMh(bitmap), 1728);
    expect(plain.badLines).toBe(0);
    expect(Buffer.from(plain.bitmap.data)).toEqual(Buffer.from(bitmap.data));

    const filled = encodeMh(bitmap, { minBitsPerLine: 1200, appendRtc: true });
    const decoded = decodeMh(filled, 1728);
    expect(decoded.sawRtc).toBe(true);
    expect(decoded.bitmap.height).toBe(120);
    expect(Buffer.from(decoded.bitmap.data)).toEqual(Buffer.from(bitmap.data));
    expect(filled.length).toBeGreaterThanOrEqual((120 * 1200) / 8);

    const lineOrder = decodeMh(reverseBitOrder(filled), 1728, { lsbFirst: true });
    expect(Buffer.from(lineOrder.bitmap.data)).toEqual(Buffer.from(bitmap.data));
  });

  it('resynchronises at the next EOL after a damaged line', () => {
    const bitmap = randomRuns(1728, 20, 3);
    const data = Buffer.from(encodeMh(bitmap));
    data[Math.floor(data.length / 2)] = 0xff;
    const decoded = decodeMh(data, 1728);
    expect(decoded.badLines).toBeGreaterThanOrEqual(1);
    expect(decoded.bitmap.height).toBeGreaterThanOrEqual(19);
  });

  describe('agrees with libtiff', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 't4-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('libtiff decodes our encoding to the same pixels', () => {
      const bitmap = randomRuns(1728, 300, 11);
      writeFileSync(join(dir, 'ours.tif'), writeG3Tiff([{ width: 1728, height: 300, xResolution: 204, yResolution: 98, data: encodeMh(bitmap) }]));
      execFileSync('tiffcp', ['-c', 'none', join(dir, 'ours.tif'), join(dir, 'plain.tif')]);
      const [page] = readTiff(readFileSync(join(dir, 'plain.tif')));
      expect(page!.compression).toBe(1);
      expect(Buffer.from(page!.stripData.subarray(0, bitmap.data.length))).toEqual(Buffer.from(bitmap.data));
      expect(page!.yResolution).toBeCloseTo(98);
    });

    it('we decode libtiff\'s encoding to the same pixels', () => {
      const bitmap = randomRuns(1728, 300, 13);
      writeFileSync(join(dir, 'page.pbm'), toPbm(bitmap));
      execFileSync('ppm2tiff', ['-c', 'g3:1d', '-R', '204', join(dir, 'page.pbm'), join(dir, 'theirs.tif')]);
      const [page] = readTiff(readFileSync(join(dir, 'theirs.tif')));
      expect(page!.compression).toBe(3);
      const decoded = decodeMh(page!.stripData, page!.width, { lsbFirst: page!.fillOrder === 2, maxRows: page!.height });
      expect(decoded.badLines).toBe(0);
      expect(Buffer.from(decoded.bitmap.data)).toEqual(Buffer.from(bitmap.data));
    });
  });
});
