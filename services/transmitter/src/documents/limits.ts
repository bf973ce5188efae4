/**
 * Limits on one document's conversion, and the checks that can be made before anything is
 * decoded: the file's size, and a TIFF's declared pages, page sizes and strip lengths read from its
 * directories alone. A file that breaks a limit is refused at once with a detail naming the limit.
 */
import { Compression } from '@faxnotify/fax-line';

/** The TIFF tags read here (TIFF 6.0). */
const TiffTag = {
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  StripByteCounts: 279,
  T4Options: 292,
} as const;

export interface DocumentLimits {
  /** Bytes of one file. */
  maxBytes: number;
  /** Pages of one file. */
  maxPages: number;
  /** Pixels (width × height) of one page as the file declares it. */
  maxPixelsPerPage: number;
  /** Seconds one file's conversion may take, converters included. */
  maxSeconds: number;
  /** Megabytes one conversion may use: the worker's heap, each converter's address space, and the decoding estimate. */
  maxMemoryMb: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = {
  maxBytes: 30 * 1024 * 1024,
  maxPages: 200,
  maxPixelsPerPage: 40_000_000,
  maxSeconds: 120,
  maxMemoryMb: 512,
};

/** The setting behind each limit, named in every refusal so an operator knows what to raise. */
export const LIMIT_SETTING: Record<keyof DocumentLimits, string> = {
  maxBytes: 'documents.maxBytes',
  maxPages: 'documents.maxPages',
  maxPixelsPerPage: 'documents.maxPixelsPerPage',
  maxSeconds: 'documents.maxSeconds',
  maxMemoryMb: 'documents.maxMemoryMb',
};

/** 1234567 as "1,234,567" (without loading the locale data on a refusal's path). */
export function grouped(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Why a document was refused: the limit it broke, in words. */
export function limitDetail(limit: keyof DocumentLimits, what: string, limits: DocumentLimits): string {
  return `${what}, more than the limit of ${grouped(limits[limit])} (${LIMIT_SETTING[limit]})`;
}

/** Null when a file of this size may be converted, else why not. */
export function fileSizeProblem(bytes: number, limits: DocumentLimits): string | null {
  return bytes > limits.maxBytes ? limitDetail('maxBytes', `the file has ${grouped(bytes)} bytes`, limits) : null;
}

/** One TIFF page as its directory declares it. */
export interface TiffPageShape {
  width: number;
  height: number;
  bitsPerSample: number;
  samplesPerPixel: number;
  compression: number;
  t4Options: number;
  /** Sum of the declared strip byte counts. */
  stripBytes: number;
}

export type TiffCheck = { ok: true; pages: TiffPageShape[]; memoryBytes: number } | { ok: false; kind: 'damaged' | 'limit'; detail: string };

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 6: 1, 7: 1, 8: 2, 9: 4, 16: 8 };

class Refusal extends Error {
  constructor(
    readonly kind: 'damaged' | 'limit',
    detail: string,
  ) {
    super(detail);
  }
}

/** Whether the page's data is read as it is (uncompressed or 1-D G3) rather than first decompressed by tiffcp. */
export function readsDirectly(page: Pick<TiffPageShape, 'compression' | 't4Options' | 'bitsPerSample'>): boolean {
  if (page.compression === Compression.None) return true;
  return page.compression === Compression.CcittT4 && (page.t4Options & 1) === 0 && page.bitsPerSample === 1;
}

/**
 * Walks a TIFF's directories without touching its image data and refuses it as soon as a limit
 * is broken: more pages than allowed (counted as the chain is walked, so 10,000 directories cost
 * no more than maxPages + 1), a page larger than allowed, strips that claim more bytes than the
 * file holds, or a decoding that would need more memory than allowed.
 */
export function checkTiff(buffer: Buffer, limits: DocumentLimits): TiffCheck {
  try {
    const pages = walk(buffer, limits);
    const memoryBytes = decodingEstimate(buffer.length, pages);
    if (memoryBytes > limits.maxMemoryMb * 1024 * 1024) {
      const mb = Math.ceil(memoryBytes / (1024 * 1024));
      return { ok: false, kind: 'limit', detail: limitDetail('maxMemoryMb', `decoding the TIFF needs about ${mb} MB`, limits) };
    }
    return { ok: true, pages, memoryBytes };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, kind: error.kind, detail: error.message };
    throw error;
  }
}

