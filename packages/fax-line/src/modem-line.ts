import { Class1Line, type Class1Timers } from './class1';
import { Class20Line, type Class2Timers } from './class2';
import type { FaxLine, LineMode } from './types';

/** One modem as configured: the service's modem pool builds its lines from a list of these. */
export interface ModemLineConfig {
  id: string;
  /** Device path: a serial port, a USB modem, an iaxmodem pty. Opened for each call. */
  device: string;
  /** Which fax service class to drive it in. Class 1 works with nearly every fax modem. */
  serviceClass: 'class1' | 'class2.0';
  /** Put before every dial string, e.g. "T" or "0W". */
  dialPrefix?: string;
  /** Class 1 only: highest signalling rate offered, bit/s. */
  maxRate?: number;
  timers?: Partial<Class1Timers> & Partial<Class2Timers>;
  /** Whether the line dials out, answers calls, or both (one call at a time). Default send. */
  mode?: LineMode;
  /** The number callers dial to reach this line: the called number when the modem does not report one. */
  number?: string;
  /** Our id (CSI) when answering; default the line's number. */
  answerId?: string;
}

export function createModemLine(config: ModemLineConfig): FaxLine {
  const common = {
    id: config.id,
    device: config.device,
    dialPrefix: config.dialPrefix,
    timers: config.timers,
    mode: config.mode,
    number: config.number,
    answerId: config.answerId,
  };
  return config.serviceClass === 'class2.0' ? new Class20Line(common) : new Class1Line({ ...common, maxRate: config.maxRate });
}
