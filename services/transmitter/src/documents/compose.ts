/**
 * A prepared document made into the pages that go on the line: the cover page first when the
 * submission asks for one (its page count includes itself), then the header line on every page
 * when it is turned on (numbered over all pages, the cover included).
 */
import type { FaxPage } from '@faxnotify/fax-line';
import { type CoverPageOptions, type CoverPageRequest, renderCoverPage } from './cover';
import { addHeaderLine, type HeaderLineOptions } from './header-line';

export interface ComposeOptions {
  cover?: { request: CoverPageRequest } & Omit<CoverPageOptions, 'documentPages' | 'resolution'>;
  headerLine?: HeaderLineOptions;
}

export async function composeFax(pages: readonly FaxPage[], options: ComposeOptions): Promise<FaxPage[]> {
  let out = [...pages];
  if (options.cover) {
    const { request, ...coverOptions } = options.cover;
    const cover = await renderCoverPage(request, { ...coverOptions, documentPages: pages.length, resolution: pages[0]?.resolution ?? 'fine' });
    out = [cover, ...out];
  }
  if (options.headerLine) out = await addHeaderLine(out, options.headerLine);
  return out;
}
