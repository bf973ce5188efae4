/**
 * Fax numbers: whatever a user typed, checked and normalised to E.164 before anything is stored,
 * and turned into the digits a line dials only when the call is placed.
 */
import { PhoneNumberFormat, PhoneNumberUtil } from 'google-libphonenumber';
import type { DialRule } from './config';

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
