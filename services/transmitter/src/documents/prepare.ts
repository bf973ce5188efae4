/**
 * Document preparation: PDF and TIFF files in, fax pages (T.4 1-D at 1728 pixels, 204x98 or
 * 204x196) out, with the page count known before anyone dials. Every failure comes back as the
 * matching `failed_*` status with the converter's own words; nothing here throws for a bad file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FinalStatus } from '@faxnotify/contracts';
import {
  type Bitmap,
  Compression,
  createBitmap,
  decodeMh,
  FAX_WIDTH,
  FAX_X_RESOLUTION,
  FAX_Y_RESOLUTION,
  type FaxDocument,
  type FaxPage,
  type FaxResolution,
  fitWidth,
  isTiff,
  pageFromBitmap,
  readTiff,
  reverseBitOrder,
  scaleBitmap,
  type TiffPage,
  TiffFormatError,
} from '@faxnotify/fax-line';

export type PreparationFailureStatus = Extract<
  FinalStatus,
  | 'failed_mimetype_not_supported'
  | 'failed_convert_to_tiff_issue'
  | 'failed_image_preparation'
  | 'failed_unknown_converter_issue'
  | 'failed_internal_process_error'
>;

export type DocumentFormat = 'pdf' | 'tiff';

export type PreparationResult =
  | { ok: true; format: DocumentFormat; document: FaxDocument }
  | { ok: false; status: PreparationFailureStatus; detail: string };

export interface PrepareOptions {
  /**
   * Resolution of the prepared pages. PDF pages are rendered at it (default fine); a TIFF keeps
   * its own resolution (the nearer of standard and fine) unless this is given.
   */
  resolution?: FaxResolution;
  /** Time limit for each converter run. Default 120 s. */
  timeoutMs?: number;
  /** Ghostscript executable. Default `gs`. */
  ghostscript?: string;
  /** libtiff's tiffcp executable. Default `tiffcp`. */
  tiffcp?: string;
}

class PreparationFailure extends Error {
  constructor(readonly status: PreparationFailureStatus, detail: string) {
    super(detail);
  }
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Which of our formats a file is, by its first bytes (the name and the sender's claim are not trusted). */
export async function sniffFormat(path: string): Promise<DocumentFormat | null> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    if (isTiff(bytes)) return 'tiff';
    // A PDF may have a few bytes of junk before its header; readers accept it within the first 1 KB.
    if (bytes.includes('%PDF-')) return 'pdf';
    return null;
  } finally {
    await handle.close();
  }
}

/** Prepares one PDF or TIFF file. */
export async function prepareDocument(path: string, options: PrepareOptions = {}): Promise<PreparationResult> {
  try {
    let format: DocumentFormat | null;
    try {
      format = await sniffFormat(path);
    } catch (error) {
      throw new PreparationFailure('failed_internal_process_error', `cannot read ${path}: ${(error as Error).message}`);
    }
    if (format === null) {
      throw new PreparationFailure('failed_mimetype_not_supported', 'the file is neither a PDF nor a TIFF document');
    }
    const pages = format === 'pdf' ? await preparePdf(path, options) : await prepareTiff(path, options);
    if (pages.length === 0) {
      throw new PreparationFailure(format === 'pdf' ? 'failed_convert_to_tiff_issue' : 'failed_image_preparation', 'the document has no pages');
    }
    return { ok: true, format, document: { pages } };
  } catch (error) {
    if (error instanceof PreparationFailure) return { ok: false, status: error.status, detail: error.message };
    return { ok: false, status: 'failed_unknown_converter_issue', detail: `unexpected conversion error: ${(error as Error).message}` };
  }
}

/** Prepares several files as one fax, pages in file order; the first failure decides the result. */
export async function prepareDocuments(paths: readonly string[], options: PrepareOptions = {}): Promise<PreparationResult> {
  const pages: FaxPage[] = [];
  let format: DocumentFormat = 'pdf';
  for (const [index, path] of paths.entries()) {
    const result = await prepareDocument(path, options);
    if (!result.ok) return { ...result, detail: `file ${index + 1} of ${paths.length}: ${result.detail}` };
    if (index === 0) format = result.format;
    pages.push(...result.document.pages);
  }
  if (pages.length === 0) return { ok: false, status: 'failed_image_preparation', detail: 'no files to send' };
  return { ok: true, format, document: { pages } };
}

// ---- PDF ----

