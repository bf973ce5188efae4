import { errorMessage } from './errors';
import type { Logger } from './logger';

export interface CoalescedPassesOptions {
  /** One pass of the work. */
  pass: () => Promise<unknown>;
  /**
   * Told what a pass threw (the caller logs it). A failed pass ends the run: kicks that came
   * during it are dropped and the next kick or poll tries again, so a peer that is down is not
   * asked again once per kick.
   */
  onError: (error: unknown) => void;
  /** Between `start` and `stop`, also kick this often (the timer does not keep the process alive). */
  pollMs?: number;
  /** Whether `start` kicks at once (the default); false: the first pass waits for the first poll. */
  passAtStart?: boolean;
}

/**
 * Runs a piece of work one pass at a time: a kick during a pass asks for one more right after it,
 * however many kicks came. Kicks run passes before `start` too; from `stop` until the next
 * `start` no pass begins.
 */
export class CoalescedPasses {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private halted = false;

  constructor(private readonly options: CoalescedPassesOptions) {}

  /** True from `stop` until the next `start`; a long pass may check it to end early. */
  get stopped(): boolean {
    return this.halted;
  }

  /** Kicks now (unless `passAtStart` is false), then every `pollMs` when it is given. */
  start(): void {
    this.halted = false;
    if (this.options.pollMs !== undefined) {
      this.timer = setInterval(() => this.kick(), this.options.pollMs);
      this.timer.unref();
    }
    if (this.options.passAtStart ?? true) this.kick();
  }

  /** Asks for a pass now (or right after the running one). */
  kick(): void {
    if (this.halted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.options.pass();
      } catch (error) {
        this.options.onError(error);
        return;
      }
    } while (this.again && !this.halted);
  }

  /** Stops polling and waits for the running pass to end; no further pass begins. */
  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/**
 * Passes of background work every `intervalMs`, the first one interval after `start`. A failed pass
 * is logged as "`what` failed" and the next interval tries again.
 */
export function intervalPasses(pass: () => Promise<unknown>, options: { intervalMs: number; logger: Logger; what: string }): CoalescedPasses {
  return new CoalescedPasses({
    pass,
    onError: (error) => options.logger.warn({ err: errorMessage(error) }, `${options.what} failed; trying again next interval`),
    pollMs: options.intervalMs,
    passAtStart: false,
  });
}
