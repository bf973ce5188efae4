/**
 * Office documents, plain text and JPEG pictures (PNG: see png.ts): told apart by their content (never by a name),
 * then turned into a PDF that goes the PDF way. LibreOffice (`soffice --headless`) converts the
 * office files and text, each run with a profile of its own so conversions side by side do not
 * clash; Ghostscript places a JPEG on an A4 page (its halftoning keeps text readable at fax
 * resolution). The caller runs the converters within the document's limits.
 */
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type DocumentFormat, PreparationFailure, sniffFormat } from './format';
import type { RunResult } from './converters';

export type SourceFormat = 'docx' | 'xlsx' | 'doc' | 'xls' | 'rtf' | 'txt' | 'jpeg' | 'png';

/** Every format a fax document may have: the ones faxed as they are and the ones made a PDF first. */
export type FileFormat = DocumentFormat | SourceFormat;

/** Runs a converter within the document's limits (time and memory troubles already thrown). */
export type Run = (command: string, args: string[]) => Promise<RunResult>;

const ZIP = Buffer.from('PK\x03\x04', 'latin1');
const OLE2 = Buffer.from('d0cf11e0a1b11ae1', 'hex');
const JPEG = Buffer.from('ffd8ff', 'hex');
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');

function utf16(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}

/**
 * Which office, text or picture format a file is, by its bytes: OOXML is a zip holding
 * `[Content_Types].xml`, DOC and XLS are OLE2 compound files with a WordDocument or Workbook
 * stream, RTF begins with `{\rtf`, text is valid UTF-8 without NUL bytes. An OLE2 file holding an
 * EncryptedPackage is a password-protected OOXML document: refused here with the source's
 * "check if the file is password-protected" status.
 */
export async function sniffSource(path: string): Promise<SourceFormat | null> {
  const bytes = await readFile(path);
  if (bytes.length === 0) return null;
  if (bytes.subarray(0, 3).equals(JPEG)) return 'jpeg';
  if (bytes.subarray(0, 8).equals(PNG)) return 'png';
  if (bytes.subarray(0, 4).equals(ZIP)) {
    if (!bytes.includes('[Content_Types].xml')) return null;
    if (bytes.includes('word/')) return 'docx';
    if (bytes.includes('xl/')) return 'xlsx';
    return null;
  }
  if (bytes.subarray(0, 8).equals(OLE2)) {
    if (bytes.includes(utf16('EncryptedPackage'))) {
      throw new PreparationFailure('failed_unknown_converter_issue', 'the document is password-protected: it cannot be opened without its password');
    }
    if (bytes.includes(utf16('WordDocument'))) return 'doc';
    if (bytes.includes(utf16('Workbook')) || bytes.includes(utf16('Book'))) return 'xls';
    return null;
  }
  if (bytes.subarray(0, 5).toString('latin1') === '{\\rtf') return 'rtf';
  if (bytes.includes(0)) return null;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'txt';
  } catch {
    return null;
  }
}

/**
 * Which format a file is, by its bytes: PDF or TIFF (sniffFormat), else an office, text or picture
 * format (sniffSource); null for anything else. Throws sniffSource's failure for a
 * password-protected OOXML package.
 */
export async function sniffFile(path: string): Promise<FileFormat | null> {
  return (await sniffFormat(path)) ?? (await sniffSource(path));
}

/** Converts an office file or text to PDF in workDir and returns the PDF's path. */
export async function officeToPdf(
  path: string,
  format: Exclude<SourceFormat, 'jpeg' | 'png'>,
  workDir: string,
  run: Run,
  soffice = 'soffice',
): Promise<string> {
  const input = join(workDir, `document.${format}`);
  const outDir = join(workDir, 'out');
  const profile = join(workDir, 'profile');
  await mkdir(outDir);
  await mkdir(profile);
  await copyFile(path, input);
  const result = await run(soffice, [
    `-env:UserInstallation=file://${profile}`,
    '--headless',
    '--norestore',
    '--nolockcheck',
    '--convert-to',
    'pdf',
    '--outdir',
    outDir,
    input,
  ]);
  const pdf = join(outDir, 'document.pdf');
  // soffice exits 0 even when it could not load the file: only a written PDF proves a conversion.
  const written = await stat(pdf).then(
    (info) => info.size > 0,
    () => false,
  );
  if (result.kind !== 'ok' || !written) {
    if (/password/i.test(result.detail)) {
      throw new PreparationFailure('failed_unknown_converter_issue', 'the document is password-protected: it cannot be opened without its password');
    }
    throw new PreparationFailure(
      'failed_office_converter_issue',
      `LibreOffice could not convert the ${format.toUpperCase()} file: ${result.detail || 'no PDF written'}`,
    );
  }
  return pdf;
}

function postScriptString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/** Places a JPEG, scaled to fit with its proportions kept, on an A4 page of a PDF in workDir. */
export async function jpegToPdf(path: string, workDir: string, run: Run, gs = 'gs'): Promise<string> {
  const pdf = join(workDir, 'picture.pdf');
  const picture = postScriptString(path);
  // viewjpeg.ps (shipped with Ghostscript) scales the picture to the page, its proportions kept.
  const place = `${picture} viewJPEG`;
  const result = await run(gs, [
    '-q',
    '-dNOPAUSE',
    '-dBATCH',
    '-dSAFER',
    `--permit-file-read=${path}`,
    '-sDEVICE=pdfwrite',
    '-sPAPERSIZE=a4',
    '-dFIXEDMEDIA',
    `-sOutputFile=${pdf}`,
    'viewjpeg.ps',
    '-c',
    place,
  ]);
  const written = await stat(pdf).then(
    (info) => info.size > 0,
    () => false,
  );
  if (result.kind !== 'ok' || !written)
    throw new PreparationFailure('failed_image_preparation', `Ghostscript could not read the JPEG: ${result.detail || 'no page made'}`);
  return pdf;
}