async function preparePdf(path: string, options: PrepareOptions): Promise<FaxPage[]> {
  const resolution = options.resolution ?? 'fine';
  const workDir = await mkdtemp(join(tmpdir(), 'faxnotify-pdf-'));
  try {
    const output = join(workDir, 'pages.tif');
    const result = await run(options.ghostscript ?? 'gs', [
      '-q',
      '-dNOPAUSE',
      '-dBATCH',
      '-dSAFER',
      '-sDEVICE=tiffg3',
      `-r${FAX_X_RESOLUTION}x${FAX_Y_RESOLUTION[resolution]}`,
      '-sPAPERSIZE=a4',
      '-dFIXEDMEDIA',
      '-dPDFFitPage',
      `-sOutputFile=${output}`,
      path,
    ], options);
    if (result.kind === 'missing') throw new PreparationFailure('failed_unknown_converter_issue', `Ghostscript is not installed (${result.detail})`);
    if (result.kind === 'timeout') throw new PreparationFailure('failed_unknown_converter_issue', `Ghostscript did not finish in time (${result.detail})`);
    // Ghostscript reports some broken PDFs on stderr yet exits 0 with no pages: check the output too.
    let tiff: Buffer;
    try {
      tiff = await readFile(output);
    } catch {
      throw new PreparationFailure('failed_convert_to_tiff_issue', `Ghostscript made no pages: ${result.detail || 'no output'}`);
    }
    if (result.kind === 'failed' || tiff.length === 0) {
      throw new PreparationFailure('failed_convert_to_tiff_issue', `Ghostscript could not render the PDF: ${result.detail}`);
    }
    let tiffPages: TiffPage[];
    try {
      tiffPages = readTiff(tiff);
    } catch (error) {
      throw new PreparationFailure('failed_convert_to_tiff_issue', `Ghostscript output unreadable: ${(error as Error).message}`);
    }
    return tiffPages.map((page) => normalizePage(pageToBitmap(page), page, resolution));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

// ---- TIFF ----

function directlyReadable(page: TiffPage): boolean {
  if (page.planarConfig !== 1 && page.samplesPerPixel > 1) return false;
  if (page.compression === Compression.None) return page.predictor === 1;
  // Only 1-D T.4 is decoded here; 2-D data goes through tiffcp.
  return page.compression === Compression.CcittT4 && (page.t4Options & 1) === 0 && page.bitsPerSample === 1;
}

async function prepareTiff(path: string, options: PrepareOptions): Promise<FaxPage[]> {
  let pages = parseTiff(await readFile(path));
  if (!pages.every(directlyReadable)) {
    pages = await decompressWithTiffcp(path, options);
    const unreadable = pages.find((page) => !directlyReadable(page));
    if (unreadable) {
      throw new PreparationFailure(
        'failed_image_preparation',
        `unsupported TIFF layout: compression ${unreadable.compression}, ${unreadable.samplesPerPixel} samples, planar ${unreadable.planarConfig}`,
      );
    }
  }
  return pages.map((page) => {
    const source = pageToBitmap(page);
    const resolution = options.resolution ?? nearestResolution(page);
    return normalizePage(source, page, resolution);
  });
}

function parseTiff(buffer: Buffer): TiffPage[] {
  try {
    return readTiff(buffer);
  } catch (error) {
    if (error instanceof TiffFormatError) throw new PreparationFailure('failed_image_preparation', `damaged TIFF: ${error.message}`);
    throw error;
  }
}

async function decompressWithTiffcp(path: string, options: PrepareOptions): Promise<TiffPage[]> {
  const workDir = await mkdtemp(join(tmpdir(), 'faxnotify-tiff-'));
  try {
    const output = join(workDir, 'plain.tif');
    const result = await run(options.tiffcp ?? 'tiffcp', ['-c', 'none', '-p', 'contig', path, output], options);
    if (result.kind === 'missing') throw new PreparationFailure('failed_unknown_converter_issue', `tiffcp is not installed (${result.detail})`);
    if (result.kind === 'timeout') throw new PreparationFailure('failed_unknown_converter_issue', `tiffcp did not finish in time (${result.detail})`);
    if (result.kind === 'failed') throw new PreparationFailure('failed_image_preparation', `tiffcp could not read the TIFF: ${result.detail}`);
    return parseTiff(await readFile(output));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function nearestResolution(page: TiffPage): FaxResolution {
  const y = page.yResolution ?? page.xResolution ?? FAX_Y_RESOLUTION.fine;
  return y >= (FAX_Y_RESOLUTION.standard + FAX_Y_RESOLUTION.fine) / 2 ? 'fine' : 'standard';
}

/** Decodes one TIFF page into a bilevel bitmap, whatever its photometric and sample layout. */
function pageToBitmap(page: TiffPage): Bitmap {
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
        luminance = (sample(rowStart, first) * 299 + sample(rowStart, first + 1) * 587 + sample(rowStart, first + 2) * 114) / 1000 * scale;
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
function normalizePage(source: Bitmap, page: TiffPage, resolution: FaxResolution): FaxPage {
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

// ---- running converters ----

type RunResult = { kind: 'ok' | 'failed' | 'missing' | 'timeout'; detail: string };

function run(command: string, args: string[], options: PrepareOptions): Promise<RunResult> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve) => {
    execFile(command, args, { timeout, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stderr}${stdout}`.trim().split('\n').slice(-8).join('\n').slice(0, 2000);
      if (!error) return resolve({ kind: 'ok', detail: output });
      const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      if (failure.code === 'ENOENT') return resolve({ kind: 'missing', detail: `${command}: not found` });
      if (failure.killed) return resolve({ kind: 'timeout', detail: `${command} killed after ${timeout} ms` });
      resolve({ kind: 'failed', detail: output || `${command} exited with ${String(failure.code)}` });
    });
  });
}
