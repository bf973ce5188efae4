/**
 * The receiver's judgements on their own: the training check (TCF) and a page's copy quality.
 */
import { trainingCheckPasses } from './class1-receive';
import { pageBitmap, pagesToG3Tiff } from './documents/fax-document';
import { decodeMh, encodeMh, reverseBitOrder } from './documents/t4-mh';
import { readTiff } from './documents/tiff';
import { checkPage } from './modem-receive';
import { patternBitmap } from './testing/sample-pages';

/** A page as it comes off the line: MH with fill and RTC, first bit in the least significant bit. */
function lineData(rows: number, minBitsPerLine = 0): Buffer {
  return reverseBitOrder(encodeMh(patternBitmap(rows, 3), { appendRtc: true, minBitsPerLine }));
}

describe('training check', () => {
  it('passes 1.5 s of zeros, and a second of zeros with a ragged start and end', () => {
    expect(trainingCheckPasses(Buffer.alloc(2700), 14400)).toBe(true);
    const ragged = Buffer.alloc(1300);
    ragged.fill(0xff, 0, 50);
    ragged.fill(0x5a, 1250);
    expect(trainingCheckPasses(ragged, 9600)).toBe(true);
  });

  it('fails errors every few bytes, and zeros shorter than a second', () => {
    const noisy = Buffer.alloc(2700);
    for (let i = 0; i < noisy.length; i += 7) noisy[i] = 0x24;
    expect(trainingCheckPasses(noisy, 14400)).toBe(false);
    expect(trainingCheckPasses(Buffer.alloc(1700), 14400)).toBe(false);
    expect(trainingCheckPasses(Buffer.alloc(0), 2400)).toBe(false);
  });
});

describe('page check', () => {
  it('takes fill and RTC off and keeps every row of a clean page', () => {
    const check = checkPage(lineData(200, 400), 1728, 'fine');
    expect(check).toMatchObject({ sawRtc: true, good: true, page: { width: 1728, height: 200, resolution: 'fine', badRows: 0 } });
    // Kept clean: the same rows, coded without the fill.
    expect(check.page.data.equals(encodeMh(patternBitmap(200, 3)))).toBe(true);
  });

  it('confirms a page with a damaged row or two, and rejects one with a burst of noise', () => {
    const slightly = lineData(200);
    slightly[Math.floor(slightly.length / 2)] ^= 0x10;
    const slight = checkPage(slightly, 1728, 'standard');
    expect(slight.page.badRows).toBeLessThanOrEqual(2);
    expect(slight.good).toBe(true);
    const burst = lineData(200);
    for (let i = Math.floor(burst.length / 3); i < Math.floor(burst.length / 2); i++) burst[i] ^= 0x5a;
    expect(checkPage(burst, 1728, 'standard').good).toBe(false);
  });

  it('a page cut off has no RTC; no data at all is no page', () => {
    const cut = lineData(200);
    expect(checkPage(cut.subarray(0, cut.length / 2), 1728, 'fine')).toMatchObject({ sawRtc: false });
    expect(checkPage(Buffer.alloc(0), 1728, 'fine')).toMatchObject({ good: false, page: { height: 0 } });
  });
});

describe('received pages kept as a TIFF', () => {
  it('writes each page at its resolution, and the file reads back to the same rows', () => {
    const fine = checkPage(lineData(150), 1728, 'fine').page;
    const standard = checkPage(lineData(90), 1728, 'standard').page;
    const tiff = readTiff(pagesToG3Tiff([fine, standard]));
    expect(tiff.map((page) => [page.width, page.height, page.yResolution])).toEqual([
      [1728, 150, 196],
      [1728, 90, 98],
    ]);
    tiff.forEach((page, i) => {
      const rows = decodeMh(page.stripData, page.width, { lsbFirst: page.fillOrder === 2, maxRows: page.height }).bitmap;
      expect(Buffer.from(rows.data).equals(Buffer.from(pageBitmap([fine, standard][i]).data))).toBe(true);
    });
  });
});
