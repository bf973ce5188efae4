import { bitmapPng, createBitmap, decodeMh, pagesToG3Tiff, pagesToPdf, type FaxPage } from '@faxnotify/fax-line';

/** One received page as stored: clean T.4 1-D (MH) data, EOL before every row, no RTC, MSB first. */
export interface StoredPage {
  width: number;
  rows: number;
  resolution: 'standard' | 'fine';
  data: Buffer;
}

export const resolutionOf = (value: string): 'standard' | 'fine' => (value === 'fine' ? 'fine' : 'standard');

const faxPage = (page: StoredPage): FaxPage => ({ width: page.width, height: page.rows, resolution: page.resolution, data: page.data });

/** The pages as one G3 TIFF (each page at its own resolution). */
export const receivedTiff = (pages: readonly StoredPage[]): Buffer => pagesToG3Tiff(pages.map(faxPage));

/** The pages as a PDF (see pagesToPdf): the line's own data, not re-encoded. */
export const receivedPdf = (pages: readonly StoredPage[], title = 'Fax'): Buffer => pagesToPdf(pages.map(faxPage), title);

/** A page decoded from its MH data, as a 1-bit grayscale PNG (for the received fax's page in a browser). */
export function pagePng(page: StoredPage): { png: Buffer; badRows: number } {
  const rows = Math.max(page.rows, 1);
  const decoded = page.rows > 0 ? decodeMh(page.data, page.width, { maxRows: page.rows }) : undefined;
  const png = bitmapPng(decoded?.bitmap ?? createBitmap(page.width, 0), rows);
  return { png, badRows: decoded?.badLines ?? 0 };
}
