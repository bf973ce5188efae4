import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageThumbnail } from '@faxnotify/fax-line';
import { letterDocument } from '@faxnotify/fax-line/testing';
import { confirmationReportPdf, type ReportContent, type ReportRow } from './pdf';

/** Runs one of poppler's tools (deploy/setup.sh installs poppler-utils) on the PDF; its output. */
function poppler(tool: string, args: string[], pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-report-'));
  try {
    writeFileSync(join(dir, 'report.pdf'), pdf);
    return execFileSync(tool, [...args, join(dir, 'report.pdf'), ...(tool === 'pdftotext' ? ['-'] : [])], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report's text as pdftotext reads it, one string per page. */
const pdfText = (pdf: Buffer): string[] =>
  poppler('pdftotext', ['-layout', '-enc', 'UTF-8'], pdf)
    .split('\f')
    .filter((p) => p.trim());

const row = (number: string, overrides: Partial<ReportRow> = {}): ReportRow => ({
  number,
  csid: 'ACME',
  pages: '3 / 3',
  started: '07.12.2026, 10:00:01',
  ended: '07.12.2026, 10:01:30',
  statusLabel: 'Доставлен',
  statusText: 'Все страницы приняты.',
  attempts: '1',
  ...overrides,
});

const content = (rows: ReportRow[], firstPage: ReportContent['firstPage']): ReportContent => ({
  locale: 'ru',
  faxId: 'fax-report-1',
  facts: [
    { label: 'Тема', value: 'Счёт (x) Tj ET /JavaScript << >> endobj %%EOF' },
    { label: 'Страниц', value: '3' },
  ],
  rows,
  firstPage,
  timesIn: 'Время: Europe/Moscow',
});

describe('the confirmation report PDF', () => {
  const picture = pageThumbnail(letterDocument(1, 'fine').document.pages[0], { width: 200 });

  it('prints the facts, the rows and hostile text as text, in Cyrillic, with the first page embedded', async () => {
    const hostile = '<b>")Tj BT&#1;';
    const pdf = await confirmationReportPdf(
      content(
        [row('+74951234567'), row('+390612345678', { csid: hostile, statusLabel: 'Занято', statusText: 'Линия занята.', pages: '0 / 3', attempts: '3' })],
        picture,
      ),
    );
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pages = pdfText(pdf);
    expect(pages).toHaveLength(1);
    const text = pages[0];
    for (const expected of [
      'Отчёт о доставке факса',
      'Счёт (x) Tj ET /JavaScript',
      '+74951234567',
      '+390612345678',
      hostile,
      'Занято',
      'Линия занята.',
      'Страница 1 из 1',
      'Первая страница',
    ])
      expect(text).toContain(expected);
    // The untrusted text is in the file only as glyphs of the embedded font: never as PDF syntax.
    expect(pdf.includes(Buffer.from('/JavaScript'))).toBe(false);
    // The picture is an image of the file.
    const images = poppler('pdfimages', ['-list'], pdf);
    expect(images).toMatch(/\b200\s+2[78]\d\s+(rgb|gray)\b/);
  });

  it('goes on over pages with the table head repeated, and says when there is no picture', async () => {
    const rows = Array.from({ length: 70 }, (_, i) => row(`+3906${String(1_000_000 + i)}`));
    const pages = pdfText(await confirmationReportPdf(content(rows, null)));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages[0]).toContain('Нет изображения первой');
    for (const [index, page] of pages.entries()) {
      expect(page).toContain('Номер');
      expect(page).toContain(`Страница ${index + 1} из ${pages.length}`);
    }
    expect(pages.join('\n').match(/\+39061\d{6}/g)).toHaveLength(70);
  });
});
