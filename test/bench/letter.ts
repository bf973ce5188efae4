/**
 * The document `npm run bench:line` sends: a three-page business letter written in PostScript from a
 * fixed-seed word list (the same text every run), made a PDF by Ghostscript and prepared by the
 * transmitter's own documents module; and its pages as PBM files for efax.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pageBitmap, type FaxDocument, type FaxPage } from '@faxnotify/fax-line';
import { prepareDocument } from '@faxnotify/transmitter';

/** Pages of the letter. */
export const DOCUMENT_PAGES = 3;

const WORDS = (
  'the of and to in for on with as by at from that this we our your which will be are is was has have ' +
  'delivery shipment invoice order contract payment account customer service schedule warehouse freight ' +
  'please confirm attached agreement terms conditions period month quarter report figures total amount ' +
  'receipt transport route carrier pallet container customs clearance documents request reference number ' +
  'date address department manager office regarding following previous current additional required ' +
  'accordance notice changes price review approval signature copy original record balance due within days'
).split(' ');

/** A fixed-seed generator, so the letter is the same text in every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function postScriptString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/** Paragraph text wrapped at a character count that fits 11 pt Times between A4 margins. */
function paragraph(random: () => number, sentences: number): string[] {
  const words: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const length = 8 + Math.floor(random() * 14);
    for (let w = 0; w < length; w++) {
      let word = WORDS[Math.floor(random() * WORDS.length)];
      if (random() < 0.04) word = String(1000 + Math.floor(random() * 90000));
      if (w === 0) word = word[0].toUpperCase() + word.slice(1);
      if (w === length - 1) word += '.';
      else if (random() < 0.06) word += ',';
      words.push(word);
    }
  }
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + 1 + word.length > 88) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** PostScript for the letter: letterhead, address block, subject, body text at ~45 lines a page, footer. */
function letterPostScript(pages: number): string {
  const random = lcg(20240611);
  const out: string[] = ['%!PS-Adobe-3.0', `%%Pages: ${pages}`, '<< /PageSize [595 842] >> setpagedevice'];
  for (let page = 1; page <= pages; page++) {
    out.push(`%%Page: ${page} ${page}`);
    let y = 780;
    const text = (font: string, size: number, x: number, words: string) =>
      out.push(`/${font} findfont ${size} scalefont setfont ${x} ${y} moveto ${postScriptString(words)} show`);
    if (page === 1) {
      text('Helvetica-Bold', 16, 72, 'Meridian Freight Services GmbH');
      y -= 14;
      text('Helvetica', 9, 72, 'Hafenstrasse 112  -  20457 Hamburg  -  Tel. +49 40 555 0170  -  Fax +49 40 555 0179');
      out.push('0.8 setlinewidth 72 760 moveto 523 760 lineto stroke');
      y = 720;
      for (const line of ['Northgate Components Ltd.', 'Accounts Payable', '14 Mill Lane', 'Leeds LS1 4AP', 'United Kingdom']) {
        text('Times-Roman', 11, 72, line);
        y -= 13;
      }
      y -= 13;
      text('Times-Roman', 11, 400, 'Hamburg, 11 June 2024');
      y -= 26;
      text('Times-Bold', 12, 72, 'Shipment 2024-0611-77: delivery schedule, invoice and customs documents');
      y -= 26;
      text('Times-Roman', 11, 72, 'Dear Ms Hargreaves,');
      y -= 22;
    } else {
      text('Helvetica', 9, 72, `Meridian Freight Services GmbH  -  Shipment 2024-0611-77  -  page ${page} of ${pages}`);
      out.push('0.5 setlinewidth 72 774 moveto 523 774 lineto stroke');
      y = 750;
    }
    while (y > 120) {
      const lines = paragraph(random, 2 + Math.floor(random() * 4));
      for (const line of lines) {
        if (y <= 120) break;
        text('Times-Roman', 11, 72, line);
        y -= 13.5;
      }
      y -= 9;
    }
    if (page === pages) {
      y = 110;
      text('Times-Roman', 11, 72, 'Yours sincerely,    J. Petersen, Dispatch');
    }
    y = 60;
    text('Helvetica', 8, 72, `Amtsgericht Hamburg HRB 55501  -  VAT DE 812 345 678  -  page ${page} of ${pages}`);
    out.push('showpage');
  }
  out.push('%%EOF', '');
  return out.join('\n');
}

/** The letter as a PDF, prepared by the transmitter's own documents module (fine, MH). */
export async function prepareLetter(dir: string): Promise<FaxDocument> {
  const ps = join(dir, 'letter.ps');
  const pdf = join(dir, 'letter.pdf');
  writeFileSync(ps, letterPostScript(DOCUMENT_PAGES));
  execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=pdfwrite', `-sOutputFile=${pdf}`, ps]);
  const prepared = await prepareDocument(pdf);
  if (!prepared.ok) throw new Error(`cannot prepare the letter: ${prepared.status}: ${prepared.detail}`);
  if (prepared.document.pages.length !== DOCUMENT_PAGES) throw new Error(`the letter has ${prepared.document.pages.length} pages, expected ${DOCUMENT_PAGES}`);
  return prepared.document;
}

/** A page as binary PBM, the format efax encodes itself: one file per page (efax sends a multi-page TIFF wrongly). */
export function pagePbm(page: FaxPage): Buffer {
  const bitmap = pageBitmap(page);
  const rowBytes = Math.ceil(bitmap.width / 8);
  if (bitmap.rowBytes !== rowBytes) throw new Error('unexpected bitmap row layout');
  return Buffer.concat([Buffer.from(`P4\n${bitmap.width} ${bitmap.height}\n`, 'latin1'), Buffer.from(bitmap.data)]);
}
