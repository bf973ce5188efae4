/**
 * The scheduler and line pool on a running transmitter whose lines are scripted modems on
 * pseudo-terminals (the Class 1 driver talks to them as to any modem): redials by cause within
 * the fax's retry policy, a restart in the middle of a call, documents that cannot be prepared, several
 * lines at once, and the events with their (attempt, sequence) order.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { CloudEvent } from '@faxnotify/contracts';
import { eventually } from '@faxnotify/peers';
import { makeSamplePdf } from '../documents/testing/sample-documents';
import type { CreatedView } from '../api';
import type { LineDefinition } from '../config';
import type { FaxView } from '../outbox';
import { type Class1Script, ScriptedModem } from '@faxnotify/fax-line/testing';
import { api, FAST_RETRIES, faxIdOf, finalFax, startTestTransmitter, TEST_POSTGRES_URL, upload, type TestTransmitter } from '../testing/harness';

jest.setTimeout(60_000);

const FAST_LINE = { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 };
/** T.30's TSI frame control field (without the X bit). */
const TSI_FCF = 0x42;

const modems: ScriptedModem[] = [];
const transmitters: TestTransmitter[] = [];

afterEach(async () => {
  await Promise.allSettled(transmitters.splice(0).map((t) => t.close()));
  await Promise.allSettled(modems.splice(0).map((m) => m.stop()));
});

async function modem(script: Omit<Class1Script, 'kind'>): Promise<{ modem: ScriptedModem; script: Class1Script; line: LineDefinition }> {
  const full: Class1Script = { kind: 'class1', ...script };
  const started = await ScriptedModem.start(full);
  modems.push(started);
  return { modem: started, script: full, line: { id: `scripted-${modems.length}`, kind: 'class1', device: started.device, timers: { ...FAST_LINE } } };
}

async function transmitter(
  label: string,
  lines: LineDefinition[],
  overrides: Record<string, unknown> = {},
  storage: { postgres?: boolean } = {},
): Promise<TestTransmitter> {
  const t = await startTestTransmitter(label, { ...FAST_RETRIES, lines, ...overrides }, {}, storage);
  transmitters.push(t);
  return t;
}

async function submit(t: TestTransmitter, body: Record<string, unknown>, pdfPages = 1): Promise<{ outboxId: string; faxId: string; token: string }> {
  const token = await t.token('alice');
  const pdf = makeSamplePdf(
    t.dir,
    `doc-${pdfPages}`,
    Array.from({ length: pdfPages }, (_, i) => [`page ${i + 1}`]),
  );
  const path = (await upload(t.service.url, token, pdf)).body.path;
  const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', { files: [path], ...body });
  expect(created.status).toBe(201);
  const outboxId = created.body.id;
  return { outboxId, faxId: await faxIdOf(t.service.url, token, outboxId), token };
}

/** A recipient's events as (attempt, sequence, what) lines, in the order they were published. */
function timeline(events: CloudEvent[], recipientId = 'r1'): string[] {
  return events
    .filter((e) => (e.data as { recipientId?: string }).recipientId === recipientId)
    .map((e) => {
      const d = e.data as { attempt: number; sequence: number; status: string; page?: { n: number; of: number }; remoteCsid?: string | null };
      const what = e.type.includes('result')
        ? `result ${d.status}`
        : d.page
          ? `${d.status} ${d.page.n}/${d.page.of}`
          : d.remoteCsid
            ? `${d.status} ${d.remoteCsid}`
            : d.status;
      return `${d.attempt}.${d.sequence} ${what}`;
    });
}

