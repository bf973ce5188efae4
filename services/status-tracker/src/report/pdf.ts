import { readFileSync } from 'node:fs';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb, type PDFFont, type PDFImage, type PDFPage } from 'pdf-lib';
import { fill } from '../pages/strings';
import { REPORT_STRINGS, type ReportStrings } from './strings';
import type { Locale } from '@faxnotify/contracts';

/**
 * The fax confirmation report as a PDF: the fax's facts, its first page's picture, and one row per
 * recipient (number, remote CSID, pages sent of total, start and end in the viewer's time zone,
 * status with its text, attempts). Text from strangers (subject, CSID, file names) is only ever
 * drawn as glyphs of an embedded font: nothing in it is read as PDF syntax.
 *
 * The font is DejaVu Sans (Latin, Cyrillic, Italian accents), from Debian's fonts-dejavu-core,
 * which deploy/setup.sh installs; it is embedded (subset), so the report reads the same anywhere.
 */
export const REPORT_FONT_FILES = {
  regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
};

/** One recipient's row, its texts already made plain (one line, bounded) by the caller. */
export interface ReportRow {
  number: string;
  csid: string;
  pages: string;
  started: string;
  ended: string;
  statusLabel: string;
  statusText: string;
  attempts: string;
}

/** Everything the report shows, already in the viewer's language and time zone. */
export interface ReportContent {
  locale: Locale;
  faxId: string;
  facts: Array<{ label: string; value: string }>;
  rows: ReportRow[];
  /** The first page's picture (a PNG), or null when the tracker has none. */
  firstPage: { png: Buffer; width: number; height: number } | null;
  /** "Times in Europe/Rome", in the viewer's language. */
  timesIn: string;
}

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 40;
const CONTENT_WIDTH = A4.width - 2 * MARGIN;
const BODY = 9;
const SMALL = 7.5;
const LINE = 1.25;
const CELL_PAD = 3;
const THUMB_WIDTH = 150;
const INK = rgb(0.1, 0.1, 0.1);
const MUTED = rgb(0.38, 0.38, 0.38);
const RULE = rgb(0.75, 0.75, 0.75);
const HEAD_FILL = rgb(0.92, 0.92, 0.92);

/** The table's columns: key and share of the content width. */
const COLUMNS = [
  ['number', 0.17],
  ['csid', 0.18],
  ['pages', 0.08],
  ['started', 0.12],
  ['ended', 0.12],
  ['status', 0.23],
  ['attempts', 0.1],
] as const;

let fontBytes: { regular: Buffer; bold: Buffer } | undefined;
const fonts = () => (fontBytes ??= { regular: readFileSync(REPORT_FONT_FILES.regular), bold: readFileSync(REPORT_FONT_FILES.bold) });

/** Each character's advance per font at size 1: laying a string out with fontkit on every try costs far more than adding these up (kerning aside). */
const advances = new WeakMap<PDFFont, Map<string, number>>();
const textWidth = (font: PDFFont, text: string, size: number): number => {
  let known = advances.get(font);
  if (!known) advances.set(font, (known = new Map<string, number>()));
  let sum = 0;
  for (const char of text) {
    let advance = known.get(char);
    if (advance === undefined) known.set(char, (advance = font.widthOfTextAtSize(char, 1)));
    sum += advance;
  }
  return sum * size;
};