/**
 * Bytes a conversion holds at its peak, roughly: the file twice (read, then its strips gathered),
 * every page uncompressed when tiffcp has to decompress them (its output is read whole), and the
 * largest page as bitmaps (decoded, scaled, fitted).
 */
export function decodingEstimate(fileBytes: number, pages: readonly TiffPageShape[]): number {
  const raw = (page: TiffPageShape) => Math.ceil((page.width * page.samplesPerPixel * page.bitsPerSample) / 8) * page.height;
  const bitmap = (page: TiffPageShape) => Math.ceil(page.width / 8) * page.height;
  const decompressed = pages.every(readsDirectly) ? 0 : 2 * pages.reduce((sum, page) => sum + raw(page), 0);
  const largestBitmap = pages.reduce((most, page) => Math.max(most, bitmap(page)), 0);
  return 2 * fileBytes + decompressed + 3 * largestBitmap;
}

function walk(buffer: Buffer, limits: DocumentLimits): TiffPageShape[] {
  if (buffer.length < 8) throw new Refusal('damaged', 'damaged TIFF: file too short for a TIFF header');
  const little = buffer.toString('latin1', 0, 2) === 'II';
  const inside = (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > buffer.length)
      throw new Refusal('damaged', `damaged TIFF: its structure points outside the file (offset ${offset})`);
  };
  const u16 = (at: number) => (inside(at, 2), little ? buffer.readUInt16LE(at) : buffer.readUInt16BE(at));
  const u32 = (at: number) => (inside(at, 4), little ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at));
  const values = (entry: { type: number; count: number; at: number } | undefined, most: number): number[] => {
    if (!entry) return [];
    const size = TYPE_SIZE[entry.type];
    if (!size || size > 4) throw new Refusal('damaged', `damaged TIFF: field type ${entry.type} where a number belongs`);
    const total = size * entry.count;
    const base = total <= 4 ? entry.at : u32(entry.at);
    inside(base, total);
    const out: number[] = [];
    for (let i = 0; i < Math.min(entry.count, most); i++) out.push(size === 1 ? buffer[base + i] : size === 2 ? u16(base + i * 2) : u32(base + i * 4));
    return out;
  };

  if (u16(2) !== 42) throw new Refusal('damaged', 'damaged TIFF: not a classic TIFF file (magic is not 42)');
  const pages: TiffPageShape[] = [];
  const seen = new Set<number>();
  for (let ifd = u32(4); ifd !== 0;) {
    if (seen.has(ifd)) throw new Refusal('damaged', 'damaged TIFF: its directory chain loops');
    seen.add(ifd);
    if (pages.length === limits.maxPages) throw new Refusal('limit', limitDetail('maxPages', `the TIFF has more than ${limits.maxPages} pages`, limits));
    const count = u16(ifd);
    inside(ifd + 2, count * 12 + 4);
    const entries = new Map<number, { type: number; count: number; at: number }>();
    for (let i = 0; i < count; i++) {
      const at = ifd + 2 + i * 12;
      entries.set(u16(at), { type: u16(at + 2), count: u32(at + 4), at: at + 8 });
    }
    const one = (tag: number, fallback: number) => values(entries.get(tag), 1)[0] ?? fallback;
    const number = pages.length + 1;
    const width = one(TiffTag.ImageWidth, 0);
    const height = one(TiffTag.ImageLength, 0);
    if (width <= 0 || height <= 0) throw new Refusal('damaged', `damaged TIFF: page ${number} is ${width} × ${height} pixels`);
    if (width * height > limits.maxPixelsPerPage) {
      const what = `page ${number} is ${grouped(width)} × ${grouped(height)} = ${grouped(width * height)} pixels`;
      throw new Refusal('limit', limitDetail('maxPixelsPerPage', what, limits));
    }
    const offsets = values(entries.get(TiffTag.StripOffsets), Number.MAX_SAFE_INTEGER);
    const counts = values(entries.get(TiffTag.StripByteCounts), Number.MAX_SAFE_INTEGER);
    if (offsets.length === 0 || offsets.length !== counts.length) throw new Refusal('damaged', `damaged TIFF: page ${number} has no usable strips`);
    let stripBytes = 0;
    offsets.forEach((offset, i) => {
      const length = counts[i];
      if (offset + length > buffer.length) {
        throw new Refusal(
          'damaged',
          `damaged TIFF: a strip of page ${number} claims ${grouped(length)} bytes at offset ${offset}, past the file's end (${buffer.length} bytes)`,
        );
      }
      stripBytes += length;
    });
    const bitsPerSample = one(TiffTag.BitsPerSample, 1);
    const samplesPerPixel = one(TiffTag.SamplesPerPixel, 1);
    if (bitsPerSample < 1 || bitsPerSample > 16 || samplesPerPixel < 1 || samplesPerPixel > 8) {
      throw new Refusal('damaged', `unsupported TIFF: page ${number} has ${samplesPerPixel} samples of ${bitsPerSample} bits`);
    }
    pages.push({ width, height, bitsPerSample, samplesPerPixel, compression: one(TiffTag.Compression, 1), t4Options: one(TiffTag.T4Options, 0), stripBytes });
    ifd = u32(ifd + 2 + count * 12);
  }
  if (pages.length === 0) throw new Refusal('damaged', 'damaged TIFF: it has no pages');
  return pages;
}

