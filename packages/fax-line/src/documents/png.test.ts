import { inflateSync } from 'node:zlib';
import { letterDocument } from '../testing/sample-pages';
import { createBitmap, setPixel } from './bitmap';
import { pageFromBitmap } from './fax-document';
import { bitmapPng, pageThumbnail } from './png';

/** The PNG's header fields and its rows (filter byte dropped), checking every chunk's layout on the way. */
function readGreyPng(png: Buffer): { width: number; height: number; depth: number; rows: Buffer[] } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let offset = 8;
  const idat: Buffer[] = [];
  let header: Buffer | undefined;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    if (type === 'IHDR') header = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IDAT') idat.push(png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  expect(offset).toBe(png.length);
  const width = header!.readUInt32BE(0);
  const height = header!.readUInt32BE(4);
  const depth = header!.readUInt8(8);
  expect(header!.readUInt8(9)).toBe(0);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = Math.ceil((width * depth) / 8) + 1;
  expect(raw.length).toBe(stride * height);
  return { width, height, depth, rows: Array.from({ length: height }, (_, y) => raw.subarray(y * stride + 1, (y + 1) * stride)) };
}

describe('page pictures as PNG', () => {
  it('writes a bitmap as 1-bit grey, black where the bitmap is, white below its rows', () => {
    const bitmap = createBitmap(10, 2);
    setPixel(bitmap, 0, 0, true);
    setPixel(bitmap, 9, 1, true);
    const png = readGreyPng(bitmapPng(bitmap, 3));
    expect(png).toMatchObject({ width: 10, height: 3, depth: 1 });
    expect([...png.rows[0]]).toEqual([0b01111111, 0xff]);
    expect([...png.rows[1]].map((b, i) => (i === 1 ? b & 0xc0 : b))).toEqual([0xff, 0b10000000]);
    expect([...png.rows[2]]).toEqual([0xff, 0xff]);
  });

  it('makes a small grey thumbnail of a page with the printed proportions, text as grey, margins white', () => {
    const fine = letterDocument(1, 'fine').document.pages[0];
    const thumb = pageThumbnail(fine, { width: 200 });
    const png = readGreyPng(thumb.png);
    // An A4 page is 210 × 297 mm: about 1.41 times as tall as wide.
    expect(png).toMatchObject({ width: 200, height: thumb.height, depth: 4 });
    expect(thumb.height / thumb.width).toBeGreaterThan(1.3);
    expect(thumb.height / thumb.width).toBeLessThan(1.45);
    const levels = png.rows.flatMap((row) => [...row].flatMap((byte) => [byte >> 4, byte & 15]));
    expect(levels.filter((l) => l === 15).length / levels.length).toBeGreaterThan(0.5);
    expect(levels.some((l) => l < 15)).toBe(true);
    expect(thumb.png.length).toBeLessThan(30_000);

    // The same page at standard resolution (half the rows) has the same shape.
    const standard = pageThumbnail(pageFromBitmap(createBitmap(1728, 1145), 'standard'), { width: 200 });
    expect(Math.abs(standard.height - thumb.height)).toBeLessThanOrEqual(2);
    const oneBit = readGreyPng(pageThumbnail(fine, { width: 120, depth: 1 }).png);
    expect(oneBit).toMatchObject({ width: 120, depth: 1 });
  });
});
