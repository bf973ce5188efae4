/**
 * Just enough TIFF to read the pages our converters and our users hand us, and to write fax pages
 * as G3 TIFF (the format efax, HylaFAX and every fax viewer read).
 */

export const TiffTag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  FillOrder: 266,
  StripOffsets: 273,
  Orientation: 274,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfig: 284,
  T4Options: 292,
  ResolutionUnit: 296,
  PageNumber: 297,
  Software: 305,
  Predictor: 317,
  ColorMap: 320,
  ExtraSamples: 338,
} as const;

export const Compression = { None: 1, CcittRle: 2, CcittT4: 3, CcittT6: 4, Lzw: 5, Jpeg: 7, Deflate: 8, PackBits: 32773 } as const;

export class TiffFormatError extends Error {
  override readonly name = 'TiffFormatError';
}

export interface TiffPage {
  width: number;
  height: number;
  bitsPerSample: number;
  samplesPerPixel: number;
  compression: number;
  /** 0 = min-is-white, 1 = min-is-black, 2 = RGB, 3 = palette. */
  photometric: number;
  fillOrder: number;
  planarConfig: number;
  predictor: number;
  t4Options: number;
  /** Pixels per inch (converted from centimetres when the file says so); null when absent. */
  xResolution: number | null;
  yResolution: number | null;
  colorMap: number[] | null;
  rowsPerStrip: number;
  /** The strips' bytes, concatenated in order. */
  stripData: Buffer;
}

interface Entry {
  tag: number;
  type: number;
  count: number;
  valueOffset: number;
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };

class TiffReader {
  private readonly little: boolean;

  constructor(private readonly buffer: Buffer) {
    if (buffer.length < 8) throw new TiffFormatError('file too short for a TIFF header');
    const order = buffer.toString('latin1', 0, 2);
    if (order === 'II') this.little = true;
    else if (order === 'MM') this.little = false;
    else throw new TiffFormatError('not a TIFF file (bad byte-order mark)');
    if (this.u16(2) !== 42) throw new TiffFormatError('not a classic TIFF file (magic is not 42)');
  }

  u16(offset: number): number {
    this.check(offset, 2);
    return this.little ? this.buffer.readUInt16LE(offset) : this.buffer.readUInt16BE(offset);
  }

  u32(offset: number): number {
    this.check(offset, 4);
    return this.little ? this.buffer.readUInt32LE(offset) : this.buffer.readUInt32BE(offset);
  }

  check(offset: number, length: number): void {
    if (offset < 0 || offset + length > this.buffer.length) {
      throw new TiffFormatError(`TIFF structure points outside the file (offset ${offset})`);
    }
  }

  pages(): TiffPage[] {
    const pages: TiffPage[] = [];
    const seen = new Set<number>();
    let ifd = this.u32(4);
    while (ifd !== 0) {
      if (seen.has(ifd)) throw new TiffFormatError('TIFF directory chain loops');
      seen.add(ifd);
      if (seen.size > 10000) throw new TiffFormatError('too many TIFF directories');
      const count = this.u16(ifd);
      const entries = new Map<number, Entry>();
      for (let i = 0; i < count; i++) {
        const at = ifd + 2 + i * 12;
        const entry: Entry = { tag: this.u16(at), type: this.u16(at + 2), count: this.u32(at + 4), valueOffset: at + 8 };
        entries.set(entry.tag, entry);
      }
      pages.push(this.page(entries));
      ifd = this.u32(ifd + 2 + count * 12);
    }
    if (pages.length === 0) throw new TiffFormatError('TIFF file has no pages');
    return pages;
  }

  private values(entry: Entry | undefined): number[] {
    if (!entry) return [];
    const size = TYPE_SIZE[entry.type];
    if (!size) throw new TiffFormatError(`unsupported TIFF field type ${entry.type} in tag ${entry.tag}`);
    const total = size * entry.count;
    const base = total <= 4 ? entry.valueOffset : this.u32(entry.valueOffset);
    this.check(base, total);
    const out: number[] = [];
    for (let i = 0; i < entry.count; i++) {
      const at = base + i * size;
      switch (entry.type) {
        case 1:
        case 2:
        case 6:
        case 7:
          out.push(this.buffer[at]);
          break;
        case 3:
        case 8:
          out.push(this.u16(at));
          break;
        case 4:
        case 9:
          out.push(this.u32(at));
          break;
        case 5:
        case 10: {
          const denominator = this.u32(at + 4);
          out.push(denominator === 0 ? 0 : this.u32(at) / denominator);
          break;
        }
        default:
          throw new TiffFormatError(`unsupported TIFF field type ${entry.type}`);
      }
    }
    return out;
  }

  private one(entries: Map<number, Entry>, tag: number, fallback: number): number {
    const v = this.values(entries.get(tag));
    return v.length > 0 ? v[0] : fallback;
  }

