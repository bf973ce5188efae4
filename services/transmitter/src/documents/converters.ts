/**
 * Running the outside converters (Ghostscript, tiffcp) within a document's limits: each under
 * `prlimit --as` (its address space capped at documents.maxMemoryMb) and killed when the
 * document's time is up. Every child's process id is reported, so whoever stops a conversion can
 * stop its converters too.
 */
import { execFile } from 'node:child_process';
import type { DocumentLimits } from './limits';

export type RunResult = { kind: 'ok' | 'failed' | 'missing' | 'timeout' | 'memory'; detail: string };

export interface RunBounds {
  /** Milliseconds left for this run. */
  timeoutMs: number;
  limits: DocumentLimits;
  /** Told each child's pid when it starts, and null when it ends. */
  onChild?: (pid: number, running: boolean) => void;
}

/** What a converter prints when it could not get the memory it asked for. */
const OUT_OF_MEMORY = /VMerror|out of memory|Cannot allocate memory|failed to map segment|std::bad_alloc|Not enough memory/i;

export function runConverter(command: string, args: readonly string[], bounds: RunBounds): Promise<RunResult> {
  const timeout = Math.max(1, Math.floor(bounds.timeoutMs));
  const memoryBytes = bounds.limits.maxMemoryMb * 1024 * 1024;
  return new Promise((resolve) => {
    const child = execFile(
      'prlimit',
      [`--as=${memoryBytes}`, '--', command, ...args],
      { timeout, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (child.pid !== undefined) bounds.onChild?.(child.pid, false);
        const output = `${stderr}${stdout}`.trim().split('\n').slice(-8).join('\n').slice(0, 2000);
        if (!error) return resolve({ kind: 'ok', detail: output });
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: string | number; signal?: string | null };
        if (failure.code === 'ENOENT') return resolve({ kind: 'missing', detail: 'prlimit: not found' });
        if (failure.killed) return resolve({ kind: 'timeout', detail: `${command} killed after ${timeout} ms` });
        if (/prlimit: failed to execute/.test(output)) return resolve({ kind: 'missing', detail: `${command}: not found` });
        if (OUT_OF_MEMORY.test(output) || failure.signal === 'SIGSEGV' || failure.signal === 'SIGABRT') {
          return resolve({ kind: 'memory', detail: output || `${command} ended by ${failure.signal}` });
        }
        resolve({ kind: 'failed', detail: output || `${command} exited with ${String(failure.code)}` });
      },
    );
    if (child.pid !== undefined) bounds.onChild?.(child.pid, true);
  });
}
