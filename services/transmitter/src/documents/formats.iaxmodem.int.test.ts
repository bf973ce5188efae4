/**
 * Every format a fax can be made of, over the real line: one file each of DOC, DOCX, PDF, TXT,
 * RTF, JPG, PNG, TIFF, XLS and XLSX, uploaded through the API and sent as one fax of ten pages
 * over an iaxmodem pair, efax receiving. Each page efax received is compared with a
 * reference rendering of its file made without our conversion (see testing/format-samples.ts),
 * OCR-free: the reference scaled and shifted onto the received page's ink, then the share of black
 * pixels of each with a black pixel of the other at most one pixel away (testing/page-match.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bitmap } from '@faxnotify/fax-line';
import { type EfaxReceiver, type ModemPairs, startEfaxReceiver, startModemPairs } from '@faxnotify/fax-line/testing';
import type { CreatedView } from '../api';
import { api, faxIdOf, finalFax, startTestTransmitter, upload, type TestTransmitter } from '../testing/harness';
import { type FormatSample, makeFormatSamples } from './testing/format-samples';
import { describeMatch, matchPage, type PageMatch, pdfPageCount, readReceivedPages } from './testing/page-match';

/**
 * A received page is its file's page when at least this share of the reference's black pixels is
 * on it and this share of its black pixels is on the reference. A different page of text in the
 * same layout scores about 0.6, and so does a picture with the same frame and bars but other words.
 */
const THRESHOLD = 0.95;

jest.setTimeout(2_000_000);

let dir: string;
let samples: FormatSample[];
let pairs: ModemPairs;
let receiver: EfaxReceiver;
let t: TestTransmitter;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'formats-on-line-'));
  samples = makeFormatSamples(dir);
  pairs = await startModemPairs(1);
  const pair = pairs.pairs[0];
  receiver = await startEfaxReceiver(pair.receiverDevice, { localId: 'RECEIVER', outputDir: join(dir, 'received') });
  t = await startTestTransmitter('formats-on-line', {
    localId: '+12025550100',
    lines: [{ id: 'line', kind: 'class1', device: pair.senderDevice }],
    'dial.rules': [{ match: '^\\+12025550101$', dial: '2002' }],
    'scheduler.pollMs': 200,
    'outbox.pollMs': 200,
  });
}, 600_000);

afterAll(async () => {
  receiver?.kill();
  await t?.close();
  await pairs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every listed format over the real line', () => {
  it('arrives as the pages of a reference rendering of each file', async () => {
    const token = await t.token('alice');
    const paths: string[] = [];
    for (const sample of samples) {
      const uploaded = await upload(t.service.url, token, sample.file);
      expect([sample.format, uploaded.status]).toEqual([sample.format, 200]);
      paths.push(uploaded.body.path);
      // One page each, so page n of a fax is file n.
      expect([sample.format, pdfPageCount(sample.reference)]).toEqual([sample.format, 1]);
    }
    const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', {
      to: ['+12025550101'],
      files: paths,
      retry: { count: 0 },
    });
    expect(created.status).toBe(201);
    // Converting six office documents and text one after another takes minutes on a busy machine.
    const faxId = await faxIdOf(t.service.url, token, created.body.id, 900_000).catch(async (error: unknown) => {
      const entry = await api(t.service.url, token, 'GET', `/v3/accounts/self/outbox/${created.body.id}`);
      throw new Error(`${String(error)}; the outbox entry: ${JSON.stringify(entry.body)}`);
    });
    const fax = await finalFax(t.service.url, token, faxId, 900_000);
    expect(fax.recipients[0]).toMatchObject({ status: 'success', attempt: 1, page: { n: 10, of: 10 }, remote_csid: 'RECEIVER' });
    await receiver.exited;
    const pages = readReceivedPages(receiver.receivedFiles());
    expect(pages).toHaveLength(10);

    const report: string[] = [];
    const matches = new Map<string, PageMatch>();
    const received = new Map<string, Bitmap>();
    pages.forEach((page, n) => {
      const sample = samples[n];
      received.set(sample.format, page);
      const match = matchPage(page, sample.reference, 1);
      matches.set(sample.format, match);
      report.push(`  ${sample.format.padEnd(5)} ${describeMatch(match)}`);
    });
    // The check tells documents apart: a page against another file's reference scores below the threshold.
    const reference = (format: string) => samples.find((sample) => sample.format === format)!.reference;
    const crossDoc = matchPage(received.get('doc')!, reference('docx'), 1);
    const crossPicture = matchPage(received.get('png')!, reference('jpg'), 1);
    report.push(`  DOC page against the DOCX reference: ${describeMatch(crossDoc)}`);
    report.push(`  PNG page against the JPG reference: ${describeMatch(crossPicture)}`);
    process.stdout.write(`received pages against their references (threshold ${THRESHOLD * 100} % both ways):\n${report.join('\n')}\n`);

    for (const sample of samples) {
      const match = matches.get(sample.format)!;
      expect([sample.format, Math.min(match.recall, match.precision) >= THRESHOLD]).toEqual([sample.format, true]);
    }
    expect(Math.min(crossDoc.recall, crossDoc.precision)).toBeLessThan(THRESHOLD);
    expect(Math.min(crossPicture.recall, crossPicture.precision)).toBeLessThan(THRESHOLD);
  });
});
