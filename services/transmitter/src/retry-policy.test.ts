import { FINAL_STATUSES } from '@faxnotify/contracts';
import { causeDelaySeconds, decideRetry, TRANSMITTER_RESTART, type RetryDelays } from './retry-policy';

const delays: RetryDelays = {
  defaultCount: 2,
  busySeconds: 180,
  noAnswerSeconds: 600,
  temporarySeconds: 120,
  interruptedSeconds: 300,
  internalSeconds: 240,
  restartSeconds: 60,
};
const endedAt = new Date('2026-11-22T10:00:00Z');
const after = (seconds: number) => new Date(endedAt.getTime() + seconds * 1000);

describe('retry policy', () => {
  it('waits by cause when the fax gives no delay: busy sooner than no answer, a restart sooner still', () => {
    const policy = { count: 3, delayMinutes: 0 };
    expect(decideRetry({ status: 'failed_user_busy', reasonCode: 'BUSY', endedAt }, 1, policy, delays)).toEqual({ retry: true, at: after(180) });
    expect(decideRetry({ status: 'failed_no_answer', reasonCode: 'NO_ANSWER', endedAt }, 1, policy, delays)).toEqual({ retry: true, at: after(600) });
    expect(decideRetry({ status: 'failed_normal_temporary_failure', reasonCode: 'NO_DIALTONE', endedAt }, 2, policy, delays)).toEqual({
      retry: true,
      at: after(120),
    });
    expect(decideRetry({ status: 'partially_sent', reasonCode: 'NO_CARRIER', endedAt }, 1, policy, delays)).toEqual({ retry: true, at: after(300) });
    expect(decideRetry({ status: 'failed_to_send', reasonCode: TRANSMITTER_RESTART, endedAt }, 1, policy, delays)).toEqual({ retry: true, at: after(60) });
    expect(causeDelaySeconds('failed_user_busy', 'BUSY', delays)).toBeLessThan(causeDelaySeconds('failed_no_answer', 'NO_ANSWER', delays));
  });

  it("takes the fax's own delay when it gives one", () => {
    expect(decideRetry({ status: 'failed_user_busy', reasonCode: 'BUSY', endedAt }, 1, { count: 1, delayMinutes: 7 }, delays)).toEqual({
      retry: true,
      at: after(420),
    });
  });

  it('never redials a number that does not exist, a malformed number or a document that cannot be converted', () => {
    const policy = { count: 3, delayMinutes: 0 };
    for (const status of [
      'failed_unallocated_number',
      'failed_invalid_number_format',
      'failed_fs_2',
      'failed_convert_to_tiff_issue',
      'failed_mimetype_not_supported',
      'success',
    ] as const) {
      expect(decideRetry({ status, reasonCode: 'X', endedAt }, 1, policy, delays)).toMatchObject({ retry: false });
    }
  });

  it('stops when the attempts the policy allows are used up', () => {
    const busy = { status: 'failed_user_busy' as const, reasonCode: 'BUSY', endedAt };
    expect(decideRetry(busy, 1, { count: 0, delayMinutes: 0 }, delays)).toEqual({ retry: false, why: 'no redials left (1 of 1 attempts made)' });
    expect(decideRetry(busy, 3, { count: 2, delayMinutes: 0 }, delays)).toMatchObject({ retry: false });
    expect(decideRetry(busy, 3, { count: 3, delayMinutes: 0 }, delays)).toMatchObject({ retry: true });
  });

  it('has a delay for every retryable status', () => {
    for (const status of FINAL_STATUSES) expect(causeDelaySeconds(status, 'X', delays)).toBeGreaterThan(0);
  });
});
