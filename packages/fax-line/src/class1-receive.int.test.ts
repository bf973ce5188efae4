/**
 * The Class 1 receiver at the serial boundary, against a scripted modem with a fax machine calling
 * it that fails on purpose: a bad training check, a damaged page, a hang-up in page 2.
 */
import { Class1Line } from './class1';
import type { Class1Timers } from './class1-frames';
import type { Bitmap } from './documents/bitmap';
import { pageBitmap } from './documents/fax-document';
import { Fcf, parseDis } from './t30';
import { type CallerScript, ScriptedCaller } from './testing/scripted-caller';
import { ScriptedModem } from './testing/scripted-modem';
import { patternBitmap, patternDocument } from './testing/sample-pages';
import type { LineReceiveResult } from './types';

jest.setTimeout(30_000);

const FAST_TIMERS: Partial<Class1Timers> = { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 };
const pages = [patternBitmap(120, 1), patternBitmap(140, 2)];

const callers: ScriptedCaller[] = [];
afterEach(async () => {
  await Promise.all(callers.splice(0).map((caller) => caller.stop()));
});

async function receive(
  script: Omit<CallerScript, 'kind' | 'pages'> & { pages?: Bitmap[] },
  waitMs = 10_000,
): Promise<{ result: LineReceiveResult; caller: ScriptedCaller; trace: string[]; events: string[] }> {
  const caller = await ScriptedCaller.start({ kind: 'class1', pages, ...script });
  callers.push(caller);
  const line = new Class1Line({ id: 'scripted', device: caller.device, mode: 'receive', answerId: 'OUR FAX', timers: FAST_TIMERS });
  const trace: string[] = [];
  const events: string[] = [];
  const result = await line.receive(
    { waitMs },
    {
      trace: (text) => trace.push(text),
      ringing: (call) => events.push(`ring ${call.callerNumber} -> ${call.calledNumber}`),
      connected: (remote) => events.push(`connected ${remote.csid}`),
      pageReceived: (page, detail) => events.push(`page ${page}: ${detail.rows} rows, ${detail.badRows} bad`),
      pageRejected: (page) => events.push(`page ${page} rejected`),
    },
  );
  if (process.env.DEBUG_LINE) process.stdout.write(`${trace.join('\n')}\n`);
  return { result, caller, trace, events };
}

function samePixels(received: LineReceiveResult['pages'][number], original: Bitmap): boolean {
  const bitmap = pageBitmap(received);
  return bitmap.height === original.height && Buffer.from(bitmap.data).equals(Buffer.from(original.data));
}

