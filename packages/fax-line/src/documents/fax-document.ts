import { type Bitmap, halveRows } from './bitmap';
import { decodeMh, encodeMh } from './t4-mh';
import { writeG3Tiff } from './tiff';

/** The Group 3 page width every fax machine accepts (A4 at 8 pels/mm). */
export const FAX_WIDTH = 1728;
/** Horizontal resolution of fax pages, pixels per inch (R8 = 8 pels/mm). */
export const FAX_X_RESOLUTION = 204;
/** Vertical resolutions: standard (3.85 lines/mm) and fine (7.7 lines/mm), lines per inch. */
export const FAX_Y_RESOLUTION = { standard: 98, fine: 196 } as const;
export type FaxResolution = keyof typeof FAX_Y_RESOLUTION;

/** One page ready to be sent: T.4 1-D (MH) data at fax width and a fax resolution. */
export interface FaxPage {
  readonly width: number;
  readonly height: number;
  readonly resolution: FaxResolution;
  /** T.4 1-D data, EOL before every line, no RTC, bits MSB-first (TIFF FillOrder 1). */
  readonly data: Buffer;
}

/** A document prepared for a fax line: its pages, counted before anyone dials. */
export interface FaxDocument {
  readonly pages: readonly FaxPage[];
}

export function pageFromBitmap(bitmap: Bitmap, resolution: FaxResolution): FaxPage {
  return { width: bitmap.width, height: bitmap.height, resolution, data: encodeMh(bitmap) };
}

export function pageBitmap(page: FaxPage): Bitmap {
  return decodeMh(page.data, page.width, { maxRows: page.height }).bitmap;
}

/**
 * The page's image at the resolution a receiver can take: a fine page goes to a standard-only
 * receiver with every two lines merged.
 */
export function bitmapForResolution(page: FaxPage, receiverTakesFine: boolean): { bitmap: Bitmap; resolution: FaxResolution } {
  const bitmap = pageBitmap(page);
  if (page.resolution === 'fine' && !receiverTakesFine) return { bitmap: halveRows(bitmap), resolution: 'standard' };
  return { bitmap, resolution: page.resolution };
}

/** Pages (sent or received) as one G3 TIFF file, each at its own resolution: how a fax is kept and handed out. */
export function pagesToG3Tiff(pages: readonly FaxPage[]): Buffer {
  return writeG3Tiff(
    pages.map((page) => ({
      width: page.width,
      height: page.height,
      xResolution: FAX_X_RESOLUTION,
      yResolution: FAX_Y_RESOLUTION[page.resolution],
      data: page.data,
    })),
  );
}