  private page(entries: Map<number, Entry>): TiffPage {
    const width = this.one(entries, TiffTag.ImageWidth, 0);
    const height = this.one(entries, TiffTag.ImageLength, 0);
    if (width <= 0 || height <= 0) throw new TiffFormatError(`bad TIFF page size ${width}x${height}`);
    if (width > 20000 || height > 60000) throw new TiffFormatError(`TIFF page too large: ${width}x${height}`);
    const offsets = this.values(entries.get(TiffTag.StripOffsets));
    const counts = this.values(entries.get(TiffTag.StripByteCounts));
    if (offsets.length === 0 || offsets.length !== counts.length) throw new TiffFormatError('TIFF page has no usable strips');
    const strips = offsets.map((offset, i) => {
      this.check(offset, counts[i]);
      return this.buffer.subarray(offset, offset + counts[i]);
    });
    const unit = this.one(entries, TiffTag.ResolutionUnit, 2);
    const perInch = (value: number | undefined): number | null => (value === undefined || value <= 0 || unit === 1 ? null : unit === 3 ? value * 2.54 : value);
    const colorMap = this.values(entries.get(TiffTag.ColorMap));
    return {
      width,
      height,
      bitsPerSample: this.one(entries, TiffTag.BitsPerSample, 1),
      samplesPerPixel: this.one(entries, TiffTag.SamplesPerPixel, 1),
      compression: this.one(entries, TiffTag.Compression, 1),
      photometric: this.one(entries, TiffTag.Photometric, 0),
      fillOrder: this.one(entries, TiffTag.FillOrder, 1),
      planarConfig: this.one(entries, TiffTag.PlanarConfig, 1),
      predictor: this.one(entries, TiffTag.Predictor, 1),
      t4Options: this.one(entries, TiffTag.T4Options, 0),
      xResolution: perInch(this.values(entries.get(TiffTag.XResolution))[0]),
      yResolution: perInch(this.values(entries.get(TiffTag.YResolution))[0]),
      colorMap: colorMap.length > 0 ? colorMap : null,
      rowsPerStrip: this.one(entries, TiffTag.RowsPerStrip, height),
      stripData: Buffer.concat(strips),
    };
  }
}

/** Reads every page (directory) of a TIFF file. Throws TiffFormatError for a malformed file. */
export function readTiff(buffer: Buffer): TiffPage[] {
  return new TiffReader(buffer).pages();
}

export function isTiff(head: Uint8Array): boolean {
  return (head[0] === 0x49 && head[1] === 0x49 && head[2] === 42 && head[3] === 0) || (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && head[3] === 42);
}

export interface G3TiffPage {
  width: number;
  height: number;
  xResolution: number;
  yResolution: number;
  /** T.4 1-D data, MSB-first, EOL before each line. */
  data: Buffer;
}

/** Writes pages as a little-endian G3 (1-D, EOL fill) TIFF: the classic fax file. */
export function writeG3Tiff(pages: readonly G3TiffPage[]): Buffer {
  const chunks: Buffer[] = [];
  let offset = 8;
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  chunks.push(header);
  const directoryOffsets: number[] = [];
  const patchNext: Array<{ chunk: Buffer; at: number }> = [];

  pages.forEach((page, index) => {
    const data = page.data;
    const dataOffset = offset;
    chunks.push(data);
    offset += data.length;
    if (offset % 2) {
      chunks.push(Buffer.alloc(1));
      offset++;
    }
    const rationals = Buffer.alloc(16);
    const rationalOffset = offset;
    rationals.writeUInt32LE(Math.round(page.xResolution * 100), 0);
    rationals.writeUInt32LE(100, 4);
    rationals.writeUInt32LE(Math.round(page.yResolution * 100), 8);
    rationals.writeUInt32LE(100, 12);
    chunks.push(rationals);
    offset += 16;

    const entries: Array<[tag: number, type: number, count: number, value: number]> = [
      [TiffTag.NewSubfileType, 4, 1, 2],
      [TiffTag.ImageWidth, 4, 1, page.width],
      [TiffTag.ImageLength, 4, 1, page.height],
      [TiffTag.BitsPerSample, 3, 1, 1],
      [TiffTag.Compression, 3, 1, Compression.CcittT4],
      [TiffTag.Photometric, 3, 1, 0],
      [TiffTag.FillOrder, 3, 1, 1],
      [TiffTag.StripOffsets, 4, 1, dataOffset],
      [TiffTag.SamplesPerPixel, 3, 1, 1],
      [TiffTag.RowsPerStrip, 4, 1, page.height],
      [TiffTag.StripByteCounts, 4, 1, data.length],
      [TiffTag.XResolution, 5, 1, rationalOffset],
      [TiffTag.YResolution, 5, 1, rationalOffset + 8],
      [TiffTag.T4Options, 4, 1, 4],
      [TiffTag.ResolutionUnit, 3, 1, 2],
      [TiffTag.PageNumber, 3, 2, index | (pages.length << 16)],
    ];
    const directory = Buffer.alloc(2 + entries.length * 12 + 4);
    directory.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, count, value], i) => {
      const at = 2 + i * 12;
      directory.writeUInt16LE(tag, at);
      directory.writeUInt16LE(type, at + 2);
      directory.writeUInt32LE(count, at + 4);
      if (type === 3 && count === 1) directory.writeUInt16LE(value, at + 8);
      else directory.writeUInt32LE(value >>> 0, at + 8);
    });
    directoryOffsets.push(offset);
    patchNext.push({ chunk: directory, at: 2 + entries.length * 12 });
    chunks.push(directory);
    offset += directory.length;
  });
  header.writeUInt32LE(directoryOffsets[0] ?? 0, 4);
  patchNext.forEach(({ chunk, at }, i) => chunk.writeUInt32LE(directoryOffsets[i + 1] ?? 0, at));
  return Buffer.concat(chunks);
}
