import { deflateSync } from 'node:zlib';
import type { Bitmap } from './bitmap';
import { FAX_X_RESOLUTION, FAX_Y_RESOLUTION, pageBitmap, type FaxPage } from './fax-document';

/**
 * Page pictures as PNG files for browsers and reports: a bitmap as it is (1-bit grey), and a
 * page's small grey thumbnail. Written here (zlib and the PNG chunk layout, no outside library)
 * so the transmitter and the tracker share one encoder.
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const crc32 = (buffer: Buffer): number => {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

const chunk = (type: string, data: Buffer): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
};

/** A grey PNG from filtered rows (each row: a filter byte 0, then its packed pixels). */
function greyPngFile(width: number, height: number, depth: 1 | 4 | 8, raw: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(depth, 8);
  header.writeUInt8(0, 9); // grey
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A bitmap as a 1-bit grey PNG (the bitmap's 1 is black, a grey PNG's 1 is white); rows past the bitmap's are white. */
export function bitmapPng(bitmap: Bitmap, height = bitmap.height): Buffer {
  const rows = Math.max(height, 1);
  const raw = Buffer.alloc((bitmap.rowBytes + 1) * rows, 0);
  for (let y = 0; y < rows; y += 1) {
    const start = y * (bitmap.rowBytes + 1);
    for (let x = 0; x < bitmap.rowBytes; x += 1) raw[start + 1 + x] = ~(y < bitmap.height ? bitmap.data[y * bitmap.rowBytes + x] : 0) & 0xff;
  }
  return greyPngFile(bitmap.width, rows, 1, raw);
}

/** A small picture of a page: a grey PNG, proportions as printed (a standard page's rows stand twice as tall). */
export interface PageThumbnail {
  png: Buffer;
  width: number;
  height: number;
}

/**
 * A page scaled down to `width` pixels across, each pixel the share of white in the area it
 * covers (so text stays as grey strokes rather than vanishing as nearest-neighbour would drop it),
 * in `depth` bits of grey. Its height keeps the printed page's proportions.
 */
export function pageThumbnail(page: FaxPage, options: { width?: number; depth?: 1 | 4 | 8 } = {}): PageThumbnail {
  const bitmap = pageBitmap(page);
  const width = Math.max(1, Math.min(options.width ?? 200, page.width));
  const depth = options.depth ?? 4;
  const printedRatio = (Math.max(page.height, 1) * FAX_X_RESOLUTION) / FAX_Y_RESOLUTION[page.resolution] / page.width;
  const height = Math.max(1, Math.round(width * printedRatio));
  const rowBytes = Math.ceil((width * depth) / 8);
  const raw = Buffer.alloc((rowBytes + 1) * height, 0);
  const levels = (1 << depth) - 1;
  for (let ty = 0; ty < height; ty += 1) {
    const y0 = Math.floor((ty * bitmap.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * bitmap.height) / height));
    for (let tx = 0; tx < width; tx += 1) {
      const x0 = Math.floor((tx * page.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * page.width) / width));
      let black = 0;
      for (let y = y0; y < Math.min(y1, bitmap.height); y += 1) {
        const base = y * bitmap.rowBytes;
        for (let x = x0; x < x1; x += 1) black += (bitmap.data[base + (x >> 3)] >> (7 - (x & 7))) & 1;
      }
      const white = 1 - black / ((x1 - x0) * (y1 - y0));
      // A 1-bit picture keeps a pixel black once a fifth of its area is: thin strokes stay visible.
      const level = depth === 1 ? (white > 0.8 ? 1 : 0) : Math.round(white * levels);
      const bit = tx * depth;
      raw[ty * (rowBytes + 1) + 1 + (bit >> 3)] |= level << (8 - depth - (bit & 7));
    }
  }
  return { png: greyPngFile(width, height, depth, raw), width, height };
}
