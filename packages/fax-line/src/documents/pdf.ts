/**
 * Fax pages as a PDF whose images are the pages' own T.4 data: what the Inbox hands out for a
 * received fax and the transmitter for a sent one.
 */
import { FAX_X_RESOLUTION, FAX_Y_RESOLUTION, type FaxPage } from './fax-document';

/** A page's size in PDF points (1/72 in): 204 pixels per inch across, 98 or 196 rows per inch down (an A4 page's size). */
export const pageSizePoints = (page: FaxPage): { width: number; height: number } => ({
  width: (page.width * 72) / FAX_X_RESOLUTION,
  height: (Math.max(page.height, 1) * 72) / FAX_Y_RESOLUTION[page.resolution],
});

const num = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(3));

/**
 * Fax pages (sent or received) as a PDF: one page each, its image the page's own MH data under `/CCITTFaxDecode`
 * (K 0: T.4 1-D; EOLs before rows, not byte-aligned; 0 is black as decoded, so BlackIs1 false on
 * DeviceGray), scaled to the page's physical size. No re-encoding: the reader decodes what the
 * line carried. A page of no rows is a blank page of one row's height.
 */
export function pagesToPdf(pages: readonly FaxPage[], title = 'Fax'): Buffer {
  const chunks: Buffer[] = [];
  const offsets: number[] = [];
  let length = 0;
  const write = (part: string | Buffer) => {
    const buffer = typeof part === 'string' ? Buffer.from(part, 'latin1') : part;
    chunks.push(buffer);
    length += buffer.length;
  };
  const object = (id: number, body: string, stream?: Buffer) => {
    offsets[id] = length;
    write(`${id} 0 obj\n${body}\n`);
    if (stream) {
      write('stream\n');
      write(stream);
      write('\nendstream\n');
    }
    write('endobj\n');
  };
  write('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n');
  // Objects: 1 catalog, 2 page tree, 3 info; then per page: page, contents, image.
  const pageIds = pages.map((_, index) => 4 + index * 3);
  object(1, '<< /Type /Catalog /Pages 2 0 R >>');
  object(2, `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`);
  object(3, `<< /Title (${title.replace(/[^A-Za-z0-9 .,:_-]/g, '')}) /Producer (faxnotify) >>`);
  pages.forEach((page, index) => {
    const id = pageIds[index];
    const size = pageSizePoints(page);
    const hasImage = page.height > 0;
    const content = Buffer.from(hasImage ? `q ${num(size.width)} 0 0 ${num(size.height)} 0 0 cm /Im0 Do Q\n` : '', 'latin1');
    object(
      id,
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${num(size.width)} ${num(size.height)}] /Contents ${id + 1} 0 R /Resources << ${
        hasImage ? `/XObject << /Im0 ${id + 2} 0 R >> ` : ''
      }>> >>`,
    );
    object(id + 1, `<< /Length ${content.length} >>`, content);
    object(
      id + 2,
      `<< /Type /XObject /Subtype /Image /Width ${page.width} /Height ${Math.max(page.height, 1)} /ColorSpace /DeviceGray /BitsPerComponent 1 ` +
        `/Filter /CCITTFaxDecode /DecodeParms << /K 0 /Columns ${page.width} /Rows ${Math.max(page.height, 1)} /EndOfLine true ` +
        `/EncodedByteAlign false /EndOfBlock false /BlackIs1 false >> /Length ${page.data.length} >>`,
      page.data,
    );
  });
  const count = 4 + pages.length * 3;
  const xref = length;
  write(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let id = 1; id < count; id += 1) write(`${String(offsets[id]).padStart(10, '0')} 00000 n \n`);
  write(`trailer\n<< /Size ${count} /Root 1 0 R /Info 3 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(chunks);
}
