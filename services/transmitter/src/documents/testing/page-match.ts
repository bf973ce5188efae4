/**
 * Comparing a fax page as a receiver got it with a reference rendering of the same document, with
 * no OCR: the reference (a PDF made by other tools than ours) is rendered by Ghostscript at the
 * scale that makes its ink cover the same box as the received page's ink, then laid over the
 * received page at the best of a few small shifts. A black pixel matches when the other page has
 * a black pixel at most one pixel away. Reported both ways: the share of the reference's black
 * pixels found on the received page (recall: nothing lost) and of the received page's found on
 * the reference (precision: nothing added).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Bitmap, createBitmap, decodeMh, FAX_X_RESOLUTION, FAX_Y_RESOLUTION, readTiff } from '@faxnotify/fax-line';

export interface PageMatch {
  /** Share of the reference's black pixels with a received black pixel within one pixel. */
  recall: number;
  /** Share of the received page's black pixels with a reference black pixel within one pixel. */
  precision: number;
  /** The reference's scale (received size / reference size at 204 × 196) and its shift in received pixels. */
  scaleX: number;
  scaleY: number;
  dx: number;
  dy: number;
  referenceBlack: number;
  receivedBlack: number;
}

/** Rows at the top of a received page left out of the comparison (efax stamps its own header line there). */
export const RECEIVER_HEADER_ROWS = 20;

/** Reads a binary PBM (P4), comments allowed: the same row layout as our bitmaps. */
export function parsePbm(buffer: Buffer): Bitmap {
  let at = 0;
  const tokens: string[] = [];
  while (tokens.length < 3) {
    while (/\s/.test(String.fromCharCode(buffer[at]))) at++;
    if (buffer[at] === 0x23) {
      while (buffer[at] !== 0x0a) at++;
      continue;
    }
    let token = '';
    while (!/\s/.test(String.fromCharCode(buffer[at]))) token += String.fromCharCode(buffer[at++]);
    tokens.push(token);
  }
  at++;
  if (tokens[0] !== 'P4') throw new Error(`not a binary PBM: ${tokens[0]}`);
  const bitmap = createBitmap(Number(tokens[1]), Number(tokens[2]));
  bitmap.data.set(buffer.subarray(at, at + bitmap.data.length));
  return bitmap;
}

/** One page of a PDF rendered by Ghostscript as a bilevel bitmap at the given resolution (pixels per inch, fractions allowed). */
export function renderPdfPage(pdf: string, page: number, xDpi: number, yDpi: number): Bitmap {
  const dir = mkdtempSync(join(pdf, '..', 'render-'));
  try {
    execFileSync('gs', [
      '-q',
      '-dNOPAUSE',
      '-dBATCH',
      '-dSAFER',
      '-sDEVICE=pbmraw',
      `-r${xDpi.toFixed(3)}x${yDpi.toFixed(3)}`,
      `-dFirstPage=${page}`,
      `-dLastPage=${page}`,
      `-sOutputFile=${join(dir, 'page.pbm')}`,
      pdf,
    ]);
    return parsePbm(readFileSync(join(dir, 'page.pbm')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Number of pages of a PDF, as Ghostscript counts them. */
export function pdfPageCount(pdf: string): number {
  const out = execFileSync('gs', ['-q', '-dNODISPLAY', '-dSAFER', `--permit-file-read=${pdf}`, '-c', `(${pdf}) (r) file runpdfbegin pdfpagecount = quit`], {
    encoding: 'latin1',
  });
  return Number(/\d+/.exec(out)?.[0]);
}

/** The pages efax wrote (one MH TIFF file per page), decoded. */
export function readReceivedPages(files: readonly string[]): Bitmap[] {
  return files.map((file) => {
    const [page] = readTiff(readFileSync(file));
    return decodeMh(page.stripData, page.width, { lsbFirst: page.fillOrder === 2, maxRows: page.height }).bitmap;
  });
}

/** Lists received page files in a folder (efax's fax.001, .002, …). */
export function receivedPageFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^fax\.\d{3}$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** One byte per pixel (1 = black), rows from `fromRow` on only. */
function unpack(bitmap: Bitmap, fromRow = 0): Uint8Array {
  const pixels = new Uint8Array(bitmap.width * bitmap.height);
  for (let y = fromRow; y < bitmap.height; y++) {
    for (let x = 0; x < bitmap.width; x++) {
      const byte = bitmap.data[y * bitmap.rowBytes + (x >> 3)];
      if (byte !== 0) pixels[y * bitmap.width + x] = (byte >> (7 - (x & 7))) & 1;
    }
  }
  return pixels;
}

/** Every pixel that is black or next to a black pixel (3 × 3). */
function dilate(pixels: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!pixels[y * width + x]) continue;
      for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) out[ny * width + nx] = 1;
      }
    }
  }
  return out;
}

interface Points {
  xs: Int32Array;
  ys: Int32Array;
}

