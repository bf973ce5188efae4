/**
 * The conversion itself, run inside a conversion worker: PDF and TIFF files in, fax pages (T.4 1-D
 * at 1728 pixels, 204x98 or 204x196) out. Limits are checked before anything is decoded where the
 * file lets us (its size, a TIFF's directories, a PDF's page count); the converters run capped in
 * time and memory. Every failure comes back as the matching `failed_*` status with the
 * converter's or the limit's own words; nothing here throws for a bad file.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAX_X_RESOLUTION, FAX_Y_RESOLUTION, type FaxPage, readTiff, type TiffPage, TiffFormatError } from '@faxnotify/fax-line';
import { runConverter, type RunResult } from './converters';
import { type ConversionRequest, type DocumentFormat, PreparationFailure, type PreparationResult, sniffFormat } from './format';
import { checkTiff, DEFAULT_DOCUMENT_LIMITS, type DocumentLimits, fileSizeProblem, grouped, limitDetail, readsDirectly, zipPackageProblem } from './limits';
import { jpegToPdf, officeToPdf, sniffSource } from './office';
import { nearestResolution, normalizePage, pageToBitmap } from './pages';
import { decodePng, pngToPdf } from './png';

interface Job {
  path: string;
  request: ConversionRequest;
  limits: DocumentLimits;
  deadline: number;
  onChild?: (pid: number, running: boolean) => void;
}

/** Converts one PDF, TIFF, office, text, JPEG or PNG file, on the calling thread. */
export async function convertDocument(
  path: string,
  request: ConversionRequest = {},
  onChild?: (pid: number, running: boolean) => void,
): Promise<PreparationResult> {
  const limits = { ...DEFAULT_DOCUMENT_LIMITS, ...request.limits };
  const job: Job = { path, request, limits, deadline: Date.now() + limits.maxSeconds * 1000, onChild };
  try {
    let format: DocumentFormat | null;
    let bytes: number;
    try {
      format = await sniffFormat(path);
      bytes = (await stat(path)).size;
    } catch (error) {
      throw new PreparationFailure('failed_internal_process_error', `cannot read ${path}: ${(error as Error).message}`);
    }
    const tooBig = fileSizeProblem(bytes, limits);
    if (tooBig) throw new PreparationFailure('failed_image_preparation', tooBig);
    if (format === null) return { ok: true, format: 'pdf', document: { pages: await prepareSource(job) } };
    const pages = format === 'pdf' ? await preparePdf(job) : await prepareTiff(job);
    if (pages.length === 0) {
      throw new PreparationFailure(format === 'pdf' ? 'failed_convert_to_tiff_issue' : 'failed_image_preparation', 'the document has no pages');
    }
    return { ok: true, format, document: { pages } };
  } catch (error) {
    if (error instanceof PreparationFailure) return { ok: false, status: error.status, detail: error.message };
    return { ok: false, status: 'failed_unknown_converter_issue', detail: `unexpected conversion error: ${(error as Error).message}` };
  }
}

/** Runs a converter in what is left of the document's time, turning its troubles into failures. */
async function converter(job: Job, command: string, args: string[], failedStatus: PreparationFailure['status']): Promise<RunResult> {
  const left = job.deadline - Date.now();
  const timedOut = () =>
    new PreparationFailure(
      'failed_image_preparation',
      limitDetail('maxSeconds', `${command} was still converting after ${job.limits.maxSeconds} s`, job.limits),
    );
  if (left <= 0) throw timedOut();
  const result = await runConverter(command, args, { timeoutMs: left, limits: job.limits, onChild: job.onChild });
  if (result.kind === 'missing') throw new PreparationFailure('failed_unknown_converter_issue', `${command} cannot be run (${result.detail})`);
  if (result.kind === 'timeout') throw timedOut();
  if (result.kind === 'memory') {
    throw new PreparationFailure(
      'failed_image_preparation',
      limitDetail('maxMemoryMb', `${command} needed more memory (${result.detail.split('\n')[0]})`, job.limits),
    );
  }
  if (/requires a password/i.test(result.detail)) {
    throw new PreparationFailure('failed_unknown_converter_issue', 'the PDF is password-protected: it cannot be opened without its password');
  }
  if (result.kind === 'failed' && failedStatus === 'failed_image_preparation')
    throw new PreparationFailure(failedStatus, `${command} could not read the file: ${result.detail}`);
  return result;
}

// ---- office documents, text and pictures: made a PDF first ----

