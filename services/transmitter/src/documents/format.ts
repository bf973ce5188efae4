/**
 * What a document preparation gives back, and which of our formats a file is. Shared by the
 * transmitter's thread and the conversion workers.
 */
import { open } from 'node:fs/promises';
import type { FinalStatus } from '@faxnotify/contracts';
import { type FaxDocument, type FaxResolution, isTiff } from '@faxnotify/fax-line';
import type { DocumentLimits } from './limits';

export type PreparationFailureStatus = Extract<
  FinalStatus,
  | 'failed_mimetype_not_supported'
  | 'failed_office_converter_issue'
  | 'failed_convert_to_tiff_issue'
  | 'failed_image_preparation'
  | 'failed_unknown_converter_issue'
  | 'failed_internal_process_error'
>;

export type DocumentFormat = 'pdf' | 'tiff';

export type PreparationResult = { ok: true; format: DocumentFormat; document: FaxDocument } | { ok: false; status: PreparationFailureStatus; detail: string };

/** What a conversion worker is told about one document (plain data: it crosses threads). */
export interface ConversionRequest {
  /**
   * Resolution of the prepared pages. PDF pages are rendered at it (default fine); a TIFF keeps
   * its own resolution (the nearer of standard and fine) unless this is given.
   */
  resolution?: FaxResolution;
  /** Ghostscript executable. Default `gs`. */
  ghostscript?: string;
  /** LibreOffice's soffice executable. Default `soffice`. */
  soffice?: string;
  /** libtiff's tiffcp executable. Default `tiffcp`. */
  tiffcp?: string;
  /** Limits for this document; any not given are the pool's. */
  limits?: Partial<DocumentLimits>;
}

export class PreparationFailure extends Error {
  constructor(
    readonly status: PreparationFailureStatus,
    detail: string,
  ) {
    super(detail);
  }
}

/** Which of our formats a file is, by its first bytes (the name and the sender's claim are not trusted). */
export async function sniffFormat(path: string): Promise<DocumentFormat | null> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    if (isTiff(bytes)) return 'tiff';
    // A PDF may have a few bytes of junk before its header; readers accept it within the first 1 KB.
    if (bytes.includes('%PDF-')) return 'pdf';
    return null;
  } finally {
    await handle.close();
  }
}
