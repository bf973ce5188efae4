import { codedPageLineData, type PageSession, pageLineData } from '../modem-session';
import { letterBitmap, patternBitmap, randomRunsBitmap } from '../testing/sample-pages';
import { type Bitmap, createBitmap } from './bitmap';
import { type FaxPage, type FaxResolution, pageFromBitmap } from './fax-document';
import { decodeMh, encodeMh, reverseBitOrder } from './t4-mh';
import { mhLineStarts, storedMhLineData } from './t4-mh-line';

const DLE = 0x10;
const ETX = 0x03;
const TERMINATOR = Buffer.from([DLE, ETX]);

/** Line data back to MSB-first coded bytes: the terminator taken off, doubled DLEs undone, bit order reversed. */
function unframe(line: Buffer): Buffer {
  expect(line.subarray(line.length - 2).equals(TERMINATOR)).toBe(true);
  const bytes = Buffer.alloc(line.length);
  let n = 0;
  let lone = 0;
  for (let i = 0; i < line.length - 2; i++) {
    bytes[n++] = line[i];
    if (line[i] === DLE) {
      if (line[i + 1] !== DLE) lone++;
      i++;
    }
  }
  expect(lone).toBe(0);
  return reverseBitOrder(bytes.subarray(0, n));
}

/** Buffers compared byte for byte (jest's deep equality walks large buffers slowly). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Bits from the end of each EOL to the end of the next (a one after at least eleven zeros ends an EOL). */
function eolPeriods(coded: Uint8Array): number[] {
  const ends: number[] = [];
  let zeros = 0;
  for (let bit = 0; bit < coded.length * 8; bit++) {
    if ((bit & 7) === 0 && coded[bit >> 3] === 0) {
      zeros += 8;
      bit += 7;
    } else if ((coded[bit >> 3] >> (7 - (bit & 7))) & 1) {
      if (zeros >= 11) ends.push(bit + 1);
      zeros = 0;
    } else zeros++;
  }
  return ends.slice(1).map((end, i) => end - ends[i]);
}

function textBitmap(width: number, height: number, seed: number): Bitmap {
  // Rows of small glyph-like blocks with gaps between words and lines, as typed text.
  const bitmap = createBitmap(width, height);
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let top = 40; top + 20 < height; top += 30) {
    for (let x = 60; x + 12 < width - 60; x += 10 + Math.floor(random() * 4)) {
      if (random() < 0.15) continue;
      const glyph = Math.floor(random() * 0xffff);
      for (let y = 0; y < 16; y++) {
        for (let dx = 0; dx < 8; dx++) {
          if ((glyph >> ((y + dx) % 16)) & 1) bitmap.data[(top + y) * bitmap.rowBytes + ((x + dx) >> 3)] |= 0x80 >> ((x + dx) & 7);
        }
      }
    }
  }
  return bitmap;
}

const pages: Array<{ name: string; page: FaxPage }> = [];
const add = (name: string, bitmap: Bitmap, resolution: FaxResolution) =>
  pages.push({ name: `${name} ${resolution}`, page: pageFromBitmap(bitmap, resolution) });
for (const resolution of ['fine', 'standard'] as const) {
  const rows = resolution === 'fine' ? 400 : 200;
  add('blank', createBitmap(1728, rows), resolution);
  add('text', textBitmap(1728, rows, 11), resolution);
  add('random', randomRunsBitmap(1728, rows, 5), resolution);
  add('pattern', patternBitmap(rows, 2), resolution);
}
add('letter', letterBitmap(2), 'fine');
add('random B4 width', randomRunsBitmap(2048, 150, 9), 'fine');
add('random, wider than the make-up codes', randomRunsBitmap(6000, 40, 13), 'standard');
add('one row', randomRunsBitmap(1728, 1, 3), 'standard');
add(
  'all black',
  (() => {
    const bitmap = createBitmap(1728, 50);
    bitmap.data.fill(0xff);
    return bitmap;
  })(),
  'standard',
);

const MIN_BITS = [0, 20, 96, 173, 288, 700, 1500, 4000];
const session = (minBits: number, fine = true): PageSession => ({ fine, bitsPerSecond: 9600, minScanMs: (minBits * 1000) / 9600 });

