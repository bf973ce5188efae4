/**
 * bench:line's receive case: efax sends the same pages (one PBM per page) to our Class 1 receiver
 * and to efax as the receiver, on one iaxmodem pair. Line time is measured where both receivers
 * are measured alike: by the sender, from its dial to its hang-up, on efax's own clock. CPU is the
 * receiver's: ours, the Node process during receive(); efax, its process (bash `times`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Class1Line, pageBitmap, type Bitmap, type LineReceiveResult } from '@faxnotify/fax-line';
import { EFAX_HEADER_ROWS, type ModemPair } from '@faxnotify/fax-line/testing';
import { childCpuMs, efaxCallSpan, parseEfaxLog } from './efax-log';
import { lineGoal } from './line-goal';

const SENDER_ID = '+49 30 7654321';
const RECEIVER_ID = 'RECEIVER CSID';
/** iaxmodem refuses calls for 5 s after any hang-up or reset. */
const SETTLE_MS = 6500;

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const mean = (values: readonly number[]) => (values.length ? sum(values) / values.length : NaN);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface ReceiveTrial {
  receiver: 'ours' | 'efax';
  ok: boolean;
  detail: string;
  /** The sender's dial to its hang-up, on efax's clock. */
  dialToHangupS: number;
  /** The receiver's CPU, user + system. */
  cpuMs: number;
  pages: number;
}

