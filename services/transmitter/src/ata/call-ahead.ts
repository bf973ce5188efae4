/**
 * Fax-ATA call-ahead: before an ATA takes a fax from the machine, it may place a probe call to the
 * number to check that a fax device answers there. The port server asks us whether to, and we
 * answer from the account's mode and from what earlier faxes to the number showed.
 */
import { calledNumberKey } from './numbers';
import { knowledgeOf, type AtaStore } from './store';
import type { AtaAccountRow, CallAheadMode } from '../db/schema';

/**
 * FB-Call-Ahead-Mode in an account's Account-Login reply: the account's mode (manual p32). The
 * port server assumes Dynamic when the attribute is absent.
 */
export const ACCOUNT_CALL_AHEAD_MODE: Readonly<Record<CallAheadMode, number>> = { never: 0, dynamic: 1, always: 2 };
export const PORT_SERVER_DEFAULT_MODE: CallAheadMode = 'dynamic';

/**
 * FB-Call-Ahead-Mode in a Pre-Send-Session reply is a yes/no flag (manual p24): 0 = take the fax
 * at once, any other value = call ahead first. Without the attribute, or without an answer, the
 * ATA calls ahead.
 */
export const CALL_AHEAD_FLAG = { skip: 0, callAhead: 1 } as const;

export interface CallAheadDecision {
  flag: (typeof CALL_AHEAD_FLAG)[keyof typeof CALL_AHEAD_FLAG];
  why: string;
}

/** Whether the ATA calls `number` ahead for a send from `account` (unknown account: dynamic). */
export async function decideCallAhead(
  store: AtaStore,
  account: AtaAccountRow | undefined,
  number: string | undefined,
  region: string,
): Promise<CallAheadDecision> {
  const mode = account?.call_ahead_mode ?? PORT_SERVER_DEFAULT_MODE;
  if (mode === 'never') return { flag: CALL_AHEAD_FLAG.skip, why: 'the account never calls ahead' };
  if (mode === 'always') return { flag: CALL_AHEAD_FLAG.callAhead, why: 'the account always calls ahead' };
  const key = number ? calledNumberKey(number, region) : null;
  if (!key) return { flag: CALL_AHEAD_FLAG.callAhead, why: 'no number to look up' };
  switch (knowledgeOf(await store.calledNumber(key))) {
    case 'fax':
      return { flag: CALL_AHEAD_FLAG.skip, why: `a fax machine answered ${key} before` };
    case 'voice':
      return { flag: CALL_AHEAD_FLAG.callAhead, why: `a voice answered ${key} before (kept until reset)` };
    default:
      return { flag: CALL_AHEAD_FLAG.callAhead, why: `${key} has not received a fax yet` };
  }
}
