/**
 * Dispatching recipients to lines and recording how their calls end, on the transmitter's own
 * SQLite database with nothing else running. The lines here play back what a fax line reports
 * (its steps and its result, through the fax-line package's interface); the drivers themselves
 * are proven on the scripted modem and the real line in the integration tier.
 */
import { LineReason, type FaxDocument, type LineObserver, type LineResult } from '@faxnotify/fax-line';
import { patternDocument } from '@faxnotify/fax-line/testing';
import { createLogger } from '@faxnotify/kit';
import { learnFaxNumbers } from '../ata/fax-reached';
import { PortServerHandover } from '../ata/handoff';
import { ataLine } from '../ata/line';
import { Outbox } from '../outbox';
import type { TransmitterLine } from '../lines/types';
import { TRANSMITTER_RESTART } from '../retry-policy';
import { eachTestDatabase } from '../testing/database';
import { CallRecorder } from './call-end';
import { Dispatcher } from './dispatch';
import { DocumentCache } from './document-cache';
import { LINE_FAILURE, LinePool } from './line-pool';
import { recoverInFlight } from './recovery';

const logger = createLogger('transmitter-test', 'silent');
const { document } = patternDocument(2);

/** What a played-back call does: its result, or a throw, or hanging until aborted. */
type Play = { result: Partial<LineResult> } | { throws: string } | { hangs: true };

