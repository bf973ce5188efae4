/**
 * The cover page: an optional first page of a fax with who sends it to whom, the subject, the
 * sender's comment, the page count (the cover included) and the date in the owner's time zone and
 * language. The layout is a text template per language in templates/fax/<locale>/cover.txt: a
 * line starting with "# " is the title, {{from}}, {{to}}, {{date}}, {{pages}}, {{subject}} and
 * {{comment}} are filled in, and the comment is wrapped. Ghostscript draws it (already installed
 * for PDF files, and with a TrueType font it draws Cyrillic as well as Latin text); the filled
 * text reaches PostScript only through postScriptText, so a subject or comment cannot run code.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FAX_WIDTH, FAX_X_RESOLUTION, FAX_Y_RESOLUTION, type FaxPage, type FaxResolution, pageFromBitmap } from '@faxnotify/fax-line';
import { fontPrologue, postScriptText, renderPostScript } from './ps-text';

export const COVER_LOCALES = ['en', 'ru', 'it'] as const;
export type CoverLocale = (typeof COVER_LOCALES)[number];

/** The cover page a submission asks for (Fax.Plus calls the option the fax's cover page). */
export interface CoverPageRequest {
  from: string;
  to: readonly string[] | string;
  subject?: string;
  comment?: string;
}

export interface CoverPageOptions {
  /** The owner's language and time zone (IANA name). */
  locale: string;
  timeZone: string;
  /** Pages of the document itself; the cover page adds one. */
  documentPages: number;
  /** When the fax is sent. Default: now. */
  date?: Date;
  resolution?: FaxResolution;
  ghostscript?: string;
}

/** The A4 page height in rows at a fax resolution. */
export function a4Rows(resolution: FaxResolution): number {
  return Math.round((297 / 25.4) * FAX_Y_RESOLUTION[resolution]);
}

const TEMPLATES_ROOT = dirname(require.resolve('@faxnotify/templates/package.json'));
const MAX_FIELD = 200;
const MAX_COMMENT_LINES = 40;
const WRAP_COLUMNS = 64;

export function coverLocale(locale: string): CoverLocale {
  const language = locale.toLowerCase().slice(0, 2);
  return (COVER_LOCALES as readonly string[]).includes(language) ? (language as CoverLocale) : 'en';
}

export function coverTemplate(locale: CoverLocale): string {
  return readFileSync(join(TEMPLATES_ROOT, 'fax', locale, 'cover.txt'), 'utf8');
}

function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.replace(/\r\n?/g, '\n').split('\n')) {
    let line = '';
    for (const word of paragraph.split(/[ \t]+/)) {
      for (let rest = word; rest.length > 0;) {
        const room = line ? columns - line.length - 1 : columns;
        if (rest.length <= room) {
          line = line ? `${line} ${rest}` : rest;
          rest = '';
        } else if (line) {
          lines.push(line);
          line = '';
        } else {
          lines.push(rest.slice(0, columns));
          rest = rest.slice(columns);
        }
      }
    }
    lines.push(line);
  }
  return lines;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_FIELD ? `${flat.slice(0, MAX_FIELD - 1)}…` : flat;
}

/** The cover page's lines, the template filled in (no PostScript yet). */
export function coverLines(request: CoverPageRequest, options: CoverPageOptions): { title: string; lines: string[] } {
  const locale = coverLocale(options.locale);
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: options.timeZone }).format(options.date ?? new Date());
  const values: Record<string, string> = {
    from: oneLine(request.from),
    to: oneLine(typeof request.to === 'string' ? request.to : request.to.join(', ')),
    date,
    pages: String(options.documentPages + 1),
    subject: oneLine(request.subject ?? ''),
  };
  let title = '';
  const lines: string[] = [];
  for (const templateLine of coverTemplate(locale).replace(/\n$/, '').split('\n')) {
    if (templateLine.trim() === '{{comment}}') {
      const comment = wrap(request.comment ?? '', WRAP_COLUMNS);
      lines.push(...comment.slice(0, MAX_COMMENT_LINES));
      if (comment.length > MAX_COMMENT_LINES) lines.push('…');
      continue;
    }
    const filled = templateLine.replace(/\{\{(\w+)\}\}/g, (_, name: string) => values[name] ?? '');
    if (filled.startsWith('# ') && !title) title = filled.slice(2);
    else lines.push(filled);
  }
  return { title, lines };
}

/** The cover page's PostScript program, for a page of the fax's width and A4 height. */
export function coverPostScript(request: CoverPageRequest, options: CoverPageOptions): string {
  const { title, lines } = coverLines(request, options);
  const pageHeight = (297 / 25.4) * 72;
  const left = 60;
  let y = pageHeight - 90;
  const out = [fontPrologue(), `/DejaVuSans findfont 30 scalefont setfont`, `${left} ${y.toFixed(1)} moveto ${postScriptText(title)}`];
  y -= 14;
  out.push(`3 setlinewidth ${left} ${y.toFixed(1)} moveto ${(FAX_WIDTH / FAX_X_RESOLUTION) * 72 - left} ${y.toFixed(1)} lineto stroke`);
  out.push('/DejaVuSans findfont 14 scalefont setfont');
  y -= 32;
  for (const line of lines) {
    out.push(`${left} ${y.toFixed(1)} moveto ${postScriptText(line)}`);
    y -= 20;
  }
  out.push('showpage');
  return out.join('\n') + '\n';
}

/** Draws the cover page as a fax page. */
export async function renderCoverPage(request: CoverPageRequest, options: CoverPageOptions): Promise<FaxPage> {
  const resolution = options.resolution ?? 'fine';
  const [bitmap] = await renderPostScript(coverPostScript(request, options), {
    width: FAX_WIDTH,
    height: a4Rows(resolution),
    xResolution: FAX_X_RESOLUTION,
    yResolution: FAX_Y_RESOLUTION[resolution],
    ghostscript: options.ghostscript,
  });
  if (!bitmap) throw new Error('Ghostscript drew no cover page');
  return pageFromBitmap(bitmap, resolution);
}