describe('stored MH sent as it is', () => {
  it.each(pages)('$name: decodes to the same page as the coded path, at least the minimum bits per line, and the same bytes without fill', ({ page }) => {
    const reference = decodeMh(page.data, page.width).bitmap;
    expect(reference.height).toBe(page.height);
    const storedPeriods = eolPeriods(unframe(codedPageLineData(page, session(0), TERMINATOR))).slice(0, page.height);
    for (const minBits of MIN_BITS) {
      const s = session(minBits);
      expect(Math.ceil((s.bitsPerSecond * s.minScanMs) / 1000)).toBe(minBits);
      const stored = storedMhLineData(page, minBits, TERMINATOR);
      expect(stored).not.toBeNull();
      const sent = pageLineData(page, s, TERMINATOR);
      expect(same(sent, stored!)).toBe(true);
      const coded = codedPageLineData(page, s, TERMINATOR);

      const ours = unframe(sent);
      const decoded = decodeMh(ours, page.width);
      expect(decoded.badLines).toBe(0);
      expect(decoded.sawRtc).toBe(true);
      expect(same(decoded.bitmap.data, decodeMh(unframe(coded), page.width).bitmap.data)).toBe(true);
      expect(same(decoded.bitmap.data, reference.data)).toBe(true);
      // The same as a receiver sees it on the line, bits LSB first.
      expect(same(decodeMh(reverseBitOrder(ours), page.width, { lsbFirst: true }).bitmap.data, reference.data)).toBe(true);

      // Every line, the last one up to RTC's first EOL, takes at least the minimum; fill is whole bytes.
      const periods = eolPeriods(ours).slice(0, page.height);
      expect(periods).toHaveLength(page.height);
      expect(Math.min(...periods)).toBeGreaterThanOrEqual(minBits);
      expect(ours.length).toBeLessThanOrEqual(unframe(coded).length + page.height);

      if (storedPeriods.every((bits) => bits >= minBits)) expect(same(sent, coded)).toBe(true);
    }
  });

  it('sends the same bytes as the coded path when no line needs fill', () => {
    const blank = pages.find(({ name }) => name === 'blank fine')!.page;
    const sent = pageLineData(blank, session(0), TERMINATOR);
    expect(same(sent, codedPageLineData(blank, session(0), TERMINATOR))).toBe(true);
    // A blank line is EOL + white 1728 + white 0: 12 + 9 + 8 bits, aligned to 32.
    expect(same(pageLineData(blank, session(32), TERMINATOR), sent)).toBe(true);
    expect(pageLineData(blank, session(33), TERMINATOR).length).toBeGreaterThan(sent.length);
  });

  it('takes stored data whose EOLs are not byte-aligned', () => {
    const bitmap = textBitmap(1728, 120, 4);
    const page: FaxPage = { width: 1728, height: 120, resolution: 'fine', data: encodeMh(bitmap, { alignEol: false }) };
    for (const minBits of [0, 150, 900]) {
      const sent = storedMhLineData(page, minBits, TERMINATOR);
      expect(sent).not.toBeNull();
      const coded = unframe(sent!);
      expect(same(decodeMh(coded, 1728).bitmap.data, bitmap.data)).toBe(true);
      expect(Math.min(...eolPeriods(coded).slice(0, 120))).toBeGreaterThanOrEqual(minBits);
    }
  });

  it('codes a fine page again for a standard-only receiver', () => {
    const page = pages.find(({ name }) => name === 'text fine')!.page;
    const sent = pageLineData(page, session(288, false), TERMINATOR);
    expect(same(sent, codedPageLineData(page, session(288, false), TERMINATOR))).toBe(true);
    expect(decodeMh(unframe(sent), 1728).bitmap.height).toBe(page.height / 2);
  });

  it('sends a standard page to a receiver that takes fine as it is', () => {
    const page = pages.find(({ name }) => name === 'text standard')!.page;
    expect(same(pageLineData(page, session(96, true), TERMINATOR), storedMhLineData(page, 96, TERMINATOR)!)).toBe(true);
  });
});

describe('stored MH that is not clean', () => {
  const page = pages.find(({ name }) => name === 'random fine')!.page;
  const bad: Array<{ name: string; page: FaxPage }> = [
    { name: 'a damaged byte', page: { ...page, data: Buffer.from(page.data).fill(0xff, 5000, 5001) } },
    { name: 'zeros over a line', page: { ...page, data: Buffer.from(page.data).fill(0, 3000, 3003) } },
    { name: 'one line fewer than its height', page: { ...page, height: page.height + 1 } },
    { name: 'one line more than its height', page: { ...page, height: page.height - 1 } },
    { name: 'a wider page than its lines', page: { ...page, width: 2048 } },
    { name: 'no EOL first', page: { ...page, data: page.data.subarray(2) } },
    { name: 'an EOL after the last line', page: { ...page, data: Buffer.concat([page.data, Buffer.from([0x00, 0x01])]) } },
    { name: 'cut off in the last line', page: { ...page, data: page.data.subarray(0, page.data.length - 3) } },
    { name: 'no lines', page: { ...page, height: 0, data: Buffer.alloc(0) } },
  ];

  it.each(bad)('$name: is coded again from what decodes', ({ page: broken }) => {
    expect(mhLineStarts(broken.data, broken.width, broken.height)).toBeNull();
    expect(storedMhLineData(broken, 288, TERMINATOR)).toBeNull();
    const sent = pageLineData(broken, session(288), TERMINATOR);
    expect(same(sent, codedPageLineData(broken, session(288), TERMINATOR))).toBe(true);
    const decoded = decodeMh(unframe(sent), broken.width);
    expect(decoded.badLines).toBe(0);
    expect(decoded.sawRtc).toBe(true);
  });
});
