import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@faxnotify/peers';

const run = promisify(execFile);

/**
 * A real Prosody (Debian's package, installed by deploy/peers/prosody.sh) started for one test
 * suite: its own config, data folder and c2s port on 127.0.0.1, so suites never share accounts,
 * offline stores or ports with each other or with a system-wide Prosody.
 */
export interface ProsodyServer {
  /** The one virtual host. */
  domain: 'localhost';
  /** The c2s port on 127.0.0.1. */
  port: number;
  /** `xmpp://127.0.0.1:<port>`, the `service` for @xmpp/client. */
  service: string;
  /** Prosody's data_path: accounts, rosters and the offline store live here and survive restarts. */
  dataDir: string;
  configPath: string;
  logPath: string;
  /** `username@localhost`. */
  jid(username: string): string;
  /** Creates (or re-keys) an account; works while the server runs. */
  register(username: string, password: string): Promise<void>;
  /** Stops the server and starts it again on the same port and data, as an operator restart does. */
  restart(downtimeMs?: number): Promise<void>;
  /** Takes the server down but keeps its data, for an outage that lasts as long as the test wants. */
  down(): Promise<void>;
  /** Brings a server taken down with `down()` back on the same port and data. */
  up(): Promise<void>;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** Stops the server for good and deletes its folder. */
  stop(): Promise<void>;
}

export interface ProsodyOptions {
  users?: Array<{ username: string; password: string }>;
  /** A fixed c2s port; a free one is picked by default. */
  port?: number;
  /** Extra lines for the global section of the config (e.g. TLS settings). */
  extraConfig?: string;
  /** Extra modules to load, e.g. "tls" when the config names a certificate. */
  extraModules?: string[];
}

const DOMAIN = 'localhost';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Instances still running when the test process exits are killed, so no Prosody outlives its
 * suite. The exit hook is held only while a server runs: jest loads this module once per test
 * file in the same worker, and a hook per load would pile up.
 */
const livePids = new Set<number>();
const killLive = () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
};
function trackPid(pid: number): void {
  if (livePids.size === 0) process.on('exit', killLive);
  livePids.add(pid);
}
function untrackPid(pid: number): void {
  if (!livePids.delete(pid)) return;
  if (livePids.size === 0) process.off('exit', killLive);
}

/** Prosody refuses to run as root; as root we switch to the package's `prosody` user. */
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function luaString(value: string): string {
  return JSON.stringify(value);
}

function prosodyConfig(dir: string, port: number, options: ProsodyOptions): string {
  const modules = ['roster', 'saslauth', 'disco', 'ping', 'offline', ...(options.extraModules ?? [])];
  return [
    '-- Written by the test suite: one throwaway instance, loopback only.',
    `pidfile = ${luaString(join(dir, 'prosody.pid'))}`,
    `data_path = ${luaString(join(dir, 'data'))}`,
    `certificates = ${luaString(join(dir, 'certs'))}`,
    'interfaces = { "127.0.0.1" }',
    `c2s_ports = { ${port} }`,
    // Every other listener off, so several instances (and a system one) never compete for ports.
    's2s_ports = { }',
    'component_ports = { }',
    'http_ports = { }',
    'https_ports = { }',
    'c2s_direct_tls_ports = { }',
    'legacy_ssl_ports = { }',
    // mod_smacks is deliberately absent: it made test streams fail intermittently.
    `modules_enabled = { ${modules.map(luaString).join('; ')} }`,
    'modules_disabled = { "s2s" }',
    'authentication = "internal_hashed"',
    // Tests log in with PLAIN over loopback (SCRAM costs ~750 ms a login); production keeps TLS and SCRAM.
    'c2s_require_encryption = false',
    'allow_unencrypted_plain_auth = true',
    `log = { { levels = { min = "info" }, to = "file", filename = ${luaString(join(dir, 'prosody.log'))} } }`,
    options.extraConfig ?? '',
    `VirtualHost ${luaString(DOMAIN)}`,
    '',
  ].join('\n');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function asProsodyUser(command: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'prosody', '--', command, ...args]] : [command, args];
}

function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startProsody(options: ProsodyOptions = {}): Promise<ProsodyServer> {
  if (!existsSync('/usr/bin/prosody') && !existsSync('/usr/local/bin/prosody')) {
    throw new Error('Prosody is not installed: run `bash deploy/peers/prosody.sh install` as root (npm test runs deploy/setup.sh)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'faxnotify-prosody-'));
  const dataDir = join(dir, 'data');
  const configPath = join(dir, 'prosody.cfg.lua');
  const logPath = join(dir, 'prosody.log');
  const pidPath = join(dir, 'prosody.pid');
  await mkdir(dataDir);
  await mkdir(join(dir, 'certs'));
  const port = options.port ?? (await freePort());
  await writeFile(configPath, prosodyConfig(dir, port, options));
  // The folder is private to its owner: hand it to the prosody user, which the server runs as.
  const ownFolder = async () => {
    if (asRoot) await run('chown', ['-R', 'prosody:prosody', dir]);
  };
  await ownFolder();

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let serverPid: number | undefined;

  const register = async (username: string, password: string) => {
    const [command, args] = asProsodyUser('prosodyctl', ['--config', configPath, 'register', username, DOMAIN, password]);
    try {
      await run(command, args, { timeout: 10_000 });
    } catch (error) {
      const failure = error as Error & { stderr?: string };
      throw new Error(`prosodyctl register ${username}@${DOMAIN} failed: ${failure.stderr || failure.message}`);
    }
  };

  const launch = async () => {
    if (child) return;
    await rm(pidPath, { force: true });
    const [command, args] = asProsodyUser('prosody', ['-F', '--config', configPath]);
    const output: string[] = [];
    const started = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child = started;
    let hasExited = false;
    exited = new Promise<void>((resolve) => {
      started.once('exit', () => {
        hasExited = true;
        if (child === started) child = undefined;
        if (serverPid !== undefined) untrackPid(serverPid);
        resolve();
      });
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (hasExited) {
        throw new Error(`Prosody exited while starting: ${output.join('').trim()}\n${logTail(logPath)}`);
      }
      if (await canConnect(port)) break;
      if (Date.now() > deadline) {
        await halt();
        throw new Error(`Prosody did not listen on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms\n${logTail(logPath)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    serverPid = Number((await readFile(pidPath, 'utf8').catch(() => '')).trim()) || undefined;
    if (serverPid !== undefined) trackPid(serverPid);
  };

  const halt = async () => {
    const current = child;
    if (!current) return;
    // The server runs under runuser: signal Prosody itself (its pid file) so it shuts down cleanly,
    // and runuser exits with it.
    const target = serverPid ?? current.pid;
    if (target !== undefined) {
      try {
        process.kill(target, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      for (const pid of [serverPid, current.pid]) {
        if (pid === undefined) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
    }
    if (serverPid !== undefined) untrackPid(serverPid);
    serverPid = undefined;
  };

  for (const user of options.users ?? []) await register(user.username, user.password);
  await launch();

  return {
    domain: DOMAIN,
    port,
    service: `xmpp://127.0.0.1:${port}`,
    dataDir,
    configPath,
    logPath,
    jid: (username: string) => `${username}@${DOMAIN}`,
    register,
    get running() {
      return child !== undefined;
    },
    restart: async (downtimeMs = 0) => {
      await halt();
      if (downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, downtimeMs));
      await launch();
    },
    down: halt,
    up: launch,
    stop: async () => {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
