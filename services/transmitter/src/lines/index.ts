/**
 * The transmitter's fax lines: the modems of the fax-line package, some of them on a fax ATA's
 * analogue port, and how a line's ending becomes a recipient's status.
 */
import { createModemLine, type FaxLine } from '@faxnotify/fax-line';
import { createAtaLine } from '../ata/line';
import type { LineDefinition } from '../config';

export { statusFor } from './status';

/**
 * A line the scheduler dials on. `handover` is set for a modem on a fax ATA's analogue port: its
 * faxes are handed to a FaxBack port server under that account, which delivers them and reports
 * the delivery later, so a call that ends well there is not yet the recipient's result.
 */
export interface TransmitterLine extends FaxLine {
  readonly handover?: { readonly account: string };
}

/** One line per configured modem or ATA port. */
export function linesFromConfig(definitions: readonly LineDefinition[]): TransmitterLine[] {
  return definitions.map((line) =>
    line.kind === 'ata'
      ? createAtaLine({ id: line.id, account: line.account!, device: line.device, modem: line.modem, dialPrefix: line.dialPrefix, maxRate: line.maxRate, timers: line.timers })
      : createModemLine({ id: line.id, device: line.device, serviceClass: line.kind, dialPrefix: line.dialPrefix, maxRate: line.maxRate, timers: line.timers }),
  );
}
