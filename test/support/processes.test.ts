import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { peakRssMb, resetPeakRss, rssMb } from './processes';

/**
 * A child that touches 96 MB, then lets it go (the pages go back to the system), telling each
 * step on stdout and waiting for a line on stdin before the next.
 */
const CHILD = `
const rl = require('node:readline').createInterface({ input: process.stdin });
let big = null;
const steps = [
  () => { big = Buffer.alloc(96 * 1024 * 1024, 1); return 'held'; },
  // Backing stores are freed after the collection, off the main thread: collect, wait, collect.
  async () => { big = null; global.gc(); await new Promise((r) => setTimeout(r, 300)); global.gc(); return 'freed'; },
];
process.stdout.write('ready\\n');
rl.on('line', async () => process.stdout.write((await steps.shift()()) + '\\n'));
`;

async function nextLine(child: ReturnType<typeof spawn>): Promise<string> {
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return chunk.toString().trim();
}

describe('memory figures of a process', () => {
  it('resident memory falls when pages go back, the peak keeps the spike until it is started again', async () => {
    const child = spawn(process.execPath, ['--expose-gc', '-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      expect(await nextLine(child)).toBe('ready');
      const before = { rss: rssMb(child.pid)!, peak: peakRssMb(child.pid)! };
      child.stdin.write('\n');
      expect(await nextLine(child)).toBe('held');
      const held = { rss: rssMb(child.pid)!, peak: peakRssMb(child.pid)! };
      child.stdin.write('\n');
      expect(await nextLine(child)).toBe('freed');
      const freed = { rss: rssMb(child.pid)!, peak: peakRssMb(child.pid)! };

      expect(before.rss).toBeGreaterThan(0);
      expect(held.rss).toBeGreaterThan(before.rss + 80);
      expect(held.peak).toBeGreaterThan(before.rss + 80);
      // The spike is over: resident memory is back near where it started, the peak still shows it.
      expect(freed.rss).toBeLessThan(held.rss - 80);
      expect(freed.peak).toBeGreaterThan(freed.rss + 80);
      // Started again, the peak is what the process holds now.
      expect(resetPeakRss(child.pid)).toBe(true);
      expect(peakRssMb(child.pid)!).toBeLessThan(held.rss - 80);
    } finally {
      child.kill();
      if (child.exitCode === null) await once(child, 'exit');
    }
    // Once the process is gone there is nothing to read.
    expect(rssMb(child.pid)).toBeNull();
    expect(peakRssMb(child.pid)).toBeNull();
    expect(resetPeakRss(child.pid)).toBe(false);
  });
});
