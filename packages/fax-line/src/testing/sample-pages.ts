import { createBitmap, type Bitmap } from '../documents/bitmap';
import { type FaxDocument, type FaxResolution, pageFromBitmap } from '../documents/fax-document';

/** A small fax-wide page with a page-specific pattern: quick to send, easy to tell apart. */
export function patternBitmap(rows: number, seed: number): Bitmap {
  const bitmap = createBitmap(1728, rows);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < 1728; x++) {
      const block = Math.floor(x / (16 + seed * 8)) + Math.floor(y / (8 + seed * 4));
      if (block % 3 === 0 || (y + seed) % 97 === 0) bitmap.data[y * bitmap.rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return bitmap;
}

export function patternDocument(pages: number, options: { rows?: number; resolution?: FaxResolution } = {}): { document: FaxDocument; bitmaps: Bitmap[] } {
  const bitmaps = Array.from({ length: pages }, (_, i) => patternBitmap(options.rows ?? 120, i + 1));
  return { document: { pages: bitmaps.map((bitmap) => pageFromBitmap(bitmap, options.resolution ?? 'fine')) }, bitmaps };
}

/** Rows of an A4 page at fine resolution (297 mm at 196 lines per inch). */
export const A4_FINE_ROWS = 2292;

function fillRect(bitmap: Bitmap, x: number, y: number, width: number, height: number): void {
  for (let row = Math.max(0, y); row < Math.min(bitmap.height, y + height); row++) {
    for (let column = Math.max(0, x); column < Math.min(bitmap.width, x + width); column++) {
      bitmap.data[row * bitmap.rowBytes + (column >> 3)] |= 0x80 >> (column & 7);
    }
  }
}

/**
 * A page laid out like a typed letter: a frame, three lines of word-sized blocks and a few bars
 * that differ by `seed`. Mostly white, as real pages are, so it sends in seconds at full A4 size.
 */
export function letterBitmap(seed: number, rows = A4_FINE_ROWS): Bitmap {
  const bitmap = createBitmap(1728, rows);
  const frame = 11;
  fillRect(bitmap, 113, 109, 1502, frame);
  fillRect(bitmap, 113, rows - 120, 1502, frame);
  fillRect(bitmap, 113, 109, frame, rows - 218);
  fillRect(bitmap, 1604, 109, frame, rows - 218);
  for (let line = 0; line < 3; line++) {
    let x = 204;
    for (let word = 0; x < 1400; word++) {
      const width = 40 + ((seed * 37 + line * 53 + word * 29) % 120);
      fillRect(bitmap, x, 380 + line * 130, width, 70);
      x += width + 36;
    }
  }
  for (let bar = 0; bar < seed + 1; bar++) fillRect(bitmap, 283 + bar * 170, rows - 550, 85, 218 + 54 * bar);
  return bitmap;
}

export function letterDocument(pages: number, resolution: FaxResolution = 'fine'): { document: FaxDocument; bitmaps: Bitmap[] } {
  const bitmaps = Array.from({ length: pages }, (_, i) => letterBitmap(i + 1, resolution === 'fine' ? A4_FINE_ROWS : A4_FINE_ROWS / 2));
  return { document: { pages: bitmaps.map((bitmap) => pageFromBitmap(bitmap, resolution)) }, bitmaps };
}

/** A page of random runs, long and short, so that terminating and make-up codes of both colours occur. */
export function randomRunsBitmap(width: number, height: number, seed: number): Bitmap {
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
      for (let i = x; i < Math.min(width, x + run); i++) if (black) bitmap.data[y * bitmap.rowBytes + (i >> 3)] |= 0x80 >> (i & 7);
      x += run;
      black = !black;
    }
  }
  return bitmap;
}

/** A bitmap as a binary PBM file (P4: 1 = black, rows padded to bytes), the page format efax sends. */
export function pbmFromBitmap(bitmap: Bitmap): Buffer {
  if (bitmap.rowBytes !== Math.ceil(bitmap.width / 8)) throw new Error('unexpected bitmap row layout');
  return Buffer.concat([Buffer.from(`P4\n${bitmap.width} ${bitmap.height}\n`, 'latin1'), Buffer.from(bitmap.data)]);
}
