/**
 * Sample documents for tests, made on the spot with Ghostscript from a little PostScript, so no
 * binary fixture has to be kept in the repository.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bitmap } from '@faxnotify/fax-line';
import type { FileFormat } from '../office';

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

/** Converts a file with LibreOffice to another format in dir; returns the new file, named without an extension. */
function soffice(dir: string, source: string, to: string): string {
  const outDir = mkdtempSync(join(dir, 'made-'));
  execFileSync(
    'soffice',
    [`-env:UserInstallation=file://${join(dir, 'profile')}`, '--headless', '--norestore', '--convert-to', to, '--outdir', outDir, source],
    { stdio: 'ignore' },
  );
  const base = source.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
  const plain = join(dir, `${to}-file`);
  copyFileSync(join(outDir, `${base}.${to}`), plain);
  return plain;
}

/**
 * One file of each format a fax may be made of, in dir, none with a telling name: a two-page text
 * (Cyrillic and accented Latin among it) as TXT and, by LibreOffice, DOCX, DOC and RTF; a sheet as
 * XLSX and XLS; a one-page picture as JPEG and PNG, and two pages as PDF and TIFF by Ghostscript.
 */
export function makeSampleFiles(dir: string): Record<FileFormat, string> {
  const lines = Array.from({ length: 90 }, (_, i) => `Line ${i + 1}: Привет, très bien, fax number +1 555 0100`);
  const text = join(dir, 'letter.txt');
  writeFileSync(text, `${lines.join('\n')}\n`);
  const txt = join(dir, 'text-file');
  copyFileSync(text, txt);
  const csv = join(dir, 'sheet.csv');
  writeFileSync(csv, 'Item,Count\nPaper,10\nToner,2\n');
  const ps = join(dir, 'picture.ps');
  writeFileSync(ps, samplePostScript([['A picture', 'of a page']]));
  const twoPages = join(dir, 'two-pages.ps');
  writeFileSync(twoPages, samplePostScript([['Page one'], ['Page two']]));
  const gs = (device: string, name: string, source: string, ...options: string[]): string => {
    const out = join(dir, name);
    execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', `-sDEVICE=${device}`, ...options, `-sOutputFile=${out}`, source]);
    return out;
  };
  return {
    txt,
    docx: soffice(dir, text, 'docx'),
    doc: soffice(dir, text, 'doc'),
    rtf: soffice(dir, text, 'rtf'),
    xlsx: soffice(dir, csv, 'xlsx'),
    xls: soffice(dir, csv, 'xls'),
    jpeg: gs('jpeggray', 'picture-file', ps, '-r100'),
    png: gs('png16m', 'png-file', ps, '-r100'),
    pdf: gs('pdfwrite', 'pdf-file', twoPages),
    tiff: gs('tiffg3', 'tiff-file', twoPages, '-r204x196'),
  };
}
