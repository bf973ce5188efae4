/**
 * Our Class 1 sender in a process of its own, for the line benchmark (line.ts): the benchmark
 * forks it once, and it sends each document it is handed over one modem and answers with the
 * call's figures. Its CPU is measured here, around send() alone, so what the benchmark itself does
 * meanwhile (efax's receiver log piped in, timers, JSON) is not counted as ours; efax's figure is
 * likewise its own process alone. With a profile file named in the request, send() runs under the
 * V8 sampling profiler and the profile is written there (the sampling adds CPU to that call).
 *
 *   fork('line-sender.js', [device], { serialization: 'advanced' })
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Class1Line, type FaxDocument, type LineReasonCode } from '@faxnotify/fax-line';

export interface SendRequest {
  kind: 'send';
  dialString: string;
  localId: string;
  document: FaxDocument;
  /** Where to write a .cpuprofile of this send, if anywhere. */
  profileFile?: string;
}

export interface SendReply {
  kind: 'sent';
  reasonCode: LineReasonCode;
  reasonDetail: string;
  pagesConfirmed: number;
  pagesTotal: number;
  signallingRate: number | null;
  /** ms on performance.now() of this process, relative to the call's start. */
  dialAtMs: number;
  hangupAtMs: number;
  wallMs: number;
  trainings: number;
  /** XOFFs the modem sent during page data, page by page (as the driver's trace reports them). */
  xoffsPerPage: number[];
  /** This process's CPU (user + system, all its threads) from the call to send()'s return. */
  cpuMs: number;
  /** The part of cpuMs on the main thread (the driver's JavaScript, its syscalls); the rest is V8's and libuv's helper threads (compiling, GC). */
  mainThreadCpuMs: number;
}

export interface ReadyReply {
  kind: 'ready';
  /** CPU spent starting the process and loading the driver, paid once per benchmark run. */
  startupCpuMs: number;
}

interface ErrorReply {
  kind: 'error';
  message: string;
}

/** The benchmark's side: the sender process, started and ready. */
export interface LineSender {
  /** CPU the process spent starting and loading the driver (once per run, not counted per call). */
  readonly startupCpuMs: number;
  send(request: Omit<SendRequest, 'kind'>): Promise<SendReply>;
  stop(): Promise<void>;
}

export async function startLineSender(device: string): Promise<LineSender> {
  const child = fork(__filename, [device], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let waiting: ((reply: ReadyReply | SendReply | ErrorReply) => void) | null = null;
  child.on('message', (reply: ReadyReply | SendReply | ErrorReply) => {
    const take = waiting;
    waiting = null;
    take?.(reply);
  });
  const next = () =>
    new Promise<ReadyReply | SendReply | ErrorReply>((resolve, reject) => {
      waiting = resolve;
      void exited.then(() => reject(new Error('the sender process exited')));
    });
  const ready = await next();
  if (ready.kind !== 'ready') throw new Error(`the sender process did not start: ${JSON.stringify(ready)}`);
  return {
    startupCpuMs: ready.startupCpuMs,
    async send(request) {
      const reply = next();
      child.send({ kind: 'send', ...request } satisfies SendRequest);
      const answer = await reply;
      if (answer.kind !== 'sent') throw new Error(`the sender process failed: ${answer.kind === 'error' ? answer.message : answer.kind}`);
      return answer;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.disconnect();
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/** CPU time the main thread ran so far, in ms (the kernel's scheduler statistics, ns resolution). */
function mainThreadCpuMs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
}

async function sendOne(line: Class1Line, request: SendRequest): Promise<SendReply> {
  let dialAt = NaN;
  let hangupAt = NaN;
  let hangingUp = false;
  let trainings = 0;
  const xoffsPerPage: number[] = [];
  const session = request.profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const start = performance.now();
  const mainBefore = mainThreadCpuMs();
  const cpuBefore = process.cpuUsage();
  const result = await line.send(
    { dialString: request.dialString, localId: request.localId, document: request.document },
    {
      trace: (text) => {
        const at = performance.now();
        if (Number.isNaN(dialAt) && / >> ATD/.test(text)) dialAt = at;
        else if (/ >> ATH/.test(text)) hangingUp = true;
        else if (hangingUp && / << OK\s*$/.test(text)) hangupAt = at;
        else if (/ >> TCF /.test(text)) trainings++;
        else {
          const xoff = / \.\. page \d+ data .*; XOFF (\d+) times/.exec(text);
          if (xoff) xoffsPerPage.push(Number(xoff[1]));
        }
      },
    },
  );
  const cpu = process.cpuUsage(cpuBefore);
  const mainCpuMs = mainThreadCpuMs() - mainBefore;
  const end = performance.now();
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(request.profileFile!, JSON.stringify(profile));
  }
  return {
    kind: 'sent',
    reasonCode: result.reason.code,
    reasonDetail: result.reason.detail,
    pagesConfirmed: result.pagesConfirmed,
    pagesTotal: result.pagesTotal,
    signallingRate: result.signallingRate,
    dialAtMs: dialAt - start,
    hangupAtMs: (Number.isNaN(hangupAt) ? end : hangupAt) - start,
    wallMs: end - start,
    trainings,
    xoffsPerPage,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainThreadCpuMs: mainCpuMs,
  };
}

function main(): void {
  const device = process.argv[2];
  if (!device || !process.send) throw new Error('usage: fork line-sender.js <device> (with an IPC channel)');
  const line = new Class1Line({ id: 'bench', device });
  // One send at a time, in the order asked.
  let queue = Promise.resolve();
  process.on('message', (request: SendRequest) => {
    queue = queue.then(async () => {
      const reply: SendReply | ErrorReply = await sendOne(line, request).catch((error: unknown) => ({
        kind: 'error' as const,
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }));
      process.send!(reply);
    });
  });
  process.on('disconnect', () => void line.close().finally(() => process.exit(0)));
  const startup = process.cpuUsage();
  const ready: ReadyReply = { kind: 'ready', startupCpuMs: (startup.user + startup.system) / 1000 };
  process.send(ready);
}

if (require.main === module) main();
