/**
 * One file of each format a fax can be made of (DOC, DOCX, PDF, TXT, RTF, JPG, PNG, TIFF, XLS,
 * XLSX), one page each with its own text, made on the spot by LibreOffice and Ghostscript (the RTF
 * written here); and
 * for each a reference PDF made by other means than our conversion: LibreOffice for the office
 * files and the text, LibreOffice's own picture import (the picture's bytes inside an RTF) for the
 * JPEG and the PNG, libtiff's tiff2pdf for the TIFF, and the PDF itself.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSamplePdf, samplePostScript } from './sample-documents';

export const FORMATS = ['doc', 'docx', 'pdf', 'txt', 'rtf', 'jpg', 'png', 'tiff', 'xls', 'xlsx'] as const;
export type SampleFormat = (typeof FORMATS)[number];

export interface FormatSample {
  format: SampleFormat;
  /** The file, named with its format's usual extension. */
  file: string;
  /** A PDF of the same document made without our conversion, to compare the faxed page with. */
  reference: string;
}

/** Runs LibreOffice headless on files, converting each to `to` in outDir (one profile per run, in `dir`). */
export function sofficeConvert(dir: string, files: readonly string[], to: string, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  execFileSync(
    'soffice',
    [`-env:UserInstallation=file://${join(dir, 'profile')}`, '--headless', '--norestore', '--convert-to', to, '--outdir', outDir, ...files],
    { stdio: 'ignore', timeout: 180_000 },
  );
}

function letterText(format: string): string {
  const lines = [
    `${format.toUpperCase()} document sent by faxnotify`,
    '',
    ...Array.from({ length: 18 }, (_, i) => `${format.toUpperCase()} line ${i + 1}: the quick brown fox jumps over ${i * 7 + 3} lazy dogs.`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The text as an RTF document in Liberation Serif, 12 points, a paragraph a line. */
function letterRtf(text: string): string {
  const paragraphs = text
    .trimEnd()
    .split('\n')
    .map((line) => `${line.replace(/[\\{}]/g, (c) => `\\${c}`)}\\par`);
  return `{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\froman Liberation Serif;}}\\f0\\fs24\n${paragraphs.join('\n')}\n}\n`;
}

function sheetCsv(format: string): string {
  const rows = [['Item', 'Count', 'Format'], ...Array.from({ length: 15 }, (_, i) => [`Item ${i + 1}`, String((i + 1) * 11), format.toUpperCase()])];
  return `${rows.map((row) => row.join(',')).join('\n')}\n`;
}

/** An RTF holding a picture's bytes (PNG or JPEG), sized to the text area: LibreOffice decodes and lays it out. */
function pictureRtf(picture: Buffer, kind: 'pngblip' | 'jpegblip', width: number, height: number): string {
  const goalWidth = 9000;
  const goalHeight = Math.round((goalWidth * height) / width);
  const hex = picture.toString('hex').replace(/(.{128})/g, '$1\n');
  return `{\\rtf1\\ansi{\\pict\\${kind}\\picw${width}\\pich${height}\\picwgoal${goalWidth}\\pichgoal${goalHeight}\n${hex}}\\par}\n`;
}

function ghostscript(args: string[]): void {
  execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', ...args]);
}

/** Makes the ten sample files and their references in `dir`. Takes LibreOffice a few runs: allow a minute or two. */
export function makeFormatSamples(dir: string): FormatSample[] {
  const sources = join(dir, 'sources');
  const files = join(dir, 'files');
  const references = join(dir, 'references');
  mkdirSync(sources, { recursive: true });
  mkdirSync(files, { recursive: true });
  const file: Partial<Record<SampleFormat, string>> = {};

  for (const format of ['doc', 'docx', 'rtf', 'txt'] as const) writeFileSync(join(sources, `${format}.txt`), letterText(format));
  for (const format of ['xls', 'xlsx'] as const) writeFileSync(join(sources, `${format}.csv`), sheetCsv(format));
  for (const format of ['doc', 'docx'] as const) {
    sofficeConvert(dir, [join(sources, `${format}.txt`)], format, files);
    file[format] = join(files, `${format}.${format}`);
  }
  file.rtf = join(files, 'rtf.rtf');
  writeFileSync(file.rtf, letterRtf(readFileSync(join(sources, 'rtf.txt'), 'utf8')));
  for (const format of ['xls', 'xlsx'] as const) {
    sofficeConvert(dir, [join(sources, `${format}.csv`)], format, files);
    file[format] = join(files, `${format}.${format}`);
  }
  file.txt = join(files, 'txt.txt');
  copyFileSync(join(sources, 'txt.txt'), file.txt);

  // Pictures of a page (text, a frame and bars) at 100 pixels per inch: the JPEG in grey, the PNG in colour, the TIFF as fax G4.
  const drawing = (format: string) => {
    const ps = join(sources, `${format}.ps`);
    const name = format.toUpperCase();
    writeFileSync(
      ps,
      samplePostScript([[`${name} picture`, 'sent by faxnotify', ...Array.from({ length: 6 }, (_, i) => `${name} row ${i + 1}: ${format.repeat(i + 1)}`)]]),
    );
    return ps;
  };
  file.jpg = join(files, 'jpg.jpg');
  ghostscript(['-sDEVICE=jpeggray', '-r100', `-sOutputFile=${file.jpg}`, drawing('jpg')]);
  file.png = join(files, 'png.png');
  ghostscript(['-sDEVICE=png16m', '-r100', `-sOutputFile=${file.png}`, drawing('png')]);
  file.tiff = join(files, 'tiff.tif');
  ghostscript(['-sDEVICE=tiffg4', '-r204x196', `-sOutputFile=${file.tiff}`, drawing('tiff')]);
  file.pdf = makeSamplePdf(files, 'pdf', [['PDF document', 'sent by faxnotify', 'pdf pdf pdf']]);

  // References.
  const a4At100 = { width: 827, height: 1169 };
  writeFileSync(join(sources, 'jpg.rtf'), pictureRtf(readFileSync(file.jpg), 'jpegblip', a4At100.width, a4At100.height));
  writeFileSync(join(sources, 'png.rtf'), pictureRtf(readFileSync(file.png), 'pngblip', a4At100.width, a4At100.height));
  sofficeConvert(
    dir,
    [...(['doc', 'docx', 'rtf', 'txt', 'xls', 'xlsx'] as const).map((format) => file[format]!), join(sources, 'jpg.rtf'), join(sources, 'png.rtf')],
    'pdf',
    references,
  );
  const tiffReference = join(references, 'tiff.pdf');
  execFileSync('tiff2pdf', ['-o', tiffReference, file.tiff]);
  const reference = (format: SampleFormat) => (format === 'pdf' ? file.pdf! : join(references, `${format}.pdf`));
  return FORMATS.map((format) => ({ format, file: file[format]!, reference: reference(format) }));
}
