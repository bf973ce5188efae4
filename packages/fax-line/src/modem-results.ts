/** The modem's result codes as the AT conversation reads them, and the errors its I/O throws. */

export type ResultCode = 'OK' | 'CONNECT' | 'ERROR' | 'NO CARRIER' | 'BUSY' | 'NO ANSWER' | 'NO DIALTONE' | '+FCERROR' | 'TIMEOUT';

export interface AtResult {
  code: ResultCode;
  /** The final line as the modem wrote it ('' on timeout). */
  line: string;
  /** Lines before the final one (information responses such as +FCO, +FHS:, or echo). */
  info: string[];
}

/** Thrown when the caller's AbortSignal fires during modem I/O. */
export class LineAbortedError extends Error {
  override readonly name = 'LineAbortedError';
}

/** Thrown when the port fails or disappears under us. */
export class ModemLinkError extends Error {
  override readonly name = 'ModemLinkError';
}

/** The result code a line ends an exchange with, or null for an information line. */
export function finalCode(line: string): ResultCode | null {
  const upper = line.trim().toUpperCase();
  if (upper === 'OK') return 'OK';
  if (upper.startsWith('CONNECT')) return 'CONNECT';
  if (upper === 'ERROR' || upper.startsWith('+CME ERROR')) return 'ERROR';
  if (upper === 'NO CARRIER') return 'NO CARRIER';
  if (upper === 'BUSY') return 'BUSY';
  if (upper === 'NO ANSWER') return 'NO ANSWER';
  if (upper === 'NO DIALTONE' || upper === 'NO DIAL TONE') return 'NO DIALTONE';
  if (upper === '+FCERROR' || upper === '+F4') return '+FCERROR';
  return null;
}
