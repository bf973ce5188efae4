/** The bound on costly work: how many run, how many wait, and what is refused at once. */
import { Overloaded, WorkLimit } from './limit';

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
};

describe('WorkLimit', () => {
  it('runs at most `concurrent` at once, queues up to `queued`, and refuses the rest without running them', async () => {
    const limit = new WorkLimit('password checks', 2, 1);
    const gates = [gate(), gate(), gate()];
    let started = 0;
    const work = (i: number) => async () => {
      started++;
      await gates[i].opened;
      return i;
    };
    const runs = [limit.run(work(0)), limit.run(work(1)), limit.run(work(2))];
    let refusedRan = false;
    await expect(
      limit.run(async () => {
        refusedRan = true;
        return -1;
      }),
    ).rejects.toThrow(new Overloaded('password checks'));
    expect(refusedRan).toBe(false);
    expect(started).toBe(2);
    expect(limit.load).toEqual({ running: 2, waiting: 1 });
    gates[0].open();
    await runs[0];
    // The freed slot went to the one waiting.
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(3);
    expect(limit.load).toEqual({ running: 2, waiting: 0 });
    gates[1].open();
    gates[2].open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(limit.load).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot of work that failed', async () => {
    const limit = new WorkLimit('checks', 1, 0);
    await expect(limit.run(() => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed');
    expect(await limit.run(async () => 'next')).toBe('next');
  });

  it('refuses a bound that lets nothing run', () => {
    expect(() => new WorkLimit('checks', 0, 5)).toThrow(/at least one/);
    expect(() => new WorkLimit('checks', 1, -1)).toThrow(/0 or more/);
  });
});
