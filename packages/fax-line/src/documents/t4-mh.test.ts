import { randomRunsBitmap as randomRuns } from '../testing/sample-pages';
import { CODE_TABLES, decodeMh, encodeMh, reverseBitOrder } from './t4-mh';

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
});
