/**
 * Numbers as the port server gives them (raw dial strings, DIDs, ANIs) turned into the keys we
 * store and the E.164 form events carry.
 */
import { PhoneNumberFormat, PhoneNumberUtil } from 'google-libphonenumber';

const util = PhoneNumberUtil.getInstance();
const E164 = /^\+[1-9][0-9]{1,14}$/;

/** A DID or ANI as stored: digits with an optional leading +, or `*` (the catch-all DID). */
export function didKey(input: string): string | null {
  const trimmed = input.trim();
  if (trimmed === '*') return '*';
  const key = trimmed.replace(/[\s().-]/g, '');
  return /^\+?[0-9]{1,32}$/.test(key) ? key : null;
}

/**
 * The E.164 form of a dialled number, reading numbers without a country code as `region`'s.
 * Numbers libphonenumber cannot place (short codes, test numbers) keep their digits with a +, as
 * long as that is E.164-shaped; otherwise null.
 */
export function toE164(input: string, region: string): string | null {
  const trimmed = input.trim();
  if (trimmed === '' || trimmed.length > 64) return null;
  try {
    const parsed = util.parse(trimmed, region);
    const formatted = util.format(parsed, PhoneNumberFormat.E164);
    if (E164.test(formatted)) return formatted;
  } catch {
    // fall through to the digits
  }
  const digits = trimmed.replace(/[^0-9]/g, '');
  const candidate = `+${digits.replace(/^0+/, '')}`;
  return E164.test(candidate) ? candidate : null;
}

/**
 * The key of the called-numbers table: the E.164 form where there is one, so "5551231234",
 * "1-555-123-1234" and "+15551231234" are one number; else the bare digits.
 */
export function calledNumberKey(input: string, region: string): string | null {
  return toE164(input, region) ?? (input.replace(/[^0-9]/g, '').slice(0, 64) || null);
}
