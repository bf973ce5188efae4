import { createBitmap, type Bitmap } from '../../documents/bitmap';
import { type FaxDocument, type FaxResolution, pageFromBitmap } from '../../documents/fax-document';

/** A small fax-wide page with a page-specific pattern: quick to send, easy to tell apart. */
export function patternBitmap(rows: number, seed: number): Bitmap {
  const bitmap = createBitmap(1728, rows);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < 1728; x++) {
      const block = Math.floor(x / (16 + seed * 8)) + Math.floor(y / (8 + seed * 4));
      if (block % 3 === 0 || (y + seed) % 97 === 0) bitmap.data[y * bitmap.rowBytes + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return bitmap;
}

export function patternDocument(pages: number, options: { rows?: number; resolution?: FaxResolution } = {}): { document: FaxDocument; bitmaps: Bitmap[] } {
  const bitmaps = Array.from({ length: pages }, (_, i) => patternBitmap(options.rows ?? 120, i + 1));
  return { document: { pages: bitmaps.map((bitmap) => pageFromBitmap(bitmap, options.resolution ?? 'fine')) }, bitmaps };
}
