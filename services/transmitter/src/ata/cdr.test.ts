import { outcomeOf, type Cdr } from './cdr';

describe('outcome of a CDR', () => {
  const cdr = (over: Partial<Cdr>): Cdr => ({
    status: 'stop',
    sessionId: 's',
    account: 'a',
    dialNumber: '1',
    isSend: true,
    cdrType: undefined,
    calledNumberResult: undefined,
    faxErrorCode: undefined,
    extendedErrorCode: undefined,
    description: undefined,
    pages: undefined,
    remoteCsid: undefined,
    connectBps: undefined,
    relatedId: undefined,
    startTime: undefined,
    totalSeconds: undefined,
    at: new Date(),
    detail: 'raw',
    ...over,
  });
  const all = { has: () => true };

  it.each([
    [{ faxErrorCode: 0, pages: 2 }, 'success', 'OK', 'fax'],
    [{ faxErrorCode: 9, calledNumberResult: 'VoiceError' as const }, 'failed_normal_clearing', 'ATA_VOICE_ANSWERED_9', 'voice'],
    [{ faxErrorCode: 9, calledNumberResult: 'FaxError' as const }, 'failed_to_send', 'ATA_FAX_ERROR_9', 'fax'],
    [{ faxErrorCode: 9, calledNumberResult: 'FaxError' as const, pages: 1 }, 'partially_sent', 'ATA_FAX_ERROR_9', 'fax'],
    [{ faxErrorCode: 9 }, 'failed_normal_temporary_failure', 'ATA_CALL_FAILED_9', undefined],
    [{ faxErrorCode: 9, cdrType: 'Deleted' as const }, 'failed', 'ATA_DELETED_9', undefined],
    [{}, 'failed', 'ATA_NO_RESULT', undefined],
  ])('%j → %s (%s)', (over, status, code, answered) => {
    const outcome = outcomeOf(cdr(over), {}, all);
    expect(outcome.status).toBe(status);
    expect(outcome.reason.code).toBe(code);
    expect(outcome.reason.detail).toContain('raw');
    expect(outcome.numberAnswered).toBe(answered);
  });

  it('says when the dictionary is what lacks the error code', () => {
    expect(outcomeOf(cdr({}), {}, { has: () => false }).reason.detail).toContain('load the vendor dictionary');
  });
});
