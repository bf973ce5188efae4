import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '@faxnotify/peers';

/** The repository root, from sources (test/support) or from the build (test/dist/support). */
export const REPO_ROOT = resolve(__dirname, '..', '..', ...(__dirname.includes(join('test', 'dist')) ? ['..'] : []));

export type ServiceName = 'status-tracker' | 'notifier' | 'transmitter';

export interface RunningService {
  name: ServiceName;
  url: string;
  process: ChildProcess;
  /** Everything the process wrote, for diagnostics. */
  output: string[];
  /** SIGTERM and wait for the exit (graceful drain). */
  stop(): Promise<number | null>;
  /** SIGKILL: no drain, no goodbye. */
  kill(): Promise<void>;
}

export { freePort };

/** A UDP port free on loopback now (for services that listen on UDP, such as the RADIUS server). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** `n` rounded to `digits` decimals, for benchmark figures. */
export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The `p`th percentile of ascending `sorted` values (NaN for none). */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/** A memory figure of /proc/<pid>/status (in kB there) in MB, or null once the process is gone. */
function statusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** Peak resident memory of a process in MB (VmHWM), or null once it is gone. */
export const peakRssMb = (pid: number | undefined): number | null => statusMb(pid, 'VmHWM');

/**
 * Resident memory of a process in MB now (VmRSS), or null once it is gone. Beside the peak it
 * tells a leak (resident memory that keeps growing) from one passing peak (V8 sizing its heap up
 * for a while under load, then giving the pages back).
 */
export const rssMb = (pid: number | undefined): number | null => statusMb(pid, 'VmRSS');

/**
 * Starts a process's peak resident memory (VmHWM) again from what it holds now (Linux's
 * clear_refs), so a peak read later is that of what ran in between; false when not allowed.
 */
export function resetPeakRss(pid: number | undefined): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time (user + system) a process has used so far in ms, or null once it is gone. */
export function cpuMs(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** The pid of the first process whose command name is `comm` (e.g. `beam.smp`, the RabbitMQ node), or undefined. */
export function pidOf(comm: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) return Number(entry);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}

const PREFIX: Record<ServiceName, string> = { 'status-tracker': 'STATUS_TRACKER', notifier: 'NOTIFIER', transmitter: 'TRANSMITTER' };

/**
 * Starts a service from its build (`services/<name>/dist/main.js`) as its own process, as an
 * operator would, and waits until its /readyz answers 200.
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  timeoutMs = 30_000,
  /** Options for node itself, e.g. `--cpu-prof` (which NODE_OPTIONS does not take). */
  nodeArgs: readonly string[] = [],
): Promise<RunningService> {
  const port = Number(env[`${PREFIX[name]}_HTTP_PORT`] ?? (await freePort()));
  const child = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'services', name, 'dist', 'main.js')], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...env, [`${PREFIX[name]}_HTTP_PORT`]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 2000) output.splice(0, output.length - 2000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output.join('')}`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within ${timeoutMs} ms: ${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    url,
    process: child,
    output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
