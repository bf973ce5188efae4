/**
 * A fax modem as a FaxLine: one call at a time, sending, answering or both as configured. The
 * device is opened for each call (and for each wait for one) and closed after it, so a modem that
 * was unplugged or restarted between calls is simply found again.
 */
import { FAX_WIDTH } from './documents/fax-document';
import type { LineMode, ModemLineOptions, ModemTimers } from './modem-call';
import { sleep } from './modem-channel';
import type { ReceiveSessionClass } from './modem-receive';
import type { SessionClass } from './modem-session';
import type { FaxLine, LineObserver, LineReceiveRequest, LineReceiveResult, LineResult, LineSendRequest, ReceiveObserver } from './types';

const DIAL_STRING = /^[0-9*#+,ABCDPTWabcdptw!@;]{1,64}$/;

/** What holds the modem now. */
type Activity = { kind: 'idle' } | { kind: 'sending' } | { kind: 'waiting'; yieldToSend: AbortController; done: Promise<unknown> } | { kind: 'receiving' };

export abstract class ModemFaxLine<Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> implements FaxLine {
  abstract readonly kind: FaxLine['kind'];
  readonly id: string;
  readonly mode: LineMode;
  protected readonly timers: Timers;
  private activity: Activity = { kind: 'idle' };
  private lastHangupAt = 0;
  private closed = false;

  /** `defaults` are the service class's timers, which `options.timers` may override one by one. */
  protected constructor(
    private readonly options: Options,
    defaults: Timers,
    private readonly Session: SessionClass<Timers, Options>,
    private readonly ReceiveSession: ReceiveSessionClass<Timers, Options>,
  ) {
    this.id = options.id;
    this.mode = options.mode ?? 'send';
    this.timers = { ...defaults, ...options.timers };
  }

  async send(request: LineSendRequest, observer: LineObserver, signal?: AbortSignal): Promise<LineResult> {
    if (this.closed) throw new Error(`line ${this.id} is closed`);
    if (this.mode === 'receive') throw new Error(`line ${this.id} only receives`);
    if (!DIAL_STRING.test(request.dialString)) throw new TypeError(`not a dial string: ${JSON.stringify(request.dialString)}`);
    const odd = request.document.pages.find((page) => page.width !== FAX_WIDTH);
    if (odd) throw new TypeError(`pages must be prepared at ${FAX_WIDTH} pixels, got ${odd.width}`);
    // An idle wait for a call gives the modem up to a send; a call in progress does not.
    const current = this.activity;
    if (current.kind === 'waiting') {
      current.yieldToSend.abort('the line was taken for a send');
      await current.done;
    }
    if (this.activity.kind !== 'idle') throw new Error(`line ${this.id} is busy ${this.activity.kind}`);
    this.activity = { kind: 'sending' };
    try {
      await sleep(this.lastHangupAt + this.timers.hangupGuard - Date.now(), signal);
      return await new this.Session(request, observer, this.timers, this.options, signal).run();
    } finally {
      this.lastHangupAt = Date.now();
      this.activity = { kind: 'idle' };
    }
  }

  async receive(request: LineReceiveRequest, observer: ReceiveObserver, signal?: AbortSignal): Promise<LineReceiveResult> {
    if (this.closed) throw new Error(`line ${this.id} is closed`);
    if (this.mode === 'send') throw new Error(`line ${this.id} only sends`);
    if (this.activity.kind !== 'idle') throw new Error(`line ${this.id} is busy ${this.activity.kind}`);
    const yieldToSend = new AbortController();
    const stop = signal ? AbortSignal.any([signal, yieldToSend.signal]) : yieldToSend.signal;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    this.activity = { kind: 'waiting', yieldToSend, done };
    try {
      await sleep(this.lastHangupAt + this.timers.hangupGuard - Date.now(), stop);
      const session = new this.ReceiveSession(
        request,
        {
          ...observer,
          ringing: (call) => {
            // From the ring on, the call is ours: a send waits its turn.
            if (this.activity.kind === 'waiting' && !yieldToSend.signal.aborted) this.activity = { kind: 'receiving' };
            observer.ringing?.(call);
          },
        },
        this.timers,
        this.options,
        signal,
        yieldToSend.signal,
      );
      return await session.run();
    } finally {
      this.lastHangupAt = Date.now();
      this.activity = { kind: 'idle' };
      finished();
    }
  }

  /** No more calls: an idle wait for one ends (NO_CALL); a call in progress runs to its end. */
  async close(): Promise<void> {
    this.closed = true;
    const current = this.activity;
    if (current.kind === 'waiting') {
      current.yieldToSend.abort('the line was closed');
      await current.done;
    }
  }
}
