import { AGGREGATE_STATES, RECEIVE_STATUSES } from '@faxnotify/contracts';
import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import { isTimeZone } from '../config';
import type { TrackerDatabase } from '../schema';

/**
 * Searching the Sent folder and the Inbox: what a query string may ask for, read once here for the
 * API, the pages and the CSV exports alike, and the SQL conditions it becomes. Text is matched
 * anywhere in the field, whatever its case (lower() on both sides: PostgreSQL's, and on SQLite the
 * kit's Unicode one), with `%`, `_` and `\` taken literally. Dates are days in the viewer's time
 * zone (or instants with an offset); `from` is inclusive, `to` takes in its whole day.
 */
export interface SearchFilters {
  /** Digits a number must contain: a recipient's number (Sent), the caller's (Inbox). */
  number?: string;
  /** Text the fax's subject must contain (Sent only). */
  subject?: string;
  /** Text a remote CSID must contain: any recipient's (Sent), the sender's (Inbox). */
  csid?: string;
  /** Submitted (Sent) or received (Inbox) at or after this instant (ISO 8601, UTC). */
  from?: string;
  /** ... and before this instant. */
  to?: string;
  /** The fax's aggregate state (Sent) or the received fax's status (Inbox). */
  state?: string;
}

export type SearchKind = 'sent' | 'inbox';

/** The query-string names of every filter, as the form, the API and the links use them. */
export const SEARCH_PARAMS = {
  sent: ['number', 'subject', 'csid', 'from', 'to', 'state'],
  inbox: ['number', 'csid', 'from', 'to', 'status'],
} as const satisfies Record<SearchKind, readonly string[]>;

