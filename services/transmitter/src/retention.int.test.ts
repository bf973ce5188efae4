/**
 * File retention on a running transmitter with its real SQLite database and files folder: files
 * are uploaded and submitted through the API, faxes end on a scripted modem, and sweeps run with
 * a clock moved days ahead.
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@faxnotify/peers';
import { loadTransmitterConfig } from './config';
import { makeSamplePdf } from './documents/testing/sample-documents';
import { ScriptedModem, type Class1Script } from '@faxnotify/fax-line/testing';
import type { CreatedView } from './api';
import { FileGoneError, Outbox, type FaxView, type OutboxEntryView } from './outbox';
import { FileRetention, type SweepOutcome } from './retention';
import type { FileRow } from './db/schema';
import { api, FAST_RETRIES, faxIdOf, finalFax, startTestTransmitter, TEST_POSTGRES_URL, upload, type TestTransmitter } from './testing/harness';

jest.setTimeout(60_000);

const DAY_MS = 24 * 3600_000;
const FAST_LINE = { hangupGuard: 0, t4: 600, t2: 1500, command: 2000 };

let t: TestTransmitter;
let token: string;
let modem: ScriptedModem | undefined;
let script: Class1Script;

/** A transmitter with one scripted modem line that delivers every fax, unless the test changes `script`. */
async function start(label: string, storage: { postgres?: boolean } = {}): Promise<void> {
  script = { kind: 'class1', dialResult: 'CONNECT' };
  modem = await ScriptedModem.start(script);
  t = await startTestTransmitter(label, { ...FAST_RETRIES, lines: [{ id: 'scripted', kind: 'class1', device: modem.device, timers: FAST_LINE }] }, {}, storage);
  token = await t.token('alice');
}

afterEach(async () => {
  await t?.close();
  await modem?.stop();
  modem = undefined;
});

/** Sweeps as the transmitter would `days` days from now (keepDays 7, unusedDays 1). */
function sweepIn(days: number): Promise<SweepOutcome> {
  const at = new Date(Date.now() + days * DAY_MS);
  return new FileRetention({ db: t.service.db, keepDays: 7, unusedDays: 1, logger: t.service.logger, now: () => at }).sweep();
}

async function uploaded(name: string): Promise<{ path: string; row: FileRow }> {
  const pdf = makeSamplePdf(t.dir, name, [[`retention test ${name}`]]);
  const { status, body } = await upload(t.service.url, token, pdf);
  expect(status).toBe(200);
  const id = /^\/storage\/([0-9a-f-]{36})\.pdf$/.exec(body.path)![1];
  const row = await t.service.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  expect(existsSync(row.stored_path)).toBe(true);
  return { path: body.path, row };
}

/** Whether the file still has its row and its bytes on disk. */
async function kept(row: FileRow): Promise<{ row: boolean; disk: boolean }> {
  const found = await t.service.db.selectFrom('files').select('id').where('id', '=', row.id).executeTakeFirst();
  return { row: found !== undefined, disk: existsSync(row.stored_path) };
}

