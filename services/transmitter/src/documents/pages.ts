/**
 * One TIFF page to one fax page: decoded into a bilevel bitmap whatever its photometric and
 * sample layout, then brought to fax width and resolution.
 */
import {
  type Bitmap,
  Compression,
  createBitmap,
  decodeMh,
  FAX_WIDTH,
  FAX_X_RESOLUTION,
  FAX_Y_RESOLUTION,
  type FaxPage,
  type FaxResolution,
  fitWidth,
  pageFromBitmap,
  reverseBitOrder,
  scaleBitmap,
  type TiffPage,
} from '@faxnotify/fax-line';
import { PreparationFailure } from './format';

export function nearestResolution(page: TiffPage): FaxResolution {
  const y = page.yResolution ?? page.xResolution ?? FAX_Y_RESOLUTION.fine;
  return y >= (FAX_Y_RESOLUTION.standard + FAX_Y_RESOLUTION.fine) / 2 ? 'fine' : 'standard';
}

/** Decodes one TIFF page into a bilevel bitmap, whatever its photometric and sample layout. */
export function pageToBitmap(page: TiffPage): Bitmap {
  if (page.compression === Compression.CcittT4) {
    const decoded = decodeMh(page.stripData, page.width, { lsbFirst: page.fillOrder === 2, maxRows: page.height });
    const bitmap = createBitmap(page.width, page.height);
    bitmap.data.set(decoded.bitmap.data.subarray(0, Math.min(decoded.bitmap.data.length, bitmap.data.length)));
    if (page.photometric === 1) invert(bitmap);
    return bitmap;
  }
  const { width, height, bitsPerSample: bps, samplesPerPixel: spp } = page;
  if (![1, 2, 4, 8, 16].includes(bps)) throw new PreparationFailure('failed_image_preparation', `unsupported TIFF sample size: ${bps} bits`);
  const rowBytes = Math.ceil((width * spp * bps) / 8);
  let data: Uint8Array = page.stripData;
  if (data.length < rowBytes * height) throw new PreparationFailure('failed_image_preparation', 'TIFF image data is shorter than its size says');
  if (bps === 1 && spp === 1 && (page.photometric === 0 || page.photometric === 1)) {
    if (page.fillOrder === 2) data = reverseBitOrder(data);
    const bitmap = createBitmap(width, height);
    for (let y = 0; y < height; y++) bitmap.data.set(data.subarray(y * rowBytes, y * rowBytes + bitmap.rowBytes), y * bitmap.rowBytes);
    if (page.photometric === 1) invert(bitmap);
    return bitmap;
  }
  const maxValue = (1 << bps) - 1;
  const sample = (rowStart: number, index: number): number => {
    if (bps === 8) return data[rowStart + index];
    if (bps === 16) return data[rowStart + index * 2 + (page.fillOrder === 2 ? 0 : 1)]; // high byte, either order is close enough
    const bit = index * bps;
    const byte = data[rowStart + (bit >> 3)];
    return (byte >> (8 - bps - (bit & 7))) & maxValue;
  };
  const scale = bps === 16 ? 255 : 255 / maxValue;
  const colorMap = page.colorMap;
  if (page.photometric === 3 && (!colorMap || colorMap.length < 3 * (maxValue + 1))) {
    throw new PreparationFailure('failed_image_preparation', 'palette TIFF without a usable colour map');
  }
  if (![0, 1, 2, 3].includes(page.photometric)) {
    throw new PreparationFailure('failed_image_preparation', `unsupported TIFF colour space (photometric ${page.photometric})`);
  }
  const bitmap = createBitmap(width, height);
  for (let y = 0; y < height; y++) {
    const rowStart = y * rowBytes;
    for (let x = 0; x < width; x++) {
      let luminance: number;
      const first = x * spp;
      if (page.photometric === 2 && spp >= 3) {
        luminance = ((sample(rowStart, first) * 299 + sample(rowStart, first + 1) * 587 + sample(rowStart, first + 2) * 114) / 1000) * scale;
      } else if (page.photometric === 3) {
        const entry = sample(rowStart, first);
        const levels = maxValue + 1;
        luminance = (colorMap![entry] * 299 + colorMap![levels + entry] * 587 + colorMap![2 * levels + entry] * 114) / 1000 / 257;
      } else {
        const value = sample(rowStart, first) * scale;
        luminance = page.photometric === 0 ? 255 - value : value;
      }
      if (luminance < 128) bitmap.data[y * bitmap.rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return bitmap;
}

function invert(bitmap: Bitmap): void {
  for (let i = 0; i < bitmap.data.length; i++) bitmap.data[i] = ~bitmap.data[i] & 0xff;
  // Keep the padding bits past the right edge white.
  const extra = bitmap.rowBytes * 8 - bitmap.width;
  if (extra > 0) {
    const mask = (0xff << extra) & 0xff;
    for (let y = 0; y < bitmap.height; y++) bitmap.data[y * bitmap.rowBytes + bitmap.rowBytes - 1] &= mask;
  }
}

/** Within this share of a fax resolution, a source is taken as already at it (200 dpi is 204, 100 is 98). */
const RESOLUTION_TOLERANCE = 0.05;

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= b * RESOLUTION_TOLERANCE;
}

/** Brings a page to fax width and resolution. */
export function normalizePage(source: Bitmap, page: TiffPage, resolution: FaxResolution): FaxPage {
  const targetY = FAX_Y_RESOLUTION[resolution];
  // Without resolution tags, a fax-wide page is taken as fax resolution; anything else is fitted to the width.
  const xRes = page.xResolution ?? (source.width <= FAX_WIDTH ? FAX_X_RESOLUTION : (source.width * FAX_X_RESOLUTION) / FAX_WIDTH);
  const yRes = page.yResolution ?? (page.xResolution === null ? targetY : xRes);
  let width = close(xRes, FAX_X_RESOLUTION) ? source.width : Math.round((source.width * FAX_X_RESOLUTION) / xRes);
  let height = close(yRes, targetY) ? source.height : Math.round((source.height * targetY) / yRes);
  if (width > FAX_WIDTH) {
    height = Math.round((height * FAX_WIDTH) / width);
    width = FAX_WIDTH;
  }
  const bitmap = fitWidth(scaleBitmap(source, Math.max(1, width), Math.max(1, height)), FAX_WIDTH);
  return pageFromBitmap(bitmap, resolution);
}