/** A child process under bash, so `times` reports its CPU when it exits; its own process group, so it can be stopped. */
function spawnTimed(args: string[]): { child: ChildProcess; output: () => string; stdout: () => string; exited: Promise<number | null> } {
  const child = spawn('bash', ['-c', 'efax "$@"; status=$?; times; exit $status', 'efax', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('latin1')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, exited };
}

function stop(child: ChildProcess): void {
  if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
}

/** efax sends `files` from the pair's first modem; the call's span from its log. */
async function efaxSends(pair: ModemPair, files: readonly string[]): Promise<{ ok: boolean; dialToHangupS: number; log: string }> {
  const sender = spawnTimed(['-d', pair.senderDevice, '-o1', '-h', '', '-l', SENDER_ID, '-v', 'ewinctm', '-t', pair.dialString, ...files]);
  const timer = setTimeout(() => stop(sender.child), 10 * 60_000);
  const code = await sender.exited;
  clearTimeout(timer);
  const { dialClock, hangupClock } = efaxCallSpan(parseEfaxLog(sender.output()));
  return { ok: code === 0, dialToHangupS: hangupClock - dialClock, log: sender.output() };
}

function sameRows(received: Bitmap, sent: Bitmap): boolean {
  const offset = EFAX_HEADER_ROWS * sent.rowBytes;
  return received.height === sent.height + EFAX_HEADER_ROWS && Buffer.from(received.data.subarray(offset)).equals(Buffer.from(sent.data));
}

async function oursReceives(pair: ModemPair, files: readonly string[], sent: readonly Bitmap[]): Promise<ReceiveTrial> {
  const line = new Class1Line({ id: 'bench-rx', device: pair.receiverDevice, mode: 'receive', answerId: RECEIVER_ID, timers: { hangupGuard: 0 } });
  let listening!: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  const cpuBefore = process.cpuUsage();
  const receiving = line.receive({ waitMs: 120_000 }, { trace: (text) => text.includes('-- await_ring') && listening() });
  await Promise.race([ready, receiving]);
  const [result, sender] = await Promise.all([receiving, efaxSends(pair, files)]);
  const cpu = process.cpuUsage(cpuBefore);
  await line.close();
  const matching = result.pages.filter((page, i) => sent[i] && sameRows(pageBitmap(page), sent[i])).length;
  const ok = sender.ok && result.status === 'success' && matching === sent.length;
  return {
    receiver: 'ours',
    ok,
    detail: `${result.status} ${result.pages.length}/${sent.length} pages, ${matching} identical; ${describe(result)}${sender.ok ? '' : `; efax sender: ${sender.log.slice(-500)}`}`,
    dialToHangupS: sender.dialToHangupS,
    cpuMs: (cpu.user + cpu.system) / 1000,
    pages: sent.length,
  };
}

function describe(result: LineReceiveResult): string {
  return `${result.reason.code}${result.reason.code === 'OK' ? '' : `: ${result.reason.detail}`}`;
}

async function efaxReceives(pair: ModemPair, files: readonly string[], dir: string): Promise<ReceiveTrial> {
  mkdirSync(dir, { recursive: true });
  const receiver = spawnTimed([
    '-d',
    pair.receiverDevice,
    '-o1',
    '-l',
    RECEIVER_ID,
    '-iS0=1',
    '-w',
    '-r',
    join(dir, 'fax').replace(/%/g, '%%'),
    '-v',
    'ewinchr',
  ]);
  try {
    const deadline = Date.now() + 15_000;
    while (!/waiting for activity/.test(receiver.output()) && Date.now() < deadline && receiver.child.exitCode === null) await sleep(50);
    // efax resets its modem as it starts: iaxmodem takes calls again 5 s later.
    await sleep(SETTLE_MS);
    const sender = await efaxSends(pair, files);
    const code = await Promise.race([receiver.exited, sleep(30_000).then(() => null)]);
    const stored = readdirSync(dir).filter((name) => /^fax\.\d{3}$/.test(name)).length;
    const ok = sender.ok && code === 0 && stored === files.length;
    return {
      receiver: 'efax',
      ok,
      detail: `exit ${code}, ${stored}/${files.length} pages stored${ok ? '' : `; ${receiver.output().slice(-500)}`}`,
      dialToHangupS: sender.dialToHangupS,
      cpuMs: childCpuMs(receiver.stdout()),
      pages: files.length,
    };
  } finally {
    stop(receiver.child);
  }
}

/** Runs the receive case `runs` times each way (alternating who goes first) and returns its figures for the JSON report. */
export async function benchReceive(
  pair: ModemPair,
  files: readonly string[],
  sent: readonly Bitmap[],
  runs: number,
  dir: string,
  progress: (text: string) => void,
) {
  const trials: ReceiveTrial[] = [];
  const failures: string[] = [];
  for (let run = 0; run < runs; run++) {
    const order: Array<'ours' | 'efax'> = run % 2 === 0 ? ['ours', 'efax'] : ['efax', 'ours'];
    for (const receiver of order) {
      progress(`receive run ${run + 1}/${runs}: ${files.length} pages to ${receiver}`);
      await sleep(SETTLE_MS);
      const trial = receiver === 'ours' ? await oursReceives(pair, files, sent) : await efaxReceives(pair, files, join(dir, `rx-bench-${run}-${receiver}`));
      progress(`  ${round(trial.dialToHangupS)} s dial-to-hangup, ${round(trial.cpuMs, 1)} ms CPU, ${trial.ok ? 'ok' : `FAILED: ${trial.detail}`}`);
      if (trial.ok) trials.push(trial);
      else failures.push(`run ${run + 1} ${receiver}: ${trial.detail}`);
    }
  }
  const figures = (receiver: 'ours' | 'efax') => {
    const calls = trials.filter((t) => t.receiver === receiver);
    return {
      dialToHangupS: calls.map((t) => round(t.dialToHangupS)),
      meanDialToHangupS: round(mean(calls.map((t) => t.dialToHangupS))),
      cpuMsPerPage: round(sum(calls.map((t) => t.cpuMs)) / sum(calls.map((t) => t.pages)), 1),
    };
  };
  const ours = figures('ours');
  const efax = figures('efax');
  return {
    pages: files.length,
    sender: 'efax -o1 -h "" -t, one PBM per page (20 blank header rows each)',
    measure: {
      lineTime: "the sender's dial to the OK for its hang-up, on efax's own clock: the same sender and the same clock for both receivers",
      cpu: "ours: process.cpuUsage() around receive(), the whole Node process (the sender's log piped in too); efax: the receiving efax process (bash `times`)",
      check: 'ours: every received page equals the page sent, row for row (header rows aside); efax: every page stored',
    },
    ours,
    efax,
    ratio: round(ours.meanDialToHangupS / efax.meanDialToHangupS, 3),
    cpuRatio: round(ours.cpuMsPerPage / efax.cpuMsPerPage, 3),
    goal: lineGoal(ours.cpuMsPerPage, efax.cpuMsPerPage, round(ours.meanDialToHangupS / efax.meanDialToHangupS, 3)),
    failures,
  };
}
