/**
 * ITU-T T.4 one-dimensional coding (Modified Huffman), the one coding every Group 3 fax machine
 * must accept. Pages are kept in this form, each line starting with an EOL; the line driver sends
 * that code as it is with the fill its receiver asks for (minimum scan line time) and RTC
 * (t4-mh-line.ts), and codes a page again only to halve a fine page's lines.
 *
 * Bit order: encoded data is written with the first bit of the line in the most significant bit of
 * each byte (TIFF FillOrder 1). The serial line wants the opposite; see `reverseBitOrder`.
 */
import { type Bitmap, createBitmap } from './bitmap';
import { BLACK_MAKEUP, BLACK_TERMINATING, CODE_TABLES, EXTENDED_MAKEUP, WHITE_MAKEUP, WHITE_TERMINATING, type CodeTable } from './t4-codes';

export { CODE_TABLES };

/** EOL: eleven zeros and a one. */
const EOL_BITS = 12;
/** RTC (return to control) ends a page: six consecutive EOLs. */
export const RTC_EOL_COUNT = 6;

interface Code {
  bits: number;
  length: number;
}

function toCode(code: string): Code {
  return { bits: parseInt(code, 2), length: code.length };
}

function buildEncodeTables(terminating: CodeTable, makeup: CodeTable): { terminating: Code[]; makeup: Map<number, Code> } {
  const term: Code[] = [];
  for (const [run, code] of terminating) term[run] = toCode(code);
  const make = new Map<number, Code>();
  for (const [run, code] of [...makeup, ...EXTENDED_MAKEUP]) make.set(run, toCode(code));
  return { terminating: term, makeup: make };
}

const ENCODE = [buildEncodeTables(WHITE_TERMINATING, WHITE_MAKEUP), buildEncodeTables(BLACK_TERMINATING, BLACK_MAKEUP)] as const;

/** Writes bits most significant first into a growing byte buffer. */
export class BitWriter {
  private buffer = new Uint8Array(16 * 1024);
  private byteLength = 0;
  private current = 0;
  private used = 0;

  get bitLength(): number {
    return this.byteLength * 8 + this.used;
  }

  /** Writes the low `length` bits of `bits` (at most 24), most significant first. */
  write(bits: number, length: number): void {
    // Fewer than 8 bits wait in `current`; the new ones join them and whole bytes go out.
    let pending = ((this.current << length) | (bits & ((1 << length) - 1))) >>> 0;
    let used = this.used + length;
    while (used >= 8) {
      used -= 8;
      this.pushByte((pending >>> used) & 0xff);
    }
    pending &= (1 << used) - 1;
    this.current = pending;
    this.used = used;
  }

  zeros(count: number): void {
    while (count > 0) {
      const n = Math.min(count, 16);
      this.write(0, n);
      count -= n;
    }
  }

  /** Pads with zeros to a byte boundary and returns the bytes. */
  finish(): Buffer {
    if (this.used > 0) this.zeros(8 - this.used);
    return Buffer.from(this.buffer.buffer, this.buffer.byteOffset, this.byteLength);
  }

  private pushByte(byte: number): void {
    if (this.byteLength === this.buffer.length) {
      const bigger = new Uint8Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.byteLength++] = byte;
  }
}

function writeRun(writer: BitWriter, colour: 0 | 1, run: number): void {
  const tables = ENCODE[colour];
  while (run >= 2560 + 64) {
    const code = tables.makeup.get(2560)!;
    writer.write(code.bits, code.length);
    run -= 2560;
  }
  if (run >= 64) {
    const makeupRun = run >= 2560 ? 2560 : run - (run % 64);
    const code = tables.makeup.get(makeupRun)!;
    writer.write(code.bits, code.length);
    run -= makeupRun;
  }
  const code = tables.terminating[run];
  writer.write(code.bits, code.length);
}

export interface EncodeOptions {
  /**
   * Minimum bits from the start of one line's EOL to the start of the next (the receiver's minimum
   * scan line time at the signalling rate); zero fill is inserted before the EOL to reach it.
   */
  minBitsPerLine?: number;
  /** Fill so that every EOL ends on a byte boundary (T.4 optional fill, helps receivers resync). Default true. */
  alignEol?: boolean;
  /** Append RTC (six EOLs) after the last line. Default false: stored pages have none, the line adds it. */
  appendRtc?: boolean;
}

function writeEol(writer: BitWriter, align: boolean): void {
  if (align) {
    const pad = (8 - ((writer.bitLength + EOL_BITS) % 8)) % 8;
    writer.zeros(pad);
  }
  writer.write(1, EOL_BITS);
}

