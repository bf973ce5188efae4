/**
 * Records how an attempt's call ended, in one transaction: a line with a hand-over capability may
 * keep the recipient waiting for its far side's report; otherwise the ledger writes the attempt and
 * either its redial or the recipient's final result. Listeners learn from the call in the same
 * transaction (call-ahead's table of numbers where a fax machine answers, say).
 */
import type { Kysely } from 'kysely';
import type { FaxRow, RecipientRow, TransmitterDatabase } from '../db/schema';
import type { AttemptEnd, RecipientLedger } from '../ledger/recipient-ledger';
import type { CallListener, TransmitterLine } from '../lines/types';

export type CallEnding =
  /** The attempt was no longer the recipient's current one: nothing was written. */
  | { recorded: false }
  /** `dialsLeft`: some recipient of the fax may still be dialled (its pages are still needed). */
  | { recorded: true; as: 'handed_over' | 'redial' | 'final'; dialsLeft: boolean };

export class CallRecorder {
  constructor(
    private readonly options: {
      db: Kysely<TransmitterDatabase>;
      ledger: RecipientLedger;
      listeners?: readonly CallListener[];
      now: () => Date;
    },
  ) {}

  /** Records the end of `call` (the recipient as its attempt started) on `line` (undefined: a line no longer configured). */
  async record(fax: FaxRow, call: RecipientRow, line: TransmitterLine | undefined, end: AttemptEnd): Promise<CallEnding> {
    const { ledger } = this.options;
    const now = this.options.now();
    return this.options.db.transaction().execute(async (trx): Promise<CallEnding> => {
      const current = await ledger.current(trx, call, { state: 'in_call', attempt: call.attempt });
      if (!current) return { recorded: false };
      const settled = line?.handover ? await line.handover.settle(trx, { recipient: current, end, lineId: line.id, now }) : { handedOver: false as const };
      let as: 'handed_over' | 'redial' | 'final';
      if (settled.handedOver) {
        await ledger.handOver(trx, fax.fax_id!, current, end, settled.detail, now);
        as = 'handed_over';
      } else {
        const ended = await ledger.endAttempt(trx, fax, current, end, now);
        for (const listener of this.options.listeners ?? []) await listener(trx, { number: current.number, line, end });
        as = ended.final ? 'final' : 'redial';
      }
      return { recorded: true, as, dialsLeft: await dialsLeft(trx, fax.outbox_id) };
    });
  }
}

/** Whether any recipient of the entry may still be dialled. */
async function dialsLeft(trx: Kysely<TransmitterDatabase>, outboxId: string): Promise<boolean> {
  const open = await trx
    .selectFrom('recipients')
    .select('position')
    .where('outbox_id', '=', outboxId)
    .where('state', 'in', ['waiting', 'queued', 'in_call'])
    .limit(1)
    .execute();
  return open.length > 0;
}
