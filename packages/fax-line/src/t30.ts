/**
 * ITU-T T.30 control frames as a Class 1 modem hands them over: address 0xFF, control 0x03
 * (more frames follow) or 0x13 (final frame), the facsimile control field (FCF), then the
 * information field (FIF). Bytes are in line order: bit 1 of T.30's tables is the least
 * significant bit of the first FIF byte.
 */

/** FCF values with the "X" bit clear. The calling station sets X (0x01) in the commands it sends. */
export const Fcf = {
  // From the called station (phase B).
  DIS: 0x80,
  CSI: 0x40,
  NSF: 0x20,
  // From the calling station.
  DTC: 0x81,
  CIG: 0x41,
  NSC: 0x21,
  DCS: 0x82,
  TSI: 0x42,
  NSS: 0x22,
  SUB: 0xc2,
  PWD: 0xc4,
  SEP: 0xa2,
  // Pre-message responses.
  CFR: 0x84,
  FTT: 0x44,
  // Post-message commands.
  EOM: 0x8e,
  MPS: 0x4e,
  EOP: 0x2e,
  PRI_EOM: 0x9e,
  PRI_MPS: 0x5e,
  PRI_EOP: 0x3e,
  // Post-message responses.
  MCF: 0x8c,
  RTP: 0xcc,
  RTN: 0x4c,
  PIP: 0xac,
  PIN: 0x2c,
  // Line control.
  DCN: 0xfa,
  CRP: 0x1a,
} as const;
export type FcfName = keyof typeof Fcf;

/** The X bit: set in frames sent by the station that received a valid DIS (the transmitter). */
export const FCF_X_BIT = 0x01;

export const ADDRESS = 0xff;
export const CONTROL_NOT_FINAL = 0x03;
export const CONTROL_FINAL = 0x13;

const NAMES = new Map<number, FcfName>();
// Frames from the called station carry X = 0 for DIS/CSI/NSF and X = the responder's bit for
// responses; naming ignores the X bit, except where it tells DIS from DTC and CSI from CIG.
for (const [name, value] of Object.entries(Fcf) as Array<[FcfName, number]>) NAMES.set(value, name);

/** The FCF's name, ignoring the X bit where it does not change the meaning. */
export function fcfName(fcf: number): string {
  const exact = NAMES.get(fcf);
  if (exact && (fcf & FCF_X_BIT) === 0) return exact;
  const withoutX = NAMES.get(fcf & ~FCF_X_BIT);
  // DIS/CSI/NSF with the X bit set are DTC/CIG/NSC.
  if (exact) return exact;
  return withoutX ?? `FCF 0x${fcf.toString(16).padStart(2, '0')}`;
}

/** Compares an FCF with a known value, ignoring the X bit. */
export function isFcf(fcf: number, expected: number): boolean {
  return (fcf & ~FCF_X_BIT) === (expected & ~FCF_X_BIT);
}

export interface HdlcFrame {
  /** CONTROL_FINAL or CONTROL_NOT_FINAL. */
  readonly control: number;
  readonly fcf: number;
  readonly fif: Buffer;
  /** The frame as received (address..FIF, without FCS), for the trace. */
  readonly raw: Buffer;
}

// ---- FCS ----

const CRC_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
    table[i] = crc;
  }
  return table;
})();

function crc16(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ byte) & 0xff];
  return crc;
}

/** The HDLC frame check sequence as sent after the frame: two bytes, low byte first. */
export function fcs(frame: Uint8Array): Buffer {
  const value = ~crc16(frame) & 0xffff;
  return Buffer.from([value & 0xff, value >>> 8]);
}

/** Whether the last two bytes are a correct FCS of the rest (the CRC residual of a good frame is 0xF0B8). */
export function hasValidFcs(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && crc16(bytes) === 0xf0b8;
}

/**
 * Parses the bytes a modem delivered for one frame. Modems that pass the FCS (spandsp's T.31, so
 * iaxmodem) end the frame with it; others strip it. A valid FCS is removed, otherwise the bytes
 * are taken as the frame itself (the modem has already checked it and said OK).
 */
export function parseFrame(bytes: Buffer): HdlcFrame | null {
  const body = bytes.length >= 5 && hasValidFcs(bytes) ? bytes.subarray(0, bytes.length - 2) : bytes;
  if (body.length < 3 || body[0] !== ADDRESS) return null;
  return { control: body[1], fcf: body[2], fif: Buffer.from(body.subarray(3)), raw: Buffer.from(body) };
}

export function buildFrame(fcf: number, fif: Uint8Array = Buffer.alloc(0), final = true): Buffer {
  return Buffer.concat([Buffer.from([ADDRESS, final ? CONTROL_FINAL : CONTROL_NOT_FINAL, fcf]), fif]);
}

// ---- identities (CSI, TSI) ----

export const ID_LENGTH = 20;

