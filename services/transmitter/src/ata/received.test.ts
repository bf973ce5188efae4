/** How a receive session's CDR reads as a received fax: its status and reason, and its receivedId. */
import type { Cdr } from './cdr';
import { ataReceivedId, receiveOutcome } from './received';

const stop = (fields: Partial<Cdr>): Cdr => ({
  status: 'stop',
  sessionId: 's-1',
  account: 'inbox',
  dialNumber: '2025550177',
  isSend: false,
  cdrType: 'Realtime',
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
  at: new Date('2026-12-07T01:00:00.000Z'),
  detail: 'FB-Is-Send = 0',
  ...fields,
});
const defines = { has: () => true };

describe('receiveOutcome', () => {
  it('error code 0 with pages is success; without pages it is a failure', () => {
    expect(receiveOutcome(stop({ faxErrorCode: 0, pages: 2 }), defines)).toMatchObject({ status: 'success', reason: { code: 'OK' } });
    expect(receiveOutcome(stop({ faxErrorCode: 0, pages: 0 }), defines)).toMatchObject({ status: 'failed', reason: { code: 'ATA_NO_PAGES' } });
  });

  it('an error after pages is a partial reception, before any page a failure, with the CDR in the detail', () => {
    const partial = receiveOutcome(stop({ faxErrorCode: 17, pages: 3, description: 'Line dropped', totalSeconds: 90 }), defines);
    expect(partial).toMatchObject({ status: 'partially_received', reason: { code: 'ATA_RECEIVE_ERROR_17' } });
    expect(partial.reason.detail).toContain('"Line dropped"');
    expect(partial.reason.detail).toContain('90 s');
    expect(partial.reason.detail).toContain('CDR: FB-Is-Send = 0');
    expect(receiveOutcome(stop({ faxErrorCode: 17 }), defines).status).toBe('failed');
  });

  it('without an error code says whether the dictionary lacks it', () => {
    const lacking = receiveOutcome(stop({ pages: 1 }), { has: () => false });
    expect(lacking).toMatchObject({ status: 'partially_received', reason: { code: 'ATA_NO_RESULT' } });
    expect(lacking.reason.detail).toContain('load the vendor dictionary');
    expect(receiveOutcome(stop({}), defines).reason.detail).toContain('carried no FB-Fax-Error-Code');
  });
});

describe('ataReceivedId', () => {
  it('keeps a session id the contract takes, and digests one it does not', () => {
    expect(ataReceivedId('1249336279265000')).toBe('ata:1249336279265000');
    const digested = ataReceivedId('0_yhYH4nK3]dtTFspcBkJQMA');
    expect(digested).toMatch(/^ata:[0-9a-f]{40}$/);
    expect(ataReceivedId('0_yhYH4nK3]dtTFspcBkJQMA')).toBe(digested);
  });
});
