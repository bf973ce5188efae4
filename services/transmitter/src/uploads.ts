/**
 * Uploaded documents: kept on disk under the files folder, known to the database by id, owned by
 * the user who uploaded them. What a file is comes from its bytes, never from its name or the
 * client's word: DOC, DOCX, PDF, TXT, RTF, JPEG, PNG, TIFF, XLS and XLSX are kept (Fax.Plus's
 * list), anything else is refused.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import { sniffFile, type FileFormat } from './documents';
import type { FileRow, TransmitterDatabase } from './db/schema';

export type UploadOutcome =
  { ok: true; file: FileRow; path: string } | { ok: false; error: 'failed_mimetype_not_supported' | 'file_too_large' | 'empty_file'; description: string };

/** The names a client may give as `format` (Fax.Plus documents pdf and tiff; the others are its list of formats), and what each means. */
export const FORMAT_NAMES: Readonly<Record<string, FileFormat>> = {
  pdf: 'pdf',
  tiff: 'tiff',
  tif: 'tiff',
  doc: 'doc',
  docx: 'docx',
  txt: 'txt',
  rtf: 'rtf',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  png: 'png',
  xls: 'xls',
  xlsx: 'xlsx',
};

/** The format a client named, or null for a name that is not one of ours. */
export const namedFormat = (name: string): FileFormat | null => (Object.hasOwn(FORMAT_NAMES, name.toLowerCase()) ? FORMAT_NAMES[name.toLowerCase()] : null);

/** The extension a stored file of each format keeps. */
export const EXTENSION: Record<FileFormat, string> = {
  pdf: 'pdf',
  tiff: 'tif',
  doc: 'doc',
  docx: 'docx',
  txt: 'txt',
  rtf: 'rtf',
  jpeg: 'jpg',
  png: 'png',
  xls: 'xls',
  xlsx: 'xlsx',
};
const PATH = new RegExp(`^/storage/([0-9a-f-]{36})\\.(${Object.values(EXTENSION).join('|')})$`);

const LISTED = 'DOC, DOCX, PDF, TXT, RTF, JPEG, PNG, TIFF, XLS or XLSX';

/** The path clients use for a stored file (Fax.Plus style). */
export const filePath = (file: Pick<FileRow, 'id' | 'format'>): string => `/storage/${file.id}.${EXTENSION[file.format]}`;

/**
 * The format of an uploaded file by its content. A password-protected OOXML package does not show
 * whether it is a DOCX or an XLSX: it is kept as the one the client named, DOCX if none (its
 * preparation ends as failed_unknown_converter_issue either way).
 */
async function uploadedFormat(path: string, expected: FileFormat | null): Promise<{ format: FileFormat | null; what: string }> {
  try {
    const format = await sniffFile(path);
    return { format, what: format === null ? '' : `a ${format.toUpperCase()} document` };
  } catch (error) {
    if ((error as { status?: string }).status !== 'failed_unknown_converter_issue') throw error;
    return { format: expected === 'xlsx' ? 'xlsx' : 'docx', what: 'a password-protected Office document' };
  }
}

export class FileStore {
  private readonly dir: string;

  constructor(
    private readonly db: Kysely<TransmitterDatabase>,
    dir: string,
  ) {
    this.dir = resolve(dir);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /**
   * Stores one upload. `truncated` tells whether the stream was cut at the size limit (the
   * multipart parser stops there); `expected` is the format the client named, if any.
   */
  async save(ownerId: string, name: string, stream: Readable, truncated: () => boolean, expected: FileFormat | null): Promise<UploadOutcome> {
    const id = randomUUID();
    const partial = join(this.dir, `${id}.upload`);
    try {
      await pipeline(stream, createWriteStream(partial, { flags: 'wx' }));
      if (truncated()) return { ok: false, error: 'file_too_large', description: 'the file is larger than the limit for one fax' };
      const bytes = (await stat(partial)).size;
      if (bytes === 0) return { ok: false, error: 'empty_file', description: 'the file is empty' };
      const { format, what } = await uploadedFormat(partial, expected);
      if (format === null)
        return {
          ok: false,
          error: 'failed_mimetype_not_supported',
          description: `only ${LISTED} documents can be faxed; by its content, this file is none of them`,
        };
      if (expected && expected !== format)
        return {
          ok: false,
          error: 'failed_mimetype_not_supported',
          description: `the file is ${what}, not ${expected.toUpperCase()} as the format says`,
        };
      const stored = join(this.dir, `${id}.${EXTENSION[format]}`);
      await rename(partial, stored);
      const file: FileRow = { id, owner_id: ownerId, name: cleanName(name, format), format, bytes, stored_path: stored, created_at: new Date().toISOString() };
      await this.db.insertInto('files').values(file).execute();
      return { ok: true, file, path: filePath(file) };
    } finally {
      await rm(partial, { force: true });
    }
  }

  /** The owner's file at a client path, or null. */
  async byPath(ownerId: string, path: string): Promise<FileRow | null> {
    const match = PATH.exec(path);
    if (!match) return null;
    const row = await this.db.selectFrom('files').selectAll().where('id', '=', match[1]).where('owner_id', '=', ownerId).executeTakeFirst();
    return row && filePath(row) === path ? row : null;
  }

  /** Where a file is on disk, if it is still there. */
  async storedPath(fileId: string): Promise<string | null> {
    const row = await this.db.selectFrom('files').select('stored_path').where('id', '=', fileId).executeTakeFirst();
    if (!row) return null;
    try {
      await stat(row.stored_path);
      return row.stored_path;
    } catch {
      return null;
    }
  }
}

/** A display name: no folders, no control characters, bounded, with the real format's extension if it had none. */
function cleanName(name: string, format: FileFormat): string {
  const base = (name.split(/[\\/]/).pop() ?? '')
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 200);
  if (base === '') return `document.${EXTENSION[format]}`;
  return base;
}