async function prepareSource(job: Job): Promise<FaxPage[]> {
  const source = await sniffSource(job.path).catch((error: unknown) => {
    if (error instanceof PreparationFailure) throw error;
    throw new PreparationFailure('failed_internal_process_error', `cannot read ${job.path}: ${(error as Error).message}`);
  });
  if (source === null) {
    throw new PreparationFailure(
      'failed_mimetype_not_supported',
      'the file is not a PDF, TIFF, office document (DOC, DOCX, RTF, XLS, XLSX), text, JPEG or PNG',
    );
  }
  if (source === 'docx' || source === 'xlsx') {
    // A zip bomb is refused by what the package declares, before LibreOffice inflates it.
    const problem = zipPackageProblem(await readFile(job.path), job.limits);
    if (problem) throw new PreparationFailure(problem.overLimit ? 'failed_image_preparation' : 'failed_office_converter_issue', problem.detail);
  }
  const workDir = await mkdtemp(join(tmpdir(), 'faxnotify-office-'));
  try {
    const picture = source === 'jpeg' || source === 'png';
    const status = picture ? 'failed_image_preparation' : 'failed_office_converter_issue';
    const run = (command: string, args: string[]) => converter(job, command, args, status);
    let pdf: string;
    if (source === 'jpeg') pdf = await jpegToPdf(job.path, workDir, run, job.request.ghostscript);
    else if (source === 'png') pdf = await pngToPdf(decodePng(await readFile(job.path), job.limits), workDir, run, job.request.ghostscript);
    else pdf = await officeToPdf(job.path, source, workDir, run, job.request.soffice);
    const pages = await preparePdf({ ...job, path: pdf });
    if (pages.length === 0) throw new PreparationFailure(status, `the ${source.toUpperCase()} file has no pages`);
    return pages;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

// ---- PDF ----

function postScriptString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

async function preparePdf(job: Job): Promise<FaxPage[]> {
  const { limits, path } = job;
  const gs = job.request.ghostscript ?? 'gs';
  // The page tree is read first (cheap even for thousands of pages), so a long PDF is refused before any page is drawn.
  const count = await converter(
    job,
    gs,
    ['-q', '-dNODISPLAY', '-dSAFER', `--permit-file-read=${path}`, '-c', `${postScriptString(path)} (r) file runpdfbegin pdfpagecount = quit`],
    'failed_convert_to_tiff_issue',
  );
  const declared = count.kind === 'ok' ? Number(/^\d+$/m.exec(count.detail)?.[0] ?? NaN) : NaN;
  if (declared > limits.maxPages)
    throw new PreparationFailure('failed_image_preparation', limitDetail('maxPages', `the PDF has ${grouped(declared)} pages`, limits));

  const resolution = job.request.resolution ?? 'fine';
  const workDir = await mkdtemp(join(tmpdir(), 'faxnotify-pdf-'));
  try {
    const output = join(workDir, 'pages.tif');
    const args = [
      '-q',
      '-dNOPAUSE',
      '-dBATCH',
      '-dSAFER',
      '-sDEVICE=tiffg3',
      `-r${FAX_X_RESOLUTION}x${FAX_Y_RESOLUTION[resolution]}`,
      '-sPAPERSIZE=a4',
      '-dFIXEDMEDIA',
      '-dPDFFitPage',
    ];
    // One page past the limit, so a PDF whose page count could not be read still cannot run on.
    args.push('-dFirstPage=1', `-dLastPage=${limits.maxPages + 1}`, `-sOutputFile=${output}`, path);
    const result = await converter(job, gs, args, 'failed_convert_to_tiff_issue');
    // Ghostscript reports some broken PDFs on stderr yet exits 0 with no pages: check the output too.
    let tiff: Buffer;
    try {
      tiff = await readFile(output);
    } catch {
      throw new PreparationFailure('failed_convert_to_tiff_issue', `Ghostscript made no pages: ${result.detail || 'no output'}`);
    }
    if (result.kind === 'failed' || tiff.length === 0)
      throw new PreparationFailure('failed_convert_to_tiff_issue', `Ghostscript could not render the PDF: ${result.detail}`);
    let tiffPages: TiffPage[];
    try {
      tiffPages = readTiff(tiff);
    } catch (error) {
      throw new PreparationFailure('failed_convert_to_tiff_issue', `Ghostscript output unreadable: ${(error as Error).message}`);
    }
    if (tiffPages.length > limits.maxPages)
      throw new PreparationFailure('failed_image_preparation', limitDetail('maxPages', `the PDF has more than ${limits.maxPages} pages`, limits));
    return tiffPages.map((page) => normalizePage(pageToBitmap(page), page, resolution));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

// ---- TIFF ----

function directlyReadable(page: TiffPage): boolean {
  if (page.planarConfig !== 1 && page.samplesPerPixel > 1) return false;
  if (page.compression === 1 && page.predictor !== 1) return false;
  // Only 1-D T.4 is decoded here; 2-D data goes through tiffcp.
  return readsDirectly(page);
}

/** Checks a TIFF's directories against the limits; throws the refusal. */
function checkTiffLimits(buffer: Buffer, limits: DocumentLimits): void {
  const check = checkTiff(buffer, limits);
  if (!check.ok) throw new PreparationFailure('failed_image_preparation', check.detail);
}

async function prepareTiff(job: Job): Promise<FaxPage[]> {
  const file = await readFile(job.path);
  checkTiffLimits(file, job.limits);
  let pages = parseTiff(file);
  if (!pages.every(directlyReadable)) {
    pages = await decompressWithTiffcp(job);
    const unreadable = pages.find((page) => !directlyReadable(page));
    if (unreadable) {
      throw new PreparationFailure(
        'failed_image_preparation',
        `unsupported TIFF layout: compression ${unreadable.compression}, ${unreadable.samplesPerPixel} samples, planar ${unreadable.planarConfig}`,
      );
    }
  }
  return pages.map((page) => {
    const source = pageToBitmap(page);
    const resolution = job.request.resolution ?? nearestResolution(page);
    return normalizePage(source, page, resolution);
  });
}

function parseTiff(buffer: Buffer): TiffPage[] {
  try {
    return readTiff(buffer);
  } catch (error) {
    if (error instanceof TiffFormatError) throw new PreparationFailure('failed_image_preparation', `damaged TIFF: ${error.message}`);
    throw error;
  }
}

async function decompressWithTiffcp(job: Job): Promise<TiffPage[]> {
  const workDir = await mkdtemp(join(tmpdir(), 'faxnotify-tiff-'));
  try {
    const output = join(workDir, 'plain.tif');
    await converter(job, job.request.tiffcp ?? 'tiffcp', ['-c', 'none', '-p', 'contig', job.path, output], 'failed_image_preparation');
    return parseTiff(await readFile(output));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
