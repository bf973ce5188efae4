/**
 * Our T.4 coding against libtiff's: its tools (tiffcp, ppm2tiff) decode what we encode and encode
 * what we decode, to the same pixels.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomRunsBitmap as randomRuns } from '../testing/sample-pages';
import type { Bitmap } from './bitmap';
import { decodeMh, encodeMh } from './t4-mh';
import { readTiff, writeG3Tiff } from './tiff';

function toPbm(bitmap: Bitmap): Buffer {
  return Buffer.concat([Buffer.from(`P4\n${bitmap.width} ${bitmap.height}\n`, 'latin1'), Buffer.from(bitmap.data)]);
}

describe('T.4 Modified Huffman codes agree with libtiff', () => {
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
    expect(page.compression).toBe(1);
    expect(Buffer.from(page.stripData.subarray(0, bitmap.data.length))).toEqual(Buffer.from(bitmap.data));
    expect(page.yResolution).toBeCloseTo(98);
  });

  it("we decode libtiff's encoding to the same pixels", () => {
    const bitmap = randomRuns(1728, 300, 13);
    writeFileSync(join(dir, 'page.pbm'), toPbm(bitmap));
    execFileSync('ppm2tiff', ['-c', 'g3:1d', '-R', '204', join(dir, 'page.pbm'), join(dir, 'theirs.tif')]);
    const [page] = readTiff(readFileSync(join(dir, 'theirs.tif')));
    expect(page.compression).toBe(3);
    const decoded = decodeMh(page.stripData, page.width, { lsbFirst: page.fillOrder === 2, maxRows: page.height });
    expect(decoded.badLines).toBe(0);
    expect(Buffer.from(decoded.bitmap.data)).toEqual(Buffer.from(bitmap.data));
  });
});
