/**
 * Sample documents for tests, made on the spot with Ghostscript from a little PostScript, so no
 * binary fixture has to be kept in the repository.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bitmap } from '@faxnotify/fax-line';

function postScriptString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/**
 * PostScript for an A4 document: each page shows its text lines in large type, a frame and a
 * page-specific pattern, so pages differ visibly and a decoded page can be matched to its source.
 */
export function samplePostScript(pages: readonly string[][]): string {
  const body = pages
    .map((lines, index) => {
      const text = lines.map((line, i) => `72 ${700 - i * 48} moveto ${postScriptString(line)} show`).join('\n');
      const bars = Array.from({ length: index + 2 }, (_, i) => `${100 + i * 60} 120 30 ${80 + 20 * i} rectfill`).join('\n');
      return `%%Page: ${index + 1} ${index + 1}
/Helvetica-Bold findfont 36 scalefont setfont
4 setlinewidth 40 40 515 762 rectstroke
${text}
${bars}
showpage`;
    })
    .join('\n');
  return `%!PS-Adobe-3.0
%%Pages: ${pages.length}
<< /PageSize [595 842] >> setpagedevice
${body}
%%EOF
`;
}

/** Writes a PDF with the given pages (lines of text each) and returns its path. */
export function makeSamplePdf(dir: string, name: string, pages: readonly string[][]): string {
  const ps = join(dir, `${name}.ps`);
  const pdf = join(dir, `${name}.pdf`);
  writeFileSync(ps, samplePostScript(pages));
  execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=pdfwrite', `-sOutputFile=${pdf}`, ps]);
  return pdf;
}

/** A binary PBM (P4) of a bitmap: same row layout as ours. */
export function toPbm(bitmap: Bitmap): Buffer {
  return Buffer.concat([Buffer.from(`P4\n${bitmap.width} ${bitmap.height}\n`, 'latin1'), Buffer.from(bitmap.data)]);
}
