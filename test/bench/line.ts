import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pageBitmap, type FaxDocument } from '@faxnotify/fax-line';
import { startEfaxReceiver, startModemPairs, type EfaxReceiver, type ModemPair, type ModemPairs } from '@faxnotify/fax-line/testing';
import { statusFor } from '@faxnotify/transmitter';
import { childCpuMs, efaxCallSpan, parseEfaxLog } from './efax-log';
import { benchReceive } from './line-receive';
import { LINE_TIME_GOAL, lineGoal } from './line-goal';
import { type LineSender, startLineSender } from './line-sender';
import { pagePbm, prepareLetter } from './letter';

/**
 * `npm run bench:line`: the same 1-page and 3-page documents sent over one iaxmodem pair by our
 * Class 1 driver and by `efax -t` (the reference sender), an efax receiver answering every call.
 * Both are timed the same way, from the dial command to the modem's OK for the hang-up, because
 * what happens before the dial (opening the port, resetting the modem) is not the line's work.
 * The receive case (line-receive.ts) turns it round: efax sends the 3-page letter to our Class 1
 * receiver and to efax receiving. `--case send|receive` runs one of them only.
 * Prints one JSON object; progress goes to stderr.
 */

const RECEIVER_ID = 'RECEIVER CSID';
/** The same local id for both senders, digits only (efax warns about anything else). */
const SENDER_ID = '+49 30 1234567';
/** iaxmodem refuses calls for 5 s after any hang-up. */
const HANGUP_GUARD_MS = 6000;
/** Tries per call: a call that fails (the line, or efax) is tried once more and reported. */
const ATTEMPTS = 2;

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const mean = (values: readonly number[]) => (values.length ? sum(values) / values.length : NaN);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const progress = (text: string) => process.stderr.write(`bench:line: ${text}\n`);

// ---- one call each way ----

/** The efax sender running now (its own process group), so an interrupted run can stop it. */
let efaxSender: ChildProcess | undefined;

interface Trial {
  sender: 'ours' | 'efax';
  document: string;
  pages: number;
  ok: boolean;
  detail: string;
  /** From the dial command to the OK for the hang-up. */
  dialToHangupS: number;
  /** The whole sender: ours, send() from the call to its return; efax, the process from spawn to exit. */
  wallS: number;
  /** Before the dial: port opening and modem set-up. */
  preDialS: number;
  /** TCF trainings in the call (more than one: a retrain after FTT or a missed answer). */
  trainings: number;
  signallingRate: number | null;
  /** The sender's own process's CPU, user + system (ours: the sender process during send()). */
  cpuMs: number;
  /** Ours only: the part of cpuMs on the sender's main thread. */
  mainThreadCpuMs?: number;
  /** This benchmark process's CPU while the call ran (the harness alone, for both senders). */
  benchCpuMs: number;
  pagesReceived: number;
  /** efax only: bytes of page data it reports sending, page by page. */
  pageBytes?: number[];
  /** Ours only: XOFFs the modem sent during each page's data. */
  xoffsPerPage?: number[];
  /** Data the sending modem could not take (its log's overrun lines during the call). */
  modemOverruns?: number;
}

async function sendOurs(sender: LineSender, pair: ModemPair, document: FaxDocument, name: string, profileFile?: string): Promise<Trial> {
  const benchCpuBefore = process.cpuUsage();
  const sent = await sender.send({ dialString: pair.dialString, localId: SENDER_ID, document, profileFile });
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const status = statusFor(sent.reasonCode, sent.pagesConfirmed, sent.pagesTotal);
  const ok = status === 'success' && sent.pagesConfirmed === document.pages.length;
  return {
    sender: 'ours',
    document: name,
    pages: document.pages.length,
    ok,
    detail: `${status} ${sent.pagesConfirmed}/${sent.pagesTotal} ${sent.reasonCode}${ok ? '' : `: ${sent.reasonDetail}`}`,
    dialToHangupS: (sent.hangupAtMs - sent.dialAtMs) / 1000,
    wallS: sent.wallMs / 1000,
    preDialS: sent.dialAtMs / 1000,
    trainings: sent.trainings,
    signallingRate: sent.signallingRate,
    cpuMs: sent.cpuMs,
    mainThreadCpuMs: sent.mainThreadCpuMs,
    benchCpuMs: (benchCpu.user + benchCpu.system) / 1000,
    pagesReceived: 0,
    xoffsPerPage: sent.xoffsPerPage,
  };
}

