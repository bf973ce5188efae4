/**
 * Fax numbers: whatever a user typed, checked and normalised to E.164 before anything is stored,
 * and turned into the digits a line dials only when the call is placed.
 */
import { PhoneNumberFormat, PhoneNumberType, PhoneNumberUtil } from 'google-libphonenumber';
import { normalizePrefix, type DialRule } from './config';

const util = PhoneNumberUtil.getInstance();

export type NumberCheck = { ok: true; e164: string } | { ok: false; reason: string };

/**
 * A number as E.164, or why it is not a fax number we can dial. Numbers without a country code
 * are read as `region`'s.
 */
export function normalizeNumber(input: unknown, region: string): NumberCheck {
  if (typeof input !== 'string' || input.trim() === '') return { ok: false, reason: 'the number is empty' };
  if (input.length > 64) return { ok: false, reason: 'the number is too long' };
  let parsed;
  try {
    parsed = util.parse(input.trim(), region);
  } catch (error) {
    return { ok: false, reason: `not a phone number: ${(error as Error).message}` };
  }
  if (parsed.hasExtension() && parsed.getExtension()) return { ok: false, reason: 'a fax number with an extension cannot be dialled automatically' };
  if (!util.isValidNumber(parsed)) return { ok: false, reason: 'no such number in the numbering plan of its country' };
  return { ok: true, e164: util.format(parsed, PhoneNumberFormat.E164) };
}

/** Which numbers the operator does not let faxes go to (dial.blockedPrefixes, dial.blockPremiumRate). */
export interface DialBlocks {
  blockedPrefixes: readonly string[];
  blockPremiumRate: boolean;
}

/**
 * Why an E.164 number (as normalizeNumber gives it) may not be dialled, or null: the blocked
 * prefix it starts with, compared on the prefix's digits as written without spaces or dashes, or
 * its being premium-rate in its country's numbering plan.
 */
export function blockedNumber(e164: string, blocks: DialBlocks): string | null {
  for (const written of blocks.blockedPrefixes) {
    const prefix = normalizePrefix(written);
    if (e164.startsWith(prefix)) return `${e164} may not be dialled: numbers starting ${prefix} are blocked by the operator (dial.blockedPrefixes)`;
  }
  if (blocks.blockPremiumRate) {
    let type: PhoneNumberType | undefined;
    try {
      type = util.getNumberType(util.parse(e164, 'ZZ'));
    } catch {
      type = undefined;
    }
    if (type === PhoneNumberType.PREMIUM_RATE) return `${e164} may not be dialled: it is a premium-rate number (dial.blockPremiumRate)`;
  }
  return null;
}

export interface DialPlan {
  /** Dialled before every number (outside-line digit). */
  prefix: string;
  /** Where our lines are: its numbers are dialled in national form. */
  region: string;
  rules: readonly DialRule[];
}

/** What a line dials for an E.164 number: the first matching rule, else the national or international form. */
export function dialStringFor(e164: string, plan: DialPlan): string {
  for (const rule of plan.rules) {
    const pattern = new RegExp(rule.match);
    if (pattern.test(e164)) return plan.prefix + e164.replace(pattern, rule.dial).replace(/[^0-9*#,PTWptw!@]/g, '');
  }
  const parsed = util.parse(e164, plan.region);
  const digits = util.formatOutOfCountryCallingNumber(parsed, plan.region).replace(/[^0-9]/g, '');
  return plan.prefix + digits;
}

/** T.30 station identities (TSI, CSI) are at most 20 characters of digits, `+` and space. */
export const MAX_TSI_LENGTH = 20;

/**
 * The TSI a fax is sent with: its own sender number in international form with spaces
 * (`+1 202 555 0100`, as T.30 writes identities), or the E.164 digits alone where that form would
 * pass 20 characters; the line's global identity when the fax has no number of its own (or one
 * that cannot be read as a number).
 */
export function tsiFor(from: string | null | undefined, fallback: string): string {
  if (!from) return fallback;
  let parsed;
  try {
    parsed = util.parse(from, 'ZZ');
  } catch {
    return fallback;
  }
  const e164 = util.format(parsed, PhoneNumberFormat.E164);
  if (!/^\+[1-9]\d{1,14}$/.test(e164)) return fallback;
  const spaced = util
    .format(parsed, PhoneNumberFormat.INTERNATIONAL)
    .replace(/[^\d+]+/g, ' ')
    .trim();
  return /^\+[\d ]+$/.test(spaced) && spaced.length <= MAX_TSI_LENGTH ? spaced : e164;
}
