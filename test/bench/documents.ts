import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ConversionPool } from '@faxnotify/transmitter';
import { round } from '../support/processes';

/**
 * `npm run bench`, document preparation: PDF, DOCX and PNG files turned into fax pages by the
 * transmitter's conversion pool (one worker, default limits), each format measured in a fresh
 * Node process: milliseconds per page, the process's peak resident memory (its conversion worker
 * is a thread of it) and the largest peak of the converters it ran (Ghostscript, LibreOffice;
 * VmHWM of every descendant process, sampled from /proc). Prints one JSON object.
 */

const FORMATS = ['pdf', 'docx', 'png'] as const;
type Format = (typeof FORMATS)[number];

interface Measured {
  format: Format;
  pages: number;
  runs: number;
  msPerPage: { mean: number; best: number };
  firstRunMsPerPage: number;
  peakRssMb: { process: number; largestConverter: number | null };
}

/** PostScript for `pages` A4 pages of text in the layout of a letter. */
function letterPostScript(pages: number): string {
  const page = (n: number) =>
    `/Helvetica findfont 11 scalefont setfont\n` +
    Array.from(
      { length: 50 },
      (_, i) => `72 ${780 - i * 14} moveto (Page ${n}, line ${i + 1}: the quick brown fox jumps over the lazy dog 0123456789) show`,
    ).join('\n') +
    '\nshowpage';
  return `%!PS\n<< /PageSize [595 842] >> setpagedevice\n${Array.from({ length: pages }, (_, i) => page(i + 1)).join('\n')}\n`;
}

function makeFiles(dir: string): Record<Format, string> {
  const gs = (...args: string[]) => execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', ...args]);
  const ps = join(dir, 'letter.ps');
  writeFileSync(ps, letterPostScript(20));
  const pdf = join(dir, 'letter.pdf');
  gs('-sDEVICE=pdfwrite', `-sOutputFile=${pdf}`, ps);
  const picture = join(dir, 'picture.ps');
  writeFileSync(picture, letterPostScript(1));
  const png = join(dir, 'picture.png');
  gs('-sDEVICE=png16m', '-r150', `-sOutputFile=${png}`, picture);
  // About five pages of Writer's default style.
  const text = join(dir, 'letter.txt');
  writeFileSync(text, Array.from({ length: 250 }, (_, i) => `Line ${i + 1}: the quick brown fox jumps over the lazy dog, Привет, très bien.`).join('\n'));
  execFileSync(
    'soffice',
    [`-env:UserInstallation=file://${join(dir, 'profile')}`, '--headless', '--norestore', '--convert-to', 'docx', '--outdir', dir, text],
    {
      stdio: 'ignore',
    },
  );
  return { pdf, docx: join(dir, 'letter.docx'), png };
}

/** Process ids under `root` (children, grandchildren, …), from /proc. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // The command name is in parentheses and may hold spaces: the parent's pid is the second field after it.
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  for (const pid of parent.keys()) {
    for (let up = parent.get(pid); up !== undefined && up > 1; up = parent.get(up)) {
      if (up === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

function peakKb(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** In the measuring process: converts the file `runs` times after a first run, sampling the converters' memory meanwhile. */
async function measure(format: Format, file: string, runs: number): Promise<Measured> {
  const pool = new ConversionPool({ workers: 1 });
  let largestKb: number | null = null;
  const sampler = setInterval(() => {
    for (const pid of descendants(process.pid)) {
      const kb = peakKb(pid);
      if (kb !== null && (largestKb === null || kb > largestKb)) largestKb = kb;
    }
  }, 10);
  try {
    const once = async () => {
      const start = performance.now();
      const result = await pool.prepare(file);
      if (!result.ok) throw new Error(`${format}: ${result.status}: ${result.detail}`);
      return { ms: performance.now() - start, pages: result.document.pages.length };
    };
    // The first run starts the worker and warms the converters' caches: reported apart.
    const first = await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push((await once()).ms / first.pages);
    return {
      format,
      pages: first.pages,
      runs,
      msPerPage: { mean: round(times.reduce((a, b) => a + b, 0) / times.length), best: round(Math.min(...times)) },
      firstRunMsPerPage: round(first.ms / first.pages),
      peakRssMb: { process: round(process.resourceUsage().maxRSS / 1024), largestConverter: largestKb === null ? null : round(largestKb / 1024) },
    };
  } finally {
    clearInterval(sampler);
    await pool.close();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      measure: { type: 'string' },
      file: { type: 'string' },
      runs: { type: 'string', default: process.env.BENCH_DOCUMENT_RUNS ?? '3' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive whole number');
  if (values.measure) {
    const format = values.measure as Format;
    if (!FORMATS.includes(format) || !values.file) throw new Error(`--measure takes one of ${FORMATS.join(', ')} with --file`);
    process.stdout.write(`${JSON.stringify(await measure(format, values.file, runs))}\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-documents-'));
  try {
    const files = makeFiles(dir);
    const results: Measured[] = [];
    for (const format of FORMATS) {
      // A fresh process per format, so each peak is its own.
      const { stdout } = await promisify(execFile)(process.execPath, [__filename, '--measure', format, '--file', files[format], '--runs', String(runs)], {
        maxBuffer: 1024 * 1024,
      });
      results.push(JSON.parse(stdout) as Measured);
    }
    process.stdout.write(
      `${JSON.stringify({ documentPreparation: Object.fromEntries(results.map(({ format, ...rest }) => [format, rest])), machine: { cores: (await import('node:os')).cpus().length, node: process.version } }, null, 2)}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
