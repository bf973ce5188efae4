/**
 * The recipient ledger on the transmitter's own SQLite database, with nothing else running: every
 * way a recipient starts, reports and ends, the events each writes with their (attempt, sequence),
 * and the one detail limit, the contract's.
 */
import { MAX_REASON_DETAIL_LENGTH, type CloudEvent } from '@faxnotify/contracts';
import type { FaxRow, RecipientRow } from '../db/schema';
import { Outbox } from '../outbox';
import { eachTestDatabase, TEST_RETRY_DELAYS } from '../testing/database';
import { DOCUMENT_PREPARATION, HANDED_OVER, type AttemptEnd } from './recipient-ledger';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

const env = eachTestDatabase();

/** An entry released as fax `faxId` to `numbers`, its recipients queued, with `retries` redials allowed. */
async function released(numbers: string[], retries = 0, faxId = 'fax-1'): Promise<{ fax: FaxRow; recipients: RecipientRow[] }> {
  const outboxId = await new Outbox(env.t.db, env.ledger).createEntry('owner-1', {
    from: null,
    to: numbers,
    files: [],
    subject: 'ledger',
    sendAt: null,
    retry: { count: retries, delayMinutes: 0 },
  });
  await env.t.db.updateTable('faxes').set({ fax_id: faxId, state: 'sending', pages: 2 }).where('outbox_id', '=', outboxId).execute();
  await env.t.db.transaction().execute((trx) => env.ledger.queueAll(trx, outboxId, 2, T0));
  const fax = await env.t.db.selectFrom('faxes').selectAll().where('outbox_id', '=', outboxId).executeTakeFirstOrThrow();
  const recipients = await env.t.db.selectFrom('recipients').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute();
  return { fax, recipients };
}

const end = (over: Partial<AttemptEnd> = {}): AttemptEnd => ({
  status: 'success',
  reason: { code: 'OK', detail: 'MCF after EOP' },
  pagesConfirmed: 2,
  pagesTotal: 2,
  remoteCsid: 'FAR END',
  remoteCsidRaw: 'DNE RAF',
  startedAt: at(1),
  connectedAt: at(5),
  endedAt: at(60),
  signallingRate: 14400,
  ...over,
});

const steps = (events: CloudEvent[]): string[] =>
  events
    .filter((e) => e.type.includes('recipient'))
    .map((e) => {
      const d = e.data as { attempt: number; sequence: number; status: string };
      return `${d.attempt}.${d.sequence} ${e.type.includes('result') ? 'result ' : ''}${d.status}`;
    });

const row = (r: RecipientRow) =>
  env.t.db.selectFrom('recipients').selectAll().where('outbox_id', '=', r.outbox_id).where('position', '=', r.position).executeTakeFirstOrThrow();
const attempts = (r: RecipientRow) =>
  env.t.db.selectFrom('attempts').selectAll().where('outbox_id', '=', r.outbox_id).where('position', '=', r.position).orderBy('attempt').execute();

