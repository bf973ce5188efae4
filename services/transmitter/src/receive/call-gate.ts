/**
 * Turns on a line that both sends and receives. The fax-line package lets a send take over an idle
 * wait for a call, but refuses one while a call is being received; the scheduler sees such a line
 * as free then (it knows only its own sends). Through the gate, the receive loop says when a call is
 * answered and when it ended, and the scheduler's send waits for the end instead of failing.
 */
import type { FaxLine, LineObserver, LineResult, LineSendRequest } from '@faxnotify/fax-line';
import type { TransmitterLine } from '../lines/types';

export class CallGate {
  private current: Promise<void> | null = null;

  /** A call is being received until the returned function is called. */
  callStarted(): () => void {
    let ended!: () => void;
    const call = new Promise<void>((resolve) => (ended = resolve));
    this.current = call;
    return () => {
      if (this.current === call) this.current = null;
      ended();
    };
  }

  /** Resolves when no call is being received (at once when none is), or when `signal` aborts. */
  async idle(signal?: AbortSignal): Promise<void> {
    while (this.current && !signal?.aborted) {
      const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([this.current, aborted]);
    }
  }
}

/** The scheduler's view of a line that also answers: its sends wait for a call being received to end. */
export function sendingSide(line: FaxLine, gate: CallGate): TransmitterLine {
  return {
    id: line.id,
    kind: line.kind,
    async send(request: LineSendRequest, observer: LineObserver, signal?: AbortSignal): Promise<LineResult> {
      await gate.idle(signal);
      return line.send(request, observer, signal);
    },
    close: () => line.close(),
  };
}
