/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and prints where the CPU went: self time
 * summed per function (name, file and line), the top entries first, and the share of the whole.
 *
 *   node test/dist/bench/cpu-profile.js <file.cpuprofile> [--top 25] [--json]
 *
 * The idle and garbage-collector pseudo-functions are listed like any other entry; "(idle)" is time
 * the process waited, not CPU, so shares are of the sampled time without it.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeEntry {
  function: string;
  where: string;
  selfMs: number;
  /** Share of the sampled time without "(idle)", in percent. */
  share: number;
}

/** Self time per function (same name, file and line summed over all its nodes), the largest first. */
export function selfTimes(profile: Profile): { entries: SelfTimeEntry[]; busyMs: number; idleMs: number } {
  const byNode = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byNode.set(node.id, node);
  const microsByNode = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the sample's time runs until the next one.
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    microsByNode.set(profile.samples[i], (microsByNode.get(profile.samples[i]) ?? 0) + Math.max(0, delta));
  }
  const byFunction = new Map<string, { function: string; where: string; micros: number }>();
  for (const [id, micros] of microsByNode) {
    const { functionName, url, lineNumber } = byNode.get(id)!.callFrame;
    const file = url.startsWith('file://') ? relative(process.cwd(), new URL(url).pathname) : url;
    const where = file ? `${file}:${lineNumber + 1}` : '';
    const key = `${functionName}\u0000${where}`;
    const entry = byFunction.get(key) ?? { function: functionName || '(anonymous)', where, micros: 0 };
    entry.micros += micros;
    byFunction.set(key, entry);
  }
  const all = [...byFunction.values()];
  const idleMicros = all.filter((e) => e.function === '(idle)').reduce((a, e) => a + e.micros, 0);
  const busyMicros = all.reduce((a, e) => a + e.micros, 0) - idleMicros;
  const entries = all
    .filter((e) => e.function !== '(idle)')
    .sort((a, b) => b.micros - a.micros)
    .map((e) => ({ function: e.function, where: e.where, selfMs: Math.round(e.micros / 100) / 10, share: Math.round((e.micros / busyMicros) * 1000) / 10 }));
  return { entries, busyMs: Math.round(busyMicros / 1000), idleMs: Math.round(idleMicros / 1000) };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new Error('usage: cpu-profile <file.cpuprofile> [--top N] [--json]');
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
  const { entries, busyMs, idleMs } = selfTimes(profile);
  const top = entries.slice(0, Number(values.top));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ busyMs, idleMs, top }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`busy ${busyMs} ms, idle ${idleMs} ms\n`);
  for (const e of top) process.stdout.write(`${String(e.selfMs).padStart(9)} ms ${String(e.share).padStart(5)} %  ${e.function}  ${e.where}\n`);
}

if (require.main === module) main();
