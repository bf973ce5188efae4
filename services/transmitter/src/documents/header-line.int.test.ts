import { type Bitmap, blackPixelCount, createBitmap, pageBitmap, pageFromBitmap, setPixel } from '@faxnotify/fax-line';
import { a4Rows } from './cover';
import { addHeaderLine, applyStrip, headerText, stripRows } from './header-line';

const when = new Date('2026-12-07T01:30:00Z');
const options = { from: '+39 06 1234567', locale: 'it', timeZone: 'Europe/Rome', date: when };

/** A page with a frame of ink from `top` down, the rows above it white. */
function page(height: number, top: number): Bitmap {
  const bitmap = createBitmap(1728, height);
  for (let x = 40; x < 1688; x++) {
    setPixel(bitmap, x, top, true);
    setPixel(bitmap, x, height - 1, true);
  }
  for (let y = top; y < height; y++) setPixel(bitmap, 40 + (y % 1600), y, true);
  return bitmap;
}

function rows(bitmap: Bitmap, from: number, to: number): Buffer {
  return Buffer.from(bitmap.data.subarray(from * bitmap.rowBytes, to * bitmap.rowBytes));
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length > 0 && a.equals(b);
}

describe('header line', () => {
  it('fills its format with the sender, the date and time in the owner’s zone and the page numbers', () => {
    expect(headerText(options, 2, 3)).toBe('+39 06 1234567   07/12/26 02:30   page 2 of 3');
    expect(headerText({ ...options, format: 'DA {from} {date} PAG. {page}/{pages} {unknown}' }, 1, 1)).toBe('DA +39 06 1234567 07/12/26 PAG. 1/1 {unknown}');
  });

  it('is drawn into the blank top rows of each page, every other row unchanged, numbered over all pages', async () => {
    const sources = [page(a4Rows('fine'), 120), page(a4Rows('fine'), 200)];
    const pages = sources.map((bitmap) => pageFromBitmap(bitmap, 'fine'));
    const out = await addHeaderLine(pages, options);
    const strip = stripRows('fine');
    expect(strip).toBe(39);
    out.forEach((faxPage, index) => {
      const bitmap = pageBitmap(faxPage);
      expect(bitmap.height).toBe(sources[index].height);
      expect(blackPixelCount({ ...bitmap, height: strip, data: rows(bitmap, 0, strip) })).toBeGreaterThan(300);
      expect(same(rows(bitmap, strip, bitmap.height), rows(sources[index], strip, bitmap.height))).toBe(true);
    });
    // Different numbers on each page: the strips differ.
    expect(same(rows(pageBitmap(out[0]), 0, strip), rows(pageBitmap(out[1]), 0, strip))).toBe(false);
  });

  it('goes above a page inked to its top edge, and a full A4 page is squeezed so its bottom row still arrives', () => {
    const strip = createBitmap(1728, 20);
    for (let x = 0; x < 100; x++) setPixel(strip, x, 10, true);
    const short = page(1000, 0);
    const above = applyStrip(short, strip, 1143);
    expect(above.height).toBe(1020);
    expect(same(rows(above, 20, 1020), rows(short, 0, 1000))).toBe(true);
    expect(same(rows(above, 0, 20), rows(strip, 0, 20))).toBe(true);
    const full = page(1143, 0);
    const squeezed = applyStrip(full, strip, 1143);
    expect(squeezed.height).toBe(1143);
    expect(blackPixelCount({ ...squeezed, height: 1, data: rows(squeezed, 1142, 1143) })).toBeGreaterThan(1000);
    expect(blackPixelCount({ ...squeezed, height: 1, data: rows(squeezed, 20, 21) })).toBeGreaterThan(1000);
  });

  it('standard resolution pages get a strip of standard height, hostile sender text included', async () => {
    const out = await addHeaderLine([pageFromBitmap(page(a4Rows('standard'), 60), 'standard')], { ...options, from: ') showpage (x) print (' });
    const bitmap = pageBitmap(out[0]);
    expect(bitmap.height).toBe(a4Rows('standard'));
    expect(blackPixelCount({ ...bitmap, height: 20, data: rows(bitmap, 0, 20) })).toBeGreaterThan(200);
  });
});