async function sendEfax(pair: ModemPair, files: readonly string[], name: string): Promise<Trial> {
  // bash reports efax's CPU time with `times` (getrusage of its children, ms resolution).
  const script = 'efax "$@"; status=$?; times; exit $status';
  // `-h ""`: no page header text (efax still sends its 20 header rows, blank). -v: errors, warnings,
  // progress, negotiation, commands, transmission details, and modem output (the lines efax stamps with ms).
  const args = ['-d', pair.senderDevice, '-o1', '-h', '', '-l', SENDER_ID, '-v', 'ewinctm', '-t', pair.dialString, ...files];
  const start = performance.now();
  const child = spawn('bash', ['-c', script, 'efax-sender', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  efaxSender = child;
  let output = '';
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('latin1')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  const killTimer = setTimeout(() => process.kill(-child.pid!, 'SIGTERM'), 15 * 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(killTimer);
  efaxSender = undefined;
  const end = performance.now();

  // efax's stderr reaches us in bursts (the dial line only once CONNECT is in), so the times come
  // from efax's own clock. It writes ATD right after reading the previous command's OK (no pause
  // before a dial), so that OK's time is the dial time; the hang-up ends with the OK to its first ATH.
  const log = parseEfaxLog(output);
  const { dialClock, hangupClock, lastClock } = efaxCallSpan(log);
  const dialToHangupS = hangupClock - dialClock;
  const wallS = (end - start) / 1000;

  let rate: number | null = null;
  const pageBytes: number[] = [];
  for (const { text } of log) {
    const session = /session\s+\d+lpi\s+([\d.]+)kbps/.exec(text);
    if (session) rate = Math.round(Number(session[1]) * 1000);
    const sent = /sent \d+\+\d+ lines, (\d+)\+(\d+) bytes/.exec(text);
    if (sent) pageBytes.push(Number(sent[1]) + Number(sent[2]));
  }
  const done = log.find(({ text }) => /done, returning/.test(text))?.text ?? `exit ${code}`;
  const ok = code === 0 && Number.isFinite(dialToHangupS);
  if (!ok) process.stderr.write(`efax sender log:\n${output}\n`);
  return {
    sender: 'efax',
    document: name,
    pages: files.length,
    ok,
    detail: ok
      ? done
      : `${done}: ${log
          .slice(-12)
          .map(({ text }) => text)
          .join(' | ')}`,
    dialToHangupS,
    wallS,
    preDialS: wallS - dialToHangupS - (lastClock - hangupClock),
    trainings: log.filter(({ text }) => /sent TCF/.test(text)).length,
    signallingRate: rate,
    cpuMs: childCpuMs(stdout),
    benchCpuMs: 0,
    pagesReceived: 0,
    pageBytes,
  };
}

// ---- the run ----

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: process.env.BENCH_LINE_RUNS ?? '2' },
      case: { type: 'string', default: 'all' },
      // A .cpuprofile of each of our sends, written by the sender process into this folder.
      'cpu-prof': { type: 'string' },
    },
  });
  const profileDir = values['cpu-prof'];
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive whole number');
  if (!['all', 'send', 'receive'].includes(values.case)) throw new Error('--case must be all, send or receive');

  const dir = mkdtempSync(join(tmpdir(), 'bench-line-'));
  let modems: ModemPairs | undefined;
  let receiver: EfaxReceiver | undefined;
  let sender: LineSender | undefined;
  const cleanUp = async () => {
    await sender?.stop();
    if (efaxSender?.pid && efaxSender.exitCode === null) process.kill(-efaxSender.pid, 'SIGTERM');
    receiver?.kill();
    await modems?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const interrupted = () => {
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    const prepareStart = performance.now();
    const letter = await prepareLetter(dir);
    progress(
      `letter prepared in ${round((performance.now() - prepareStart) / 1000)} s: ${letter.pages.map((p) => p.data.length).join(', ')} bytes of page data`,
    );
    const documents = [
      { name: '1-page', document: { pages: letter.pages.slice(0, 1) } as FaxDocument },
      { name: '3-page', document: letter },
    ];
    mkdirSync(join(dir, 'pbm'));
    const pbmFiles = letter.pages.map((page, i) => {
      const file = join(dir, 'pbm', `letter.${String(i + 1).padStart(3, '0')}.pbm`);
      writeFileSync(file, pagePbm(page));
      return file;
    });

    modems = await startModemPairs(1);
    const pair = modems.pairs[0];
    const ours = await startLineSender(pair.senderDevice);
    sender = ours;
    /** The sending modem's log: lines where it could not take the data it was given. */
    const modemLog = join(modems.dir, `pair-${pair.index}`, 'modemA.log');
    const overruns = () => (existsSync(modemLog) ? (readFileSync(modemLog, 'latin1').match(/Unexpected modem buffering|No room in buffer/g)?.length ?? 0) : 0);
    let lastHangupAt = 0;
    let calls = 0;
    const trials: Trial[] = [];
    const failures: Array<{ run: number; sender: string; document: string; detail: string }> = [];
    /** Calls that failed on every attempt. */
    let undelivered = 0;

    /** One call with a fresh receiver; true when it was delivered in full. */
    const call = async (run: number, sender: 'ours' | 'efax', name: string, document: FaxDocument): Promise<boolean> => {
      calls++;
      // A fresh receiver per call: efax takes one call and exits; it resets its modem and needs ~7 s before it can answer.
      receiver = await startEfaxReceiver(pair.receiverDevice, { localId: RECEIVER_ID, outputDir: join(dir, `rx-${calls}`) });
      await sleep(lastHangupAt + HANGUP_GUARD_MS - Date.now());
      progress(`run ${run + 1}/${runs}: ${name} by ${sender}`);
      let trial: Trial;
      const overrunsBefore = overruns();
      if (sender === 'ours') {
        const profileFile = profileDir ? join(profileDir, `ours-${name}-run${run + 1}-call${calls}.cpuprofile`) : undefined;
        trial = await sendOurs(ours, pair, document, name, profileFile);
      } else {
        const cpuBefore = process.cpuUsage();
        trial = await sendEfax(pair, pbmFiles.slice(0, document.pages.length), name);
        const cpu = process.cpuUsage(cpuBefore);
        trial.benchCpuMs = (cpu.user + cpu.system) / 1000;
      }
      lastHangupAt = Date.now();
      trial.modemOverruns = overruns() - overrunsBefore;
      await Promise.race([receiver.exited, sleep(30_000)]);
      receiver.kill();
      await receiver.exited;
      trial.pagesReceived = receiver.receivedFiles().length;
      receiver = undefined;
      if (trial.pagesReceived !== trial.pages) {
        trial.ok = false;
        trial.detail += `; the receiver stored ${trial.pagesReceived} of ${trial.pages} pages`;
      }
      progress(
        `  ${round(trial.dialToHangupS)} s dial-to-hangup, ${trial.signallingRate ?? '?'} bit/s, ${trial.trainings} training(s), ${round(trial.cpuMs, 1)} ms CPU${trial.xoffsPerPage ? `, XOFF ${trial.xoffsPerPage.join('/')}` : ''}, ${trial.modemOverruns ?? 0} modem overrun(s), ${trial.ok ? 'ok' : `FAILED: ${trial.detail}`}`,
      );
      if (trial.ok) trials.push(trial);
      else failures.push({ run: run + 1, sender, document: name, detail: trial.detail });
      return trial.ok;
    };

    // The receive case: efax sends the letter to our receiver and to efax receiving.
    const receiveCase = async () => benchReceive(pair, pbmFiles, letter.pages.map(pageBitmap), runs, dir, progress);
    if (values.case === 'receive') {
      const receive = await receiveCase();
      process.stdout.write(`${JSON.stringify({ benchmark: 'line', runs, receive, machine: { cores: cpus().length, node: process.version } }, null, 2)}\n`);
      return receive.failures.length === 0;
    }
    for (let run = 0; run < runs; run++) {
      for (const { name, document } of documents) {
        // Alternate who goes first, so neither sender always follows the other.
        const order: Array<'ours' | 'efax'> = run % 2 === 0 ? ['ours', 'efax'] : ['efax', 'ours'];
        for (const sender of order) {
          // A call that fails is tried once more (and reported), so one bad call does not void the run.
          let delivered = false;
          for (let attempt = 1; attempt <= ATTEMPTS && !delivered; attempt++) delivered = await call(run, sender, name, document);
          if (!delivered) undelivered++;
        }
      }
    }
    await ours.stop();
    const receive = values.case === 'all' ? await receiveCase() : undefined;

    const done = (sender: 'ours' | 'efax', name?: string) => trials.filter((t) => t.sender === sender && (name === undefined || t.document === name));
    const senderFigures = (sender: 'ours' | 'efax', name: string) => {
      const calls = done(sender, name);
      const seconds = calls.map((t) => t.dialToHangupS);
      return {
        dialToHangupS: seconds.map((n) => round(n)),
        meanDialToHangupS: round(mean(seconds)),
        bestDialToHangupS: round(Math.min(...seconds)),
        wallS: calls.map((t) => round(t.wallS)),
        preDialS: calls.map((t) => round(t.preDialS)),
        trainings: calls.map((t) => t.trainings),
        signallingRate: [...new Set(calls.map((t) => t.signallingRate))],
        cpuMsPerPage: round(sum(calls.map((t) => t.cpuMs)) / sum(calls.map((t) => t.pages)), 1),
        pageBytesSent: sender === 'efax' ? (calls[0]?.pageBytes ?? []) : documents.find((d) => d.name === name)!.document.pages.map((p) => p.data.length),
      };
    };
    const results = Object.fromEntries(
      documents.map(({ name }) => {
        const ourFigures = senderFigures('ours', name);
        const efaxFigures = senderFigures('efax', name);
        return [
          name,
          {
            ours: ourFigures,
            efax: efaxFigures,
            ratio: round(ourFigures.meanDialToHangupS / efaxFigures.meanDialToHangupS, 3),
            ratioOfBest: round(ourFigures.bestDialToHangupS / efaxFigures.bestDialToHangupS, 3),
          },
        ];
      }),
    );
    const ratios = Object.fromEntries(documents.map(({ name }) => [name, (results[name] as { ratio: number }).ratio]));
    const totalSeconds = (sender: 'ours' | 'efax') => sum(done(sender).map((t) => t.dialToHangupS));
    const cpuPerPage = (calls: Trial[], cpu: (t: Trial) => number) => round(sum(calls.map(cpu)) / sum(calls.map((t) => t.pages)), 1);
    const oursCalls = done('ours');
    const efaxCalls = done('efax');

    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'line',
          line: 'one iaxmodem pair calling over IAX2 on loopback, Class 1; efax receiving, restarted for every call',
          runs,
          documents: Object.fromEntries(
            documents.map(({ name, document }) => [
              name,
              {
                pages: document.pages.length,
                resolution: document.pages[0].resolution,
                pageDataBytes: document.pages.map((p) => p.data.length),
                sha256: createHash('sha256')
                  .update(Buffer.concat(document.pages.map((p) => p.data)))
                  .digest('hex')
                  .slice(0, 16),
              },
            ]),
          ),
          source:
            'a generated PostScript business letter (Times 11 pt, ~45 lines a page) -> PDF -> prepareDocument (204x196, T.4 MH); efax gets the same pixels as one PBM per page',
          measure: {
            dialToHangup:
              "ours: from writing ATD to the OK for ATH0 (driver trace, stamped as it happens); efax: from the OK it read just before writing ATD to the OK for its first ATH, on efax's own millisecond clock (-v m; its stderr arrives in bursts, so arrival times are not used)",
            wall: 'ours: send() call to return (port open, AT set-up, call, hang-up); efax: process spawn to exit (adds its trailing Q0V1/H)',
            preDial: 'ours: send() start to ATD; efax: process wall time minus dial-to-hangup minus its post-hang-up modem reset (efax clock)',
            cpu: 'ours: process.cpuUsage() around send() in the sender process (line-sender.ts), user+system, all its threads; efax: user+system of the efax process (getrusage via bash `times`, 1 ms resolution), which includes encoding the PBM pages to MH',
            efaxOptions: '-o1 (Class 1), -h "" (no header text; efax still sends 20 blank header rows per page)',
          },
          results,
          ratio: {
            perDocument: ratios,
            allCalls: round(totalSeconds('ours') / totalSeconds('efax'), 3),
            goal: LINE_TIME_GOAL,
            met: Object.values(ratios).every((r) => r <= LINE_TIME_GOAL),
          },
          signallingRate: { ours: [...new Set(oursCalls.map((t) => t.signallingRate))], efax: [...new Set(efaxCalls.map((t) => t.signallingRate))] },
          goal: lineGoal(
            cpuPerPage(oursCalls, (t) => t.cpuMs),
            cpuPerPage(efaxCalls, (t) => t.cpuMs),
            round(totalSeconds('ours') / totalSeconds('efax'), 3),
          ),
          cpuMsPerPage: {
            ours: cpuPerPage(oursCalls, (t) => t.cpuMs),
            oursAfterFirstCall: cpuPerPage(oursCalls.slice(1), (t) => t.cpuMs),
            oursMainThread: cpuPerPage(oursCalls, (t) => t.mainThreadCpuMs ?? NaN),
            efax: cpuPerPage(efaxCalls, (t) => t.cpuMs),
            benchProcessDuringOurCalls: cpuPerPage(oursCalls, (t) => t.benchCpuMs),
            benchProcessDuringEfaxCalls: cpuPerPage(efaxCalls, (t) => t.benchCpuMs),
            oursStartupMs: round(ours.startupCpuMs, 1),
            profiled: profileDir ? `ours under the sampling profiler (adds CPU): ${profileDir}` : false,
            note: "ours: the sender process (line-sender.ts) from the call to send() to its return, all its threads (oursMainThread: the main thread alone; the rest is V8's compiler and GC threads): port open, modem set-up, the call, the page data, hang-up; not its start-up and module loading (oursStartupMs, once per process, as a line process serves call after call), but the first call's one-off compilation (oursAfterFirstCall leaves that call out). efax: its whole process from exec to exit (about 2 ms of that is starting and ending a C program), including reading the PBM pages and coding them to MH. Neither counts the benchmark's own work (benchProcessDuring*).",
          },
          flowControl: {
            oursXoffsPerPage: oursCalls.map((t) => t.xoffsPerPage ?? []),
            modemOverruns: sum(trials.map((t) => t.modemOverruns ?? 0)),
            note: "XOFFs the sending modem sent during each of our pages; overruns are the sending iaxmodem's log lines for data it could not buffer (none means nothing written after an XOFF was lost)",
          },
          failures,
          receive,
          machine: { cores: cpus().length, node: process.version },
        },
        null,
        2,
      )}\n`,
    );
    return undelivered === 0 && (receive?.failures.length ?? 0) === 0;
  } finally {
    await cleanUp();
  }
}

main()
  .then((allSent) => process.exit(allSent ? 0 : 1))
  .catch((error: unknown) => {
    process.stderr.write(`bench:line failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
