import { GroupedPerTurn, chunksOf } from './grouped-per-turn';
import { insertSizes } from './ledger-new-rows';

describe('GroupedPerTurn', () => {
  it('writes the requests of one turn together, in key order, and answers each', async () => {
    const writes: string[][] = [];
    const grouped = new GroupedPerTurn<string, string>({
      chunks: chunksOf(2),
      inSequence: true,
      write: async (requests) => (writes.push(requests), requests.map((r) => r.toUpperCase())),
    });
    const answers = await Promise.all(['c', 'a', 'b'].map((key) => grouped.ask(key, key)));
    expect(answers).toEqual(['C', 'A', 'B']);
    expect(writes).toEqual([['a', 'b'], ['c']]);
    // A later turn is a write of its own.
    expect(await grouped.ask('d', 'd')).toBe('D');
    expect(writes).toHaveLength(3);
  });

  it('keeps the order of requests of one key, or writes a key once with `duplicate`', async () => {
    const each = new GroupedPerTurn<string, string>({ chunks: chunksOf(10), inSequence: true, write: async (requests) => requests });
    expect(await Promise.all([each.ask('k', 'first'), each.ask('j', 'other'), each.ask('k', 'second')])).toEqual(['first', 'other', 'second']);
    const written: string[][] = [];
    const once = new GroupedPerTurn<string, string | undefined>({
      chunks: chunksOf(10),
      inSequence: false,
      duplicate: () => undefined,
      write: async (requests) => (written.push(requests), requests),
    });
    expect(await Promise.all([once.ask('k', 'first'), once.ask('k', 'second')])).toEqual(['first', undefined]);
    expect(written).toEqual([['first']]);
  });

  it('fails the requests of a failed chunk only, with its error', async () => {
    const grouped = new GroupedPerTurn<string, string | undefined>({
      chunks: chunksOf(1),
      inSequence: false,
      duplicate: () => undefined,
      write: async ([request]) => {
        if (request === 'bad') throw new Error('no good');
        return [request];
      },
    });
    const settled = await Promise.allSettled([grouped.ask('a', 'ok'), grouped.ask('b', 'bad'), grouped.ask('b', 'bad again')]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['ok', 'no good', 'no good']);
  });
});

describe('insertSizes', () => {
  it('cuts rows into statements of a few fixed sizes', () => {
    expect(insertSizes(1)).toEqual([1]);
    expect(insertSizes(37)).toEqual([32, 4, 1]);
    expect(insertSizes(100)).toEqual([100]);
    expect(insertSizes(250)).toEqual([100, 100, 32, 16, 2]);
    for (let n = 1; n <= 300; n++) expect(insertSizes(n).reduce((a, b) => a + b, 0)).toBe(n);
  });
});
