/** What an owner can write to the service's Jabber account. */
export type Command =
  | { kind: 'status' }
  | { kind: 'resend'; faxId?: string }
  | { kind: 'mute'; minutes: number }
  | { kind: 'unmute' }
  | { kind: 'help' }
  | { kind: 'bad-duration' }
  | { kind: 'bad-fax-id' }
  | { kind: 'unknown' };

/** The longest mute: a week (`mute 7d`). */
export const MAX_MUTE_MINUTES = 7 * 24 * 60;
const UNIT_MINUTES: Record<string, number> = { m: 1, h: 60, d: 24 * 60 };
/** A fax id as the contracts allow it (the Id pattern); anything else is not looked up, nor repeated back. */
const FAX_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** A duration like `30m`, `2h`, `1d` in minutes (from a minute to a week), else undefined. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,4})\s*([mhd])$/i.exec(text.trim());
  if (!match) return undefined;
  const minutes = Number(match[1]) * UNIT_MINUTES[match[2].toLowerCase()];
  return minutes >= 1 && minutes <= MAX_MUTE_MINUTES ? minutes : undefined;
}

/** Reads a message's text as one command: the first word, case-insensitive, and what follows it. */
export function parseCommand(body: string): Command {
  const words = body.trim().split(/\s+/).filter(Boolean);
  const [word = '', ...rest] = words;
  const argument = rest.join(' ');
  switch (word.toLowerCase().replace(/^\//, '')) {
    case 'status':
      return { kind: 'status' };
    case 'resend':
      if (!argument) return { kind: 'resend' };
      return rest.length === 1 && FAX_ID.test(argument) ? { kind: 'resend', faxId: argument } : { kind: 'bad-fax-id' };
    case 'mute': {
      const minutes = parseDuration(argument);
      return minutes === undefined ? { kind: 'bad-duration' } : { kind: 'mute', minutes };
    }
    case 'unmute':
      return rest.length === 0 ? { kind: 'unmute' } : { kind: 'unknown' };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return { kind: 'unknown' };
  }
}
