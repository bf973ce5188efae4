import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { issueToken } from '@faxnotify/kit';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { result, submitted } from '../testing/events';

/**
 * The Sent folder's CSV opened in a real spreadsheet: LibreOffice Calc (headless, the one setup
 * installs for the transmitter) reads the export as CSV and writes what it shows as HTML. The
 * hostile subject and CSID are shown as the text they are, and no cell became a link; the same
 * cell without the export's escaping does become one (so the check can fail).
 */
jest.setTimeout(180_000);

const run = promisify(execFile);
const HOSTILE = '=HYPERLINK("http://evil.example","x")';
let service: TestApp;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'faxnotify-csv-calc-'));
  service = await startTestApp('csv-spreadsheet');
  await service.tracker.handle(submitted('fax-hostile', 'sara', ['r1', 'r2'], { subject: HOSTILE, submittedAt: '2026-12-06T09:00:00.000Z' }));
  await service.tracker.handle(result('fax-hostile', 'r1', 1, 1, 'success', 3, { remoteCsid: '@SUM(1+1)' }));
  await service.tracker.handle(result('fax-hostile', 'r2', 1, 2, 'failed_user_busy', 0));
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The cells Calc shows for a CSV file (comma, double quotes, UTF-8), row by row, and the links among them. */
async function openInCalc(name: string, csv: Buffer): Promise<{ rows: string[][]; links: string[] }> {
  const file = join(dir, `${name}.csv`);
  writeFileSync(file, csv);
  await run(
    'soffice',
    [`-env:UserInstallation=file://${join(dir, `profile-${name}`)}`, '--headless', '--infilter=CSV:44,34,76,1', '--convert-to', 'html', '--outdir', dir, file],
    { timeout: 150_000 },
  );
  const html = readFileSync(join(dir, `${name}.html`), 'utf8');
  const unescape = (text: string) =>
    text
      .replace(/<br>/g, '')
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const rows = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => unescape(cell[1])));
  return { rows, links: [...html.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]) };
}

it('opens in a spreadsheet with a row per recipient, the hostile subject and CSID as text', async () => {
  const token = await issueToken({ secret: TEST_SECRET }, 'sara', 3600);
  const response = await fetch(`${service.url}/v1/faxes.csv?tz=UTC&lang=en`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  const { rows, links } = await openInCalc('export', Buffer.from(await response.arrayBuffer()));
  expect(links).toEqual([]);
  expect(rows[0].slice(0, 6)).toEqual(['Fax ID', 'Submitted (UTC)', 'Subject', 'Sent by', 'Number', 'CSID']);
  expect(rows.slice(1).map((r) => r.slice(0, 7))).toEqual([
    ['fax-hostile', '2026-12-06 09:00:00', `'${HOSTILE}`, 'sara', "'+12025550101", "'@SUM(1+1)", 'Delivered'],
    ['fax-hostile', '2026-12-06 09:00:00', `'${HOSTILE}`, 'sara', "'+12025550102", '', 'Line busy'],
  ]);

  // The same cell unescaped is run by the spreadsheet: it becomes the link.
  const naive = await openInCalc('naive', Buffer.from(`"Subject"\r\n"${HOSTILE.replace(/"/g, '""')}"\r\n`));
  expect(naive.links).toEqual(['http://evil.example']);
});