async function busyThenDelivered(storage: { postgres?: boolean }): Promise<void> {
  const busy = await modem({ dialResult: 'BUSY', csi: 'REMOTE 42' });
  const t = await transmitter('busy', [busy.line], { 'retry.busySeconds': 2 }, storage);
  const { faxId, token } = await submit(t, { to: ['+12025550101'], retry: { count: 2 } }, 2);

  const retry = await t.events.waitFor((e) => (e.data as { status?: string }).status === 'retry_scheduled');
  busy.script.dialResult = 'CONNECT';
  const retryData = retry.data as { retry: { at: string; reason: { code: string; detail: string } }; at: string };
  expect(retryData.retry.reason.code).toBe('BUSY');
  expect(new Date(retryData.retry.at).getTime() - new Date(retryData.at).getTime()).toBeGreaterThanOrEqual(1500);

  const fax = await finalFax(t.service.url, token, faxId);
  expect(fax).toMatchObject({ status: 'delivered', page_count: 2 });
  expect(fax.recipients[0]).toMatchObject({ status: 'success', attempt: 2, remote_csid: 'REMOTE 42', page: { n: 2, of: 2 } });
  expect(fax.recipients[0].attempts.map((a) => `${a.status} ${a.reason.code}`)).toEqual(['failed_user_busy BUSY', 'success OK']);

  await eventually(() => t.events.of(faxId, 'fax.recipient.result').length === 1);
  const events = t.events.of(faxId);
  expect(events[0].type).toBe('faxnotify.fax.submitted.v2');
  expect(timeline(events)).toEqual([
    '1.0 dialing',
    '1.1 retry_scheduled',
    '2.0 dialing',
    '2.1 connected REMOTE 42',
    '2.2 sending 1/2',
    '2.3 sending 2/2',
    '2.4 result success',
  ]);
  const result = events[events.length - 1].data as Record<string, unknown>;
  expect(result).toMatchObject({ number: '+12025550101', pagesSent: 2, pagesTotal: 2, remoteCsid: 'REMOTE 42', attempts: 2, reason: { code: 'OK' } });
  expect(result.reason).toMatchObject({
    detail: expect.stringMatching(/attempt 1 of 3 on scripted-\d+ ended .*: failed_user_busy \(BUSY\)[\s\S]*attempt 2 of 3 .*: success \(OK\), 2\/2 pages/),
  });
  expect(result.startedAt).toEqual(expect.any(String));
  expect(busy.modem.record.commands.filter((c) => c.startsWith('ATD'))).toEqual(['ATD12025550101', 'ATD12025550101']);
}