/**
 * The FIF of a TSI/CSI/CIG: 20 characters, last character first (T.30 5.3.6.2.4). Our id is
 * cut to 20 characters and right-aligned with spaces (as fax machines show ids); non-printable
 * characters become spaces.
 */
export function encodeIdentity(id: string): Buffer {
  const clean = id
    .replace(/[^\x20-\x7e]/g, ' ')
    .slice(0, ID_LENGTH)
    .padStart(ID_LENGTH, ' ');
  return Buffer.from([...clean].reverse().join(''), 'latin1');
}

export interface RemoteIdentity {
  /** Un-reversed, padding trimmed, non-printable characters replaced by '?'; null if empty. */
  csid: string | null;
  /** Exactly the characters received, in line order (as the modem showed them). */
  csidRaw: string;
}

export function decodeIdentity(fif: Uint8Array): RemoteIdentity {
  const raw = Buffer.from(fif).toString('latin1');
  const text = [...raw]
    .reverse()
    .map((c) => (c >= ' ' && c <= '~' ? c : '?'))
    .join('')
    .trim();
  return { csid: text.length > 0 ? text : null, csidRaw: raw };
}

// ---- DIS and DCS ----

export type Modulation = 'V.27ter' | 'V.29' | 'V.17';

export interface SignallingRate {
  readonly bitsPerSecond: number;
  readonly modulation: Modulation;
  /** Rate bits 11–14 as they sit in the second FIF byte of a DCS. */
  readonly dcsBits: number;
  /** Class 1 +FTM code for training (TCF: long training for V.17). */
  readonly trainingCode: number;
  /** Class 1 +FTM code for page data (short training for V.17 after a good TCF). */
  readonly pageCode: number;
}

/** The fall-back sequence, fastest first. */
export const SIGNALLING_RATES: readonly SignallingRate[] = [
  { bitsPerSecond: 14400, modulation: 'V.17', dcsBits: 0x20, trainingCode: 145, pageCode: 146 },
  { bitsPerSecond: 12000, modulation: 'V.17', dcsBits: 0x28, trainingCode: 121, pageCode: 122 },
  { bitsPerSecond: 9600, modulation: 'V.29', dcsBits: 0x04, trainingCode: 96, pageCode: 96 },
  { bitsPerSecond: 7200, modulation: 'V.29', dcsBits: 0x0c, trainingCode: 72, pageCode: 72 },
  { bitsPerSecond: 4800, modulation: 'V.27ter', dcsBits: 0x08, trainingCode: 48, pageCode: 48 },
  { bitsPerSecond: 2400, modulation: 'V.27ter', dcsBits: 0x00, trainingCode: 24, pageCode: 24 },
];

export interface ReceiverCapabilities {
  readyToReceive: boolean;
  modulations: Modulation[];
  /** Highest rate first. */
  rates: SignallingRate[];
  fine: boolean;
  twoDimensional: boolean;
  /** Widths in pixels at R8: 1728 always, plus 2048 / 2432 when offered. */
  widths: number[];
  length: 'A4' | 'A4+B4' | 'unlimited';
  /** Minimum scan line time in ms at standard and at fine resolution. */
  minScanMs: { standard: number; fine: number };
  ecm: boolean;
}

function bit(fif: Uint8Array, n: number): boolean {
  const index = (n - 1) >> 3;
  return index < fif.length && ((fif[index] >> ((n - 1) & 7)) & 1) === 1;
}

/** Minimum scan line time by the index bit21 + 2·bit22 + 4·bit23 of a DIS. */
const DIS_MIN_SCAN: ReadonlyArray<{ standard: number; fine: number }> = [
  { standard: 20, fine: 20 }, // 000
  { standard: 5, fine: 5 }, // 100
  { standard: 10, fine: 10 }, // 010
  { standard: 20, fine: 10 }, // 110
  { standard: 40, fine: 40 }, // 001
  { standard: 40, fine: 20 }, // 101
  { standard: 10, fine: 5 }, // 011
  { standard: 0, fine: 0 }, // 111
];

/** DCS code (same index) for a minimum scan line time we announce. */
const DCS_MIN_SCAN_INDEX: Record<number, number> = { 20: 0, 5: 1, 10: 2, 40: 4, 0: 7 };

