/**
 * The transmitter's fax lines: the modems of the fax-line package, some of them on a fax ATA's
 * analogue port, and how a line's ending becomes a recipient's status.
 */
import { createModemLine } from '@faxnotify/fax-line';
import { ataLine } from '../ata/line';
import type { LineDefinition } from '../config';
import { CallGate, sendingSide } from '../receive/call-gate';
import type { ReceivingLine } from '../receive/types';
import type { LineHandover, TransmitterLine } from './types';

export { statusFor } from './status';
export type { CallListener, HandoverSettlement, LineHandover, TransmitterLine } from './types';

/** The configured lines: those the scheduler dials on, and those that answer calls (a line in mode "both" is in each). */
export interface ConfiguredLines {
  sending: TransmitterLine[];
  receiving: ReceivingLine[];
}

/** One line per configured modem or ATA port; `handoverTo` says where an ATA port's faxes go. */
export function linesFromConfig(definitions: readonly LineDefinition[], handoverTo: (account: string) => LineHandover): ConfiguredLines {
  const configured: ConfiguredLines = { sending: [], receiving: [] };
  for (const line of definitions) {
    const mode = line.mode ?? 'send';
    const modem = createModemLine({
      id: line.id,
      device: line.device,
      serviceClass: line.kind === 'ata' ? (line.modem ?? 'class1') : line.kind,
      dialPrefix: line.dialPrefix,
      maxRate: line.maxRate,
      timers: line.timers,
      mode,
      number: line.number,
      answerId: line.answerId,
    });
    if (mode === 'send') configured.sending.push(line.kind === 'ata' ? ataLine(modem, handoverTo(line.account!)) : modem);
    else if (mode === 'receive') configured.receiving.push({ line: modem, owner: line.owner!, owners: line.owners ?? {} });
    else {
      // Both: one modem, one call at a time; a send takes over an idle wait and waits for a call being received.
      const gate = new CallGate();
      configured.sending.push(sendingSide(modem, gate));
      configured.receiving.push({ line: modem, owner: line.owner!, owners: line.owners ?? {}, gate });
    }
  }
  return configured;
}
