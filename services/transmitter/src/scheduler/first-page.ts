import { FIRST_PAGE_MAX_BASE64, type FaxSubmitted } from '@faxnotify/contracts';
import { pageThumbnail, type FaxDocument } from '@faxnotify/fax-line';

/** Tried in turn until the picture fits fax.submitted's cap: 200 pixels across in 16 greys, then fewer greys, then smaller. */
const ATTEMPTS = [
  { width: 200, depth: 4 },
  { width: 200, depth: 1 },
  { width: 140, depth: 1 },
  { width: 100, depth: 1 },
] as const;

/**
 * The picture of a fax's first page that fax.submitted carries for the confirmation report: the
 * page as prepared (what every recipient gets), small and grey. None for a fax without pages, or
 * (never seen with real pages, but a page of noise could do it) one too busy to fit the cap.
 */
export function firstPagePicture(document: FaxDocument, maxBase64 = FIRST_PAGE_MAX_BASE64): FaxSubmitted['firstPage'] {
  const page = document.pages[0];
  if (!page) return undefined;
  for (const attempt of ATTEMPTS) {
    const picture = pageThumbnail(page, attempt);
    const png = picture.png.toString('base64');
    if (png.length <= maxBase64) return { png, width: picture.width, height: picture.height };
  }
  return undefined;
}
