/**
 * A bilevel page image: rows packed 8 pixels a byte, first pixel in the most significant bit,
 * 1 = black (the min-is-white convention of fax TIFF files).
 */
export interface Bitmap {
  readonly width: number;
  readonly height: number;
  /** Bytes per row: ceil(width / 8). */
  readonly rowBytes: number;
  readonly data: Uint8Array;
}

export function createBitmap(width: number, height: number): Bitmap {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height < 0) {
    throw new RangeError(`bad bitmap size ${width}x${height}`);
  }
  const rowBytes = Math.ceil(width / 8);
  return { width, height, rowBytes, data: new Uint8Array(rowBytes * height) };
}

export function getPixel(bitmap: Bitmap, x: number, y: number): number {
  return (bitmap.data[y * bitmap.rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1;
}

export function setPixel(bitmap: Bitmap, x: number, y: number, black: boolean): void {
  const index = y * bitmap.rowBytes + (x >> 3);
  const mask = 0x80 >> (x & 7);
  if (black) bitmap.data[index] |= mask;
  else bitmap.data[index] &= ~mask;
}

export function row(bitmap: Bitmap, y: number): Uint8Array {
  return bitmap.data.subarray(y * bitmap.rowBytes, (y + 1) * bitmap.rowBytes);
}

/** Number of black pixels: a cheap fingerprint used in traces and tests. */
export function blackPixelCount(bitmap: Bitmap): number {
  let count = 0;
  const lastMask = bitmap.width % 8 === 0 ? 0xff : (0xff << (8 - (bitmap.width % 8))) & 0xff;
  for (let y = 0; y < bitmap.height; y++) {
    const base = y * bitmap.rowBytes;
    for (let i = 0; i < bitmap.rowBytes; i++) {
      let byte = bitmap.data[base + i];
      if (i === bitmap.rowBytes - 1) byte &= lastMask;
      while (byte) {
        byte &= byte - 1;
        count++;
      }
    }
  }
  return count;
}

/**
 * Nearest-neighbour scaling of a bilevel image. Good enough for fax: sources are text and line art
 * at 150–600 dpi being brought to 204 dpi, where smarter filters buy nothing a receiver can print.
 */
export function scaleBitmap(source: Bitmap, width: number, height: number): Bitmap {
  if (width === source.width && height === source.height) return source;
  const target = createBitmap(width, height);
  const sourceColumn = new Uint32Array(width);
  for (let x = 0; x < width; x++) sourceColumn[x] = Math.min(source.width - 1, Math.floor((x * source.width) / width));
  for (let y = 0; y < height; y++) {
    const sy = Math.min(source.height - 1, Math.floor((y * source.height) / height));
    const sourceBase = sy * source.rowBytes;
    const targetBase = y * target.rowBytes;
    for (let x = 0; x < width; x++) {
      const sx = sourceColumn[x];
      if ((source.data[sourceBase + (sx >> 3)] >> (7 - (sx & 7))) & 1) {
        target.data[targetBase + (x >> 3)] |= 0x80 >> (x & 7);
      }
    }
  }
  return target;
}

/**
 * Halves the vertical resolution by OR-ing each pair of rows, so one-pixel horizontal strokes of a
 * fine page survive on a standard-resolution receiver.
 */
export function halveRows(source: Bitmap): Bitmap {
  const target = createBitmap(source.width, Math.ceil(source.height / 2));
  for (let y = 0; y < target.height; y++) {
    const a = 2 * y * source.rowBytes;
    const hasB = 2 * y + 1 < source.height;
    const b = (2 * y + 1) * source.rowBytes;
    const t = y * target.rowBytes;
    for (let i = 0; i < source.rowBytes; i++) {
      target.data[t + i] = source.data[a + i] | (hasB ? source.data[b + i] : 0);
    }
  }
  return target;
}

/** Places the image on a wider (or narrower) canvas, centred horizontally; extra area is white. */
export function fitWidth(source: Bitmap, width: number): Bitmap {
  if (source.width === width) return source;
  const target = createBitmap(width, source.height);
  const offset = Math.floor((width - source.width) / 2);
  for (let y = 0; y < source.height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = x - offset;
      if (sx >= 0 && sx < source.width && getPixel(source, sx, y)) {
        target.data[y * target.rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
      }
    }
  }
  return target;
}
