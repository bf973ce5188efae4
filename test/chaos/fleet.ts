import { freePort, startService, type RunningService, type ServiceName } from '../support/processes';

/**
 * Replicas of one service as separate processes, each in a slot of its own (its HTTP port and
 * its own settings stay when it is killed and started again).
 */
export interface Replicas {
  name: ServiceName;
  readonly running: RunningService[];
  /** The base URL of a replica's HTTP server. */
  url(slot: number): string;
  /** SIGKILL one replica, then start it again in the same slot; resolves once it is ready. */
  killAndRestart(slot: number): Promise<void>;
  /** Replicas that exited on their own (a crash); each was started again, as a supervisor would. */
  readonly crashes: Array<{ replica: string; code: number | null; at: string; lastOutput: string }>;
  /** Everything the replicas wrote, for diagnostics. */
  output(): string;
  stop(): Promise<void>;
}

export async function startReplicas(
  name: ServiceName,
  count: number,
  envFor: (slot: number, port: number) => Record<string, string>,
  portVariable: string,
): Promise<Replicas> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const running: RunningService[] = [];
  const earlierOutput: string[] = [];
  const crashes: Replicas['crashes'] = [];
  const killing = new Set<RunningService>();
  let stopping = false;
  const start = async (slot: number): Promise<RunningService> => {
    const service = await startService(name, { ...envFor(slot, ports[slot]), [portVariable]: String(ports[slot]) }, 60_000);
    service.process.once('exit', (code) => {
      if (stopping || killing.has(service)) return;
      const output = service.output.join('');
      crashes.push({ replica: `${name}-${slot + 1}`, code, at: new Date().toISOString(), lastOutput: output.slice(-3000) });
      earlierOutput.push(output);
      start(slot).then(
        (next) => {
          running[slot] = next;
        },
        () => undefined,
      );
    });
    return service;
  };
  const replicas: Replicas = {
    name,
    running,
    url: (slot) => `http://127.0.0.1:${ports[slot]}`,
    crashes,
    async killAndRestart(slot) {
      const old = running[slot];
      killing.add(old);
      await old.kill();
      earlierOutput.push(old.output.join(''));
      running[slot] = await start(slot);
    },
    output: () => [...earlierOutput, ...running.map((r) => r.output.join(''))].join('\n'),
    async stop() {
      stopping = true;
      // A replica that does not finish its drain in time is killed.
      // (The timer does not keep the process alive once everything else is done.)
      await Promise.allSettled(
        running.map((r) => Promise.race([r.stop(), new Promise((resolve) => setTimeout(resolve, 40_000).unref())]).then(() => r.kill())),
      );
    },
  };
  try {
    // One after the other: the first runs the database migrations, the next finds them done.
    for (let slot = 0; slot < count; slot++) running.push(await start(slot));
  } catch (error) {
    await replicas.stop();
    throw error;
  }
  return replicas;
}