/** A line that reports what `plays` say, one play per call, through the observer as a driver would. */
function playbackLine(id: string, plays: Play[]): TransmitterLine & { dialled: string[] } {
  const dialled: string[] = [];
  return {
    id,
    kind: 'class1',
    dialled,
    async send(request: { dialString: string; document: FaxDocument }, observer: LineObserver, signal?: AbortSignal): Promise<LineResult> {
      dialled.push(request.dialString);
      const play = plays.shift() ?? { result: {} };
      observer.dialing?.();
      if ('throws' in play) throw new Error(play.throws);
      if ('hangs' in play) {
        observer.connected?.({ csid: 'SLOW FAR END', csidRaw: 'DNE RAF WOLS' });
        return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      const result: LineResult = {
        pagesConfirmed: request.document.pages.length,
        pagesTotal: request.document.pages.length,
        remoteCsid: 'FAR END',
        remoteCsidRaw: 'DNE RAF',
        reason: { code: LineReason.OK, detail: 'MCF after EOP' },
        startedAt: new Date(),
        connectedAt: new Date(),
        endedAt: new Date(),
        signallingRate: 14400,
        ...play.result,
      };
      if (result.connectedAt) observer.connected?.({ csid: result.remoteCsid, csidRaw: result.remoteCsidRaw });
      for (let page = 1; page <= result.pagesConfirmed; page++) observer.pageConfirmed?.(page, result.pagesTotal);
      return result;
    },
    close: () => Promise.resolve(),
  };
}

const env = eachTestDatabase();

/** A dispatcher over `lines`, its recorder and pool; `stopped` stops it. */
function dispatcher(lines: TransmitterLine[]) {
  const state = { stopped: false, again: 0, written: 0 };
  const now = () => new Date();
  const pool = new LinePool(lines, { logger, rest: { faults: 2, ms: 60_000 } });
  const recorder = new CallRecorder({ db: env.t.db, ledger: env.ledger, listeners: [learnFaxNumbers('US')], now });
  const documents = new DocumentCache(async () => ({ ok: true, document, pagesPerFile: [document.pages.length] }));
  const dispatch = new Dispatcher({
    db: env.t.db,
    ledger: env.ledger,
    pool,
    documents,
    recorder,
    localId: '+1 202 555 0100',
    dialPlan: { prefix: '', region: 'US', rules: [] },
    logger,
    now,
    stopped: () => state.stopped,
    eventsWritten: () => state.written++,
    again: () => state.again++,
  });
  return { dispatch, pool, recorder, documents, state };
}

/** A fax to `numbers` released and due now on `d`'s lines, with `retries` redials. */
async function dueFax(d: ReturnType<typeof dispatcher>, numbers: string[], retries = 0): Promise<string> {
  const outboxId = await new Outbox(env.t.db, env.ledger).createEntry('owner-1', {
    from: null,
    to: numbers,
    files: [],
    subject: 'dispatch',
    sendAt: null,
    retry: { count: retries, delayMinutes: 0 },
  });
  await env.t.db
    .updateTable('faxes')
    .set({ fax_id: `fax-${outboxId}`, state: 'sending', pages: 2 })
    .where('outbox_id', '=', outboxId)
    .execute();
  await env.t.db.transaction().execute((trx) => env.ledger.queueAll(trx, outboxId, 2, new Date(Date.now() - 1000)));
  // Its pages are ready, as after its release.
  await d.documents.get(outboxId);
  return outboxId;
}

/** Runs passes until no call is in progress (what the scheduler's passes do on kicks). */
async function drain(d: ReturnType<typeof dispatcher>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await d.dispatch.dispatchDue();
    if (
      d.dispatch.active === 0 &&
      (
        await env.t.db
          .selectFrom('recipients')
          .select('position')
          .where('state', 'in', ['queued', 'in_call'])
          .where('next_attempt_at', '<=', new Date().toISOString())
          .execute()
      ).length === 0
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('calls did not end');
}

const recipients = (outboxId: string) => env.t.db.selectFrom('recipients').selectAll().where('outbox_id', '=', outboxId).orderBy('position').execute();
const steps = async (): Promise<string[]> =>
  (await env.t.events()).map((e) => {
    const d = e.data as { recipientId: string; attempt: number; sequence: number; status: string; page?: { n: number } };
    return `${d.recipientId} ${d.attempt}.${d.sequence} ${e.type.includes('result') ? 'result ' : ''}${d.status}${d.page ? ` ${d.page.n}` : ''}`;
  });

describe('dispatching', () => {
  it('dials each due recipient on a free line, one call per line, and records every step and the result', async () => {
    const a = playbackLine('a', []);
    const b = playbackLine('b', []);
    const d = dispatcher([a, b]);
    const outboxId = await dueFax(d, ['+12025550101', '+12025550102', '+12025550103']);
    await drain(d);
    expect([...a.dialled, ...b.dialled].sort()).toEqual(['12025550101', '12025550102', '12025550103']);
    expect((await recipients(outboxId)).map((r) => [r.state, r.status, r.pages_confirmed, r.remote_csid])).toEqual([
      ['final', 'success', 2, 'FAR END'],
      ['final', 'success', 2, 'FAR END'],
      ['final', 'success', 2, 'FAR END'],
    ]);
    expect((await steps()).filter((s) => s.startsWith('r1 '))).toEqual([
      'r1 1.0 dialing',
      'r1 1.1 connected',
      'r1 1.2 sending 1',
      'r1 1.3 sending 2',
      'r1 1.4 result success',
    ]);
    expect(d.pool.ready).toBe(2);
    // Nobody left to dial: the fax's pages are let go; a modem that reached a fax machine taught call-ahead.
    expect(d.documents.peek(outboxId)).toEqual({ state: 'absent' });
    expect(await env.t.db.selectFrom('ata_called_numbers').select(['number_key', 'faxes']).orderBy('number_key').execute()).toHaveLength(3);
  });

  it('ends an attempt whose line threw as a line failure, redials it, and rests a line that keeps failing', async () => {
    const line = playbackLine('flaky', [{ throws: 'port vanished' }, { throws: 'port vanished' }]);
    const d = dispatcher([line]);
    const outboxId = await dueFax(d, ['+12025550101'], 2);
    await d.dispatch.dispatchDue();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [first] = await recipients(outboxId);
    expect(first).toMatchObject({ state: 'queued', status: 'retry_scheduled', reason_code: LINE_FAILURE });
    expect(first.reason_detail).toContain('line flaky failed: port vanished');
    const attempts = await env.t.db.selectFrom('attempts').selectAll().execute();
    expect(attempts).toEqual([expect.objectContaining({ status: 'failed_internal_process_error', reason_code: LINE_FAILURE })]);
    // Due again now: the second failure in a row rests the line (limit 2 here).
    await env.t.db
      .updateTable('recipients')
      .set({ next_attempt_at: new Date(Date.now() - 1).toISOString() })
      .execute();
    await d.dispatch.dispatchDue();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(d.pool.resting).toEqual(['flaky']);
  });
});

describe('a stop in the middle of a call', () => {
  it('leaves the cut call in flight, and the next start records it as cut and redials it', async () => {
    const line = playbackLine('slow', [{ hangs: true }]);
    const d = dispatcher([line]);
    const outboxId = await dueFax(d, ['+12025550101'], 1);
    await d.dispatch.dispatchDue();
    await new Promise((resolve) => setTimeout(resolve, 100));
    d.state.stopped = true;
    await d.dispatch.stop(50);
    expect(d.dispatch.active).toBe(0);
    const [cut] = await recipients(outboxId);
    expect(cut).toMatchObject({ state: 'in_call', attempt: 1, remote_csid: 'SLOW FAR END' });

    const next = dispatcher([playbackLine('slow', [])]);
    await recoverInFlight({ db: env.t.db, recorder: next.recorder, pool: next.pool, logger, now: () => new Date() });
    const [recovered] = await recipients(outboxId);
    expect(recovered).toMatchObject({ state: 'queued', status: 'retry_scheduled', reason_code: TRANSMITTER_RESTART });
    expect(recovered.reason_detail).toMatch(/restarted during attempt 1 on line slow, connected to SLOW FAR END/);
  });
});

describe('a line that hands its faxes over', () => {
  const ata = (plays: Play[]) => ataLine(playbackLine('ata-1', plays), new PortServerHandover({ account: 'Acme', region: 'US', reportWithinMs: 3600_000 }));

  it('keeps a recipient whose fax the ATA took waiting for the port server, and teaches call-ahead nothing', async () => {
    const d = dispatcher([ata([])]);
    const outboxId = await dueFax(d, ['+12025550101']);
    await drain(d);
    const [recipient] = await recipients(outboxId);
    expect(recipient).toMatchObject({ state: 'handed_over', status: 'queued' });
    expect(await env.t.db.selectFrom('ata_handoffs').select(['state', 'attempt', 'pages_total']).execute()).toEqual([
      { state: 'handed', attempt: 1, pages_total: 2 },
    ]);
    expect(await env.t.db.selectFrom('ata_called_numbers').selectAll().execute()).toEqual([]);
    expect(await steps()).toEqual(['r1 1.0 dialing', 'r1 1.1 queued']);
  });

  it('redials, as any line would, a recipient whose local call failed, and drops the hand-over', async () => {
    const d = dispatcher([
      ata([{ result: { reason: { code: LineReason.BUSY, detail: 'BUSY' }, pagesConfirmed: 0, connectedAt: null, remoteCsid: null, remoteCsidRaw: null } }]),
    ]);
    const outboxId = await dueFax(d, ['+12025550101'], 1);
    await d.dispatch.dispatchDue();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await recipients(outboxId)).toEqual([expect.objectContaining({ state: 'queued', status: 'retry_scheduled', reason_code: 'BUSY' })]);
    expect(await env.t.db.selectFrom('ata_handoffs').selectAll().execute()).toEqual([]);
  });
});
