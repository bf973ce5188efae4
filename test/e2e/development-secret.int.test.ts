import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/processes';

/** Starts a service as an operator would, without JWT_SECRET and outside tests; resolves with its exit code and output. */
function startWithoutSecret(name: string, extra: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...extra };
  delete env.JWT_SECRET;
  delete env.JWT_ALLOW_DEVELOPMENT_SECRET;
  delete env.FAXNOTIFY_CONFIG;
  const child = spawn(process.execPath, [join(REPO_ROOT, 'services', name, 'dist', 'main.js')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

describe.each(['status-tracker', 'notifier', 'transmitter'])('%s with the built-in development JWT secret', (name) => {
  it('refuses to start outside the demo and tests, naming the setting', async () => {
    const { code, output } = await startWithoutSecret(name);
    expect(code).toBe(1);
    expect(output).toMatch(new RegExp(`^${name}: invalid configuration: auth\\.jwtSecret: the built-in development secret is refused`, 'm'));
    expect(output).toContain('JWT_SECRET');
  });
});
