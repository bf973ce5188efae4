/**
 * A stored page's T.4 MH data made ready for the serial line without decoding and coding it again:
 * the stored code is walked once (every code checked against the code tables, every line summing to
 * the page width), zero fill goes in before the EOL of each line shorter than the receiver's minimum
 * scan time, RTC is appended, and the bit order is reversed and DLE doubled in one pass over the
 * bytes. Data that is not clean MH for its page (coding errors, other line counts, anything but zeros
 * between a line and the next EOL) is refused, and the caller codes the page from its bitmap.
 */
import { BitWriter, decodeTables, REVERSED, RTC_EOL_COUNT } from './t4-mh';

const DLE = 0x10;
/** The byte that is DLE once its bit order is reversed. */
const BECOMES_DLE = REVERSED[DLE];
/** An EOL is at least eleven zeros, then a one. */
const EOL_ZEROS = 11;

/** RTC after its first EOL (which ends on a byte boundary): five more EOLs and zero padding, MSB first. */
const RTC_REST = (() => {
  const writer = new BitWriter();
  for (let i = 1; i < RTC_EOL_COUNT; i++) writer.write(1, 12);
  return Uint8Array.from(writer.finish());
})();

/** The position of the first 1 bit at or after `position`, or the data's length in bits. */
function nextOne(data: Uint8Array, position: number): number {
  let i = position >> 3;
  if (i >= data.length) return data.length * 8;
  const first = (data[i] << (position & 7)) & 0xff;
  if (first !== 0) return position + Math.clz32(first) - 24;
  for (i++; i < data.length; i++) {
    if (data[i] !== 0) return i * 8 + Math.clz32(data[i]) - 24;
  }
  return data.length * 8;
}

/** The 13 bits from `position` on (zeros past the end). */
function peek13(data: Uint8Array, position: number): number {
  const i = position >> 3;
  const word =
    i + 2 < data.length ? (data[i] << 16) | (data[i + 1] << 8) | data[i + 2] : ((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
  return (word >> (11 - (position & 7))) & 0x1fff;
}

/**
 * Where each line of clean stored MH data starts (the bit just after its EOL), and in the last slot
 * where the last line's code ends; null when the data is not exactly `height` lines of `width` pels,
 * each after an EOL, with nothing but zeros between a line's code and the next EOL or the data's end.
 */
export function mhLineStarts(data: Uint8Array, width: number, height: number): Int32Array | null {
  if (height < 1 || data.length >= 2 ** 27) return null;
  const [white, black] = decodeTables();
  const totalBits = data.length * 8;
  const starts = new Int32Array(height + 1);
  let position = 0;
  for (let y = 0; y < height; y++) {
    // The EOL: only zeros since the last code (or the data's start), at least eleven, then a one.
    const one = nextOne(data, position);
    if (one >= totalBits || one - position < EOL_ZEROS) return null;
    position = one + 1;
    starts[y] = position;
    let x = 0;
    let colour = 0;
    let pendingRun = 0;
    while (x < width) {
      const entry = (colour === 0 ? white : black)[peek13(data, position)];
      if (entry === 0) return null;
      position += entry & 15;
      const run = (entry >> 4) - 1;
      if (position > totalBits || x + pendingRun + run > width) return null;
      if (run >= 64) {
        pendingRun += run;
        continue;
      }
      x += pendingRun + run;
      pendingRun = 0;
      colour ^= 1;
    }
  }
  starts[height] = position;
  // Only zero padding after the last line.
  return nextOne(data, position) === totalBits ? starts : null;
}

/** Copies bytes with their bit order reversed, each DLE that gives doubled; returns the end in `out`. */
function copyForLine(source: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  for (let i = from; i < to; i++) {
    const byte = source[i];
    out[at++] = REVERSED[byte];
    if (byte === BECOMES_DLE) out[at++] = DLE;
  }
  return at;
}

/** How many bytes of `data[from, to)` become DLE on the line. */
function countBecomingDle(data: Uint8Array): number {
  // indexOf runs natively over a view of the same memory.
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let count = 0;
  for (let at = bytes.indexOf(BECOMES_DLE); at >= 0; at = bytes.indexOf(BECOMES_DLE, at + 1)) count++;
  return count;
}

/**
 * MSB-first coded data as the modem takes it: bit order reversed, DLE doubled, then `terminator`,
 * in one pass into a buffer of the exact size.
 */
export function lineOrderData(coded: Uint8Array, terminator: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(coded.length + countBecomingDle(coded) + terminator.length);
  const at = copyForLine(coded, 0, coded.length, out, 0);
  out.set(terminator, at);
  return out;
}

export interface StoredPage {
  readonly width: number;
  readonly height: number;
  /** T.4 1-D data, EOL before every line, no RTC, MSB first. */
  readonly data: Uint8Array;
}

/**
 * The stored page as the modem takes it, its code unchanged: each line at least `minBitsPerLine`
 * bits from its EOL to the next (whole zero bytes put in just before the next EOL's last byte, so
 * every later byte keeps its bit alignment), RTC, bits LSB first, DLE doubled, then `terminator`.
 * With no fill needed, the bytes are those the page's bitmap would be coded to (aligned EOLs, RTC).
 * Null when the data is not clean MH for the page (see `mhLineStarts`).
 */
export function storedMhLineData(page: StoredPage, minBitsPerLine: number, terminator: Uint8Array): Buffer | null {
  const { data, height } = page;
  const starts = mhLineStarts(data, page.width, height);
  if (!starts) return null;
  // Zero bytes before the EOL ending line y, where the line is shorter than the minimum.
  const fillBytes = (y: number): number => {
    const short = minBitsPerLine - (starts[y + 1] - starts[y]);
    return short > 0 ? Math.ceil(short / 8) : 0;
  };
  let fill = 0;
  for (let y = 0; y + 1 < height; y++) fill += fillBytes(y);
  // RTC's first EOL ends on a byte boundary after the data: its one is the last bit of a byte, after
  // the data's trailing zeros and as many zero bytes as its eleven zeros and the last line's minimum need.
  const totalBits = data.length * 8;
  const trailingZeros = totalBits - starts[height];
  const lastLineBits = totalBits + 8 - starts[height - 1];
  const rtcZeroBytes = Math.max(0, Math.ceil((EOL_ZEROS - 7 - trailingZeros) / 8), Math.ceil((minBitsPerLine - lastLineBits) / 8));

  const out = Buffer.allocUnsafe(
    data.length + fill + rtcZeroBytes + 1 + RTC_REST.length + countBecomingDle(data) + countBecomingDle(RTC_REST) + terminator.length,
  );
  let at = 0;
  let from = 0;
  for (let y = 0; y + 1 < height && fill > 0; y++) {
    const bytes = fillBytes(y);
    if (bytes === 0) continue;
    // The byte holding the next EOL's one: everything before it in that byte is zero.
    const eolByte = (starts[y + 1] - 1) >> 3;
    at = copyForLine(data, from, eolByte, out, at);
    out.fill(0, at, at + bytes);
    at += bytes;
    from = eolByte;
    fill -= bytes;
  }
  at = copyForLine(data, from, data.length, out, at);
  out.fill(0, at, at + rtcZeroBytes);
  at += rtcZeroBytes;
  out[at++] = REVERSED[0x01];
  at = copyForLine(RTC_REST, 0, RTC_REST.length, out, at);
  if (at + terminator.length !== out.length) throw new Error(`page line data: ${at + terminator.length} bytes written, ${out.length} counted`);
  out.set(terminator, at);
  return out;
}