/** Encodes a bitmap as T.4 1-D data: EOL before every line (MSB-first bytes). */
export function encodeMh(bitmap: Bitmap, options: EncodeOptions = {}): Buffer {
  const align = options.alignEol ?? true;
  const minBits = options.minBitsPerLine ?? 0;
  const writer = new BitWriter();
  const { width, rowBytes, data } = bitmap;
  for (let y = 0; y < bitmap.height; y++) {
    const lineStart = writer.bitLength;
    writeEol(writer, align);
    const base = y * rowBytes;
    let x = 0;
    let colour: 0 | 1 = 0;
    while (x < width) {
      let run = 0;
      while (x < width && ((data[base + (x >> 3)] >> (7 - (x & 7))) & 1) === colour) {
        // Skip whole bytes of the same colour quickly.
        if ((x & 7) === 0 && x + 8 <= width && data[base + (x >> 3)] === (colour ? 0xff : 0x00)) {
          x += 8;
          run += 8;
        } else {
          x++;
          run++;
        }
      }
      writeRun(writer, colour, run);
      colour = colour === 0 ? 1 : 0;
    }
    const used = writer.bitLength - lineStart;
    if (used < minBits) writer.zeros(minBits - used);
  }
  if (options.appendRtc) {
    for (let i = 0; i < RTC_EOL_COUNT; i++) writeEol(writer, align && i === 0);
  }
  return writer.finish();
}

// ---- decoding ----

/** Codes are at most 13 bits long: the decoder looks at 13 bits at a time. */
const PEEK_BITS = 13;

/**
 * A colour's decoding table: for every 13-bit window, the code the window starts with as
 * (runLength + 1) << 4 | code length, or 0 when it starts with no code of that colour.
 */
function buildDecodeTable(terminating: CodeTable, makeup: CodeTable): Int32Array {
  const table = new Int32Array(1 << PEEK_BITS);
  for (const [run, code] of [...terminating, ...makeup, ...EXTENDED_MAKEUP]) {
    const first = parseInt(code, 2) << (PEEK_BITS - code.length);
    const count = 1 << (PEEK_BITS - code.length);
    for (let i = first; i < first + count; i++) {
      if (table[i] !== 0) throw new Error(`code ${code} overlaps another code`);
      table[i] = ((run + 1) << 4) | code.length;
    }
  }
  return table;
}

let tables: [Int32Array, Int32Array] | null = null;
/** The white and black decoding tables (see `buildDecodeTable`), built on first use. */
export function decodeTables(): [Int32Array, Int32Array] {
  tables ??= [buildDecodeTable(WHITE_TERMINATING, WHITE_MAKEUP), buildDecodeTable(BLACK_TERMINATING, BLACK_MAKEUP)];
  return tables;
}

/** Sets `count` pixels black from `from` on, whole bytes at a time where it can. */
function setBlack(line: Uint8Array, from: number, count: number): void {
  const end = from + count;
  let i = from;
  for (; i < end && (i & 7) !== 0; i++) line[i >> 3] |= 0x80 >> (i & 7);
  for (; i + 8 <= end; i += 8) line[i >> 3] = 0xff;
  for (; i < end; i++) line[i >> 3] |= 0x80 >> (i & 7);
}

/**
 * Reads bits from the data, first bit in the most significant bit of each byte. The bytes are
 * copied once (bit order turned round for LSB-first data) with zeros after them, so 13 bits can
 * be looked at anywhere without a bounds check.
 */
class BitReader {
  private position = 0;
  readonly totalBits: number;
  private readonly data: Uint8Array;

  constructor(data: Uint8Array, lsbFirst: boolean) {
    this.totalBits = data.length * 8;
    this.data = new Uint8Array(data.length + 3);
    if (lsbFirst) for (let i = 0; i < data.length; i++) this.data[i] = REVERSED[data[i]];
    else this.data.set(data);
  }

  get bitPosition(): number {
    return this.position;
  }

  set bitPosition(value: number) {
    this.position = value;
  }

  get atEnd(): boolean {
    return this.position >= this.totalBits;
  }

  next(): number {
    const byte = this.data[this.position >> 3];
    const shift = 7 - (this.position & 7);
    this.position++;
    return (byte >> shift) & 1;
  }

  /** The next 13 bits (zeros past the end), without moving. */
  peek(): number {
    const i = this.position >> 3;
    const word = (this.data[i] << 16) | (this.data[i + 1] << 8) | this.data[i + 2];
    return (word >> (11 - (this.position & 7))) & 0x1fff;
  }

