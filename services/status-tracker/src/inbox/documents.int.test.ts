import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { decodeMh, readTiff } from '@faxnotify/fax-line';
import { testPage } from '../testing/received';
import { pagePng, receivedPdf, receivedTiff, type StoredPage } from './documents';

/** Ghostscript (a real PDF reader) renders the PDF; its rows must be the pages' decoded rows. */
const stored = (page: ReturnType<typeof testPage>['page']): StoredPage => ({ ...page, data: Buffer.from(page.data, 'base64') });

function renderPage(pdf: Buffer, pageNumber: number, dpi: string): { width: number; height: number; data: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-pdf-'));
  try {
    writeFileSync(join(dir, 'fax.pdf'), pdf);
    execFileSync(
      'gs',
      [
        '-q',
        '-dSAFER',
        '-dBATCH',
        '-dNOPAUSE',
        '-sDEVICE=pbmraw',
        `-r${dpi}`,
        `-dFirstPage=${pageNumber}`,
        `-dLastPage=${pageNumber}`,
        '-o',
        join(dir, 'page.pbm'),
        join(dir, 'fax.pdf'),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const pbm = readFileSync(join(dir, 'page.pbm'));
    const header = /^P4\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)\s/.exec(pbm.subarray(0, 100).toString('latin1'))!;
    return { width: Number(header[1]), height: Number(header[2]), data: pbm.subarray(header[0].length) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('received documents', () => {
  const fine = testPage(2200, 'fine', 1);
  const standard = testPage(1100, 'standard', 3);
  const pages = [stored(fine.page), stored(standard.page)];

  it('is a PDF Ghostscript renders row for row as the pages decode, each page at its resolution', () => {
    const pdf = receivedPdf(pages);
    expect(pdf.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
    for (const [index, { bitmap }, dpi] of [
      [1, fine, '204x196'],
      [2, standard, '204x98'],
    ] as const) {
      const rendered = renderPage(pdf, index, dpi);
      expect({ width: rendered.width, height: rendered.height }).toEqual({ width: 1728, height: bitmap.height });
      let differing = 0;
      for (let i = 0; i < bitmap.data.length; i += 1) if (rendered.data[i] !== bitmap.data[i]) differing += 1;
      expect(differing).toBe(0);
    }
    // An A4-sized page in points: 1728 px at 204 dpi is 8.47 in.
    expect(pdf.toString('latin1')).toContain('/MediaBox [0 0 609.882 808.163]');
  });

  it('gives every page of the TIFF back as received', () => {
    const tiff = readTiff(receivedTiff(pages));
    expect(tiff).toHaveLength(2);
    expect(tiff.map((p) => [p.width, p.height, p.compression, p.yResolution])).toEqual([
      [1728, 2200, 3, 196],
      [1728, 1100, 3, 98],
    ]);
    expect(decodeMh(tiff[0].stripData, 1728, { maxRows: 2200 }).bitmap.data).toEqual(fine.bitmap.data);
    expect(decodeMh(tiff[1].stripData, 1728, { maxRows: 1100 }).bitmap.data).toEqual(standard.bitmap.data);
  });

  it('draws a page as a PNG with the decoded rows (1 is white)', () => {
    const { png, badRows } = pagePng(pages[1]);
    expect(badRows).toBe(0);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1728);
    expect(png.readUInt32BE(20)).toBe(1100);
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    const row = 216;
    for (const y of [0, 500, 1099]) {
      expect(raw[y * (row + 1)]).toBe(0);
      expect(Buffer.from(raw.subarray(y * (row + 1) + 1, (y + 1) * (row + 1))).map((b) => ~b & 0xff)).toEqual(
        Buffer.from(standard.bitmap.data.subarray(y * row, (y + 1) * row)),
      );
    }
  });
});
