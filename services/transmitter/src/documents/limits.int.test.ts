/**
 * Hostile documents through the conversion pool with real converters: a 5,000-page PDF made by
 * Ghostscript from a little PostScript loop, a password-protected PDF, TIFF header bombs, and
 * documents that run out of time or memory. Each ends in its status with the limit named, within
 * the limits; and a running transmitter keeps its event loop free and answers /healthz meanwhile.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startTestTransmitter, type TestTransmitter } from '../testing/harness';
import { convertDocument } from './convert';
import { ConversionPool, closeFallbackConversionPool, currentConversionPool, prepareDocument } from './prepare';
import { makeDeepTiff, makeHugeTiff, makeLockedPdf, makeManyPagesPdf } from './testing/bomb-documents';
import { makeSamplePdf } from './testing/sample-documents';

jest.setTimeout(120_000);

let dir: string;
let pool: ConversionPool;
let manyPages: string;
let locked: string;
let hugeTiff: string;
let deepTiff: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'limits-'));
  manyPages = makeManyPagesPdf(dir);
  locked = makeLockedPdf(dir);
  hugeTiff = makeHugeTiff(dir);
  deepTiff = makeDeepTiff(dir);
  pool = new ConversionPool({ workers: 2 });
});

afterAll(async () => {
  await pool?.close();
  await closeFallbackConversionPool();
  rmSync(dir, { recursive: true, force: true });
});

/** An uncompressed 8-bit greyscale TIFF of blank pages: read as it is, then decoded pixel by pixel in JavaScript. */
/** An 8-bit grey TIFF of `pages` pages; with `shared`, every page's strip is the first page's bytes (a small file that decodes long). */
function greyTiff(width: number, height: number, pages: number, shared = false): Buffer {
  const chunks: Buffer[] = [Buffer.alloc(8)];
  chunks[0].write('II', 'latin1');
  chunks[0].writeUInt16LE(42, 2);
  let offset = 8;
  const directories: Array<{ directory: Buffer; at: number }> = [];
  let firstData = -1;
  for (let index = 0; index < pages; index++) {
    const dataOffset = shared && firstData >= 0 ? firstData : offset;
    if (dataOffset === offset) {
      firstData = offset;
      chunks.push(Buffer.alloc(width * height));
      offset += width * height;
    }
    const entries = [
      [256, 4, width],
      [257, 4, height],
      [258, 3, 8],
      [259, 3, 1],
      [262, 3, 1],
      [273, 4, dataOffset],
      [277, 3, 1],
      [278, 4, height],
      [279, 4, width * height],
    ];
    const directory = Buffer.alloc(2 + entries.length * 12 + 4);
    directory.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, value], i) => {
      directory.writeUInt16LE(tag, 2 + i * 12);
      directory.writeUInt16LE(type, 4 + i * 12);
      directory.writeUInt32LE(1, 6 + i * 12);
      if (type === 3) directory.writeUInt16LE(value, 10 + i * 12);
      else directory.writeUInt32LE(value, 10 + i * 12);
    });
    directories.push({ directory, at: offset });
    chunks.push(directory);
    offset += directory.length;
  }
  chunks[0].writeUInt32LE(directories[0].at, 4);
  directories.forEach(({ directory }, i) => directory.writeUInt32LE(directories[i + 1]?.at ?? 0, directory.length - 4));
  return Buffer.concat(chunks);
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work;
  return { value, ms: performance.now() - start };
}

