/**
 * The header line fax machines print at the top of every page they send (the TSI line): who sends,
 * the date and time, "page n of m". The format is a template string with placeholders {from},
 * {date}, {time}, {page} and {pages}; Ghostscript draws the text (see ps-text.ts) into a strip as
 * wide as the page, and the strip goes into the page's top rows:
 * - when those rows are blank (a page with a top margin, which is almost every page), the strip is
 *   drawn over them and the page keeps its height and every other row;
 * - otherwise the strip is put above the page, and if that would make the page longer than A4 the
 *   page's own content is squeezed into the rows left, so nothing falls off the bottom.
 */
import {
  type Bitmap,
  createBitmap,
  FAX_WIDTH,
  FAX_X_RESOLUTION,
  FAX_Y_RESOLUTION,
  type FaxPage,
  type FaxResolution,
  pageBitmap,
  pageFromBitmap,
} from '@faxnotify/fax-line';
import { a4Rows } from './cover';
import { fontPrologue, postScriptText, renderPostScript } from './ps-text';

export const DEFAULT_HEADER_FORMAT = '{from}   {date} {time}   page {page} of {pages}';
/** The strip's height: a fifth of an inch (39 rows at fine resolution, 20 at standard). */
const STRIP_INCHES = 0.2;
const FONT_POINTS = 9;

export interface HeaderLineOptions {
  /** The template; see DEFAULT_HEADER_FORMAT. */
  format?: string;
  /** Who sends: the station's TSI or the owner's number. */
  from: string;
  /** The owner's language and time zone, for the date and time. */
  locale: string;
  timeZone: string;
  date?: Date;
  ghostscript?: string;
}

export function stripRows(resolution: FaxResolution): number {
  return Math.round(STRIP_INCHES * FAX_Y_RESOLUTION[resolution]);
}

/** The header text of page `page` (from 1) of `pages`. */
export function headerText(options: HeaderLineOptions, page: number, pages: number): string {
  const when = options.date ?? new Date();
  const date = new Intl.DateTimeFormat(options.locale, { dateStyle: 'short', timeZone: options.timeZone }).format(when);
  const time = new Intl.DateTimeFormat(options.locale, { timeStyle: 'short', timeZone: options.timeZone }).format(when);
  const values: Record<string, string> = { from: options.from, date, time, page: String(page), pages: String(pages) };
  return (options.format ?? DEFAULT_HEADER_FORMAT).replace(/\{(\w+)\}/g, (match, name: string) => values[name] ?? match);
}

/** Whether rows [0, rows) of a bitmap are all white. */
function blankTop(bitmap: Bitmap, rows: number): boolean {
  const end = Math.min(rows, bitmap.height) * bitmap.rowBytes;
  for (let i = 0; i < end; i++) if (bitmap.data[i] !== 0) return false;
  return true;
}

/** Fewer rows, each the OR of the source rows it stands for, so no thin line or stroke is lost. */
export function squeezeRows(source: Bitmap, height: number): Bitmap {
  const out = createBitmap(source.width, height);
  for (let y = 0; y < height; y++) {
    const first = Math.floor((y * source.height) / height);
    const end = Math.max(first + 1, Math.floor(((y + 1) * source.height) / height));
    const target = y * out.rowBytes;
    for (let from = first; from < end; from++) {
      const start = from * source.rowBytes;
      for (let i = 0; i < out.rowBytes; i++) out.data[target + i] |= source.data[start + i];
    }
  }
  return out;
}

/** Puts a header strip into a page bitmap (see the file's comment). */
export function applyStrip(page: Bitmap, strip: Bitmap, maxRows: number): Bitmap {
  if (page.width !== strip.width) throw new RangeError(`header strip is ${strip.width} wide, the page ${page.width}`);
  if (page.height >= strip.height && blankTop(page, strip.height)) {
    const out = createBitmap(page.width, page.height);
    out.data.set(page.data);
    out.data.set(strip.data.subarray(0, strip.rowBytes * strip.height));
    return out;
  }
  const contentRows = Math.min(page.height, maxRows - strip.height);
  const content = contentRows === page.height ? page : squeezeRows(page, contentRows);
  const out = createBitmap(page.width, strip.height + contentRows);
  out.data.set(strip.data.subarray(0, strip.rowBytes * strip.height));
  out.data.set(content.data.subarray(0, content.rowBytes * contentRows), strip.rowBytes * strip.height);
  return out;
}

/** Draws the header strips of all pages, one Ghostscript run per resolution. */
async function renderStrips(texts: string[], resolution: FaxResolution, options: HeaderLineOptions): Promise<Bitmap[]> {
  const rows = stripRows(resolution);
  const heightPoints = STRIP_INCHES * 72;
  const program = [fontPrologue(), `/DejaVuSans findfont ${FONT_POINTS} scalefont setfont`];
  for (const text of texts) program.push(`18 ${(heightPoints - FONT_POINTS - 1).toFixed(1)} moveto ${postScriptText(text)} showpage`);
  const strips = await renderPostScript(program.join('\n') + '\n', {
    width: FAX_WIDTH,
    height: rows,
    xResolution: FAX_X_RESOLUTION,
    yResolution: FAX_Y_RESOLUTION[resolution],
    ghostscript: options.ghostscript,
  });
  if (strips.length !== texts.length) throw new Error(`Ghostscript drew ${strips.length} header lines for ${texts.length} pages`);
  return strips;
}

/** The pages with the header line drawn at the top of each; page numbers count every page given. */
export async function addHeaderLine(pages: readonly FaxPage[], options: HeaderLineOptions): Promise<FaxPage[]> {
  const texts = pages.map((_, index) => headerText(options, index + 1, pages.length));
  const out: FaxPage[] = [...pages];
  for (const resolution of new Set(pages.map((page) => page.resolution))) {
    const indexes = pages.flatMap((page, index) => (page.resolution === resolution ? [index] : []));
    const strips = await renderStrips(
      indexes.map((index) => texts[index]),
      resolution,
      options,
    );
    indexes.forEach((index, i) => {
      const page = pages[index];
      out[index] = pageFromBitmap(applyStrip(pageBitmap(page), strips[i], Math.max(a4Rows(resolution), page.height)), resolution);
    });
  }
  return out;
}
