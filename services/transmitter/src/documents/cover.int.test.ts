import { blackPixelCount, createBitmap, pageBitmap, pageFromBitmap, setPixel } from '@faxnotify/fax-line';
import { composeFax } from './compose';
import { a4Rows, coverLines, coverPostScript, renderCoverPage } from './cover';

const when = new Date('2026-12-07T01:30:00Z');

function documentPage(marker: number) {
  const bitmap = createBitmap(1728, a4Rows('fine'));
  for (let x = 100; x < 100 + marker * 50; x++) setPixel(bitmap, x, 1000, true);
  return pageFromBitmap(bitmap, 'fine');
}

describe('cover page', () => {
  it('fills the template in the owner’s language and time zone, counting itself in the pages', () => {
    const request = { from: 'Anna +79991234567', to: ['+390612345678', '+390612345679'], subject: 'Договор', comment: 'Подпишите, пожалуйста.' };
    const ru = coverLines(request, { locale: 'ru', timeZone: 'Europe/Moscow', documentPages: 2, date: when });
    expect(ru.title).toBe('ФАКС');
    expect(ru.lines).toEqual([
      'От: Anna +79991234567',
      'Кому: +390612345678, +390612345679',
      'Дата: 7 декабря 2026 г. в 04:30',
      'Страниц: 3 (включая эту титульную страницу)',
      'Тема: Договор',
      '',
      'Подпишите, пожалуйста.',
    ]);
    const it = coverLines(request, { locale: 'it-IT', timeZone: 'Europe/Rome', documentPages: 1, date: when });
    expect(it.lines).toContain('Data: 7 dicembre 2026 alle ore 02:30');
    expect(it.lines).toContain('Pagine: 2 (compresa questa copertina)');
    const en = coverLines(request, { locale: 'de', timeZone: 'UTC', documentPages: 4, date: when });
    expect(en.lines).toContain('Pages: 5 (this cover page included)');
  });

  it('wraps a long comment and keeps a one-line subject on one line', () => {
    const { lines } = coverLines(
      { from: 'a', to: 'b', subject: 'one\ntwo', comment: `${'word '.repeat(40)}\n${'x'.repeat(150)}` },
      { locale: 'en', timeZone: 'UTC', documentPages: 1, date: when },
    );
    expect(lines).toContain('Subject: one two');
    const comment = lines.slice(lines.indexOf('') + 1);
    expect(comment.every((line) => line.length <= 64)).toBe(true);
    expect(comment.join('').replace(/ /g, '')).toBe(`${'word'.repeat(40)}${'x'.repeat(150)}`);
  });

  it('is page 1 of the fax, drawn at the document’s resolution, with the document’s pages after it unchanged', async () => {
    const pages = [documentPage(1), documentPage(2)];
    const fax = await composeFax(pages, {
      cover: { request: { from: 'Anna', to: '+390612345678', subject: 'Test' }, locale: 'en', timeZone: 'UTC', date: when },
    });
    expect(fax).toHaveLength(3);
    expect(fax.slice(1)).toEqual(pages);
    const cover = pageBitmap(fax[0]);
    expect(fax[0].resolution).toBe('fine');
    expect(cover.width).toBe(1728);
    expect(cover.height).toBe(a4Rows('fine'));
    expect(blackPixelCount(cover)).toBeGreaterThan(5_000);
  });

  it('hostile subject and comment stay text: one page drawn (a showpage that ran would make two, a print would spoil the image)', async () => {
    const hostile = ') show showpage (x) print quit (\\';
    const request = { from: 'Mallory', to: '1', subject: hostile, comment: `${hostile}\n<script>alert(1)</script> %!PS` };
    expect(coverPostScript(request, { locale: 'en', timeZone: 'UTC', documentPages: 1, date: when })).not.toContain('(x) print');
    const page = await renderCoverPage(request, { locale: 'en', timeZone: 'UTC', documentPages: 1, date: when, resolution: 'standard' });
    expect(page.height).toBe(a4Rows('standard'));
    expect(blackPixelCount(pageBitmap(page))).toBeGreaterThan(2_000);
  });
});