export function parseDis(fif: Uint8Array): ReceiverCapabilities {
  const rateBits = fif.length > 1 ? fif[1] & 0x3c : 0;
  let modulations: Modulation[];
  switch (rateBits) {
    case 0x00:
      modulations = ['V.27ter']; // fall-back mode: 2400 only
      break;
    case 0x08:
      modulations = ['V.27ter'];
      break;
    case 0x04:
      modulations = ['V.29'];
      break;
    case 0x2c:
      modulations = ['V.27ter', 'V.29', 'V.17'];
      break;
    default:
      // 0x0c, and the reserved combinations that receivers in the field mean as it.
      modulations = ['V.27ter', 'V.29'];
  }
  let rates = SIGNALLING_RATES.filter((rate) => modulations.includes(rate.modulation));
  if (rateBits === 0x00) rates = rates.filter((rate) => rate.bitsPerSecond === 2400);
  const widthBits = (bit(fif, 17) ? 1 : 0) | (bit(fif, 18) ? 2 : 0);
  const widths = widthBits === 0 ? [1728] : widthBits === 1 ? [1728, 2048] : [1728, 2048, 2432];
  const length = bit(fif, 20) ? 'unlimited' : bit(fif, 19) ? 'A4+B4' : 'A4';
  const scanIndex = (bit(fif, 21) ? 1 : 0) | (bit(fif, 22) ? 2 : 0) | (bit(fif, 23) ? 4 : 0);
  return {
    readyToReceive: bit(fif, 10),
    modulations,
    rates,
    fine: bit(fif, 15),
    twoDimensional: bit(fif, 16),
    widths,
    length,
    minScanMs: DIS_MIN_SCAN[scanIndex],
    ecm: bit(fif, 24) && bit(fif, 27),
  };
}

export interface SessionParameters {
  rate: SignallingRate;
  fine: boolean;
  /** Minimum scan line time in ms for the chosen resolution. */
  minScanMs: number;
  unlimitedLength: boolean;
}

/** Builds the DCS FIF: receive, rate, resolution, 1-D coding, 1728 pixels, length, scan time. */
export function buildDcs(parameters: SessionParameters): Buffer {
  const fif = Buffer.alloc(3);
  fif[1] = 0x02 /* bit 10: receive */ | parameters.rate.dcsBits | (parameters.fine ? 0x40 : 0);
  const scanIndex = DCS_MIN_SCAN_INDEX[parameters.minScanMs] ?? 0;
  fif[2] = (parameters.unlimitedLength ? 0x08 /* bit 20 */ : 0) | (scanIndex << 4);
  return fif;
}

/** Reads a DCS back (for the trace and for the scripted test modem). */
export function parseDcs(fif: Uint8Array): SessionParameters | null {
  if (fif.length < 3) return null;
  const rate = SIGNALLING_RATES.find((r) => r.dcsBits === (fif[1] & 0x3c)) ?? null;
  if (!rate) return null;
  const scanIndex = (fif[2] >> 4) & 7;
  const minScanMs = Number(Object.entries(DCS_MIN_SCAN_INDEX).find(([, index]) => index === scanIndex)?.[0] ?? 20);
  return { rate, fine: bit(fif, 15), minScanMs, unlimitedLength: bit(fif, 20) };
}

/** Builds a DIS FIF (used by the scripted test modem to play a receiving fax machine). */
export function buildDis(capabilities: { modulations: 'V.27ter' | 'V.29' | 'V.17'; fine: boolean; minScanIndex?: number; unlimitedLength?: boolean }): Buffer {
  const fif = Buffer.alloc(3);
  const rateBits = capabilities.modulations === 'V.17' ? 0x2c : capabilities.modulations === 'V.29' ? 0x0c : 0x08;
  fif[1] = 0x02 | rateBits | (capabilities.fine ? 0x40 : 0);
  fif[2] = (capabilities.unlimitedLength ? 0x08 : 0) | ((capabilities.minScanIndex ?? 7) << 4);
  return fif;
}

export function describeCapabilities(c: ReceiverCapabilities): string {
  return [
    c.readyToReceive ? 'can receive' : 'cannot receive',
    `${c.modulations.join('/')} up to ${c.rates[0]?.bitsPerSecond ?? 0}`,
    c.fine ? 'fine' : 'standard only',
    c.twoDimensional ? '2-D' : '1-D',
    `${c.widths.join('/')} px`,
    c.length,
    `scan ${c.minScanMs.standard}/${c.minScanMs.fine} ms`,
    c.ecm ? 'ECM' : 'no ECM',
  ].join(', ');
}

export function describeSession(p: SessionParameters): string {
  return `${p.rate.modulation} ${p.rate.bitsPerSecond}, ${p.fine ? 'fine' : 'standard'}, 1-D, 1728 px, ${p.unlimitedLength ? 'unlimited' : 'A4'}, scan ${p.minScanMs} ms`;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

/** One readable trace line for a frame. */
export function describeFrame(frame: HdlcFrame): string {
  const name = fcfName(frame.fcf);
  let meaning = '';
  const base = frame.fcf & ~FCF_X_BIT;
  if (base === Fcf.CSI || base === Fcf.TSI) {
    const id = decodeIdentity(frame.fif);
    meaning = ` "${id.csid ?? ''}" (raw "${id.csidRaw}")`;
  } else if (frame.fcf === Fcf.DIS || frame.fcf === Fcf.DTC) {
    meaning = ` [${describeCapabilities(parseDis(frame.fif))}]`;
  } else if (base === Fcf.DCS) {
    const dcs = parseDcs(frame.fif);
    if (dcs) meaning = ` [${describeSession(dcs)}]`;
  }
  return `${name} ${hex(frame.raw)}${meaning}`;
}
