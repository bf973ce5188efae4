import { FIRST_PAGE_MAX_BASE64 } from '@faxnotify/contracts';
import { createBitmap, pageFromBitmap } from '@faxnotify/fax-line';
import { letterDocument, randomRunsBitmap } from '@faxnotify/fax-line/testing';
import { firstPagePicture } from './first-page';

describe("fax.submitted's picture of the first page", () => {
  it('is the first page, 200 pixels across in greys, within the cap', () => {
    const picture = firstPagePicture(letterDocument(2, 'fine').document)!;
    expect(picture).toMatchObject({ width: 200 });
    expect(picture.png.length).toBeLessThanOrEqual(FIRST_PAGE_MAX_BASE64);
    expect(Buffer.from(picture.png, 'base64').readUInt8(24)).toBe(4);
  });

  it('gives up greys, then size, for a page too busy to fit the cap; none for a fax without pages', () => {
    const noise = { pages: [pageFromBitmap(randomRunsBitmap(1728, 2292, 3), 'fine')] };
    const full = firstPagePicture(noise)!;
    const cap = full.png.length - 1;
    const fewerGreys = firstPagePicture(noise, cap)!;
    expect(fewerGreys.png.length).toBeLessThanOrEqual(cap);
    expect(Buffer.from(fewerGreys.png, 'base64').readUInt8(24)).toBe(1);
    expect(firstPagePicture(noise, 100)).toBeUndefined();
    expect(firstPagePicture({ pages: [] })).toBeUndefined();
    expect(firstPagePicture({ pages: [pageFromBitmap(createBitmap(1728, 1145), 'standard')] })).toMatchObject({ width: 200 });
  });
});
