/**
 * Hostile documents for tests, made on the spot: TIFF header bombs (a page of 20000 × 60000 pixels,
 * 10,000 pages) by our TIFF writer, a PDF of thousands of pages and a password-protected PDF by
 * Ghostscript from a little PostScript, and a zip-bomb DOCX (hundreds of megabytes of paragraphs
 * deflated to well under a megabyte) by zip.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBitmap, encodeMh, writeG3Tiff } from '@faxnotify/fax-line';

function ghostscript(args: string[]): void {
  execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', ...args]);
}

/** A G3 TIFF whose one page declares `width` × `height` pixels (with one row of data). */
export function makeHugeTiff(dir: string, width = 20_000, height = 60_000): string {
  const path = join(dir, 'huge.tif');
  writeFileSync(path, writeG3Tiff([{ width, height, xResolution: 204, yResolution: 196, data: encodeMh(createBitmap(1728, 1)) }]));
  return path;
}

/** A G3 TIFF of `pages` one-row pages. */
export function makeDeepTiff(dir: string, pages = 10_000): string {
  const path = join(dir, 'deep.tif');
  const page = { width: 1728, height: 1, xResolution: 204, yResolution: 196, data: encodeMh(createBitmap(1728, 1)) };
  writeFileSync(path, writeG3Tiff(Array.from({ length: pages }, () => page)));
  return path;
}

/** A PDF of `pages` pages, each with its number (Ghostscript runs a PostScript loop: a small file quickly). */
export function makeManyPagesPdf(dir: string, pages = 5_000): string {
  const ps = join(dir, 'many.ps');
  writeFileSync(ps, `%!PS\n/Helvetica findfont 24 scalefont setfont\n1 1 ${pages} { 72 720 moveto (Page ) show 10 string cvs show showpage } for\n`);
  const pdf = join(dir, 'many.pdf');
  ghostscript(['-sDEVICE=pdfwrite', `-sOutputFile=${pdf}`, ps]);
  return pdf;
}

/** A one-page PDF that cannot be opened without its user password. */
export function makeLockedPdf(dir: string): string {
  const ps = join(dir, 'secret.ps');
  writeFileSync(ps, '%!PS\n/Helvetica findfont 24 scalefont setfont 72 720 moveto (Secret) show showpage\n');
  const pdf = join(dir, 'locked.pdf');
  ghostscript(['-sDEVICE=pdfwrite', '-sOwnerPassword=owner', '-sUserPassword=user', `-sOutputFile=${pdf}`, ps]);
  return pdf;
}

/**
 * A DOCX whose document part inflates to about `megabytes` MB of paragraphs, the whole package
 * deflated to well under a megabyte: a well-formed OOXML package (content types, relationships).
 */
export function makeZipBombDocx(dir: string, megabytes = 200): string {
  const work = mkdtempSync(join(dir, 'zip-bomb-'));
  mkdirSync(join(work, '_rels'));
  mkdirSync(join(work, 'word'));
  writeFileSync(
    join(work, '[Content_Types].xml'),
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
  );
  writeFileSync(
    join(work, '_rels', '.rels'),
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
  );
  const paragraph = '<w:p><w:r><w:t>bomb</w:t></w:r></w:p>';
  const body = paragraph.repeat(Math.floor((megabytes * 1024 * 1024) / paragraph.length));
  writeFileSync(
    join(work, 'word', 'document.xml'),
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  );
  const docx = join(dir, 'zip-bomb.docx');
  execFileSync('zip', ['-q', '-X', '-9', '-nw', docx, '[Content_Types].xml', '_rels/.rels', 'word/document.xml'], { cwd: work });
  rmSync(work, { recursive: true, force: true });
  return docx;
}
