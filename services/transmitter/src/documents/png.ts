/**
 * PNG pictures: decoded here (zlib and the PNG row filters, no outside library) to 8-bit grey,
 * then drawn by Ghostscript on an A4 page of a PDF, scaled to fit with its proportions kept, so
 * the picture goes the PDF way and is halftoned like any grey PDF page. Non-interlaced PNGs of
 * every colour type and depth are read; an interlaced one, or one over documents.maxPixelsPerPage, is
 * refused as failed_image_preparation.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { PreparationFailure } from './format';
import { type DocumentLimits, limitDetail } from './limits';
import type { Run } from './office';

export const PNG_SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');

export interface GreyImage {
  width: number;
  height: number;
  /** One byte a pixel, 0 black to 255 white, rows top to bottom. */
  data: Buffer;
}

function fail(detail: string): never {
  throw new PreparationFailure('failed_image_preparation', `PNG: ${detail}`);
}

/** Decodes a PNG to grey; transparent parts are put on white. */
export function decodePng(file: Buffer, limits: DocumentLimits): GreyImage {
  if (!file.subarray(0, 8).equals(PNG_SIGNATURE)) fail('not a PNG file');
  let offset = 8;
  let header: Buffer | undefined;
  let palette: Buffer | undefined;
  let alphas: Buffer | undefined;
  const data: Buffer[] = [];
  while (offset + 8 <= file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    const body = file.subarray(offset + 8, offset + 8 + length);
    if (body.length < length) fail(`the ${type} chunk is cut short`);
    if (type === 'IHDR') header = body;
    else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') alphas = body;
    else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!header || header.length < 13) fail('no image header');
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const [depth, colour, , , interlace] = header.subarray(8, 13);
  if (width === 0 || height === 0) fail('the picture is empty');
  if (width * height > limits.maxPixelsPerPage) {
    throw new PreparationFailure('failed_image_preparation', limitDetail('maxPixelsPerPage', `the PNG picture has ${width}x${height} pixels`, limits));
  }
  if (interlace !== 0) fail('interlaced pictures are not supported');
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colour];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) fail(`colour type ${colour} at depth ${depth} is not valid`);
  if (colour === 3 && !palette) fail('a palette picture without its palette');
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const step = Math.max(1, bitsPerPixel >> 3);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(data), { maxOutputLength: (stride + 1) * height + 1 });
  } catch (error) {
    fail(`damaged picture data (${(error as Error).message})`);
  }
  if (raw.length < (stride + 1) * height) fail('the picture data is cut short');

  const grey = Buffer.alloc(width * height);
  let previous = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const left = i >= step ? row[i - step] : 0;
      const up = previous[i];
      const upLeft = i >= step ? previous[i - step] : 0;
      let add = 0;
      if (filter === 1) add = left;
      else if (filter === 2) add = up;
      else if (filter === 3) add = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        add = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      } else if (filter !== 0) fail(`row filter ${filter} is not valid`);
      row[i] = (row[i] + add) & 0xff;
    }
    for (let x = 0; x < width; x++) grey[y * width + x] = pixelGrey(row, x, colour, depth, channels, palette, alphas);
    previous = row;
  }
  return { width, height, data: grey };
}

/** Sample n of a row at the given depth, scaled to 0..255. */
function sample(row: Buffer, index: number, depth: number): number {
  if (depth === 8) return row[index];
  if (depth === 16) return row[index * 2];
  const bit = index * depth;
  const value = (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
  return Math.round((value * 255) / ((1 << depth) - 1));
}

function pixelGrey(row: Buffer, x: number, colour: number, depth: number, channels: number, palette?: Buffer, alphas?: Buffer): number {
  let r: number;
  let g: number;
  let b: number;
  let alpha = 255;
  if (colour === 3) {
    const bit = x * depth;
    const index = depth === 8 ? row[x] : (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    [r, g, b] = [palette![index * 3] ?? 0, palette![index * 3 + 1] ?? 0, palette![index * 3 + 2] ?? 0];
    if (alphas && index < alphas.length) alpha = alphas[index];
  } else {
    const first = x * channels;
    r = sample(row, first, depth);
    [g, b] = colour === 2 || colour === 6 ? [sample(row, first + 1, depth), sample(row, first + 2, depth)] : [r, r];
    if (colour === 4) alpha = sample(row, first + 1, depth);
    if (colour === 6) alpha = sample(row, first + 3, depth);
  }
  const luma = (299 * r + 587 * g + 114 * b) / 1000;
  return Math.round((luma * alpha + 255 * (255 - alpha)) / 255);
}

/** Draws a decoded picture on an A4 page of a PDF in workDir, scaled to fit the page less a margin. */
export async function pngToPdf(image: GreyImage, workDir: string, run: Run, gs = 'gs'): Promise<string> {
  const pixels = join(workDir, 'picture.grey');
  const pdf = join(workDir, 'picture.pdf');
  await writeFile(pixels, image.data);
  const { width, height } = image;
  const place = `/s 575 ${width} div 822 ${height} div 2 copy gt { exch } if pop def
    595 ${width} s mul sub 2 div 842 ${height} s mul sub 2 div translate ${width} s mul ${height} s mul scale
    ${width} ${height} 8 [${width} 0 0 ${-height} 0 ${height}] (${pixels}) (r) file image showpage`;
  const result = await run(gs, [
    '-q',
    '-dNOPAUSE',
    '-dBATCH',
    '-dSAFER',
    `--permit-file-read=${pixels}`,
    '-sDEVICE=pdfwrite',
    '-sPAPERSIZE=a4',
    '-dFIXEDMEDIA',
    `-sOutputFile=${pdf}`,
    '-c',
    place,
  ]);
  if (result.kind !== 'ok') throw new PreparationFailure('failed_image_preparation', `Ghostscript could not draw the PNG: ${result.detail}`);
  return pdf;
}
