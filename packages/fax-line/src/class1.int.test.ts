/**
 * The Class 1 driver at the serial boundary, against a scripted modem on a pseudo-terminal that
 * plays the far fax machine badly on purpose.
 */
import { halveRows } from './documents/bitmap';
import { decodeMh } from './documents/t4-mh';
import { Class1Line, type Class1Timers } from './class1';
import { buildDis, Fcf } from './t30';
import { type Class1Script, ScriptedModem } from './testing/scripted-modem';
import { patternDocument } from './testing/sample-pages';
import type { LineResult } from './types';

jest.setTimeout(30_000);

const FAST_TIMERS: Partial<Class1Timers> = { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 };

interface Run {
  result: LineResult;
  modem: ScriptedModem;
  trace: string[];
  confirmed: Array<[number, number]>;
  connected: Array<{ csid: string | null; csidRaw: string | null }>;
  dialing: number;
}

const modems: ScriptedModem[] = [];
afterEach(async () => {
  await Promise.all(modems.splice(0).map((modem) => modem.stop()));
});

async function send(
  script: Omit<Class1Script, 'kind'>,
  options: { pages?: number; rows?: number; timers?: Partial<Class1Timers>; signal?: AbortSignal; resolution?: 'fine' | 'standard' } = {},
): Promise<Run & { bitmaps: ReturnType<typeof patternDocument>['bitmaps'] }> {
  const modem = await ScriptedModem.start({ kind: 'class1', ...script });
  modems.push(modem);
  const { document, bitmaps } = patternDocument(options.pages ?? 1, { rows: options.rows ?? 120, resolution: options.resolution ?? 'fine' });
  const line = new Class1Line({ id: 'scripted', device: modem.device, timers: { ...FAST_TIMERS, ...options.timers } });
  const run: Omit<Run, 'result' | 'modem'> = { trace: [], confirmed: [], connected: [], dialing: 0 };
  const result = await line.send(
    { dialString: '5551234', localId: 'FAXNOTIFY TEST', document },
    {
      dialing: () => run.dialing++,
      connected: (remote) => run.connected.push(remote),
      pageConfirmed: (page, of) => run.confirmed.push([page, of]),
      trace: (text) => run.trace.push(text),
    },
    options.signal,
  );
  await line.close();
  return { ...run, result, modem, bitmaps };
}

function decodePage(data: Buffer): ReturnType<typeof decodeMh> {
  return decodeMh(data, 1728, { lsbFirst: true });
}