describe('limits in the conversion pool', () => {
  it('refuses a 5,000-page PDF from its page count, before drawing a page', async () => {
    const { value, ms } = await timed(pool.prepare(manyPages));
    expect(value).toEqual({
      ok: false,
      status: 'failed_image_preparation',
      detail: 'the PDF has 5,000 pages, more than the limit of 200 (documents.maxPages)',
    });
    expect(ms).toBeLessThan(10_000);
  });

  it('reports a password-protected PDF as failed_unknown_converter_issue', async () => {
    const { value, ms } = await timed(pool.prepare(locked));
    expect(value).toEqual({
      ok: false,
      status: 'failed_unknown_converter_issue',
      detail: 'the PDF is password-protected: it cannot be opened without its password',
    });
    expect(ms).toBeLessThan(10_000);
  });

  it('refuses TIFF header bombs at once', async () => {
    const huge = await timed(pool.prepare(hugeTiff));
    expect(huge.value).toMatchObject({ ok: false, status: 'failed_image_preparation', detail: expect.stringContaining('20,000 × 60,000') as unknown });
    const deep = await timed(pool.prepare(deepTiff));
    expect(deep.value).toEqual({
      ok: false,
      status: 'failed_image_preparation',
      detail: 'the TIFF has more than 200 pages, more than the limit of 200 (documents.maxPages)',
    });
    expect(huge.ms + deep.ms).toBeLessThan(5_000);
  });

  it('stops a conversion at its time limit', async () => {
    const { value, ms } = await timed(pool.prepare(manyPages, { limits: { maxPages: 10_000, maxSeconds: 2 } }));
    expect(value).toMatchObject({
      ok: false,
      status: 'failed_image_preparation',
      detail: expect.stringMatching(/after 2 s, more than the limit of 2 \(documents\.maxSeconds\)$/) as unknown,
    });
    expect(ms).toBeLessThan(2_000 + 1_500);
  });

  it('stops a worker still decoding past the time limit, and goes on with a fresh one', async () => {
    // Twelve 1728 × 23000 pages sharing one strip (within the pixel limit): several seconds of decoding in JavaScript
    // on any machine, no converter involved.
    const slow = join(dir, 'slow.tif');
    writeFileSync(slow, greyTiff(1728, 23_000, 12, true));
    const { value, ms } = await timed(pool.prepare(slow, { limits: { maxBytes: 100_000_000, maxSeconds: 1 } }));
    expect(value).toEqual({
      ok: false,
      status: 'failed_image_preparation',
      detail: 'the conversion was still running after 1 s, more than the limit of 1 (documents.maxSeconds)',
    });
    expect(ms).toBeLessThan(1_000 + 1_000 + 1_000);
    rmSync(slow);
    expect(await pool.prepare(makeSamplePdf(dir, 'after', [['After']]))).toMatchObject({ ok: true, format: 'pdf' });
  });

  it('refuses a converter the memory it is not allowed', async () => {
    const pdf = makeSamplePdf(dir, 'small', [['Small']]);
    const { value } = await timed(pool.prepare(pdf, { limits: { maxMemoryMb: 40 } }));
    expect(value).toMatchObject({
      ok: false,
      status: 'failed_image_preparation',
      detail: expect.stringMatching(/more than the limit of 40 \(documents\.maxMemoryMb\)$/) as unknown,
    });
    // The same document within the default limits converts.
    expect(await pool.prepare(pdf)).toMatchObject({ ok: true, format: 'pdf' });
  });

  it('refuses a file over the byte limit before reading it', async () => {
    expect(await pool.prepare(manyPages, { limits: { maxBytes: 1000 } })).toMatchObject({
      ok: false,
      status: 'failed_image_preparation',
      detail: expect.stringMatching(/^the file has [\d,]+ bytes, more than the limit of 1,000 \(documents\.maxBytes\)$/) as unknown,
    });
  });

  it('converts in turn when more documents come than there are workers', async () => {
    const pdf = makeSamplePdf(dir, 'turns', [['One'], ['Two']]);
    const results = await Promise.all([pool.prepare(pdf), pool.prepare(hugeTiff), pool.prepare(pdf), pool.prepare(locked), pool.prepare(pdf)]);
    expect(results.map((result) => (result.ok ? result.document.pages.length : result.status))).toEqual([
      2,
      'failed_image_preparation',
      2,
      'failed_unknown_converter_issue',
      2,
    ]);
    expect(results[0].ok && Buffer.isBuffer(results[0].document.pages[0].data)).toBe(true);
    expect(pool.converting + pool.waiting).toBe(0);
  });
});

describe('a running transmitter while bombs are refused', () => {
  let t: TestTransmitter;

  beforeAll(async () => {
    t = await startTestTransmitter('limits', { 'documents.workers': 2, 'documents.maxPages': 100 });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('keeps its event loop free and answers /healthz', async () => {
    expect(currentConversionPool().limits.maxPages).toBe(100);
    const letter = makeSamplePdf(
      dir,
      'letter',
      Array.from({ length: 30 }, (_, i) => [`Page ${i + 1}`, 'faxnotify']),
    );
    const delay = monitorEventLoopDelay({ resolution: 10 });
    const answers: number[] = [];
    let converting = true;
    delay.enable();
    const polling = (async () => {
      while (converting) {
        answers.push((await fetch(`${t.service.url}/healthz`)).status);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const results = await Promise.all([
      prepareDocument(hugeTiff),
      prepareDocument(deepTiff),
      prepareDocument(manyPages),
      prepareDocument(locked),
      prepareDocument(letter),
    ]);
    converting = false;
    await polling;
    delay.disable();
    const longestMs = delay.max / 1e6;
    console.info(
      `event-loop delay while refusing bombs and converting 30 pages in the pool: longest ${longestMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, mean ${(delay.mean / 1e6).toFixed(1)} ms; /healthz answered ${answers.length} times`,
    );
    expect(results.map((result) => (result.ok ? result.document.pages.length : result.status))).toEqual([
      'failed_image_preparation',
      'failed_image_preparation',
      'failed_image_preparation',
      'failed_unknown_converter_issue',
      30,
    ]);
    expect(answers.length).toBeGreaterThan(3);
    expect(answers.every((status) => status === 200)).toBe(true);
    expect(longestMs).toBeLessThan(300);
  });

  it('for comparison: the same pages converted on the calling thread hold its event loop', async () => {
    const letter = makeSamplePdf(
      dir,
      'letter-here',
      Array.from({ length: 30 }, (_, i) => [`Page ${i + 1}`, 'faxnotify']),
    );
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const result = await convertDocument(letter);
    delay.disable();
    expect(result.ok && result.document.pages).toHaveLength(30);
    console.info(`longest event-loop delay converting the same 30 pages on the calling thread: ${(delay.max / 1e6).toFixed(1)} ms`);
  });
});
