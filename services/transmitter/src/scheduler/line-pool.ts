/**
 * The fax lines: which are free, which rest. One call per line; a line whose calls keep failing on
 * our side (the modem does not answer commands, its port fails, there is no dial tone) rests for a
 * while instead of burning every recipient's attempts. Any call that reached the network (even
 * busy) shows the line works and clears its count.
 */
import { LineReason } from '@faxnotify/fax-line';
import type { Logger } from '@faxnotify/kit';
import { Gauge } from 'prom-client';
import type { TransmitterLine } from '../lines/types';

const resting = new Gauge({
  name: 'faxnotify_transmitter_line_resting',
  help: '1 while a line rests after failing on our side several calls in a row.',
  labelNames: ['line'],
});

/** Reason code of an attempt whose line failed with an exception rather than a result. */
export const LINE_FAILURE = 'LINE_FAILURE';

/** Reasons that are the line's own fault, not the called number's. */
const LINE_FAULTS = new Set<string>([LineReason.MODEM_ERROR, LineReason.NO_DIALTONE, LineReason.FLOW_CONTROL_TIMEOUT, LINE_FAILURE]);

export interface LineRest {
  /** Consecutive calls failing on our side before the line rests. */
  faults: number;
  /** How long it rests. */
  ms: number;
}

export const DEFAULT_LINE_REST: LineRest = { faults: 3, ms: 5 * 60_000 };

export class LinePool {
  private readonly free: TransmitterLine[];
  /** Consecutive calls of a line that failed on our side. */
  private readonly faults = new Map<string, number>();
  /** Lines resting after repeated faults, until this time (ms). */
  private readonly restingUntil = new Map<string, number>();
  private readonly rest: LineRest;
  private readonly clock: () => number;

  constructor(
    readonly lines: readonly TransmitterLine[],
    private readonly options: { logger: Logger; rest?: LineRest; clock?: () => number },
  ) {
    this.free = [...lines];
    this.rest = options.rest ?? DEFAULT_LINE_REST;
    this.clock = options.clock ?? Date.now;
  }

  /** Free lines that are not resting. */
  get ready(): number {
    const now = this.clock();
    return this.free.filter((line) => (this.restingUntil.get(line.id) ?? 0) <= now).length;
  }

  /** Lines resting now, for readiness and operators. */
  get resting(): string[] {
    const now = this.clock();
    return [...this.restingUntil].filter(([, until]) => until > now).map(([id]) => id);
  }

  byId(id: string | null): TransmitterLine | undefined {
    return id === null ? undefined : this.lines.find((line) => line.id === id);
  }

  /** Takes a free line that is not resting; undefined when there is none. */
  take(): TransmitterLine | undefined {
    const now = this.clock();
    for (let i = this.free.length - 1; i >= 0; i--) {
      const line = this.free[i];
      const until = this.restingUntil.get(line.id);
      if (until !== undefined && until > now) continue;
      this.free.splice(i, 1);
      // A rest that has run out ends when the line is taken again.
      if (until !== undefined) {
        this.restingUntil.delete(line.id);
        resting.set({ line: line.id }, 0);
      }
      return line;
    }
    return undefined;
  }

  /** A line taken is free again. */
  give(line: TransmitterLine): void {
    this.free.push(line);
  }

  /** Counts a call's ending towards the line's health; a line at its fault limit rests. */
  noteCall(line: TransmitterLine, reason: { code: string; detail: string }): void {
    if (!LINE_FAULTS.has(reason.code)) {
      this.faults.delete(line.id);
      return;
    }
    const faults = (this.faults.get(line.id) ?? 0) + 1;
    this.faults.set(line.id, faults);
    if (faults < this.rest.faults) return;
    this.faults.set(line.id, 0);
    this.restingUntil.set(line.id, this.clock() + this.rest.ms);
    resting.set({ line: line.id }, 1);
    this.options.logger.error(
      { line: line.id, faults, restSeconds: Math.round(this.rest.ms / 1000), reason: reason.code, detail: reason.detail.slice(0, 300) },
      'fax line failed on our side several times in a row: resting it (check the modem and its cable)',
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.lines.map((line) => line.close()));
  }
}
