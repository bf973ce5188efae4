/**
 * Calls of our own modem lines that reached a fax machine (T.30 engaged) teach call-ahead: the
 * port server's ATAs need not probe that number before sending to it. Calls on ATA lines reached
 * the ATA, not the number, and teach nothing.
 */
import type { CallListener } from '../lines/types';
import { calledNumberKey } from './numbers';
import { recordCalledNumber } from './store';

export const learnFaxNumbers =
  (region: string): CallListener =>
  async (trx, call) => {
    if (!call.end.connectedAt || call.line?.handover) return;
    const key = calledNumberKey(call.number, region);
    if (key) await recordCalledNumber(trx, key, 'fax', call.end.endedAt);
  };