describe('a call on a line', () => {
  it('is started once, reports its steps in sequence and ends in a result that makes the fax done', async () => {
    const { fax, recipients } = await released(['+12025550101']);
    const call = await env.ledger.startAttempt(env.t.db, recipients[0], 'line-1', at(1));
    expect(call).toMatchObject({ state: 'in_call', attempt: 1, sequence: 0, line_id: 'line-1' });
    // A second taker finds it no longer queued.
    expect(await env.ledger.startAttempt(env.t.db, recipients[0], 'line-2', at(1))).toBeUndefined();

    await env.t.db.transaction().execute(async (trx) => {
      expect(await env.ledger.progress(trx, 'fax-1', call!, 'dialing', {}, at(1))).toBe(true);
      expect(await env.ledger.progress(trx, 'fax-1', call!, 'connected', { csid: 'FAR END', csidRaw: 'DNE RAF' }, at(5))).toBe(true);
      expect(await env.ledger.progress(trx, 'fax-1', call!, 'sending', { page: { n: 1, of: 2 } }, at(30))).toBe(true);
    });
    const current = await row(recipients[0]);
    expect(current).toMatchObject({ status: 'sending', sequence: 3, remote_csid: 'FAR END', pages_confirmed: 1 });

    const ended = await env.t.db.transaction().execute((trx) => env.ledger.endAttempt(trx, fax, current, end(), at(61)));
    expect(ended).toEqual({ final: true, faxDone: true });
    expect(await row(recipients[0])).toMatchObject({ state: 'final', status: 'success', sequence: 4, pages_confirmed: 2, ended_at: at(60).toISOString() });
    expect((await attempts(recipients[0])).map((a) => [a.attempt, a.status, a.reason_code, a.line_id])).toEqual([[1, 'success', 'OK', 'line-1']]);
    expect(await env.t.db.selectFrom('faxes').select('state').where('outbox_id', '=', fax.outbox_id).executeTakeFirst()).toEqual({ state: 'done' });

    const events = await env.t.events();
    expect(steps(events)).toEqual(['1.0 dialing', '1.1 connected', '1.2 sending', '1.3 result success']);
    // One id per (fax, recipient, attempt, sequence), whichever path writes it.
    expect(events.map((e) => e.id)).toEqual(['fax-1:r1:1:0', 'fax-1:r1:1:1', 'fax-1:r1:1:2', 'fax-1:r1:1:3']);
    expect(events[3].data).toMatchObject({
      pagesSent: 2,
      pagesTotal: 2,
      remoteCsid: 'FAR END',
      remoteCsidRaw: 'DNE RAF',
      startedAt: at(5).toISOString(),
      attempts: 1,
    });
    expect((events[3].data as { reason: { detail: string } }).reason.detail).toMatch(
      /^MCF after EOP\nattempt 1 of 1 on line-1 ended .*: success \(OK\), 2\/2 pages\ndelivered$/,
    );
  });

  it('refuses a step of an attempt that is no longer the current one', async () => {
    const { fax, recipients } = await released(['+12025550101'], 1);
    const call = (await env.ledger.startAttempt(env.t.db, recipients[0], 'line-1', at(1)))!;
    await env.t.db
      .transaction()
      .execute(async (trx) =>
        env.ledger.endAttempt(
          trx,
          fax,
          call,
          end({ status: 'failed_user_busy', reason: { code: 'BUSY', detail: 'BUSY' }, pagesConfirmed: 0, connectedAt: null }),
          at(2),
        ),
      );
    expect(await env.t.db.transaction().execute((trx) => env.ledger.progress(trx, 'fax-1', call, 'sending', { page: { n: 1, of: 2 } }, at(3)))).toBe(false);
  });

  it("is redialled after the cause's delay while the policy allows, and the final detail names every attempt", async () => {
    const { fax, recipients } = await released(['+12025550101'], 1);
    const busy = end({
      status: 'failed_user_busy',
      reason: { code: 'BUSY', detail: 'BUSY' },
      pagesConfirmed: 0,
      remoteCsid: null,
      remoteCsidRaw: null,
      connectedAt: null,
      endedAt: at(10),
    });
    const first = (await env.ledger.startAttempt(env.t.db, recipients[0], 'line-1', at(1)))!;
    expect(await env.t.db.transaction().execute((trx) => env.ledger.endAttempt(trx, fax, first, busy, at(11)))).toEqual({ final: false, faxDone: false });
    const waiting = await row(recipients[0]);
    expect(waiting).toMatchObject({
      state: 'queued',
      status: 'retry_scheduled',
      next_attempt_at: at(10 + TEST_RETRY_DELAYS.busySeconds).toISOString(),
      sequence: 1,
    });

    const second = (await env.ledger.startAttempt(env.t.db, waiting, 'line-2', at(200)))!;
    expect(second).toMatchObject({ attempt: 2, sequence: 0 });
    await env.t.db.transaction().execute((trx) => env.ledger.endAttempt(trx, fax, second, { ...busy, endedAt: at(210) }, at(211)));
    const events = await env.t.events();
    expect(steps(events)).toEqual(['1.0 retry_scheduled', '2.0 result failed_user_busy']);
    expect(events[0].data).toMatchObject({ retry: { at: at(190).toISOString(), reason: { code: 'BUSY', detail: 'BUSY' } } });
    const detail = (events[1].data as { reason: { detail: string } }).reason.detail;
    expect(detail.split('\n')).toEqual([
      'BUSY',
      `attempt 1 of 2 on line-1 ended ${at(10).toISOString()}: failed_user_busy (BUSY), 0/2 pages`,
      `attempt 2 of 2 on line-2 ended ${at(210).toISOString()}: failed_user_busy (BUSY), 0/2 pages`,
      'no redials left (2 of 2 attempts made)',
    ]);
    expect((await attempts(recipients[0])).map((a) => a.attempt)).toEqual([1, 2]);
  });

  it("cuts every detail it writes to the contract's limit", async () => {
    const { fax, recipients } = await released(['+12025550101', '+12025550102'], 1);
    const long = 'x'.repeat(MAX_REASON_DETAIL_LENGTH * 3);
    const [a, b] = recipients;
    const callA = (await env.ledger.startAttempt(env.t.db, a, 'line-1', at(1)))!;
    await env.t.db
      .transaction()
      .execute((trx) => env.ledger.endAttempt(trx, fax, callA, end({ status: 'failed_no_answer', reason: { code: 'NO_ANSWER', detail: long } }), at(2)));
    const callB = (await env.ledger.startAttempt(env.t.db, b, 'line-2', at(1)))!;
    await env.t.db.transaction().execute((trx) => env.ledger.handOver(trx, 'fax-1', callB, end(), long, at(2)));
    await env.t.db
      .transaction()
      .execute((trx) =>
        env.ledger.finishHandedOver(
          trx,
          b,
          'fax-1',
          1,
          { status: 'failed', reason: { code: 'X', detail: long }, pagesSent: 0, remoteCsid: null, remoteCsidRaw: null, startedAt: null, endedAt: at(9) },
          at(9),
        ),
      );
    const waiting = await row(a);
    await env.t.db
      .transaction()
      .execute((trx) => env.ledger.endWithoutCall(trx, 'fax-1', waiting, { status: 'failed_image_preparation', detail: long }, at(10)));
    const details = [
      ...(await env.t.events()).map(
        (e) =>
          (e.data as { reason?: { detail: string }; retry?: { reason: { detail: string } } }).reason?.detail ??
          (e.data as { retry?: { reason: { detail: string } } }).retry?.reason.detail,
      ),
      ...(await env.t.db.selectFrom('attempts').select('reason_detail').execute()).map((r) => r.reason_detail),
      ...(await env.t.db.selectFrom('recipients').select('reason_detail').execute()).map((r) => r.reason_detail),
    ].filter((d): d is string => typeof d === 'string' && d.length > 0);
    expect(details.length).toBeGreaterThanOrEqual(8);
    for (const detail of details) expect(detail.length).toBeLessThanOrEqual(MAX_REASON_DETAIL_LENGTH);
  });
});

