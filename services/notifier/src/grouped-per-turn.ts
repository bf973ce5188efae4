/**
 * Requests made in one turn of the event loop, written together: the first request of a turn
 * schedules a flush (setImmediate) that sorts everything asked for meanwhile by key (a stable sort,
 * so requests of one key keep their order), writes it in chunks, and settles each request with its
 * own answer. A failed chunk fails every request in it, and only those. Writing in key order
 * keeps processes writing the same keys at once on PostgreSQL from waiting on each other in a
 * cycle. The ledger's new rows (ledger-new-rows.ts) and marks (ledger-marks.ts) are written so.
 */
export interface GroupedPerTurnOptions<R, T> {
  /** The sizes in which to write `n` sorted requests, first chunk first; they add up to `n`. */
  chunks: (n: number) => number[];
  /** Write the chunks one after another (each waits for the one before), or all at once. */
  inSequence: boolean;
  /** Writes one chunk: one answer per request, in the order given. */
  write: (requests: R[]) => Promise<T[]>;
  /**
   * Given: a request whose key is already waiting in this turn is not written again; it gets what
   * this makes of the first request's answer (or the first one's error).
   */
  duplicate?: (first: T) => T;
}

interface Settle<T> {
  resolve: (answer: T) => void;
  reject: (error: unknown) => void;
}

interface Pending<R, T> extends Settle<T> {
  key: string;
  request: R;
  /** Requests of the same key that wait for this one's answer (with `duplicate`). */
  followers: Array<Settle<T>>;
}

export class GroupedPerTurn<R, T> {
  private waiting: Array<Pending<R, T>> = [];
  private byKey = new Map<string, Pending<R, T>>();

  constructor(private readonly options: GroupedPerTurnOptions<R, T>) {}

  ask(key: string, request: R): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => void this.flush());
      const first = this.options.duplicate ? this.byKey.get(key) : undefined;
      if (first) {
        first.followers.push({ resolve, reject });
        return;
      }
      const pending = { key, request, resolve, reject, followers: [] };
      this.waiting.push(pending);
      if (this.options.duplicate) this.byKey.set(key, pending);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.waiting = [];
    this.byKey = new Map();
    const writes: Array<Promise<void>> = [];
    let start = 0;
    for (const size of this.options.chunks(batch.length)) {
      const chunk = batch.slice(start, (start += size));
      if (this.options.inSequence) await this.write(chunk);
      else writes.push(this.write(chunk));
    }
    await Promise.all(writes);
  }

  private async write(chunk: Array<Pending<R, T>>): Promise<void> {
    try {
      const answers = await this.options.write(chunk.map((pending) => pending.request));
      chunk.forEach((pending, i) => {
        pending.resolve(answers[i]);
        for (const follower of pending.followers) follower.resolve(this.options.duplicate!(answers[i]));
      });
    } catch (error) {
      for (const pending of chunk) for (const settle of [pending, ...pending.followers]) settle.reject(error);
    }
  }
}

/** Chunks of at most `size`: the last one holds what is left. */
export const chunksOf =
  (size: number) =>
  (n: number): number[] =>
    Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));