  /** Skips to just after the next EOL (≥11 zeros then a one). Returns false at the end of data. */
  skipToEol(): boolean {
    let zeros = 0;
    while (!this.atEnd) {
      if (this.next() === 0) zeros++;
      else if (zeros >= 11) return true;
      else zeros = 0;
    }
    return false;
  }
}

export interface DecodeResult {
  bitmap: Bitmap;
  /** Lines that could not be decoded cleanly (left white or partly drawn). */
  badLines: number;
  /** Whether the data ended with RTC. */
  sawRtc: boolean;
  /**
   * Bits from the start of each bad line to the next EOL: a burst of noise that wipes out EOLs
   * takes many lines with it, yet counts as one bad line.
   */
  damagedBits: number;
}

export interface DecodeOptions {
  /** Bit order of the data: false (default) for TIFF FillOrder 1, true for data as sent on the line. */
  lsbFirst?: boolean;
  /** Stop after this many lines (the TIFF ImageLength), if known. */
  maxRows?: number;
}

/**
 * Decodes T.4 1-D data into a bitmap. Lines with coding errors are resynchronised at the next EOL
 * and counted, as a receiving fax machine does.
 */
export function decodeMh(data: Uint8Array, width: number, options: DecodeOptions = {}): DecodeResult {
  const [white, black] = decodeTables();
  const reader = new BitReader(data, options.lsbFirst ?? false);
  const maxRows = options.maxRows ?? Number.MAX_SAFE_INTEGER;
  const rowBytes = Math.ceil(width / 8);
  let rows: Uint8Array[] = [];
  let badLines = 0;
  let sawRtc = false;
  let consecutiveEmptyEols = 0;
  let damagedBits = 0;
  // Data normally starts with an EOL; tolerate data that does not.
  const start = reader.bitPosition;
  if (!reader.skipToEol()) reader.bitPosition = start;

  while (!reader.atEnd && rows.length < maxRows) {
    const lineStart = reader.bitPosition;
    const line = new Uint8Array(rowBytes);
    let x = 0;
    let colour = 0;
    let ok = true;
    let pendingRun = 0;
    while (x < width) {
      const position = reader.bitPosition;
      const entry = (colour === 0 ? white : black)[reader.peek()];
      // No code here, or one that runs past the end of the data.
      if (entry === 0 || position + (entry & 15) > reader.totalBits) {
        ok = false;
        break;
      }
      reader.bitPosition = position + (entry & 15);
      const run = (entry >> 4) - 1;
      if (x + pendingRun + run > width) {
        ok = false;
        break;
      }
      if (run >= 64) {
        pendingRun += run;
        continue;
      }
      const total = pendingRun + run;
      pendingRun = 0;
      if (colour === 1) setBlack(line, x, total);
      x += total;
      colour ^= 1;
    }
    if (ok && x === width) {
      rows.push(line);
      consecutiveEmptyEols = 0;
      if (!reader.skipToEol()) break;
      continue;
    }
    // Either an EOL right after an EOL (part of RTC, or fill), or a coding error.
    reader.bitPosition = lineStart;
    let zeros = 0;
    while (!reader.atEnd && reader.next() === 0) zeros++;
    if (zeros >= 11 && !reader.atEnd) {
      // Another EOL with no line data in between.
      consecutiveEmptyEols++;
      if (consecutiveEmptyEols >= RTC_EOL_COUNT - 1) {
        sawRtc = true;
        break;
      }
      continue;
    }
    if (reader.atEnd && zeros === reader.totalBits - lineStart) break; // trailing fill
    badLines++;
    rows.push(line);
    reader.bitPosition = lineStart;
    const found = reader.skipToEol();
    damagedBits += reader.bitPosition - lineStart;
    if (!found) break;
  }
  const bitmap = createBitmap(width, rows.length);
  rows.forEach((line, y) => bitmap.data.set(line, y * rowBytes));
  rows = [];
  return { bitmap, badLines, sawRtc, damagedBits };
}

/** Every byte with its bit order reversed, by value. */
export const REVERSED = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let r = 0;
    for (let b = 0; b < 8; b++) if (i & (1 << b)) r |= 0x80 >> b;
    table[i] = r;
  }
  return table;
})();

/** Reverses the bit order within every byte (MSB-first file data ↔ LSB-first line data). */
export function reverseBitOrder(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = REVERSED[data[i]];
  return out;
}

export function reverseByte(byte: number): number {
  return REVERSED[byte & 0xff];
}