describe('scheduler and line pool', () => {
  it('redials a busy number after the busy delay and reports every step in (attempt, sequence) order', async () => {
    await busyThenDelivered({});
  });

  (TEST_POSTGRES_URL === 'none' ? it.skip : it)('does the same with its faxes in PostgreSQL', async () => {
    await busyThenDelivered({ postgres: true });
  });

  it('stops redialling when the policy is used up, and the result names every attempt', async () => {
    const silent = await modem({ dialResult: 'NO ANSWER' });
    const t = await transmitter('no-answer', [silent.line]);
    const { faxId, token } = await submit(t, { to: ['+12025550102'], retry: { count: 1 } });
    const fax = await finalFax(t.service.url, token, faxId);
    expect(fax).toMatchObject({ status: 'failed', recipients: [{ status: 'failed_no_answer', attempt: 2, max_attempts: 2 }] });
    await eventually(() => t.events.of(faxId, 'fax.recipient.result').length === 1);
    expect(timeline(t.events.of(faxId))).toEqual(['1.0 dialing', '1.1 retry_scheduled', '2.0 dialing', '2.1 result failed_no_answer']);
    const result = t.events.of(faxId, 'fax.recipient.result')[0].data as {
      attempts: number;
      reason: { code: string; detail: string };
      startedAt: string | null;
    };
    expect(result.attempts).toBe(2);
    expect(result.startedAt).toBeNull();
    expect(result.reason.code).toBe('NO_ANSWER');
    expect(result.reason.detail).toMatch(
      /\nattempt 1 of 2 .*failed_no_answer \(NO_ANSWER\), 0\/1 pages\nattempt 2 of 2 .*failed_no_answer \(NO_ANSWER\), 0\/1 pages\nno redials left/,
    );
    expect(silent.modem.record.commands.filter((c) => c.startsWith('ATD'))).toHaveLength(2);
  });

  it('after a restart in the middle of a call, counts the cut attempt as failed_to_send and redials', async () => {
    const hanging = await modem({ silentAfterConnect: true });
    hanging.line.timers = { ...FAST_LINE, t1: 30_000 };
    const t = await transmitter('restart', [hanging.line]);
    const { faxId, token } = await submit(t, { to: ['+12025550103'], retry: { count: 1 } });
    await t.events.waitFor((e) => (e.data as { faxId?: string; status?: string }).faxId === faxId && (e.data as { status?: string }).status === 'dialing');
    await eventually(() => hanging.modem.record.commands.some((c) => c.startsWith('ATD')));
    // Let the far end answer (and then say nothing), so the cut comes mid-call rather than mid-dial.
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Stop with no grace: the call is cut and left in flight, as a crash would leave it.
    await t.service.stop();
    const file = new SQLite(join(t.dir, 'transmitter.sqlite'), { readonly: true });
    expect(file.prepare('select state, attempt, line_id from recipients').all()).toEqual([{ state: 'in_call', attempt: 1, line_id: hanging.line.id }]);
    file.close();
    hanging.script.silentAfterConnect = false;
    hanging.script.csi = 'AFTER RESTART';

    const restarted = await t.restart();
    const fax = await finalFax(restarted.url, token, faxId);
    expect(fax.recipients[0]).toMatchObject({ status: 'success', attempt: 2, remote_csid: 'AFTER RESTART' });
    expect(fax.recipients[0].attempts[0]).toMatchObject({ attempt: 1, status: 'failed_to_send', reason: { code: 'TRANSMITTER_RESTART' } });
    await eventually(() => t.events.of(faxId, 'fax.recipient.result').length === 1);
    expect(timeline(t.events.of(faxId))).toEqual([
      '1.0 dialing',
      '1.1 retry_scheduled',
      '2.0 dialing',
      '2.1 connected AFTER RESTART',
      '2.2 sending 1/1',
      '2.3 result success',
    ]);
    const retry = t.events.of(faxId).find((e) => (e.data as { status: string }).status === 'retry_scheduled')!.data as {
      retry: { reason: { code: string; detail: string } };
    };
    expect(retry.retry.reason.code).toBe('TRANSMITTER_RESTART');
    expect(retry.retry.reason.detail).toMatch(/restarted during attempt 1 on line scripted-\d+, before the call connected/);
    expect(t.events.of(faxId, 'fax.submitted')).toHaveLength(1);
  });

  it('ends every recipient with the conversion failure when a document cannot be prepared, without dialling', async () => {
    const idle = await modem({});
    const t = await transmitter('broken-pdf', [idle.line]);
    const token = await t.token('alice');
    const broken = join(t.dir, 'broken.pdf');
    writeFileSync(broken, '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\nthis is not a PDF body\n%%EOF\n');
    const path = (await upload(t.service.url, token, broken)).body.path;
    expect(path).toBeDefined();
    const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', { files: [path], to: ['+12025550104', '+12025550105'] });
    const faxId = await faxIdOf(t.service.url, token, created.body.id);
    const fax = await finalFax(t.service.url, token, faxId);
    expect(fax.status).toBe('failed');
    expect(fax.recipients.map((r) => r.status)).toEqual(['failed_convert_to_tiff_issue', 'failed_convert_to_tiff_issue']);
    await eventually(() => t.events.of(faxId, 'fax.recipient.result').length === 2);
    const submitted = t.events.of(faxId, 'fax.submitted')[0].data as { pages: number };
    expect(submitted.pages).toBe(0);
    for (const recipientId of ['r1', 'r2']) expect(timeline(t.events.of(faxId), recipientId)).toEqual(['1.0 result failed_convert_to_tiff_issue']);
    expect(t.events.of(faxId, 'fax.recipient.result')[0].data).toMatchObject({
      reason: { code: 'DOCUMENT_PREPARATION', detail: expect.stringContaining('broken.pdf') },
      attempts: 1,
    });
    expect(idle.modem.record.commands.filter((c) => c.startsWith('ATD'))).toEqual([]);
  });

  it('runs one call per line at a time, on any free line, until every recipient is done', async () => {
    const first = await modem({ csi: 'LINE ONE PEER' });
    const second = await modem({ csi: 'LINE TWO PEER' });
    const t = await transmitter('pool', [first.line, second.line]);
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, t.service.scheduler.activeCalls)), 5);
    try {
      const { faxId, token } = await submit(t, { to: ['+12025550106', '+12025550107', '+12025550108'], retry: { count: 0 } });
      const fax = await finalFax(t.service.url, token, faxId);
      expect(fax.status).toBe('delivered');
      expect(fax.recipients.map((r) => r.status)).toEqual(['success', 'success', 'success']);
      const dials = [first, second].map((m) => m.modem.record.commands.filter((c) => c.startsWith('ATD')).length);
      expect(dials[0] + dials[1]).toBe(3);
      expect(Math.min(...dials)).toBeGreaterThanOrEqual(1);
      expect(most).toBe(2);
      await eventually(() => t.events.of(faxId, 'fax.recipient.result').length === 3);
    } finally {
      clearInterval(watch);
    }
  });
});

