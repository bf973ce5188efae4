/**
 * pagesToPdf read back by Ghostscript: as many pages as given, each of its page's physical size at
 * its own resolution (standard and fine mixed), and the ink where the page has it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBitmap, setPixel } from './bitmap';
import { FAX_WIDTH, pageFromBitmap, type FaxResolution } from './fax-document';
import { pagesToPdf, pageSizePoints } from './pdf';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fax-pdf-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An A4 page with a black band across rows 100 to 199 (at fine resolution; half that at standard). */
function page(resolution: FaxResolution) {
  const rows = resolution === 'fine' ? 2287 : 1143;
  const bitmap = createBitmap(FAX_WIDTH, rows);
  const [from, to] = resolution === 'fine' ? [100, 200] : [50, 100];
  for (let y = from; y < to; y++) for (let x = 0; x < FAX_WIDTH; x++) setPixel(bitmap, x, y, true);
  return pageFromBitmap(bitmap, resolution);
}

describe('pagesToPdf', () => {
  it('makes a PDF Ghostscript draws page by page, each A4 with its band of ink', () => {
    const pages = [page('fine'), page('standard'), page('fine')];
    const pdf = join(dir, 'fax.pdf');
    writeFileSync(pdf, pagesToPdf(pages, 'Fax (test)'));
    const out = execFileSync('gs', ['-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=nullpage', pdf], { encoding: 'utf8' });
    expect(out.split('\n').filter((line) => /^Page \d+$/.test(line.trim()))).toHaveLength(3);
    for (const p of pages) {
      const size = pageSizePoints(p);
      expect(size.width).toBeCloseTo(609.9, 1);
      expect(size.height).toBeGreaterThan(838);
      expect(size.height).toBeLessThan(841);
    }
    // Drawn at 72 dpi in grey, the band (about 0.5 in from the top, 0.5 in high) is black and the rest white.
    const pgm = join(dir, 'page-2.pgm');
    execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=pgmraw', '-r72', '-dFirstPage=2', '-dLastPage=2', `-sOutputFile=${pgm}`, pdf]);
    const image = readFileSync(pgm);
    const header = /^P5\s+(?:#[^\n]*\n)?(\d+)\s+(\d+)\s+255\s/.exec(image.toString('latin1', 0, 200))!;
    const width = Number(header[1]);
    const pixels = image.subarray(header[0].length);
    const at = (x: number, y: number) => pixels[y * width + x];
    expect(at(300, 55)).toBeLessThan(64);
    expect(at(300, 400)).toBeGreaterThan(192);
  });
});
