/**
 * Bombs during a real-line call: while the transmitter sends a fax over an iaxmodem pair to efax,
 * hostile documents are refused again and again in its conversion pool, a 30-page PDF converts
 * there, and faxes made of the bombs (a TIFF page of 20000 × 60000 pixels, a 10,000-page TIFF, a
 * 5,000-page PDF, a password-protected PDF, a zip-bomb DOCX) are submitted through the API. The
 * call still succeeds, each bomb's fax ends in its status (the limit named) within the limits,
 * /healthz answers throughout and the event loop's longest delay stays bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type EfaxReceiver, type ModemPairs, startEfaxReceiver, startModemPairs } from '@faxnotify/fax-line/testing';
import type { CreatedView } from '../api';
import type { FaxView } from '../outbox';
import { api, faxIdOf, finalFax, startTestTransmitter, upload, type TestTransmitter } from '../testing/harness';
import { prepareDocument } from './prepare';
import { makeDeepTiff, makeHugeTiff, makeLockedPdf, makeManyPagesPdf, makeZipBombDocx } from './testing/bomb-documents';
import { makeSamplePdf } from './testing/sample-documents';

jest.setTimeout(420_000);

let pairs: ModemPairs;
let receiver: EfaxReceiver;
let t: TestTransmitter;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bombs-on-line-'));
  pairs = await startModemPairs(1);
  const pair = pairs.pairs[0];
  receiver = await startEfaxReceiver(pair.receiverDevice, { localId: 'RECEIVER', outputDir: join(pairs.dir, 'received') });
  t = await startTestTransmitter('bombs-on-line', {
    localId: '+12025550100',
    lines: [{ id: 'line', kind: 'class1', device: pair.senderDevice }],
    'dial.rules': [{ match: '^\\+1202555010\\d$', dial: '2002' }],
    'scheduler.pollMs': 200,
    'outbox.pollMs': 200,
    'documents.workers': 2,
  });
});

afterAll(async () => {
  receiver?.kill();
  await t?.close();
  await pairs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function submit(token: string, path: string, to: string): Promise<string> {
  const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', { to: [to], files: [path], retry: { count: 0 } });
  expect(created.status).toBe(201);
  return faxIdOf(t.service.url, token, created.body.id, 240_000);
}

describe('bombs during a real-line call', () => {
  it('refuses them while the call goes on and succeeds', async () => {
    const token = await t.token('alice');
    const huge = makeHugeTiff(dir);
    const deep = makeDeepTiff(dir);
    const many = makeManyPagesPdf(dir);
    const locked = makeLockedPdf(dir);
    const zipBomb = makeZipBombDocx(dir, 100);
    const letter = makeSamplePdf(dir, 'letter', [['faxnotify', 'sent while bombs are refused']]);
    const long = makeSamplePdf(
      dir,
      'long',
      Array.from({ length: 30 }, (_, i) => [`Page ${i + 1}`, 'converted during the call']),
    );

    // Uploads are stored as they come (no conversion): done before the call, so the window below holds conversions only.
    const [letterPath, hugePath, deepPath, manyPath, lockedPath, zipBombPath] = await Promise.all(
      [letter, huge, deep, many, locked, zipBomb].map(async (file) => (await upload(t.service.url, token, file)).body.path),
    );
    const faxId = await submit(token, letterPath, '+12025550101');
    const view = async (id: string) => (await api<FaxView>(t.service.url, token, 'GET', `/v3/accounts/self/faxes/${id}`)).body;
    // The bombs start once the call is up.
    for (let status = ''; !['connected', 'sending'].includes(status); await new Promise((resolve) => setTimeout(resolve, 100))) {
      status = (await view(faxId)).recipients[0].status;
      expect(status).not.toMatch(/^failed|^success|^partially/);
    }

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const bombsSubmitted = Date.now();
    // One after another, each followed to its end while the call goes on (one poller at a time, as the event loop is measured).
    const bombsEnded = (async () => {
      const faxes: FaxView[] = [];
      for (const [i, path] of [hugePath, deepPath, manyPath, lockedPath, zipBombPath].entries()) {
        faxes.push(await finalFax(t.service.url, token, await submit(token, path, `+1202555010${i + 2}`), 60_000));
      }
      return { faxes, at: Date.now() };
    })();
    // A long document converts in the pool meanwhile: the work that would hold the event loop for a second on its thread.
    const longPages = prepareDocument(long).then((result) => (result.ok ? result.document.pages.length : result.status));
    const healthz: number[] = [];
    const refusals: string[] = [];
    let callUp = true;
    const polling = (async () => {
      while (callUp) {
        healthz.push((await fetch(`${t.service.url}/healthz`)).status);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const bombing = (async () => {
      while (callUp) {
        for (const result of await Promise.all([prepareDocument(huge), prepareDocument(deep)])) refusals.push(result.ok ? 'converted' : result.status);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const fax = await finalFax(t.service.url, token, faxId, 150_000);
    callUp = false;
    await Promise.all([polling, bombing]);
    expect(await longPages).toBe(30);
    delay.disable();
    const longestMs = delay.max / 1e6;
    console.info(
      `during the call: ${refusals.length} bombs refused in the pool, /healthz answered ${healthz.length} times, event-loop delay longest ${longestMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`,
    );

    expect(fax.status).toBe('delivered');
    expect(fax.recipients[0]).toMatchObject({ status: 'success', attempt: 1, page: { n: 1, of: 1 }, remote_csid: 'RECEIVER' });
    await receiver.exited;
    expect(receiver.receivedFiles()).toHaveLength(1);

    expect(refusals.length).toBeGreaterThan(10);
    expect(new Set(refusals)).toEqual(new Set(['failed_image_preparation']));
    expect(healthz.length).toBeGreaterThan(10);
    expect(healthz.every((status) => status === 200)).toBe(true);
    expect(longestMs).toBeLessThan(400);

    const ended = await bombsEnded;
    const [hugeFax, deepFax, manyFax, lockedFax, zipBombFax] = ended.faxes;
    expect(hugeFax.recipients[0]).toMatchObject({ status: 'failed_image_preparation', attempt: 1 });
    expect(hugeFax.recipients[0].reason?.detail).toMatch(
      /20,000 × 60,000 = 1,200,000,000 pixels, more than the limit of 40,000,000 \(documents\.maxPixelsPerPage\)$/,
    );
    expect(deepFax.recipients[0]).toMatchObject({ status: 'failed_image_preparation', attempt: 1 });
    expect(deepFax.recipients[0].reason?.detail).toMatch(/the TIFF has more than 200 pages, more than the limit of 200 \(documents\.maxPages\)$/);
    expect(manyFax.recipients[0]).toMatchObject({ status: 'failed_image_preparation', attempt: 1 });
    expect(manyFax.recipients[0].reason?.detail).toMatch(/the PDF has 5,000 pages, more than the limit of 200 \(documents\.maxPages\)$/);
    expect(lockedFax.recipients[0]).toMatchObject({ status: 'failed_unknown_converter_issue', attempt: 1 });
    expect(lockedFax.recipients[0].reason?.detail).toMatch(/password-protected/);
    // The zip bomb is refused by the sizes its package declares, before LibreOffice inflates anything.
    expect(zipBombFax.recipients[0]).toMatchObject({ status: 'failed_image_preparation', attempt: 1 });
    expect(zipBombFax.recipients[0].reason?.detail).toMatch(/the package unpacks to [\d,]+ bytes, more than the limit of 31,457,280 \(documents\.maxBytes\)$/);
    console.info(`the five bomb faxes all ended ${((ended.at - bombsSubmitted) / 1000).toFixed(1)} s after their submission`);
    expect(ended.at - bombsSubmitted).toBeLessThan(60_000);
  });
});
