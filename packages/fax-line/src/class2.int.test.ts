/**
 * The Class 2.0 driver at the serial boundary, against the scripted modem playing a T.32 modem.
 */
import { decodeMh } from './documents/t4-mh';
import { Class20Line } from './class2';
import { type Class2Script, ScriptedModem } from './testing/scripted-modem';
import { patternDocument } from './testing/sample-pages';
import type { LineResult } from './types';

jest.setTimeout(30_000);

const modems: ScriptedModem[] = [];
afterEach(async () => {
  await Promise.all(modems.splice(0).map((modem) => modem.stop()));
});

async function send(
  script: Omit<Class2Script, 'kind'>,
  pages = 1,
): Promise<{
  result: LineResult;
  modem: ScriptedModem;
  confirmed: Array<[number, number]>;
  connected: Array<{ csid: string | null; csidRaw: string | null }>;
  bitmaps: ReturnType<typeof patternDocument>['bitmaps'];
}> {
  const modem = await ScriptedModem.start({ kind: 'class2.0', ...script });
  modems.push(modem);
  const { document, bitmaps } = patternDocument(pages, { rows: 150 });
  const line = new Class20Line({ id: 'class2', device: modem.device, timers: { hangupGuard: 0, command: 2000 } });
  const confirmed: Array<[number, number]> = [];
  const connected: Array<{ csid: string | null; csidRaw: string | null }> = [];
  const result = await line.send(
    { dialString: '5550001', localId: 'FAXNOTIFY "2.0"', document },
    {
      pageConfirmed: (page, of) => confirmed.push([page, of]),
      connected: (remote) => connected.push(remote),
    },
  );
  return { result, modem, confirmed, connected, bitmaps };
}

describe('Class 2.0 driver against a scripted modem', () => {
  it('sends two pages: +FCO, +FCI, +FDT, data with MPS then EOP, +FPS, +FHS:00', async () => {
    const run = await send({ csi: '  +1 555 0001' }, 2);
    expect(run.result).toMatchObject({ pagesConfirmed: 2, pagesTotal: 2, remoteCsid: '+1 555 0001', remoteCsidRaw: '  +1 555 0001', signallingRate: 14400 });
    expect(run.result.reason).toMatchObject({ code: 'OK' });
    expect(run.result.reason.detail).toContain('+FHS:00');
    expect(run.connected).toEqual([{ csid: '+1 555 0001', csidRaw: '  +1 555 0001' }]);
    expect(run.confirmed).toEqual([
      [1, 2],
      [2, 2],
    ]);
    const commands = run.modem.record.commands;
    expect(commands).toEqual(expect.arrayContaining(['AT+FCLASS=2.0', 'AT+FLI="FAXNOTIFY  2.0 "', 'ATD5550001', 'AT+FDT']));
    expect(run.modem.record.pages.map((page) => page.postPage)).toEqual([',', '.']);
    run.modem.record.pages.forEach((page, i) => {
      const decoded = decodeMh(page.data, 1728, { lsbFirst: true });
      expect(decoded.sawRtc).toBe(true);
      expect(Buffer.from(decoded.bitmap.data)).toEqual(Buffer.from(run.bitmaps[i].data));
    });
    expect(run.modem.record.hungUp).toBe(true);
  });

  it('asks +FPS? when the modem does not report the post-page response', async () => {
    const run = await send({ reportFps: false, pageResponses: ['MCF', 'MCF'] }, 2);
    expect(run.result).toMatchObject({ pagesConfirmed: 2, pagesTotal: 2, reason: { code: 'OK' } });
    expect(run.modem.record.commands.filter((command) => command === 'AT+FPS?')).toHaveLength(1);
  });

  it('sends a page again after RTN', async () => {
    const run = await send({ pageResponses: ['RTN', 'MCF'] });
    expect(run.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 1, reason: { code: 'OK' } });
    expect(run.modem.record.pages).toHaveLength(2);
  });

  it('maps dial failures and hang-up codes before the first page', async () => {
    expect((await send({ dialResult: 'BUSY' })).result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'BUSY' } });
    const t1 = await send({ dialResult: { hangup: '11' } });
    expect(t1.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'T30_T1_TIMEOUT' } });
    expect(t1.result.reason.detail).toContain('+FHS:11 No answer (T.30 T1 timeout)');
    expect((await send({ dialResult: { hangup: '05' } })).result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'NO_CARRIER_ON_DIAL' } });
    expect((await send({ dialResult: { hangup: '03' } })).result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'NO_DIALTONE' } });
  });

  it('maps hang-up codes during the pages, counting what was confirmed', async () => {
    const training = await send({ pageResponses: [{ hangup: '27' }] });
    expect(training.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'T30_TRAINING_FAILED' } });
    expect(training.result.reason.detail).toContain('+FHS:27');

    const lostMcf = await send({ pageResponses: ['MCF', { hangup: '54' }] }, 2);
    expect(lostMcf.result).toMatchObject({ pagesConfirmed: 1, pagesTotal: 2, reason: { code: 'T30_POST_PAGE_NO_RESPONSE' } });
    expect(lostMcf.result.reason.detail).toContain('+FHS:54 No response to EOP repeated 3 times');

    const unknown = await send({ pageResponses: [{ hangup: '4A' }] });
    expect(unknown.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'FHS' } });
    expect(unknown.result.reason.detail).toContain('+FHS:4A');
  });

  it('gives up after three RTNs', async () => {
    const run = await send({ pageResponses: ['RTN', 'RTN', 'RTN'] });
    expect(run.result).toMatchObject({ pagesConfirmed: 0, reason: { code: 'T30_RTN_LIMIT' } });
  });

  it('cancels a page with <CAN> when aborted, and clears the call', async () => {
    const modem = await ScriptedModem.start({ kind: 'class2.0' });
    modems.push(modem);
    const { document } = patternDocument(1, { rows: 3000 });
    const controller = new AbortController();
    const line = new Class20Line({ id: 'abort', device: modem.device, timers: { hangupGuard: 0, command: 2000 } });
    const result = await line.send(
      { dialString: '1', localId: 'X', document },
      {
        trace: (text) => {
          if (text.includes('>> page 1/1')) setTimeout(() => controller.abort(), 20);
        },
      },
      controller.signal,
    );
    expect(result).toMatchObject({ pagesConfirmed: 0, pagesTotal: 1, reason: { code: 'ABORTED' } });
    expect(modem.record.commands).toEqual(expect.arrayContaining(['ATH0']));
  });
});
