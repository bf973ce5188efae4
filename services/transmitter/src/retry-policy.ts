import { FINAL_STATUS_INFO, type FinalStatus } from '@faxnotify/contracts';
import type { TransmitterConfig } from './config';

/** Why an attempt was cut by a restart of the transmitter (the process died or stopped mid-call). */
export const TRANSMITTER_RESTART = 'TRANSMITTER_RESTART';

export interface RetryPolicy {
  /** Redials after the first attempt, 0..3. */
  count: number;
  /** Minutes between attempts; 0: the transmitter's delay for the cause. */
  delayMinutes: number;
}

export type RetryDelays = TransmitterConfig['retry'];

export type RetryDecision = { retry: true; at: Date } | { retry: false; why: string };

/**
 * HylaFAX-like waits by cause: a busy number is tried again sooner than one where nobody
 * answered; a call cut by our own restart sooner still.
 */
export function causeDelaySeconds(status: FinalStatus, reasonCode: string, delays: RetryDelays): number {
  if (reasonCode === TRANSMITTER_RESTART) return delays.restartSeconds;
  switch (status) {
    case 'failed_user_busy':
      return delays.busySeconds;
    case 'failed_no_answer':
      return delays.noAnswerSeconds;
    case 'failed_normal_temporary_failure':
    case 'failed_normal_clearing':
    case 'failed_fs_49':
      return delays.temporarySeconds;
    case 'failed_internal_process_error':
      return delays.internalSeconds;
    default:
      return delays.interruptedSeconds;
  }
}

/**
 * Whether attempt `attempt` (from 1), which ended with `status`, is followed by another: only
 * when redialling may help (the status vocabulary's `retryable`: busy, no answer, a broken call;
 * never a number that does not exist or a document we cannot convert) and the fax's retry policy has
 * redials left.
 */
export function decideRetry(
  outcome: { status: FinalStatus; reasonCode: string; endedAt: Date },
  attempt: number,
  policy: RetryPolicy,
  delays: RetryDelays,
): RetryDecision {
  if (outcome.status === 'success') return { retry: false, why: 'delivered' };
  if (!FINAL_STATUS_INFO[outcome.status].retryable) return { retry: false, why: `${outcome.status} is not retried: dialling again cannot help` };
  if (attempt >= 1 + policy.count) return { retry: false, why: `no redials left (${attempt} of ${1 + policy.count} attempts made)` };
  const seconds = policy.delayMinutes > 0 ? policy.delayMinutes * 60 : causeDelaySeconds(outcome.status, outcome.reasonCode, delays);
  return { retry: true, at: new Date(outcome.endedAt.getTime() + seconds * 1000) };
}
