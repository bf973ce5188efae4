import type { SmsEncoding } from '../types';

/** Most parts an SMS notice may take: two keeps it one readable message on every handset and its cost bounded. */
export const SMS_MAX_SEGMENTS = 2;

// GSM 03.38: the default alphabet, and the extension table whose characters cost an escape septet too.
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

export interface SmsSize {
  encoding: SmsEncoding;
  segments: number;
  /** Septets (GSM-7; extension characters count two) or UTF-16 code units (UCS-2). */
  units: number;
}

export const isGsm7 = (text: string): boolean => [...text].every((c) => GSM7_BASIC.has(c) || GSM7_EXTENSION.has(c));

/**
 * The encoding an SMS text needs and the parts it takes: 160 septets in one GSM-7 message or 153
 * per concatenated part; 70 UCS-2 code units or 67 per part. A part never splits an escape pair or
 * a surrogate pair, as carriers and handsets split them.
 */
export function smsSize(text: string): SmsSize {
  const characters = [...text];
  const gsm = isGsm7(text);
  const costs = characters.map((c) => (gsm ? (GSM7_EXTENSION.has(c) ? 2 : 1) : c.length));
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  let segments = 1;
  if (units > single) {
    let used = 0;
    for (const cost of costs) {
      if (used + cost > part) {
        segments += 1;
        used = 0;
      }
      used += cost;
    }
  }
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments, units };
}

/**
 * Shortens text from strangers for an SMS: characters outside the GSM alphabet would switch the
 * whole message to UCS-2 (halving its room), so the cut is marked with "..." rather than "…".
 */
export function shortenForSms(value: string, max: number): string {
  const chars = [...value];
  if (chars.length <= max) return value;
  if (max <= 3) return chars.slice(0, max).join('');
  return `${chars
    .slice(0, max - 3)
    .join('')
    .trimEnd()}...`;
}
