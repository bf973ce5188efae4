/**
 * A line of kind "ata" in the configuration: a modem on the analogue (FXS) port of a fax ATA behind
 * a FaxBack port server, dialled like any modem line and marked with the account it hands over to.
 * The modem sends the fax to the ATA as to any fax machine; the ATA calls ahead if the
 * port server tells it to, takes the pages and queues them with the port server, which delivers
 * them and reports the delivery in its accounting records (see handoff.ts).
 *
 * What the modem sees of the ATA (its CSID, the pages it confirmed) is not the recipient's: the
 * line keeps it out of the recipient's progress and leaves it to the trace and the attempt's record.
 */
import { createModemLine, type LineObserver, type LineResult, type LineSendRequest } from '@faxnotify/fax-line';
import type { TransmitterLine } from '../lines';

export interface AtaLineOptions {
  id: string;
  /** The port-server account the ATA sends as. */
  account: string;
  /** The modem on the ATA's port. */
  device: string;
  modem?: 'class1' | 'class2.0';
  dialPrefix?: string;
  maxRate?: number;
  timers?: Record<string, number>;
}

export function createAtaLine(options: AtaLineOptions): TransmitterLine {
  const modem = createModemLine({
    id: options.id,
    device: options.device,
    serviceClass: options.modem ?? 'class1',
    dialPrefix: options.dialPrefix,
    maxRate: options.maxRate,
    timers: options.timers,
  });
  return {
    id: options.id,
    kind: modem.kind,
    handover: { account: options.account },
    send(request: LineSendRequest, observer: LineObserver, signal?: AbortSignal): Promise<LineResult> {
      return modem.send(
        request,
        {
          dialing: () => observer.dialing?.(),
          connected: (remote) => observer.trace?.(`ATA answered${remote.csid ? ` as "${remote.csid}"` : ''}`),
          pageConfirmed: (page, of) => observer.trace?.(`ATA took page ${page} of ${of}`),
          trace: (line) => observer.trace?.(line),
        },
        signal,
      );
    },
    close: () => modem.close(),
  };
}
