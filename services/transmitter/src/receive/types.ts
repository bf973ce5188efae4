import type { FaxLine } from '@faxnotify/fax-line';
import type { CallGate } from './call-gate';

/** A line that answers calls, and whose faxes it receives: `owners` by called number where the modem reports it, else `owner`. */
export interface ReceivingLine {
  /** The line itself with its answering side (on a line in mode "both", the same object the scheduler sends on). */
  line: FaxLine;
  owner: string;
  owners: Readonly<Record<string, string>>;
  /** A line that also sends: where the receive loop says when a call is being received, so a send waits for its end. */
  gate?: CallGate;
}