/** Lines of `text` at `size` that fit `width`; a word wider than the width is broken between characters. */
export function wrapText(text: string, font: PDFFont, size: number, width: number): string[] {
  const fits = (candidate: string) => textWidth(font, candidate, size) <= width;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter(Boolean)) {
    const joined = line ? `${line} ${word}` : word;
    if (fits(joined)) {
      line = joined;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    let rest = word;
    while (!fits(rest)) {
      const chars = [...rest];
      let take = 1;
      while (take < chars.length && fits(chars.slice(0, take + 1).join(''))) take += 1;
      lines.push(chars.slice(0, take).join(''));
      rest = chars.slice(take).join('');
    }
    line = rest;
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [''];
}

class ReportWriter {
  page!: PDFPage;
  y = 0;
  readonly pages: PDFPage[] = [];

  constructor(
    private readonly doc: PDFDocument,
    readonly regular: PDFFont,
    readonly bold: PDFFont,
  ) {}

  newPage(): void {
    this.page = this.doc.addPage([A4.width, A4.height]);
    this.pages.push(this.page);
    this.y = A4.height - MARGIN;
  }

  text(value: string, x: number, y: number, options: { size?: number; bold?: boolean; color?: ReturnType<typeof rgb> } = {}): void {
    this.page.drawText(value, { x, y, size: options.size ?? BODY, font: options.bold ? this.bold : this.regular, color: options.color ?? INK });
  }
}

/** Draws the fax's facts in two columns (label, value) left of the picture; returns where they end. */
function drawFacts(w: ReportWriter, content: ReportContent, top: number, width: number): number {
  const labelWidth = Math.max(...content.facts.map((f) => textWidth(w.bold, f.label, BODY))) + 10;
  let y = top;
  for (const fact of content.facts) {
    const lines = wrapText(fact.value, w.regular, BODY, width - labelWidth);
    w.text(fact.label, MARGIN, y - BODY, { bold: true });
    lines.forEach((line, index) => w.text(line, MARGIN + labelWidth, y - BODY - index * BODY * LINE));
    y -= lines.length * BODY * LINE + 4;
  }
  w.text(content.timesIn, MARGIN, y - SMALL, { size: SMALL, color: MUTED });
  return y - SMALL * LINE - 4;
}

function drawFirstPage(w: ReportWriter, image: PDFImage | null, t: ReportStrings, top: number): number {
  const x = A4.width - MARGIN - THUMB_WIDTH;
  w.text(t.firstPage, x, top - SMALL, { size: SMALL, color: MUTED });
  const boxTop = top - SMALL * LINE - 2;
  const height = image ? (THUMB_WIDTH * image.height) / image.width : THUMB_WIDTH * 1.414;
  w.page.drawRectangle({ x, y: boxTop - height, width: THUMB_WIDTH, height, borderColor: RULE, borderWidth: 0.75, color: image ? undefined : HEAD_FILL });
  if (image) w.page.drawImage(image, { x, y: boxTop - height, width: THUMB_WIDTH, height });
  else
    wrapText(t.noPreview, w.regular, SMALL, THUMB_WIDTH - 12).forEach((line, i) =>
      w.text(line, x + 6, boxTop - height / 2 - i * SMALL * LINE, { size: SMALL, color: MUTED }),
    );
  return boxTop - height;
}

type Cell = Array<{ text: string; size: number; bold?: boolean; color?: ReturnType<typeof rgb> }>;

function cellsOf(row: ReportRow, w: ReportWriter, widths: number[]): Cell[] {
  const plain = (text: string, index: number): Cell =>
    wrapText(text, w.regular, BODY, widths[index] - 2 * CELL_PAD).map((line) => ({ text: line, size: BODY }));
  const status: Cell = [
    ...wrapText(row.statusLabel, w.bold, BODY, widths[5] - 2 * CELL_PAD).map((line) => ({ text: line, size: BODY, bold: true })),
    ...(row.statusText ? wrapText(row.statusText, w.regular, SMALL, widths[5] - 2 * CELL_PAD).map((line) => ({ text: line, size: SMALL, color: MUTED })) : []),
  ];
  return [plain(row.number, 0), plain(row.csid, 1), plain(row.pages, 2), plain(row.started, 3), plain(row.ended, 4), status, plain(row.attempts, 6)];
}

const cellHeight = (cell: Cell) => cell.reduce((sum, line) => sum + line.size * LINE, 0) + 2 * CELL_PAD;

function drawRow(w: ReportWriter, cells: Cell[], widths: number[], head: boolean): void {
  const height = Math.max(...cells.map(cellHeight));
  if (head) w.page.drawRectangle({ x: MARGIN, y: w.y - height, width: CONTENT_WIDTH, height, color: HEAD_FILL });
  let x = MARGIN;
  cells.forEach((cell, index) => {
    let y = w.y - CELL_PAD;
    for (const line of cell) {
      y -= line.size;
      w.text(line.text, x + CELL_PAD, y, { size: line.size, bold: line.bold, color: line.color });
      y -= line.size * (LINE - 1);
    }
    x += widths[index];
  });
  w.y -= height;
  w.page.drawLine({ start: { x: MARGIN, y: w.y }, end: { x: MARGIN + CONTENT_WIDTH, y: w.y }, thickness: 0.5, color: RULE });
}

/** The report as PDF bytes. */
export async function confirmationReportPdf(content: ReportContent): Promise<Buffer> {
  const t = REPORT_STRINGS[content.locale];
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  const bytes = fonts();
  const w = new ReportWriter(doc, await doc.embedFont(bytes.regular, { subset: true }), await doc.embedFont(bytes.bold, { subset: true }));
  doc.setTitle(`${t.title} ${content.faxId}`);
  doc.setProducer('faxnotify');
  doc.setCreator('faxnotify status tracker');
  doc.setLanguage(content.locale);
  // A picture pdf-lib cannot read leaves the report without it rather than without a report.
  const image = content.firstPage ? await doc.embedPng(content.firstPage.png).catch(() => null) : null;

  w.newPage();
  w.text(t.title, MARGIN, w.y - 18, { size: 18, bold: true });
  const top = w.y - 18 - 14;
  const factsEnd = drawFacts(w, content, top, CONTENT_WIDTH - THUMB_WIDTH - 20);
  const pictureEnd = drawFirstPage(w, image, t, top);
  w.y = Math.min(factsEnd, pictureEnd) - 18;

  w.text(t.recipients, MARGIN, w.y - 12, { size: 12, bold: true });
  w.y -= 12 + 8;
  const widths = COLUMNS.map(([, share]) => share * CONTENT_WIDTH);
  const headCells: Cell[] = COLUMNS.map(([key], index) =>
    wrapText(t.columns[key], w.bold, SMALL, widths[index] - 2 * CELL_PAD).map((line) => ({ text: line, size: SMALL, bold: true })),
  );
  drawRow(w, headCells, widths, true);
  for (const row of content.rows) {
    const cells = cellsOf(row, w, widths);
    if (w.y - Math.max(...cells.map(cellHeight)) < MARGIN + 20) {
      w.newPage();
      drawRow(w, headCells, widths, true);
    }
    drawRow(w, cells, widths, false);
  }

  w.pages.forEach((page, index) => {
    const footer = `${content.faxId} · ${fill(t.pageOf, { n: index + 1, of: w.pages.length })}`;
    page.drawText(footer, { x: MARGIN, y: MARGIN / 2, size: SMALL, font: w.regular, color: MUTED });
  });
  return Buffer.from(await doc.save());
}