describe('Class 1 receive (scripted caller)', () => {
  it('answers, announces CSI/DIS, and takes two good pages: success with the TSI and the numbers', async () => {
    const { result, caller, events } = await receive({ tsi: 'CALLER 555' });
    expect(result).toMatchObject({ status: 'success', reason: { code: 'OK' }, remoteCsid: 'CALLER 555', callerNumber: '1001', calledNumber: '2002' });
    expect(result.pages).toHaveLength(2);
    result.pages.forEach((page, i) => {
      expect(page).toMatchObject({ width: 1728, resolution: 'fine', badRows: 0 });
      expect(samePixels(page, pages[i])).toBe(true);
    });
    expect(result.signallingRate).toBe(14400);
    expect(events).toEqual(['ring 1001 -> 2002', 'connected CALLER 555', 'page 1: 120 rows, 0 bad', 'page 2: 140 rows, 0 bad']);
    expect(caller.framesOf(Fcf.CSI)[0].fif.toString('latin1')).toBe('XAF RUO'.padEnd(20, ' '));
    const dis = parseDis(caller.framesOf(Fcf.DIS)[0].fif);
    expect(dis).toMatchObject({ readyToReceive: true, fine: true, twoDimensional: false, widths: [1728], length: 'unlimited', ecm: false });
    expect(dis.rates[0].bitsPerSecond).toBe(14400);
    expect(caller.framesOf(Fcf.CFR)).toHaveLength(1);
    expect(caller.framesOf(Fcf.MCF)).toHaveLength(2);
    expect(caller.record.hungUp).toBe(true);
    expect(caller.record.commands).toContain('ATS0=0');
  });

  it('a failed training check gets FTT; the caller retrains a rate lower and the fax arrives', async () => {
    const { result, caller } = await receive({ trainings: ['bad'] });
    expect(caller.record.trainingRates).toEqual([14400, 12000]);
    expect(caller.framesOf(Fcf.FTT)).toHaveLength(1);
    expect(caller.framesOf(Fcf.CFR)).toHaveLength(1);
    expect(result).toMatchObject({ status: 'success', signallingRate: 12000 });
    expect(result.pages.map((page, i) => samePixels(page, pages[i]))).toEqual([true, true]);
  });

  it('a damaged page gets RTN; the caller retrains and sends it again, and only the good copy is kept', async () => {
    const { result, caller, events } = await receive({ damagedTransmissions: [1] });
    expect(caller.framesOf(Fcf.RTN)).toHaveLength(1);
    expect(caller.record.trainingRates).toHaveLength(2);
    expect(events).toContain('page 1 rejected');
    // The retrain is the same caller: connected once.
    expect(events.filter((event) => event.startsWith('connected'))).toHaveLength(1);
    expect(result).toMatchObject({ status: 'success', pagesRejected: 1 });
    expect(result.pages.map((page, i) => samePixels(page, pages[i]))).toEqual([true, true]);
  });

  it('the caller hangs up in page 2: partially_received, page 1 kept, page 2 reported with the rows that came', async () => {
    const { result, caller } = await receive({ hangUpIn: { transmission: 2, fraction: 0.5 } });
    expect(result.status).toBe('partially_received');
    expect(result.pages).toHaveLength(1);
    expect(samePixels(result.pages[0], pages[0])).toBe(true);
    expect(result.partialPage!.height).toBeGreaterThan(20);
    expect(result.partialPage!.height).toBeLessThan(pages[1].height);
    expect(result.reason.code).toBe('NO_CARRIER');
    expect(result.reason.detail).toMatch(/during page 2/);
    expect(caller.framesOf(Fcf.MCF)).toHaveLength(1);
  });

  it('EOM after page 1: back to phase B (our DIS again, a new DCS and training), then page 2', async () => {
    const { result, caller } = await receive({ eomAfterPage: 1 });
    expect(caller.framesOf(Fcf.DIS)).toHaveLength(2);
    expect(caller.record.trainingRates).toEqual([14400, 14400]);
    expect(result).toMatchObject({ status: 'success', reason: { code: 'OK' } });
    expect(result.pages.map((page, i) => samePixels(page, pages[i]))).toEqual([true, true]);
  });

  it('nobody calls within the wait: NO_CALL, nothing received, the modem back on-hook', async () => {
    const { result, caller } = await receive({ silent: true }, 1500);
    expect(result).toMatchObject({ status: 'failed', pages: [], connectedAt: null, reason: { code: 'NO_CALL' } });
    expect(caller.record.answered).toBe(false);
  });

  it('a send on a line that is both takes the modem from an idle wait for a call, which ends with NO_CALL', async () => {
    const modem = await ScriptedModem.start({ kind: 'class1' });
    try {
      const line = new Class1Line({ id: 'both', device: modem.device, mode: 'both', timers: FAST_TIMERS });
      let listening!: () => void;
      const waiting = new Promise<void>((resolve) => (listening = resolve));
      const received = line.receive({ waitMs: 20_000 }, { trace: (text) => text.includes('-- await_ring') && listening() });
      await waiting;
      const sent = await line.send({ dialString: '2002', localId: 'OUR FAX', document: patternDocument(1).document }, {});
      const wait = await received;
      expect(wait).toMatchObject({ status: 'failed', connectedAt: null, reason: { code: 'NO_CALL' } });
      expect(wait.reason.detail).toMatch(/taken for a send/);
      expect(sent).toMatchObject({ pagesConfirmed: 1, reason: { code: 'OK' } });
      expect(modem.record.pages).toHaveLength(1);
    } finally {
      await modem.stop();
    }
  });

  it('closing a line ends its idle wait for a call', async () => {
    const caller = await ScriptedCaller.start({ kind: 'class1', pages, silent: true });
    callers.push(caller);
    const line = new Class1Line({ id: 'closing', device: caller.device, mode: 'receive', timers: FAST_TIMERS });
    let listening!: () => void;
    const waiting = new Promise<void>((resolve) => (listening = resolve));
    const received = line.receive({}, { trace: (text) => text.includes('-- await_ring') && listening() });
    await waiting;
    await line.close();
    const result = await received;
    expect(result).toMatchObject({ status: 'failed', reason: { code: 'NO_CALL' } });
    expect(result.reason.detail).toMatch(/line was closed/);
    await expect(line.receive({}, {})).rejects.toThrow(/closed/);
  });

  it('a line takes only the calls its mode allows', async () => {
    const sendOnly = new Class1Line({ id: 'tx', device: '/dev/null' });
    const receiveOnly = new Class1Line({ id: 'rx', device: '/dev/null', mode: 'receive' });
    await expect(sendOnly.receive({}, {})).rejects.toThrow(/only sends/);
    await expect(receiveOnly.send({ dialString: '1', localId: 'x', document: { pages: [] } }, {})).rejects.toThrow(/only receives/);
    expect([sendOnly.mode, receiveOnly.mode]).toEqual(['send', 'receive']);
  });
});
