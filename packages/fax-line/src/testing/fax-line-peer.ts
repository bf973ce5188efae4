/**
 * A real fax line for tests: iaxmodem pairs (started by deploy/peers/fax-line.sh) calling each
 * other over loopback, and efax as the fax machine answering on the far modem.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** deploy/peers/fax-line.sh, found by walking up from this file (src/ or dist/ alike); FAX_LINE_SCRIPT overrides. */
export function faxLineScript(): string {
  if (process.env.FAX_LINE_SCRIPT) return process.env.FAX_LINE_SCRIPT;
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'deploy', 'peers', 'fax-line.sh');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`deploy/peers/fax-line.sh not found above ${__dirname}`);
    dir = parent;
  }
}

export interface ModemPair {
  /** 1-based, as in DIR/pair-N. */
  index: number;
  /** The sender's modem: our driver opens it and dials `dialString`. */
  senderDevice: string;
  /** The far modem, where the receiver (efax) answers. */
  receiverDevice: string;
  /** What the sender dials to reach the far modem. */
  dialString: string;
}

export interface ModemPairs {
  dir: string;
  pairs: ModemPair[];
  stop(): Promise<void>;
}

function run(command: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolvePromise(stdout);
    });
  });
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolvePromise(false);
    });
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolvePromise(true)));
  });
}

/**
 * A base port with `count` free UDP ports after it. iaxmodem binds on all addresses, so
 * concurrent test files must not share ports; a random start keeps them apart.
 */
export async function findFreePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + 2 * Math.floor(Math.random() * 10000);
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await portFree(port);
    if (free) return base;
  }
  throw new Error('no free UDP port range for iaxmodem');
}

/** Starts `count` modem pairs, each on its own two UDP ports. */
export async function startModemPairs(count: number): Promise<ModemPairs> {
  const dir = mkdtempSync(join(tmpdir(), 'fax-line-'));
  const base = await findFreePortRange(2 * count);
  try {
    await run('bash', [faxLineScript(), 'start', String(count), dir, String(base)]);
  } catch (error) {
    await run('bash', [faxLineScript(), 'stop', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const pairs = Array.from({ length: count }, (_, i) => ({
    index: i + 1,
    senderDevice: join(dir, `pair-${i + 1}`, 'ttyA'),
    receiverDevice: join(dir, `pair-${i + 1}`, 'ttyB'),
    dialString: '2002',
  }));
  return {
    dir,
    pairs,
    async stop() {
      await run('bash', [faxLineScript(), 'stop', dir]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface EfaxReceiver {
  readonly localId: string;
  /** Where the received pages go: `${outputDir}/fax.001`, `.002`, … */
  readonly outputDir: string;
  /** efax's log so far. */
  log(): string;
  /** Resolves when efax exits (it takes one call and exits). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the log matches (e.g. /received page 2/), rejects after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** The files efax wrote, sorted. */
  receivedFiles(): string[];
  kill(signal?: NodeJS.Signals): void;
}

export interface EfaxReceiverOptions {
  localId: string;
  outputDir: string;
  /**
   * efax resets the modem as it starts, and iaxmodem refuses calls for 5 s after a reset: a call
   * placed sooner gets NO DIALTONE. Default 6500 ms.
   */
  settleMs?: number;
}

/** efax running with its log gathered: the part every efax peer shares. */
interface EfaxProcess {
  log(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

function spawnEfax(args: string[]): EfaxProcess {
  const child: ChildProcess = spawn('efax', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const listeners: Array<() => void> = [];
  const append = (chunk: Buffer): void => {
    log += chunk.toString('latin1');
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
    child.once('exit', (code, signal) => {
      for (const listener of [...listeners]) listener();
      resolvePromise({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    log: () => log,
    exited,
    waitForLog(pattern, timeoutMs) {
      return new Promise((resolvePromise, reject) => {
        const check = (): void => {
          if (pattern.test(log)) finish(null);
          else if (done) finish(new Error(`efax exited before ${pattern}: ${log.slice(-2000)}`));
        };
        const timer = setTimeout(() => finish(new Error(`efax log did not match ${pattern} in ${timeoutMs} ms: ${log.slice(-2000)}`)), timeoutMs);
        function finish(error: Error | null): void {
          clearTimeout(timer);
          const at = listeners.indexOf(check);
          if (at >= 0) listeners.splice(at, 1);
          if (error) reject(error);
          else resolvePromise();
        }
        listeners.push(check);
        check();
      });
    },
    kill(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
    },
  };
}

/** Starts efax answering on `device` (auto-answer on the first ring) and waits until it can take a call. */
export async function startEfaxReceiver(device: string, options: EfaxReceiverOptions): Promise<EfaxReceiver> {
  mkdirSync(options.outputDir, { recursive: true });
  // efax's -r is a strftime pattern.
  const outputPattern = join(options.outputDir, 'fax').replace(/%/g, '%%');
  const efax = spawnEfax(['-d', device, '-o1', '-l', options.localId, '-iS0=1', '-w', '-r', outputPattern, '-v', 'ewinchr']);
  const receiver: EfaxReceiver = {
    ...efax,
    localId: options.localId,
    outputDir: options.outputDir,
    receivedFiles() {
      if (!existsSync(options.outputDir)) return [];
      return readdirSync(options.outputDir)
        .filter((name) => /^fax\.\d{3}$/.test(name))
        .sort()
        .map((name) => join(options.outputDir, name));
    },
  };
  await receiver.waitForLog(/waiting for activity/, 15_000);
  await new Promise((resolvePromise) => setTimeout(resolvePromise, options.settleMs ?? 6500));
  return receiver;
}

export interface EfaxSender {
  /** efax's log so far. */
  log(): string;
  /** Resolves when efax exits: code 0 when every page was sent and confirmed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

export interface EfaxSenderOptions {
  /** efax's TSI (-l). */
  localId: string;
  dialString: string;
  /** One file per page (PBM or single-page G3 TIFF): efax sends a multi-page TIFF from each page to its end. */
  files: string[];
  /** efax's page header text; default none (efax still sends its 20 header rows, blank). */
  header?: string;
}

/** efax calling from `device` and sending `files`, one page each: a reference fax sender. */
export function startEfaxSender(device: string, options: EfaxSenderOptions): EfaxSender {
  return spawnEfax(['-d', device, '-o1', '-h', options.header ?? '', '-l', options.localId, '-v', 'ewinchr', '-t', options.dialString, ...options.files]);
}

/** Rows efax puts above every page it sends (its header line, blank with an empty header). */
export const EFAX_HEADER_ROWS = 20;