describe("the fax's sender number", () => {
  /** The TSI frames the modem received from our driver, as text (T.30 sends the identity last character first). */
  const tsisSeen = (m: ScriptedModem): string[] => m.framesOf(TSI_FCF).map((frame) => Buffer.from(frame.fif).reverse().toString('latin1').trim());

  it("is the TSI of its calls and travels in fax.submitted; a fax without one sends the transmitter's identity", async () => {
    const peer = await modem({ csi: 'SENDER CHECK' });
    const t = await transmitter('tsi', [peer.line], { localId: 'FAXNOTIFY TEST' });
    const own = await submit(t, { from: '+39 06 1234 5678', to: ['+12025550109'], retry: { count: 0 } });
    expect((await finalFax(t.service.url, own.token, own.faxId)).status).toBe('delivered');
    expect(tsisSeen(peer.modem)).toEqual(['+39 06 1234 5678']);
    await eventually(() => t.events.of(own.faxId, 'fax.submitted').length === 1);
    expect(t.events.of(own.faxId, 'fax.submitted')[0].data).toMatchObject({ from: '+390612345678' });

    const plain = await submit(t, { to: ['+12025550110'], retry: { count: 0 } });
    expect((await finalFax(t.service.url, plain.token, plain.faxId)).status).toBe('delivered');
    expect(tsisSeen(peer.modem)).toEqual(['+39 06 1234 5678', 'FAXNOTIFY TEST']);
    await eventually(() => t.events.of(plain.faxId, 'fax.submitted').length === 1);
    expect(t.events.of(plain.faxId, 'fax.submitted')[0].data).not.toHaveProperty('from');
  });
});

describe('a line that keeps failing on our side', () => {
  it('rests after lineFaultsBeforeRest calls without a dial tone, then dials again', async () => {
    const dead = await modem({ dialResult: 'NO DIALTONE' });
    const t = await transmitter('rest', [dead.line], { 'scheduler.lineFaultsBeforeRest': 2, 'scheduler.lineRestSeconds': 3 });
    const { faxId, token } = await submit(t, { to: ['+12025550101', '+12025550102', '+12025550103'], retry: { count: 0 } });
    const dials = () => dead.modem.record.commands.filter((c) => c.startsWith('ATD')).length;

    await eventually(() => dials() === 2, 20_000, 50);
    await eventually(async () => t.service.scheduler.restingLines.includes(dead.line.id), 5_000, 50);
    // Resting: the third recipient waits instead of failing on the same dead line.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(dials()).toBe(2);
    const waiting = (await api<FaxView>(t.service.url, token, 'GET', `/v3/accounts/self/faxes/${faxId}`)).body.recipients;
    expect(waiting.filter((r) => !r.final)).toHaveLength(1);
    const metrics = await (await fetch(`${t.service.url}/metrics`)).text();
    expect(metrics).toContain(`faxnotify_transmitter_line_resting{line="${dead.line.id}"} 1`);

    // The cable is back: after the rest the line dials again, and a working call clears the rest.
    dead.script.dialResult = 'CONNECT';
    const fax = await finalFax(t.service.url, token, faxId, 20_000);
    expect(dials()).toBe(3);
    expect(fax.recipients.map((r) => r.status).sort()).toEqual(['failed_normal_temporary_failure', 'failed_normal_temporary_failure', 'success']);
    expect(t.service.scheduler.restingLines).toEqual([]);
    expect(await (await fetch(`${t.service.url}/metrics`)).text()).toContain(`faxnotify_transmitter_line_resting{line="${dead.line.id}"} 0`);
  });
});
