/** Quiet hours of a channel, as wall-clock times in the owner's time zone ('HH:MM'); `start` after `end` spans midnight. */
export interface QuietHours {
  start: string;
  end: string;
}

export const QUIET_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight of an instant in a time zone (what a wall clock there shows). */
export function localMinutes(at: Date, timeZone: string): number {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

/** Whether an instant falls in the quiet hours: from `start` (included) to `end` (excluded), across midnight when `start` is later. */
export function inQuietHours(quiet: QuietHours, at: Date, timeZone: string): boolean {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  const now = localMinutes(at, timeZone);
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * When the quiet hours `at` falls in end: the first whole minute after `at` whose wall clock in
 * the time zone is out of them. Walking the clock minute by minute keeps it right across a
 * daylight-saving change (an end time the change skips ends them at the first minute after the
 * gap; one it repeats ends them at its first occurrence). `at` itself when it is not in them.
 */
export function quietHoursEnd(quiet: QuietHours, at: Date, timeZone: string): Date {
  if (!inQuietHours(quiet, at, timeZone)) return at;
  let minute = Math.floor(at.getTime() / 60_000) * 60_000;
  // Quiet hours last under a day; two days bound the walk whatever the zone does.
  for (let step = 0; step < 2 * 24 * 60; step++) {
    minute += 60_000;
    if (!inQuietHours(quiet, new Date(minute), timeZone)) return new Date(minute);
  }
  return new Date(minute);
}
