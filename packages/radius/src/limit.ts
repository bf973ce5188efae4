/**
 * A bound on costly work in the request path (password checks with scrypt take a worker thread
 * and memory each): at most `concurrent` at once, at most `queued` waiting; past that the work is
 * refused at once with Overloaded, so a flood of requests costs neither the event loop nor memory.
 * The server drops a request refused this way and counts it; the client asks again later.
 */

/** Thrown (by a handler) when the bound refused its work: the request is dropped, counted 'overloaded'. */
export class Overloaded extends Error {
  constructor(what: string) {
    super(`too many ${what} at once`);
  }
}

export class WorkLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly what: string,
    readonly concurrent: number,
    readonly queued: number,
  ) {
    if (!Number.isInteger(concurrent) || concurrent < 1) throw new Error(`${what}: at least one must run at once (got ${concurrent})`);
    if (!Number.isInteger(queued) || queued < 0) throw new Error(`${what}: the queue bound must be 0 or more (got ${queued})`);
  }

  /** How many run and how many wait now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `work` within the bound; throws Overloaded without running it when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.waiting.length >= this.queued) throw new Overloaded(this.what);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line; otherwise it is freed.
      if (next) next();
      else this.running--;
    }
  }
}
