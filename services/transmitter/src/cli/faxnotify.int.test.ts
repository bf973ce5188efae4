/**
 * The command-line client against a running transmitter whose line is a scripted modem: send
 * with live progress to the end, status, and the usage errors.
 */
import { makeSamplePdf } from '../documents/testing/sample-documents';
import { type Class1Script, ScriptedModem } from '@faxnotify/fax-line/testing';
import { FAST_RETRIES, startTestTransmitter, type TestTransmitter } from '../testing/harness';
import { EXIT, parseCommandLine, runCli } from './client';

jest.setTimeout(30_000);

let modem: ScriptedModem;
let script: Class1Script;
let t: TestTransmitter;
let token: string;

beforeAll(async () => {
  script = { kind: 'class1', dialResult: 'BUSY', csi: 'ACME SALES' };
  modem = await ScriptedModem.start(script);
  t = await startTestTransmitter('cli', {
    ...FAST_RETRIES,
    'retry.busySeconds': 1,
    lines: [{ id: 'modem1', kind: 'class1', device: modem.device, timers: { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 } }],
  });
  token = await t.token('carol');
});

afterAll(async () => {
  await t?.close();
  await modem?.stop();
});

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (text: string) => out.push(text), isTTY: false }, stderr: { write: (text: string) => err.push(text) }, env },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('faxnotify command', () => {
  it('sends files, shows each step as it happens and ends with the table when every recipient is final', async () => {
    const pdf = makeSamplePdf(t.dir, 'cli-letter', [['sent from the command line', 'page 1'], ['page 2']]);
    const run = io({ FAXNOTIFY_TOKEN: token });
    // The first call finds the line busy; the redial gets through.
    const watcher = setInterval(() => {
      if (modem.record.commands.some((c) => c.startsWith('ATD'))) script.dialResult = 'CONNECT';
    }, 10);
    let code: number;
    try {
      code = await runCli(
        ['send', pdf, '--to', '+1 202 555 0101', '--subject', 'From the shell', '--retry', '1', '--api', t.service.url, '--interval', '100'],
        run.io,
      );
    } finally {
      clearInterval(watcher);
    }
    const output = run.out();
    expect(run.err()).toBe('');
    expect(code).toBe(EXIT.delivered);
    expect(output).toMatch(/^outbox outbox-[0-9a-f-]+: 1 file to 1 recipient\nfax (fax-[0-9a-f-]+)\n/);
    expect(output).toMatch(/r1 \+12025550101 \[1\/2\] retry at .* \(BUSY\)/);
    expect(output).toMatch(/r1 \+12025550101 \[2\/2\] (connected to "ACME SALES"|success)/);
    expect(output).toMatch(
      /fax fax-[0-9a-f-]+ "From the shell": delivered, 2 pages\n\s+number\s+try\s+status\nr1\s+\+12025550101\s+2\/2\s+success: 2\/2 pages, remote "ACME SALES"\n$/,
    );

    const faxId = /\nfax (fax-[0-9a-f-]+)\n/.exec(output)![1];
    const status = io();
    expect(await runCli(['status', faxId, '--token', token, '--api', t.service.url], status.io)).toBe(EXIT.delivered);
    expect(status.out()).toContain('success: 2/2 pages, remote "ACME SALES"');

    const stranger = io();
    expect(await runCli(['status', faxId, '--token', await t.token('mallory'), '--api', t.service.url], stranger.io)).toBe(EXIT.error);
    expect(stranger.err()).toContain('404 not_found');
  });

  it('reports API refusals and usage errors', async () => {
    const pdf = makeSamplePdf(t.dir, 'cli-bad', [['x']]);
    const refused = io({ FAXNOTIFY_TOKEN: token });
    expect(await runCli(['send', pdf, '--to', '12', '--api', t.service.url], refused.io)).toBe(EXIT.error);
    expect(refused.err()).toContain('400 failed_invalid_number_format');

    const missing = io();
    expect(await runCli(['send', pdf, '--to', '+12025550101'], missing.io)).toBe(EXIT.usage);
    expect(missing.err()).toContain('no token');
    expect(await runCli(['fly'], io().io)).toBe(EXIT.usage);
  });

  it('reads several numbers after one --to, stopping at file names and flags', () => {
    const options = parseCommandLine(['send', 'a.pdf', '--to', '+12025550101', '(202) 555-0102', 'b.tif', '--to=+12025550103,+12025550104', '--subject', 'x'], {
      FAXNOTIFY_TOKEN: 't',
    });
    expect(options.positional).toEqual(['a.pdf', 'b.tif']);
    expect(options.to).toEqual(['+12025550101', '(202) 555-0102', '+12025550103', '+12025550104']);
  });
});