describe('Class 1 driver against a scripted modem', () => {
  it('sends a fax: TSI+DCS, TCF, page data in line bit order, EOP, DCN, hang-up', async () => {
    const run = await send({ csi: 'REMOTE 42', xoffEveryBytes: 2500, xoffHoldMs: 150 }, { pages: 2, rows: 300 });
    expect(run.result).toMatchObject({ pagesConfirmed: 2, pagesTotal: 2, remoteCsid: 'REMOTE 42', signallingRate: 14400 });
    expect(run.result.remoteCsidRaw).toBe('24 ETOMER'.padEnd(20, ' '));
    expect(run.result.reason.code).toBe('OK');
    expect(run.dialing).toBe(1);
    expect(run.connected).toEqual([{ csid: 'REMOTE 42', csidRaw: '24 ETOMER'.padEnd(20, ' ') }]);
    expect(run.confirmed).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(run.result.connectedAt).not.toBeNull();

    const modem = run.modem;
    expect(modem.record.commands).toContain('ATD5551234');
    expect(modem.record.framesFromDriver.map((frame) => frame.fcf)).toEqual([0x43, 0x83, 0x4f, 0x2f, 0xfb]);
    expect(modem.framesOf(Fcf.TSI)[0].fif.toString('latin1')).toBe('TSET YFITONXAF      '.padStart(20, ' ').split('').join(''));
    expect(modem.record.dcs).toEqual([{ rate: expect.objectContaining({ bitsPerSecond: 14400 }), fine: true, minScanMs: 0, unlimitedLength: false }]);
    expect(modem.record.tcf).toEqual([{ modulation: 145, bytes: 2700, allZero: true }]);
    expect(modem.record.pages.map((page) => page.modulation)).toEqual([146, 146]);
    modem.record.pages.forEach((page, i) => {
      const decoded = decodePage(page.data);
      expect(decoded.sawRtc).toBe(true);
      expect(decoded.badLines).toBe(0);
      expect(Buffer.from(decoded.bitmap.data)).toEqual(Buffer.from(run.bitmaps[i].data));
      expect(page.data.length).toBeGreaterThan(8000);
    });
    // The modem's XOFF reached the driver mid-page (that it pauses is proven in modem-channel.test.ts).
    expect(run.trace.filter((text) => /page \d data written; XOFF [1-9]/.test(text))).toHaveLength(2);
    expect(modem.record.hungUp).toBe(true);
    expect(run.trace.some((text) => text.includes('<< DIS'))).toBe(true);
    expect(run.trace.some((text) => /CSI .*"REMOTE 42"/.test(text))).toBe(true);
  });

  it('reports BUSY without any T.30', async () => {
    const run = await send({ dialResult: 'BUSY' });
    expect(run.result).toMatchObject({ pagesConfirmed: 0, connectedAt: null, remoteCsid: null, signallingRate: null });
    expect(run.result.reason.code).toBe('BUSY');
    expect(run.result.reason.detail).toContain('BUSY');
    expect(run.modem.record.framesFromDriver).toHaveLength(0);
  });

  it('maps the other dial results', async () => {
    expect((await send({ dialResult: 'NO ANSWER' })).result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'NO_ANSWER' } });
    expect((await send({ dialResult: 'NO DIALTONE' })).result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'NO_DIALTONE' } });
    expect((await send({ dialResult: 'NO CARRIER' })).result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'NO_CARRIER_ON_DIAL' } });
  });

  it('falls back to a lower speed after FTT and succeeds there', async () => {
    const run = await send({ trainingResponses: ['FTT', 'FTT', 'CFR'] });
    expect(run.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 1, reason: { code: 'OK' }, signallingRate: 9600 });
    expect(run.modem.record.dcs.map((dcs) => dcs.rate.bitsPerSecond)).toEqual([14400, 12000, 9600]);
    expect(run.modem.record.tcf.map((tcf) => [tcf.modulation, tcf.bytes])).toEqual([
      [145, 2700],
      [121, 2250],
      [96, 1800],
    ]);
    expect(run.modem.record.pages.map((page) => page.modulation)).toEqual([96]);
    expect(run.trace.some((text) => text.includes('FTT: falling back to V.29 9600'))).toBe(true);
  });

  it('gives up with T30_TRAINING_FAILED after FTT at 2400 bit/s', async () => {
    const run = await send({ trainingResponses: ['FTT', 'FTT', 'FTT', 'FTT', 'FTT', 'FTT'] });
    expect(run.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'T30_TRAINING_FAILED' } });
    expect(run.modem.record.tcf.map((tcf) => tcf.modulation)).toEqual([145, 121, 96, 72, 48, 24]);
    expect(run.modem.framesOf(Fcf.DCN)).toHaveLength(1);
  });

  it('retrains lower and sends the page again after RTN', async () => {
    const run = await send({ postPageResponses: ['RTN', 'MCF'] });
    expect(run.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 1, reason: { code: 'OK' }, signallingRate: 12000 });
    expect(run.modem.record.pages.map((page) => page.modulation)).toEqual([146, 122]);
    expect(run.modem.record.dcs.map((dcs) => dcs.rate.bitsPerSecond)).toEqual([14400, 12000]);
    expect(Buffer.from(decodePage(run.modem.record.pages[1].data).bitmap.data)).toEqual(Buffer.from(run.bitmaps[0].data));
  });

  it('stops at the RTN limit: pages confirmed before it count', async () => {
    const run = await send({ postPageResponses: ['MCF', 'RTN', 'RTN', 'RTN'] }, { pages: 2 });
    expect(run.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 2, reason: { code: 'T30_RTN_LIMIT' } });
    expect(run.modem.record.pages).toHaveLength(4);
    expect(run.result.reason.detail).toContain('RTN for page 2');
    expect(run.modem.framesOf(Fcf.DCN)).toHaveLength(1);
  });

  it('repeats EOP when the MCF goes missing', async () => {
    const run = await send({ postPageResponses: ['none', 'MCF'] });
    expect(run.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 1, reason: { code: 'OK' } });
    expect(run.modem.framesOf(Fcf.EOP)).toHaveLength(2);
  });

  it('fails after three unanswered post-page commands', async () => {
    const run = await send({ postPageResponses: ['MCF', 'none', 'none', 'none'] }, { pages: 2 });
    expect(run.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 2, reason: { code: 'T30_POST_PAGE_NO_RESPONSE' } });
    expect(run.modem.framesOf(Fcf.EOP)).toHaveLength(3);
    expect(run.result.reason.detail).toMatch(/no response to EOP after page 2, repeated 3 times/);
    expect(run.result.reason.detail).toMatch(/frames: .*>> EOP, >> EOP, >> EOP/);

    const none = await send({ postPageResponses: ['none', 'none', 'none'] });
    expect(none.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'T30_POST_PAGE_NO_RESPONSE' } });
  });

  it('gives up at T1 when the answering side never sends DIS', async () => {
    const started = Date.now();
    const run = await send({ silentAfterConnect: true }, { timers: { t1: 2500, t2: 800 } });
    expect(run.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'T30_T1_TIMEOUT' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(run.modem.record.framesFromDriver).toHaveLength(0);
    expect(run.modem.record.hungUp).toBe(true);
  });

  it('counts confirmed pages when the carrier drops mid-page, none when it drops during the first', async () => {
    const partial = await send({ noCarrierDuringPage: { transmission: 2, afterBytes: 1000 } }, { pages: 2, rows: 400 });
    expect(partial.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 2, reason: { code: 'NO_CARRIER' } });
    expect(partial.result.reason.detail).toMatch(/NO CARRIER during page 2 of 2/);
    expect(partial.result.reason.detail).toContain('modem: "NO CARRIER"');

    const none = await send({ noCarrierDuringPage: { transmission: 1, afterBytes: 500 } }, { rows: 400 });
    expect(none.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'NO_CARRIER' } });
  });

  it('sends a fine page to a standard-only V.29 receiver with its minimum scan line time', async () => {
    const run = await send({ dis: buildDis({ modulations: 'V.29', fine: false, minScanIndex: 0 /* 20 ms */ }) }, { rows: 100 });
    expect(run.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 1, reason: { code: 'OK' } });
    expect(run.modem.record.dcs).toEqual([{ rate: expect.objectContaining({ bitsPerSecond: 9600 }), fine: false, minScanMs: 20, unlimitedLength: false }]);
    const page = run.modem.record.pages[0];
    const decoded = decodePage(page.data);
    expect(Buffer.from(decoded.bitmap.data)).toEqual(Buffer.from(halveRows(run.bitmaps[0]).data));
    // 20 ms at 9600 bit/s is 192 bits a line: 50 lines of at least 24 bytes.
    expect(page.data.length).toBeGreaterThanOrEqual(50 * 24);
  });

  it('reports DCN from the receiver after training, no page sent', async () => {
    const run = await send({ trainingResponses: ['DCN'] });
    expect(run.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'T30_REMOTE_DCN' } });
    expect(run.modem.framesOf(Fcf.DCN)).toHaveLength(0);
  });

  it('resends DCS when the receiver repeats DIS, and gives up after three', async () => {
    const once = await send({ trainingResponses: ['DIS', 'CFR'] });
    expect(once.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 1, reason: { code: 'OK' } });
    expect(once.modem.framesOf(Fcf.DCS)).toHaveLength(2);
    const always = await send({ trainingResponses: ['DIS', 'DIS', 'DIS'] });
    expect(always.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'T30_DIS_REPEATED' } });
  });

  it('keeps a hostile CSID raw and shows it cleaned', async () => {
    const raw = Buffer.from('\x07\x1b[31mEVIL\r\n  ', 'latin1');
    const run = await send({ csiRaw: raw });
    expect(run.result.remoteCsidRaw).toBe(raw.toString('latin1'));
    expect(run.result.remoteCsid).toBe('??LIVEm13[??');
    expect(run.result.remoteCsid).not.toMatch(/\p{Cc}/u);
  });

  it('stops cleanly when aborted during a page', async () => {
    const controller = new AbortController();
    const modem = await ScriptedModem.start({ kind: 'class1', xoffEveryBytes: 2000, xoffHoldMs: 400 });
    modems.push(modem);
    const { document } = patternDocument(2, { rows: 1500 });
    const line = new Class1Line({ id: 'abort', device: modem.device, timers: FAST_TIMERS });
    const result = await line.send(
      { dialString: '1', localId: 'X', document },
      {
        pageConfirmed: () => undefined,
        trace: (text) => {
          if (process.env.DEBUG_TRACE) console.log(text);
          if (text.includes('>> page 1/2')) setTimeout(() => controller.abort(), 200);
        },
      },
      controller.signal,
    );
    expect(result).toMatchObject({ pagesConfirmed: 0, pagesTotal: 2, reason: { code: 'ABORTED' } });
    expect(modem.record.hungUp).toBe(true);
  });

  it('rejects a dial string that could smuggle AT commands', async () => {
    const line = new Class1Line({ id: 'x', device: '/nonexistent' });
    const { document } = patternDocument(1);
    await expect(line.send({ dialString: '123\rATH', localId: 'x', document }, {})).rejects.toThrow(TypeError);
  });

  it('reports a modem it cannot open as a modem error', async () => {
    const line = new Class1Line({ id: 'x', device: '/nonexistent/tty' });
    const { document } = patternDocument(1);
    const result = await line.send({ dialString: '123', localId: 'x', document }, {});
    expect(result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'MODEM_ERROR' } });
  });
});
