/**
 * Uploaded documents: kept on disk under the files folder, known to the database by id, owned by
 * the user who uploaded them. What a file is comes from its first bytes, never from its name or
 * the client's word.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import { sniffFormat, type DocumentFormat } from './documents';
import type { FileRow, TransmitterDatabase } from './db/schema';

export type UploadOutcome =
  { ok: true; file: FileRow; path: string } | { ok: false; error: 'failed_mimetype_not_supported' | 'file_too_large' | 'empty_file'; description: string };

const EXTENSION: Record<DocumentFormat, string> = { pdf: 'pdf', tiff: 'tif' };
const PATH = /^\/storage\/([0-9a-f-]{36})\.(pdf|tif)$/;

/** The path clients use for a stored file (Fax.Plus style). */
export const filePath = (file: Pick<FileRow, 'id' | 'format'>): string => `/storage/${file.id}.${EXTENSION[file.format]}`;

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
  async save(ownerId: string, name: string, stream: Readable, truncated: () => boolean, expected: DocumentFormat | null): Promise<UploadOutcome> {
    const id = randomUUID();
    const partial = join(this.dir, `${id}.upload`);
    try {
      await pipeline(stream, createWriteStream(partial, { flags: 'wx' }));
      if (truncated()) return { ok: false, error: 'file_too_large', description: 'the file is larger than the limit for one fax' };
      const bytes = (await stat(partial)).size;
      if (bytes === 0) return { ok: false, error: 'empty_file', description: 'the file is empty' };
      const format = await sniffFormat(partial);
      if (format === null)
        return { ok: false, error: 'failed_mimetype_not_supported', description: 'only PDF and TIFF documents can be faxed; this file is neither' };
      if (expected && expected !== format)
        return {
          ok: false,
          error: 'failed_mimetype_not_supported',
          description: `the file is a ${format.toUpperCase()} document, not ${expected.toUpperCase()} as the format says`,
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
function cleanName(name: string, format: DocumentFormat): string {
  const base = (name.split(/[\\/]/).pop() ?? '')
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 200);
  if (base === '') return `document.${EXTENSION[format]}`;
  return base;
}
