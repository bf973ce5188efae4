/**
 * A line of kind "ata" in the configuration: a modem on the analogue (FXS) port of a fax ATA behind
 * a FaxBack port server, dialled like any modem line, with the hand-over capability of its
 * port-server account. The modem sends the fax to the ATA as to any fax machine; the ATA calls
 * ahead if the port server tells it to, takes the pages and queues them with the port server,
 * which delivers them and reports the delivery in its accounting records (see handoff.ts).
 *
 * What the modem sees of the ATA (its CSID, the pages it confirmed) is not the recipient's: the
 * line keeps it out of the recipient's progress and leaves it to the trace and the attempt's record.
 */
import type { LineObserver, LineResult, LineSendRequest } from '@faxnotify/fax-line';
import type { LineHandover, TransmitterLine } from '../lines/types';

/** The modem on an ATA's port, its faxes handed over as `handover` says. */
export function ataLine(modem: TransmitterLine, handover: LineHandover): TransmitterLine {
  return {
    id: modem.id,
    kind: modem.kind,
    handover,
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
