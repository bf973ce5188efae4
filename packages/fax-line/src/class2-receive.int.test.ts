/**
 * The Class 2.0 receiver at the serial boundary, against the scripted caller playing a T.32 modem
 * with a fax machine calling it.
 */
import { Class20Line } from './class2';
import type { Bitmap } from './documents/bitmap';
import { pageBitmap } from './documents/fax-document';
import { type CallerScript, ScriptedCaller } from './testing/scripted-caller';
import { patternBitmap } from './testing/sample-pages';
import type { LineReceiveResult } from './types';

jest.setTimeout(30_000);

const pages = [patternBitmap(120, 1), patternBitmap(140, 2)];

const callers: ScriptedCaller[] = [];
afterEach(async () => {
  await Promise.all(callers.splice(0).map((caller) => caller.stop()));
});

async function receive(script: Omit<CallerScript, 'kind' | 'pages'>): Promise<{ result: LineReceiveResult; caller: ScriptedCaller; events: string[] }> {
  const caller = await ScriptedCaller.start({ kind: 'class2.0', pages, ...script });
  callers.push(caller);
  const line = new Class20Line({ id: 'class2', device: caller.device, mode: 'both', number: '2002', timers: { hangupGuard: 0, command: 2000 } });
  const events: string[] = [];
  const trace: string[] = [];
  const result = await line.receive(
    { waitMs: 10_000 },
    {
      trace: (text) => trace.push(text),
      connected: (remote) => events.push(`connected ${remote.csid}`),
      pageReceived: (page) => events.push(`page ${page}`),
      pageRejected: (page) => events.push(`page ${page} rejected`),
    },
  );
  if (process.env.DEBUG_LINE) process.stdout.write(`${trace.join('\n')}\n`);
  return { result, caller, events };
}

function samePixels(received: LineReceiveResult['pages'][number], original: Bitmap): boolean {
  const bitmap = pageBitmap(received);
  return bitmap.height === original.height && Buffer.from(bitmap.data).equals(Buffer.from(original.data));
}

describe('Class 2.0 receive (scripted caller)', () => {
  it('answers (+FCO, +FTI), takes two pages with +FDR and ends on +FHS:00', async () => {
    const { result, caller, events } = await receive({ tsi: 'T32 CALLER', calledNumber: null });
    expect(result).toMatchObject({ status: 'success', reason: { code: 'OK' }, remoteCsid: 'T32 CALLER', callerNumber: '1001', signallingRate: 14400 });
    // The modem did not report the called number: the line's own number stands in.
    expect(result.calledNumber).toBe('2002');
    expect(result.reason.detail).toMatch(/\+FHS:00/);
    expect(result.pages.map((page, i) => samePixels(page, pages[i]))).toEqual([true, true]);
    expect(result.pages[0]).toMatchObject({ resolution: 'fine', badRows: 0 });
    expect(events).toEqual(['connected T32 CALLER', 'page 1', 'page 2']);
    expect(caller.record.commands).toEqual(expect.arrayContaining(['AT+FCLASS=2.0', 'AT+FCR=1', 'AT+FLI="2002"', 'ATA']));
    expect(caller.record.commands.filter((command) => command === 'AT+FDR')).toHaveLength(3);
    expect(caller.record.responsesSet).toEqual([]);
  });

  it('a damaged page: +FPS=2 (RTN) before the next +FDR, the page comes again and only the good copy is kept', async () => {
    const { result, caller, events } = await receive({ damagedTransmissions: [2] });
    expect(caller.record.responsesSet).toEqual([2]);
    expect(events).toEqual(['connected SCRIPTED CALLER', 'page 1', 'page 2 rejected', 'page 2']);
    expect(result).toMatchObject({ status: 'success', pagesRejected: 1 });
    expect(result.pages.map((page, i) => samePixels(page, pages[i]))).toEqual([true, true]);
  });

  it('the caller hangs up in page 2: partially_received with page 1, the hang-up code in the detail', async () => {
    const { result } = await receive({ hangUpIn: { transmission: 2, fraction: 0.4 } });
    expect(result.status).toBe('partially_received');
    expect(result.pages).toHaveLength(1);
    expect(samePixels(result.pages[0], pages[0])).toBe(true);
    expect(result.partialPage!.height).toBeLessThan(pages[1].height);
    expect(result.reason).toMatchObject({ code: 'FHS' });
    expect(result.reason.detail).toMatch(/\+FHS:90/);
  });
});
