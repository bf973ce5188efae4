/**
 * Text drawn by Ghostscript into fax bitmaps (the cover page and the header line). Every piece of
 * text reaches PostScript only through postScriptText: printable ASCII inside a string literal
 * with its three metacharacters escaped, everything else as a glyph name, so no text can end the
 * string or run PostScript of its own. The font is DejaVu Sans (Latin, Cyrillic, Italian accents).
 */
import { execFile } from 'node:child_process';
import { createBitmap, type Bitmap } from '@faxnotify/fax-line';

export const TEXT_FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const RENDER_TIMEOUT_MS = 20_000;

/** Glyph names the font uses for common marks outside Latin-1 (the rest go by their uniXXXX names). */
const NAMED_GLYPHS: Record<number, string> = {
  0x2013: 'endash',
  0x2014: 'emdash',
  0x2018: 'quoteleft',
  0x2019: 'quoteright',
  0x201c: 'quotedblleft',
  0x201d: 'quotedblright',
  0x201e: 'quotedblbase',
  0x2022: 'bullet',
  0x2026: 'ellipsis',
  0x20ac: 'Euro',
};

/** PostScript that leaves the glyph name of a character outside ASCII on the stack. */
function glyphName(code: number): string {
  // Latin-1 letters (the Italian accents among them) go by the standard names of ISO Latin-1.
  if (code >= 0xa1 && code <= 0xff) return `ISOLatin1Encoding ${code} get`;
  if (code === 0xa0) return '/space';
  const named = NAMED_GLYPHS[code];
  return named ? `/${named}` : `/uni${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** PostScript that shows `text` at the current point in the current font. */
export function postScriptText(text: string): string {
  const parts: string[] = [];
  let ascii = '';
  const flush = (): void => {
    if (ascii) parts.push(`(${ascii}) show`);
    ascii = '';
  };
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f) ascii += char === '(' || char === ')' || char === '\\' ? `\\${char}` : char;
    else if (code < 0x20 || code === 0x7f) ascii += ' ';
    else {
      flush();
      parts.push(`${glyphName(code)} glyphshow`);
    }
  }
  flush();
  return parts.join(' ');
}

/** The PostScript prologue that loads the text font as /Text. */
export function fontPrologue(fontFile = TEXT_FONT_FILE): string {
  return `%!PS\n(${fontFile.replace(/[\\()]/g, (c) => `\\${c}`)}) (r) file .loadfont\n`;
}

export interface RenderOptions {
  /** Page width and height in pixels; the resolution in pixels per inch. */
  width: number;
  height: number;
  xResolution: number;
  yResolution: number;
  ghostscript?: string;
  fontFile?: string;
}

/** Renders a PostScript program to one bilevel bitmap per page (Ghostscript's pbmraw device). */
export function renderPostScript(program: string, options: RenderOptions): Promise<Bitmap[]> {
  const fontFile = options.fontFile ?? TEXT_FONT_FILE;
  const args = [
    '-q',
    '-dNOPAUSE',
    '-dBATCH',
    '-dSAFER',
    `--permit-file-read=${fontFile}`,
    '-sDEVICE=pbmraw',
    `-r${options.xResolution}x${options.yResolution}`,
    `-g${options.width}x${options.height}`,
    '-sOutputFile=-',
    '-',
  ];
  return new Promise((resolve, reject) => {
    const child = execFile(
      options.ghostscript ?? 'gs',
      args,
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: RENDER_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`Ghostscript could not draw the text: ${stderr.toString().trim() || error.message}`));
        try {
          resolve(parsePbm(stdout));
        } catch (parseError) {
          reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
        }
      },
    );
    child.stdin?.end(program);
  });
}

/** Reads concatenated binary PBM (P4) images. */
export function parsePbm(data: Buffer): Bitmap[] {
  const bitmaps: Bitmap[] = [];
  let offset = 0;
  const token = (): string => {
    for (;;) {
      while (offset < data.length && /\s/.test(String.fromCharCode(data[offset]))) offset++;
      if (data[offset] !== 0x23) break; // '#': a comment to the end of the line
      while (offset < data.length && data[offset] !== 0x0a) offset++;
    }
    const start = offset;
    while (offset < data.length && !/\s/.test(String.fromCharCode(data[offset]))) offset++;
    return data.subarray(start, offset).toString('latin1');
  };
  while (offset < data.length) {
    if (token() !== 'P4') throw new Error('Ghostscript output is not a PBM image');
    const width = Number(token());
    const height = Number(token());
    offset++; // the single whitespace before the raster
    const bitmap = createBitmap(width, height);
    const bytes = bitmap.rowBytes * height;
    if (offset + bytes > data.length) throw new Error('Ghostscript output ends inside an image');
    bitmap.data.set(data.subarray(offset, offset + bytes));
    offset += bytes;
    bitmaps.push(bitmap);
    while (offset < data.length && /\s/.test(String.fromCharCode(data[offset]))) offset++;
  }
  return bitmaps;
}