function blackPoints(pixels: Uint8Array, width: number): Points {
  let count = 0;
  for (const pixel of pixels) count += pixel;
  const points = { xs: new Int32Array(count), ys: new Int32Array(count) };
  for (let i = 0, n = 0; i < pixels.length; i++) {
    if (!pixels[i]) continue;
    points.xs[n] = i % width;
    points.ys[n++] = (i - (i % width)) / width;
  }
  return points;
}

/** How many of the points, moved by (dx, dy), fall on a set pixel of `grown`. */
function countCovered(points: Points, dx: number, dy: number, grown: Uint8Array, width: number, height: number): number {
  let covered = 0;
  for (let n = 0; n < points.xs.length; n++) {
    const x = points.xs[n] + dx;
    const y = points.ys[n] + dy;
    if (x >= 0 && y >= 0 && x < width && y < height) covered += grown[y * width + x];
  }
  return covered;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The box holding the ink, less a thousandth of it on each side (a stray speck does not stretch it). */
function inkBox(pixels: Uint8Array, width: number, height: number): Box | null {
  const columns = new Float64Array(width);
  const rows = new Float64Array(height);
  let total = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[y * width + x]) {
        columns[x]++;
        rows[y]++;
        total++;
      }
    }
  }
  if (total === 0) return null;
  const trim = total / 1000;
  const from = (counts: Float64Array) => {
    let sum = 0;
    for (let i = 0; i < counts.length; i++) if ((sum += counts[i]) > trim) return i;
    return 0;
  };
  const to = (counts: Float64Array) => {
    let sum = 0;
    for (let i = counts.length - 1; i >= 0; i--) if ((sum += counts[i]) > trim) return i;
    return counts.length - 1;
  };
  return { x0: from(columns), x1: to(columns), y0: from(rows), y1: to(rows) };
}

/**
 * How well a received page matches page `page` of the reference PDF. The received page's top
 * RECEIVER_HEADER_ROWS rows are left out. Shifts up to `search` pixels each way around the ink
 * boxes' alignment are tried; the best (highest of the lower of recall and precision) is returned.
 */
export function matchPage(received: Bitmap, referencePdf: string, page: number, search = 2): PageMatch {
  const got = unpack(received, RECEIVER_HEADER_ROWS);
  const gotBox = inkBox(got, received.width, received.height);
  const first = renderPdfPage(referencePdf, page, FAX_X_RESOLUTION, FAX_Y_RESOLUTION.fine);
  const firstBox = inkBox(unpack(first), first.width, first.height);
  if (!gotBox || !firstBox) throw new Error(`page ${page}: no ink on the ${gotBox ? 'reference' : 'received page'}`);
  const scaleX = (gotBox.x1 - gotBox.x0 + 1) / (firstBox.x1 - firstBox.x0 + 1);
  const scaleY = (gotBox.y1 - gotBox.y0 + 1) / (firstBox.y1 - firstBox.y0 + 1);
  const reference = renderPdfPage(referencePdf, page, FAX_X_RESOLUTION * scaleX, FAX_Y_RESOLUTION.fine * scaleY);
  const ref = unpack(reference);
  const refBox = inkBox(ref, reference.width, reference.height)!;
  const refGrown = dilate(ref, reference.width, reference.height);
  const gotGrown = dilate(got, received.width, received.height);
  const refPoints = blackPoints(ref, reference.width);
  const gotPoints = blackPoints(got, received.width);

  let best: PageMatch | null = null;
  const baseX = gotBox.x0 - refBox.x0;
  const baseY = gotBox.y0 - refBox.y0;
  for (let dy = baseY - search; dy <= baseY + search; dy++) {
    for (let dx = baseX - search; dx <= baseX + search; dx++) {
      // Reference pixel (x, y) lies at (x + dx, y + dy) on the received page.
      const found = countCovered(refPoints, dx, dy, gotGrown, received.width, received.height);
      const backed = countCovered(gotPoints, -dx, -dy, refGrown, reference.width, reference.height);
      const candidate = {
        recall: found / refPoints.xs.length,
        precision: backed / gotPoints.xs.length,
        scaleX,
        scaleY,
        dx,
        dy,
        referenceBlack: refPoints.xs.length,
        receivedBlack: gotPoints.xs.length,
      };
      if (!best || Math.min(candidate.recall, candidate.precision) > Math.min(best.recall, best.precision)) best = candidate;
    }
  }
  return best!;
}

export function describeMatch(match: PageMatch): string {
  return (
    `recall ${(match.recall * 100).toFixed(1)} %, precision ${(match.precision * 100).toFixed(1)} % ` +
    `(scale ${match.scaleX.toFixed(3)} × ${match.scaleY.toFixed(3)}, shift ${match.dx}, ${match.dy}; ` +
    `${match.referenceBlack} reference and ${match.receivedBlack} received black pixels)`
  );
}