/**
 * Null when an OOXML package (a zip) unpacks within documents.maxBytes by what its central
 * directory declares, else why not: a zip bomb (hundreds of megabytes of XML deflated to a few
 * hundred kilobytes) is refused before LibreOffice inflates it. A package whose directory cannot be
 * read, or that needs ZIP64 sizes, is refused too (no document of ours needs them). Sizes that lie
 * about the data behind them are left to the converter's time and memory limits.
 */
export function zipPackageProblem(file: Buffer, limits: DocumentLimits): { overLimit: boolean; detail: string } | null {
  const END = 0x06054b50;
  const ENTRY = 0x02014b50;
  // The end record is 22 bytes plus a comment of up to 65,535.
  let end = -1;
  for (let at = file.length - 22; at >= Math.max(0, file.length - 22 - 0xffff); at--) {
    if (file.readUInt32LE(at) === END) {
      end = at;
      break;
    }
  }
  if (end < 0) return { overLimit: false, detail: 'the package is not a readable zip: no end of central directory' };
  const entries = file.readUInt16LE(end + 10);
  let at = file.readUInt32LE(end + 16);
  let unpacked = 0;
  for (let i = 0; i < entries; i++) {
    if (at + 46 > file.length || file.readUInt32LE(at) !== ENTRY)
      return { overLimit: false, detail: 'the package is not a readable zip: its central directory is damaged' };
    const size = file.readUInt32LE(at + 24);
    if (size === 0xffffffff) return { overLimit: true, detail: limitDetail('maxBytes', 'the package declares a part of 4 GB or more', limits) };
    unpacked += size;
    at += 46 + file.readUInt16LE(at + 28) + file.readUInt16LE(at + 30) + file.readUInt16LE(at + 32);
  }
  return unpacked > limits.maxBytes ? { overLimit: true, detail: limitDetail('maxBytes', `the package unpacks to ${grouped(unpacked)} bytes`, limits) } : null;
}
