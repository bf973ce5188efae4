/**
 * The transmitter's view of a fax line: what a line does with a fax beyond its own call. A modem on a fax ATA's analogue port hands the
 * pages to the ATA, whose port server delivers them later and reports the delivery; the recipient
 * is then not final when the local call ends. The scheduler knows nothing more of it than this
 * interface: the port-server side implements it (ata/handoff.ts).
 */
import type { FaxLine } from '@faxnotify/fax-line';
import type { Kysely } from 'kysely';
import type { RecipientRow, TransmitterDatabase } from '../db/schema';
import type { AttemptEnd } from '../ledger/recipient-ledger';

export type HandoverSettlement = { handedOver: true; detail: string } | { handedOver: false };

export interface LineHandover {
  /** Who takes the line's faxes, for logs (e.g. a port-server account). */
  readonly describe: string;
  /** Before the line dials an attempt, so a report that comes before the call ends still finds it. */
  open(db: Kysely<TransmitterDatabase>, attempt: { recipient: RecipientRow; faxId: string; lineId: string; now: Date }): Promise<void>;
  /**
   * In the transaction that records the end of the line's call: whether the far side has the fax
   * now (the recipient then waits for its report; `detail` says so), or the attempt ends as a call
   * on any other line would.
   */
  settle(trx: Kysely<TransmitterDatabase>, ended: { recipient: RecipientRow; end: AttemptEnd; lineId: string; now: Date }): Promise<HandoverSettlement>;
}

/**
 * A line the scheduler dials on: a modem of the fax-line package, and for a modem on a fax ATA's
 * analogue port, where its faxes are handed over (so a call that ends well there is not yet the
 * recipient's result). The scheduler only sends: a line's answering side (`mode`, `receive`) is
 * not part of what it needs.
 */
export interface TransmitterLine extends Omit<FaxLine, 'mode' | 'receive'> {
  readonly handover?: LineHandover;
}

/** Learns from a call's end, in the transaction that records it (call-ahead's numbers where a fax machine answers, say). */
export type CallListener = (trx: Kysely<TransmitterDatabase>, call: { number: string; line: TransmitterLine | undefined; end: AttemptEnd }) => Promise<void>;
