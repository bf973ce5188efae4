/**
 * Document preparation: PDF and TIFF files in, fax pages (T.4 1-D at 1728 pixels, 204x98 or
 * 204x196) out, with the page count known before anyone dials. The conversion runs in the
 * conversion pool's worker threads within the document limits (see pool.ts and limits.ts); every
 * failure, a breached limit included, comes back as the matching `failed_*` status with the
 * converter's or the limit's own words; nothing here throws for a bad file.
 */
import type { FaxPage } from '@faxnotify/fax-line';
import type { ConversionRequest, DocumentFormat, PreparationResult } from './format';
import { ConversionPool, type ConversionPoolOptions } from './pool';

export { sniffFormat, type DocumentFormat, type PreparationFailureStatus, type PreparationResult, type ConversionRequest } from './format';
export { DEFAULT_DOCUMENT_LIMITS, LIMIT_SETTING, checkTiff, type DocumentLimits, type TiffCheck, type TiffPageShape } from './limits';
export { ConversionPool, type ConversionPoolOptions } from './pool';
export { sniffFile, type FileFormat } from './office';
export { composeFax, type ComposeOptions } from './compose';
export { COVER_LOCALES, renderCoverPage, type CoverPageOptions, type CoverPageRequest } from './cover';
export { addHeaderLine, DEFAULT_HEADER_FORMAT, type HeaderLineOptions } from './header-line';

export interface PrepareOptions extends ConversionRequest {
  /** The pool to convert in. Default: the pool the running transmitter started (see startConversionPool). */
  pool?: ConversionPool;
}

const started: ConversionPool[] = [];
let fallback: ConversionPool | undefined;

/**
 * Starts a conversion pool and makes it the one prepareDocument uses until it is closed (the
 * transmitter does this at its start and closes it at its stop).
 */
export function startConversionPool(options: ConversionPoolOptions): ConversionPool {
  const pool: ConversionPool = new ConversionPool({
    ...options,
    onClose: () => {
      started.splice(started.indexOf(pool), 1);
      options.onClose?.();
    },
  });
  started.push(pool);
  return pool;
}

/**
 * The pool prepareDocument uses: the last one started and not closed; without any (a tool or a
 * test preparing documents with no transmitter running), a one-worker pool with the default
 * limits, started on first use; its idle worker does not keep the process alive.
 */
export function currentConversionPool(): ConversionPool {
  return started.at(-1) ?? (fallback ??= new ConversionPool({ workers: 1 }));
}

/** Closes the pool started on first use, if any (for tools and tests that end cleanly). */
export async function closeFallbackConversionPool(): Promise<void> {
  const pool = fallback;
  fallback = undefined;
  await pool?.close();
}

/** Prepares one PDF or TIFF file. */
export function prepareDocument(path: string, options: PrepareOptions = {}): Promise<PreparationResult> {
  const { pool, ...request } = options;
  return (pool ?? currentConversionPool()).prepare(path, request);
}

/** Prepares several files as one fax, pages in file order; the first failure decides the result. */
export async function prepareDocuments(paths: readonly string[], options: PrepareOptions = {}): Promise<PreparationResult> {
  const pages: FaxPage[] = [];
  let format: DocumentFormat = 'pdf';
  for (const [index, path] of paths.entries()) {
    const result = await prepareDocument(path, options);
    if (!result.ok) return { ...result, detail: `file ${index + 1} of ${paths.length}: ${result.detail}` };
    if (index === 0) format = result.format;
    pages.push(...result.document.pages);
  }
  if (pages.length === 0) return { ok: false, status: 'failed_image_preparation', detail: 'no files to send' };
  return { ok: true, format, document: { pages } };
}