export const MAX_TEXT = 100;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A `LIKE` pattern matching the text anywhere, its wildcard and escape characters taken literally (escape character `\`). */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The digits of a typed number ("+39 06-1234" finds +39061234…); '' when there are none. */
export const numberDigits = (text: string): string => text.replace(/\D/g, '');

/** How far the zone is ahead of UTC at an instant, in milliseconds. */
function zoneOffsetMs(timeZone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return wall - (at - (((at % 1000) + 1000) % 1000));
}

/** When a calendar day starts in a time zone, as an instant (ms since the epoch); undefined for a day that does not exist. */
export function zonedDayStart(day: string, timeZone: string): number | undefined {
  const match = DAY.exec(day);
  if (!match) return undefined;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const wall = Date.UTC(y, m - 1, d);
  const check = new Date(wall);
  if (y < 1970 || check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined;
  // The offset at the guess, then again at the instant it gives (a day that starts across a change of offset).
  const first = wall - zoneOffsetMs(timeZone, wall);
  return wall - zoneOffsetMs(timeZone, first);
}

/** A day's end: the start of the next one. */
const nextDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** A `from`/`to` value as an instant: a day in the zone (its start; for `to`, the next day's), or an instant with its offset. */
function boundOf(value: string, timeZone: string, end: boolean): string | undefined {
  if (INSTANT.test(value)) {
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : new Date(at).toISOString();
  }
  if (zonedDayStart(value, timeZone) === undefined) return undefined;
  const start = zonedDayStart(end ? nextDay(value) : value, timeZone);
  return start === undefined ? undefined : new Date(start).toISOString();
}

export type ParsedSearch = { ok: true; filters: SearchFilters; params: URLSearchParams; dropped: string[] } | { ok: false; message: string };

/**
 * Reads the filters of a query string. `params` holds what was used, as given (empty values
 * dropped), for the links that keep a search. A value that cannot be read is refused with a
 * sentence saying which, or, `lenient` (the pages), left out and named in `dropped`.
 */
export function parseSearch(kind: SearchKind, query: Record<string, unknown>, timeZone: string, lenient = false): ParsedSearch {
  const filters: SearchFilters = {};
  const params = new URLSearchParams();
  const dropped: string[] = [];
  const states: readonly string[] = kind === 'sent' ? AGGREGATE_STATES : RECEIVE_STATUSES;
  const read = (name: string, value: string): string | undefined => {
    if (value.length > MAX_TEXT) return `${name} must be at most ${MAX_TEXT} characters`;
    switch (name) {
      case 'number':
        filters.number = numberDigits(value);
        return filters.number === '' ? 'number must contain digits' : undefined;
      case 'subject':
      case 'csid':
        filters[name] = value;
        return undefined;
      case 'from':
      case 'to':
        filters[name] = boundOf(value, timeZone, name === 'to');
        return filters[name] === undefined ? `${name} must be a date (YYYY-MM-DD) or a date-time with its offset` : undefined;
      default:
        filters.state = value;
        return states.includes(value) ? undefined : `${name} must be one of ${states.join(', ')}`;
    }
  };
  for (const name of SEARCH_PARAMS[kind]) {
    const raw = query[name];
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (value === undefined || value === '') continue;
    const error = typeof value === 'string' ? read(name, value) : `${name} must be given once`;
    if (error === undefined) {
      params.set(name, value as string);
      continue;
    }
    if (!lenient) return { ok: false, message: error };
    const key = name === 'status' ? 'state' : name;
    delete filters[key];
    dropped.push(name);
  }
  return { ok: true, filters, params, dropped };
}

/** The time zone a date is read in: the one asked for (if it is one), else the viewer's. */
export const searchTimeZone = (asked: unknown, fallback: string): string | undefined =>
  asked === undefined || asked === '' ? fallback : typeof asked === 'string' && isTimeZone(asked) ? asked : undefined;

/** Whether any filter is set. */
export const isSearch = (filters: SearchFilters): boolean => Object.values(filters).some((v) => v !== undefined);

/** `column` contains `text`, whatever the case. */
export const contains = (column: Expression<unknown>, text: string): Expression<SqlBool> =>
  sql<SqlBool>`lower(${column}) like lower(${containsPattern(text)}) escape ${'\\'}`;

/** The Sent folder's conditions on `faxes` (the recipient ones over the fax's listed recipients). */
export function sentConditions(eb: ExpressionBuilder<TrackerDatabase, 'faxes'>, filters: SearchFilters): Expression<SqlBool> {
  const all: Array<Expression<SqlBool>> = [];
  if (filters.subject !== undefined) all.push(contains(eb.ref('faxes.subject'), filters.subject));
  if (filters.state !== undefined) all.push(eb('faxes.state', '=', filters.state));
  if (filters.from !== undefined) all.push(eb('faxes.submitted_at', '>=', filters.from));
  if (filters.to !== undefined) all.push(eb('faxes.submitted_at', '<', filters.to));
  const recipient = (column: 'recipients.number' | 'recipients.remote_csid', text: string) =>
    eb.exists(
      eb
        .selectFrom('recipients')
        .select('recipients.fax_id')
        .whereRef('recipients.fax_id', '=', 'faxes.id')
        .where('recipients.position', 'is not', null)
        .where(contains(sql.ref(column), text)),
    );
  if (filters.number !== undefined) all.push(recipient('recipients.number', filters.number));
  if (filters.csid !== undefined) all.push(recipient('recipients.remote_csid', filters.csid));
  return eb.and(all);
}

/** The Inbox's conditions on `received_faxes`. */
export function inboxConditions(eb: ExpressionBuilder<TrackerDatabase, 'received_faxes'>, filters: SearchFilters): Expression<SqlBool> {
  const all: Array<Expression<SqlBool>> = [];
  if (filters.number !== undefined) all.push(contains(eb.ref('received_faxes.caller_number'), filters.number));
  if (filters.csid !== undefined) all.push(contains(eb.ref('received_faxes.remote_csid'), filters.csid));
  if (filters.state !== undefined) all.push(eb('received_faxes.status', '=', filters.state));
  if (filters.from !== undefined) all.push(eb('received_faxes.ended_at', '>=', filters.from));
  if (filters.to !== undefined) all.push(eb('received_faxes.ended_at', '<', filters.to));
  return eb.and(all);
}