describe('a recipient whose documents cannot be prepared', () => {
  it("ends with one attempt and no call, in a new attempt's sequence", async () => {
    const { recipients } = await released(['+12025550101', '+12025550102']);
    const done = await env.t.db.transaction().execute(async (trx) => {
      await env.ledger.endWithoutCall(trx, 'fax-1', recipients[0], { status: 'failed_image_preparation', detail: 'file 1 of 1 (a.pdf): not a PDF' }, at(1));
      return env.ledger.endWithoutCall(trx, 'fax-1', recipients[1], { status: 'failed_image_preparation', detail: 'file 1 of 1 (a.pdf): not a PDF' }, at(1));
    });
    expect(done).toBe(true);
    expect(steps(await env.t.events())).toEqual(['1.0 result failed_image_preparation', '1.0 result failed_image_preparation']);
    expect(await row(recipients[0])).toMatchObject({ state: 'final', attempt: 1, sequence: 1, reason_code: DOCUMENT_PREPARATION });
    expect(await attempts(recipients[0])).toEqual([
      expect.objectContaining({ attempt: 1, line_id: null, status: 'failed_image_preparation', reason_code: DOCUMENT_PREPARATION }),
    ]);
  });
});

describe("a recipient handed over to a line's far side", () => {
  it("waits handed over, reports the far side's steps in its own sequence, and ends once with its report", async () => {
    const { recipients } = await released(['+12025550101']);
    const call = (await env.ledger.startAttempt(env.t.db, recipients[0], 'ata-1', at(1)))!;
    await env.t.db.transaction().execute(async (trx) => {
      await env.ledger.progress(trx, 'fax-1', call, 'dialing', {}, at(1));
      await env.ledger.handOver(trx, 'fax-1', (await env.ledger.current(trx, call))!, end(), 'the ATA took 2 of 2 pages', at(60));
    });
    expect(await row(recipients[0])).toMatchObject({ state: 'handed_over', status: 'queued', sequence: 2 });
    expect(await attempts(recipients[0])).toEqual([
      expect.objectContaining({ status: 'queued', reason_code: HANDED_OVER, remote_csid: null, pages_confirmed: 0 }),
    ]);

    await env.t.db.transaction().execute(async (trx) => {
      await env.ledger.reportProgress(trx, call, 'fax-1', 1, { status: 'connected', remoteCsid: 'REAL FAR END' }, at(100));
      await env.ledger.reportProgress(trx, call, 'fax-1', 1, { status: 'sending', page: { n: 2, of: 2 } }, at(120));
    });
    expect(await row(recipients[0])).toMatchObject({ status: 'sending', remote_csid: 'REAL FAR END', pages_confirmed: 2, sequence: 4 });
    const report = {
      status: 'success' as const,
      reason: { code: 'OK', detail: 'sent' },
      pagesSent: 2,
      remoteCsid: 'REAL FAR END',
      remoteCsidRaw: 'REAL FAR END',
      startedAt: at(100),
      endedAt: at(130),
    };
    expect(await env.t.db.transaction().execute((trx) => env.ledger.finishHandedOver(trx, call, 'fax-1', 1, report, at(131)))).toBe(true);
    // Once: a second report finds the recipient final.
    expect(await env.t.db.transaction().execute((trx) => env.ledger.finishHandedOver(trx, call, 'fax-1', 1, report, at(132)))).toBe(false);

    const events = await env.t.events();
    expect(steps(events)).toEqual(['1.0 dialing', '1.1 queued', '1.2 connected', '1.3 sending', '1.4 result success']);
    expect(events[4]).toMatchObject({ id: 'fax-1:r1:1:4', time: at(130).toISOString() });
    expect(events[4].data).toMatchObject({ pagesSent: 2, pagesTotal: 2, remoteCsid: 'REAL FAR END', startedAt: at(100).toISOString(), attempts: 1 });
    // The attempt's row is ended, not written twice.
    expect(await attempts(recipients[0])).toEqual([
      expect.objectContaining({ attempt: 1, status: 'success', reason_code: 'OK', pages_confirmed: 2, line_id: 'ata-1' }),
    ]);
    expect(await row(recipients[0])).toMatchObject({ state: 'final', status: 'success', sequence: 5 });
  });

  it('takes back a recipient whose redial waits only while that redial has not started', async () => {
    const { fax, recipients } = await released(['+12025550101'], 1);
    const call = (await env.ledger.startAttempt(env.t.db, recipients[0], 'ata-1', at(1)))!;
    const cut = end({ status: 'failed_to_send', reason: { code: 'TRANSMITTER_RESTART', detail: 'cut' }, pagesConfirmed: 0 });
    await env.t.db.transaction().execute((trx) => env.ledger.endAttempt(trx, fax, call, cut, at(2)));
    expect(await env.t.db.transaction().execute((trx) => env.ledger.resumeHandedOver(trx, call, 2, at(3)))).toBe(false);
    expect(await env.t.db.transaction().execute((trx) => env.ledger.resumeHandedOver(trx, call, 1, at(3)))).toBe(true);
    expect(await row(recipients[0])).toMatchObject({ state: 'handed_over', status: 'queued', next_attempt_at: null, attempt: 1 });
  });
});
