/**
 * Reading efax's log in the line benchmarks: its own clock, the call's span, and its CPU time as
 * bash's `times` reports it.
 */

/** efax's children CPU from bash's `times` (second line: "0m0.004s 0m0.001s"), in ms. */
export function childCpuMs(timesOutput: string): number {
  const lines = timesOutput.trim().split('\n');
  const match = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines[lines.length - 1] ?? '');
  if (!match) return NaN;
  return (Number(match[1]) * 60 + Number(match[2]) + Number(match[3]) * 60 + Number(match[4])) * 1000;
}

export interface EfaxLogLine {
  /** Seconds on efax's own clock (minutes and seconds of the hour, unwrapped), ms where efax prints them. */
  clock: number;
  /** Modem output lines carry milliseconds; efax's other messages only whole seconds. */
  precise: boolean;
  text: string;
}

/** efax's log as its own clock stamps it: "efax: MM:SS message", or "efax: MM:SS .mmm [modem output]". */
export function parseEfaxLog(output: string): EfaxLogLine[] {
  const lines: EfaxLogLine[] = [];
  let hour = 0;
  let previous = -1;
  for (const raw of output.split('\n')) {
    const match = /^efax: (\d{2}):(\d{2})(?: \.(\d{3}))? (.*)$/.exec(raw);
    if (!match) continue;
    let clock = Number(match[1]) * 60 + Number(match[2]) + (match[3] ? Number(match[3]) / 1000 : 0);
    if (previous >= 0 && clock + hour < previous - 1800) hour += 3600;
    clock += hour;
    previous = clock;
    lines.push({ clock, precise: match[3] !== undefined, text: match[4] });
  }
  return lines;
}

/**
 * The call's span on efax's own clock (its stderr reaches us in bursts, so arrival times are not
 * used). efax writes ATD right after reading the previous command's OK (no pause before a dial),
 * so that OK's time is the dial time; the hang-up ends with the OK to its first ATH; after it
 * efax resets the modem (Q0V1, H) and exits, so its last modem response is its end.
 */
export function efaxCallSpan(log: readonly EfaxLogLine[]): { dialClock: number; hangupClock: number; lastClock: number } {
  const dialIndex = log.findIndex(({ text }) => /command\s+"D/.test(text));
  const before = log.slice(0, Math.max(0, dialIndex)).filter((line) => line.precise);
  const dialClock = dialIndex >= 0 && before.length > 0 ? before[before.length - 1].clock : NaN;
  const hangupIndex = log.findIndex(({ text }, i) => i > dialIndex && /command\s+"H"/.test(text));
  const hangupClock = hangupIndex >= 0 ? (log.find((line, i) => i > hangupIndex && line.precise && /OK/.test(line.text))?.clock ?? NaN) : NaN;
  const precise = log.filter((line) => line.precise);
  const lastClock = precise.length > 0 ? precise[precise.length - 1].clock : NaN;
  return { dialClock, hangupClock, lastClock };
}
