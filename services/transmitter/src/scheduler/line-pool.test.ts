import { LineReason } from '@faxnotify/fax-line';
import { createLogger } from '@faxnotify/kit';
import type { TransmitterLine } from '../lines/types';
import { LINE_FAILURE, LinePool } from './line-pool';

/** Lines the pool only hands out and takes back (they never dial here). */
const lines = (...ids: string[]): TransmitterLine[] =>
  ids.map((id) => ({
    id,
    kind: 'class1',
    send: () => Promise.reject(new Error('not dialled in this test')),
    close: () => Promise.resolve(),
  }));

const logger = createLogger('transmitter-test', 'silent');

describe('the line pool', () => {
  it('hands out each free line once and takes it back', () => {
    const pool = new LinePool(lines('a', 'b'), { logger });
    expect(pool.ready).toBe(2);
    const first = pool.take()!;
    const second = pool.take()!;
    expect(new Set([first.id, second.id])).toEqual(new Set(['a', 'b']));
    expect(pool.take()).toBeUndefined();
    expect(pool.ready).toBe(0);
    pool.give(first);
    expect(pool.ready).toBe(1);
    expect(pool.take()).toBe(first);
  });

  it('rests a line after its limit of faults on our side in a row, and only then', () => {
    let clock = 1_000;
    const pool = new LinePool(lines('a'), { logger, rest: { faults: 3, ms: 60_000 }, clock: () => clock });
    const line = pool.take()!;
    pool.noteCall(line, { code: LineReason.MODEM_ERROR, detail: 'no OK' });
    pool.noteCall(line, { code: LINE_FAILURE, detail: 'port gone' });
    // A call that reached the network clears the count, even a busy one.
    pool.noteCall(line, { code: LineReason.BUSY, detail: 'BUSY' });
    pool.noteCall(line, { code: LineReason.NO_DIALTONE, detail: 'NO DIALTONE' });
    pool.noteCall(line, { code: LineReason.FLOW_CONTROL_TIMEOUT, detail: 'XOFF' });
    pool.give(line);
    expect(pool.resting).toEqual([]);
    expect(pool.take()).toBe(line);
    pool.noteCall(line, { code: LineReason.MODEM_ERROR, detail: 'no OK' });
    pool.give(line);
    expect(pool.resting).toEqual(['a']);
    expect(pool.ready).toBe(0);
    expect(pool.take()).toBeUndefined();

    // The rest runs out; the line is taken again and its count starts afresh.
    clock += 60_000;
    expect(pool.resting).toEqual([]);
    expect(pool.take()).toBe(line);
    pool.noteCall(line, { code: LineReason.MODEM_ERROR, detail: 'no OK' });
    pool.give(line);
    expect(pool.resting).toEqual([]);
  });

  it('finds a line by id, and none for a line no longer configured', () => {
    const pool = new LinePool(lines('a', 'b'), { logger });
    expect(pool.byId('b')?.id).toBe('b');
    expect(pool.byId('gone')).toBeUndefined();
    expect(pool.byId(null)).toBeUndefined();
  });
});