async function submit(path: string, body: Record<string, unknown> = {}): Promise<string> {
  const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550101'], files: [path], ...body });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** Submits for now and waits until the fax is delivered (its entry done). */
async function deliver(path: string): Promise<string> {
  const outboxId = await submit(path);
  const fax = await finalFax(t.service.url, token, await faxIdOf(t.service.url, token, outboxId));
  expect(fax.status).toBe('delivered');
  expect(await stateOf(outboxId)).toBe('done');
  return outboxId;
}

const stateOf = async (outboxId: string) =>
  (await t.service.db.selectFrom('faxes').select('state').where('outbox_id', '=', outboxId).executeTakeFirstOrThrow()).state;

/** faxnotify_transmitter_files_deleted_total{reason="unused"} as /metrics shows it (0 before the first deletion). */
async function deletedUnused(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = /^faxnotify_transmitter_files_deleted_total\{reason="unused"\} (\d+)$/m.exec(text);
  return line ? Number(line[1]) : 0;
}

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

async function sharedFile(storage: { postgres?: boolean }): Promise<void> {
  await start(`retention-shared${storage.postgres ? '-pg' : ''}`, storage);
  const shared = await uploaded('shared');
  await deliver(shared.path);
  const waitingEntry = await submit(shared.path, { send_time: inAnHour() });

  expect(await sweepIn(30)).toEqual({ files: 0, bytes: 0, missing: 0, failed: 0 });
  expect(await kept(shared.row)).toEqual({ row: true, disk: true });

  expect((await api(t.service.url, token, 'DELETE', `/v3/accounts/self/outbox/${waitingEntry}`)).status).toBe(204);
  expect(await sweepIn(30)).toEqual({ files: 1, bytes: shared.row.bytes, missing: 0, failed: 0 });
  expect(await kept(shared.row)).toEqual({ row: false, disk: false });
}

describe('file retention', () => {
  it('deletes an upload no fax uses after unusedDays; a later submission naming it gets a 400 that names it', async () => {
    await start('retention-unused');
    const { path, row } = await uploaded('unused');

    expect(await sweepIn(0.5)).toEqual({ files: 0, bytes: 0, missing: 0, failed: 0 });
    expect(await kept(row)).toEqual({ row: true, disk: true });

    expect(await sweepIn(1.5)).toEqual({ files: 1, bytes: row.bytes, missing: 0, failed: 0 });
    expect(await kept(row)).toEqual({ row: false, disk: false });

    const late = await api(t.service.url, token, 'POST', '/v3/accounts/self/outbox', { to: ['+12025550101'], files: [path] });
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('file_not_found');
    expect(late.body.description).toContain(JSON.stringify(path));
    expect(late.body.description).toMatch(/deleted .*kept 1 day.* 7 days/);

    // Deleted between the API's look-up and the entry's transaction: the transaction notices.
    await expect(
      new Outbox(t.service.db, t.service.ledger).createEntry('alice', {
        from: null,
        to: ['+12025550101'],
        files: [{ fileId: row.id, path, name: 'x.pdf', bytes: row.bytes }],
        subject: 'late',
        sendAt: null,
        retry: { count: 0, delayMinutes: 0 },
      }),
    ).rejects.toThrow(FileGoneError);
    expect(await t.service.db.selectFrom('faxes').select('outbox_id').where('subject', '=', 'late').execute()).toEqual([]);
  });

  it('deletes the file of a done fax keepDays after it was done, and never the file of a waiting or sending entry', async () => {
    await start('retention-done');
    const done = await uploaded('done');
    const doneEntry = await deliver(done.path);

    const waiting = await uploaded('waiting');
    const waitingEntry = await submit(waiting.path, { send_time: inAnHour() });

    // A busy number with a long redial delay keeps its fax in state sending.
    script.dialResult = 'BUSY';
    const sending = await uploaded('sending');
    const sendingEntry = await submit(sending.path, { retry: { count: 1, delay: 60 } });
    await eventually(
      async () =>
        (await api<FaxView | null>(t.service.url, token, 'GET', `/v3/accounts/self/faxes/${await faxIdOf(t.service.url, token, sendingEntry)}`)).body
          ?.recipients[0].status === 'retry_scheduled',
    );
    expect(await stateOf(sendingEntry)).toBe('sending');
    expect(await stateOf(waitingEntry)).toBe('waiting');

    expect(await sweepIn(6)).toEqual({ files: 0, bytes: 0, missing: 0, failed: 0 });
    expect(await kept(done.row)).toEqual({ row: true, disk: true });

    expect(await sweepIn(8)).toEqual({ files: 1, bytes: done.row.bytes, missing: 0, failed: 0 });
    expect(await kept(done.row)).toEqual({ row: false, disk: false });
    expect(await kept(waiting.row)).toEqual({ row: true, disk: true });
    expect(await kept(sending.row)).toEqual({ row: true, disk: true });

    // Months later, entries not done still keep their files; the done entry still shows the path it had.
    expect(await sweepIn(90)).toEqual({ files: 0, bytes: 0, missing: 0, failed: 0 });
    expect(await kept(waiting.row)).toEqual({ row: true, disk: true });
    expect(await kept(sending.row)).toEqual({ row: true, disk: true });
    const entry = await api<OutboxEntryView>(t.service.url, token, 'GET', `/v3/accounts/self/outbox/${doneEntry}`);
    expect(entry.body.files).toEqual([done.path]);
  }, 90_000);

  it('keeps a file shared by a done fax and a waiting entry until the waiting entry is gone', async () => {
    await sharedFile({});
  });

  (TEST_POSTGRES_URL === 'none' ? it.skip : it)('does the same with its files in PostgreSQL', async () => {
    await sharedFile({ postgres: true });
  });

  it('removes the row of a file already gone from disk, and tries again after a disk error', async () => {
    await start('retention-disk');
    const missing = await uploaded('missing');
    rmSync(missing.row.stored_path);
    expect(await sweepIn(2)).toEqual({ files: 1, bytes: 0, missing: 1, failed: 0 });
    expect(await kept(missing.row)).toEqual({ row: false, disk: false });

    // A folder where the file should be cannot be unlinked: the row stays for the next sweep.
    const stuck = await uploaded('stuck');
    rmSync(stuck.row.stored_path);
    mkdirSync(stuck.row.stored_path);
    writeFileSync(join(stuck.row.stored_path, 'inside'), 'x');
    expect(await sweepIn(2)).toEqual({ files: 0, bytes: 0, missing: 0, failed: 1 });
    expect(await kept(stuck.row)).toEqual({ row: true, disk: true });

    rmSync(stuck.row.stored_path, { recursive: true });
    writeFileSync(stuck.row.stored_path, Buffer.alloc(stuck.row.bytes, 0x20));
    expect(statSync(stuck.row.stored_path).size).toBe(stuck.row.bytes);
    expect(await sweepIn(2)).toEqual({ files: 1, bytes: stuck.row.bytes, missing: 0, failed: 0 });
    expect(await kept(stuck.row)).toEqual({ row: false, disk: false });
  });

  it('sweeps when the transmitter starts, and counts what it deleted', async () => {
    await start('retention-start');
    const old = await uploaded('old');
    const fresh = await uploaded('fresh');
    await t.service.db
      .updateTable('files')
      .set({ created_at: new Date(Date.now() - 2 * DAY_MS).toISOString() })
      .where('id', '=', old.row.id)
      .execute();

    const before = await deletedUnused(t.service.url);
    await t.service.stop();
    const restarted = await t.restart();
    await eventually(async () => !(await kept(old.row)).row);
    expect(await kept(old.row)).toEqual({ row: false, disk: false });
    expect(await kept(fresh.row)).toEqual({ row: true, disk: true });
    expect(await deletedUnused(restarted.url)).toBe(before + 1);
  });
});

describe('retention settings', () => {
  it('keep files 7 days after their faxes are done and unused uploads 1 day, from the environment too', () => {
    expect(loadTransmitterConfig({}, {}).files).toMatchObject({ keepDays: 7, unusedDays: 1 });
    expect(loadTransmitterConfig({}, { TRANSMITTER_FILES_KEEP_DAYS: '0', TRANSMITTER_FILES_UNUSED_DAYS: '3' }).files).toMatchObject({
      keepDays: 0,
      unusedDays: 3,
    });
    // An upload must live long enough for the submission that names it.
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_FILES_UNUSED_DAYS: '0' })).toThrow(/files\.unusedDays/);
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_FILES_KEEP_DAYS: '-1' })).toThrow(/files\.keepDays/);
  });
});
