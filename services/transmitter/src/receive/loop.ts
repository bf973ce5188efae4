/**
 * One receiving line's loop: wait for a call, answer it, record what arrived (received_faxes and
 * fax.received in the event outbox, one transaction), wait again. A wait that ends without a call
 * (NO_CALL: the wait's end, or a send taking the line) is not a fax. Nothing the line or the
 * database does stops the loop: it backs off and goes on. `stop()` ends an idle wait at once and
 * lets a call in progress finish (up to the grace), so its fax is recorded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@faxnotify/kit';
import type { LineReceiveResult } from '@faxnotify/fax-line';
import type { Kysely } from 'kysely';
import { Counter, Gauge } from 'prom-client';
import type { TransmitterDatabase } from '../db/schema';
import { faxReceivedData, isReceivedFax, receivedEvent, recordReceivedFax } from './record';
import type { ReceivingLine } from './types';

const metrics = {
  received: new Counter({
    name: 'faxnotify_transmitter_faxes_received_total',
    help: 'Faxes our lines received, by line and status.',
    labelNames: ['line', 'status'],
  }),
  listening: new Gauge({
    name: 'faxnotify_transmitter_line_listening',
    help: 'Lines ready for a call (1): the modem is set up and waits for a ring.',
    labelNames: ['line'],
  }),
  faults: new Counter({
    name: 'faxnotify_transmitter_receive_faults_total',
    help: 'Waits for a call that failed on our side (modem, database), by line.',
    labelNames: ['line'],
  }),
};

export interface ReceiveLoopOptions {
  receiving: ReceivingLine;
  db: Kysely<TransmitterDatabase>;
  logger: Logger;
  /** After a fax is recorded: the relay may publish it now. */
  eventsWritten: () => void;
  /** First wait after a fault, doubled at each fault in a row up to `maxBackoffMs`. Default 1 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Each wait for a call at most this long, then a new one (the modem is opened afresh). Default until stopped. */
  waitMs?: number;
  now?: () => Date;
}

export class ReceiveLoop {
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private stopping = false;
  private faults = 0;
  private ready = false;
  private readonly logger: Logger;

  constructor(private readonly options: ReceiveLoopOptions) {
    this.logger = options.logger.child({ line: options.receiving.line.id });
  }

  get lineId(): string {
    return this.options.receiving.line.id;
  }

  /** Whether the modem is set up and waits for a ring now (a caller dialling in is answered). */
  get listening(): boolean {
    return this.ready;
  }

  private setListening(ready: boolean): void {
    this.ready = ready;
    metrics.listening.set({ line: this.lineId }, ready ? 1 : 0);
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Ends the wait for a call; a call in progress gets `graceMs` to end and be recorded, then it is cut. */
  async stop(graceMs = 0): Promise<void> {
    this.stopping = true;
    await this.options.receiving.line.close().catch(() => undefined);
    if (!this.running) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cut = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.running, cut]);
    clearTimeout(timer);
    this.abort.abort('the transmitter is stopping');
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const result = await this.receiveOnce().finally(() => this.setListening(false));
        if (this.stopping && !isReceivedFax(result)) break;
        await this.handle(result);
      } catch (error) {
        if (this.stopping) break;
        await this.fault(error);
      }
    }
  }

  private async receiveOnce(): Promise<LineReceiveResult> {
    const { line, gate } = this.options.receiving;
    let callEnded: (() => void) | undefined;
    try {
      return await this.receiveOn(line, () => (callEnded = gate?.callStarted()));
    } finally {
      callEnded?.();
    }
  }

  private receiveOn(line: ReceivingLine['line'], answering: () => void): Promise<LineReceiveResult> {
    return line.receive(
      { waitMs: this.options.waitMs },
      {
        ringing: (call) => {
          answering();
          this.setListening(false);
          this.logger.info(call, 'incoming call');
        },
        connected: (remote) => this.logger.info({ remoteCsid: remote.csid }, 'caller identified'),
        pageReceived: (page, detail) => this.logger.info({ page, ...detail }, 'page received'),
        pageRejected: (page, detail) => this.logger.warn({ page, ...detail }, 'page rejected for bad copy quality'),
        trace: (text) => {
          // The receive's state changes are traced as "-- <state>": await_ring is the modem set up and waiting.
          if (/-- await_ring$/.test(text)) this.setListening(true);
          this.logger.trace(text);
        },
      },
      this.abort.signal,
    );
  }

  private async handle(result: LineReceiveResult): Promise<void> {
    if (isReceivedFax(result)) {
      const event = receivedEvent(faxReceivedData(this.options.receiving, result));
      const { data } = event;
      metrics.received.inc({ line: this.lineId, status: data.status });
      // The fax is only in memory until this commits: the write is tried again until it does (or the transmitter stops).
      for (;;) {
        try {
          const recorded = await recordReceivedFax(this.options.db, event, { answeredAt: result.connectedAt, now: this.now() });
          this.logger.info(
            {
              receivedId: data.receivedId,
              owner: data.ownerId,
              status: data.status,
              pages: data.pagesReceived,
              remoteCsid: data.remoteCsid,
              reason: data.reason.code,
              recorded,
            },
            'fax received',
          );
          break;
        } catch (error) {
          if (this.abort.signal.aborted) {
            this.logger.error({ err: error, receivedId: data.receivedId }, 'a received fax could not be recorded before the stop: it is lost');
            return;
          }
          await this.fault(error);
        }
      }
      this.options.eventsWritten();
      this.faults = 0;
      return;
    }
    if (result.reason.code === 'NO_CALL' || result.reason.code === 'ABORTED') {
      this.faults = 0;
      return;
    }
    // The modem failed before any call was answered (it did not answer a command, its port is gone).
    await this.fault(new Error(`${result.reason.code}: ${result.reason.detail}`));
  }

  private async fault(error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const base = this.options.backoffMs ?? 1000;
    // On a line that also sends, the scheduler holds it during a send: not a fault, the wait begins again shortly.
    const busy = / is busy /.test(message);
    const delay = busy ? base : Math.min(base * 2 ** this.faults, this.options.maxBackoffMs ?? 60_000);
    if (busy) this.logger.debug({ delayMs: delay }, 'line busy sending; waiting for a call again shortly');
    else {
      this.faults++;
      metrics.faults.inc({ line: this.lineId });
      this.logger.error({ err: error, delayMs: delay, faultsInARow: this.faults }, 'waiting for a call failed; trying again');
    }
    await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}

/** Starts a loop on each receiving line; `stop` ends them all. */
export function startReceiving(
  receiving: readonly ReceivingLine[],
  options: Omit<ReceiveLoopOptions, 'receiving'>,
): { loops: ReceiveLoop[]; stop(graceMs?: number): Promise<void> } {
  const loops = receiving.map((line) => new ReceiveLoop({ ...options, receiving: line }));
  for (const loop of loops) loop.start();
  return { loops, stop: (graceMs) => Promise.all(loops.map((loop) => loop.stop(graceMs))).then(() => undefined) };
}
