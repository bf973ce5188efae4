/**
 * The transmitter's fax lines: the modems of the fax-line package, some of them on a fax ATA's
 * analogue port, and how a line's ending becomes a recipient's status.
 */
import { createModemLine } from '@faxnotify/fax-line';
import { ataLine } from '../ata/line';
import type { LineDefinition } from '../config';
import type { LineHandover, TransmitterLine } from './types';

export { statusFor } from './status';
export type { CallListener, HandoverSettlement, LineHandover, TransmitterLine } from './types';

/** One line per configured modem or ATA port; `handoverTo` says where an ATA port's faxes go. */
export function linesFromConfig(definitions: readonly LineDefinition[], handoverTo: (account: string) => LineHandover): TransmitterLine[] {
  return definitions.map((line) => {
    const modem = createModemLine({
      id: line.id,
      device: line.device,
      serviceClass: line.kind === 'ata' ? (line.modem ?? 'class1') : line.kind,
      dialPrefix: line.dialPrefix,
      maxRate: line.maxRate,
      timers: line.timers,
    });
    return line.kind === 'ata' ? ataLine(modem, handoverTo(line.account!)) : modem;
  });
}
