import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { CoalescedPasses, intervalPasses } from './coalesced-passes';
import { eventually } from '@faxnotify/peers';

/** A pass that waits for `release()` before it ends (or fails), counting how many ran and overlapped. */
function gatedWork(fail?: () => Error | undefined) {
  const state = { started: 0, finished: 0, running: 0, mostAtOnce: 0 };
  let gates: Array<() => void> = [];
  const pass = async () => {
    state.started += 1;
    state.running += 1;
    state.mostAtOnce = Math.max(state.mostAtOnce, state.running);
    await new Promise<void>((resolve) => gates.push(resolve));
    state.running -= 1;
    state.finished += 1;
    const error = fail?.();
    if (error) throw error;
  };
  /** Lets the waiting pass end. */
  const release = async () => {
    await eventually(() => gates.length > 0, 2_000, 5);
    const waiting = gates;
    gates = [];
    for (const open of waiting) open();
  };
  return { state, pass, release };
}

/** Whether `promise` settles within `ms`. */
const settlesWithin = (promise: Promise<unknown>, ms: number) => Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

describe('CoalescedPasses', () => {
  let unexpected: unknown[];
  beforeEach(() => {
    unexpected = [];
  });
  afterEach(() => {
    expect(unexpected).toEqual([]);
  });

  it('runs one pass at a time; kicks during a pass ask for exactly one more', async () => {
    const work = gatedWork();
    const passes = new CoalescedPasses({ pass: work.pass, onError: (error) => unexpected.push(error) });
    passes.kick();
    passes.kick();
    passes.kick();
    passes.kick();
    expect(work.state.started).toBe(1);
    await work.release();
    await work.release();
    await eventually(() => work.state.finished === 2, 2_000, 5);
    await sleep(50);
    expect(work.state).toMatchObject({ started: 2, finished: 2, mostAtOnce: 1 });
    passes.kick();
    await work.release();
    await eventually(() => work.state.finished === 3, 2_000, 5);
    expect(work.state.mostAtOnce).toBe(1);
  });

  it('hands a failed pass to onError and drops the kicks made during it; the next kick runs again', async () => {
    let failing = true;
    const work = gatedWork(() => (failing ? new Error('peer down') : undefined));
    const errors: unknown[] = [];
    const passes = new CoalescedPasses({ pass: work.pass, onError: (error) => errors.push(error) });
    passes.kick();
    passes.kick();
    await work.release();
    await eventually(() => errors.length === 1, 2_000, 5);
    await sleep(50);
    expect(work.state.started).toBe(1);
    expect((errors[0] as Error).message).toBe('peer down');
    failing = false;
    passes.kick();
    await work.release();
    await eventually(() => work.state.finished === 2, 2_000, 5);
    expect(errors).toHaveLength(1);
  });

  it('polls every pollMs from start to stop, and not before start', async () => {
    let count = 0;
    const passes = new CoalescedPasses({ pass: async () => void (count += 1), onError: (error) => unexpected.push(error), pollMs: 20 });
    await sleep(80);
    expect(count).toBe(0);
    passes.start();
    expect(count).toBe(1);
    await eventually(() => count >= 4, 2_000, 5);
    await passes.stop();
    const atStop = count;
    await sleep(100);
    expect(count).toBe(atStop);
  });

  it('without passAtStart, the first pass waits for the first poll', async () => {
    let count = 0;
    const passes = new CoalescedPasses({ pass: async () => void (count += 1), onError: (error) => unexpected.push(error), pollMs: 60, passAtStart: false });
    passes.start();
    expect(count).toBe(0);
    await sleep(20);
    expect(count).toBe(0);
    await eventually(() => count >= 1, 2_000, 5);
    await passes.stop();
  });

  it('interval passes start one interval after start, and log a failed pass as what failed', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    let count = 0;
    const passes = intervalPasses(
      async () => {
        count += 1;
        throw new Error('peer down');
      },
      { intervalMs: 40, logger, what: 'test poll' },
    );
    passes.start();
    expect(count).toBe(0);
    await eventually(() => lines.length >= 1, 2_000, 5);
    await passes.stop();
    expect(JSON.parse(lines[0])).toMatchObject({ level: 40, err: 'peer down', msg: 'test poll failed; trying again next interval' });
  });

  it('stop waits for the running pass, skips the pass asked for during it, and starts none until start', async () => {
    const work = gatedWork();
    const passes = new CoalescedPasses({ pass: work.pass, onError: (error) => unexpected.push(error) });
    passes.kick();
    passes.kick();
    const stopping = passes.stop();
    expect(passes.stopped).toBe(true);
    expect(await settlesWithin(stopping, 50)).toBe(false);
    await work.release();
    expect(await settlesWithin(stopping, 1_000)).toBe(true);
    passes.kick();
    await sleep(50);
    expect(work.state).toMatchObject({ started: 1, finished: 1 });

    passes.start();
    expect(passes.stopped).toBe(false);
    expect(work.state.started).toBe(2);
    await work.release();
    await passes.stop();
    expect(work.state.finished).toBe(2);
  });
});
