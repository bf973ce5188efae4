/**
 * Reading the port server's accounting records, with the shipped dictionary (which numbers none
 * of the CDR attributes, so those stay raw octets), and the final status a CDR means.
 */
import { decodeRequest, radiusLibrary } from '@faxnotify/radius';
import { cleanCsid, outcomeOf, readCdr, recordKey, type Cdr } from './cdr';
import { loadDictionary, type LoadedDictionary } from './dictionary';

const SECRET = 'cdr-test-secret';
let dictionary: LoadedDictionary;

beforeAll(() => {
  dictionary = loadDictionary();
});

const record = (attributes: unknown[]) =>
  decodeRequest(radiusLibrary.encode({ code: 'Accounting-Request', secret: SECRET, identifier: 1, attributes }), SECRET, 'Accounting-Request', false);

describe('reading a record', () => {
  const received = new Date('2026-05-06T07:08:09.000Z');
  const session = ['Acct-Session-Id', 'c0ffee01'];

  it('reads a Start: session, account, number, and when the record happened (arrival less Acct-Delay-Time)', () => {
    const cdr = readCdr(
      record([
        ['Acct-Status-Type', 'Start'],
        session,
        ['User-Name', 'ACME'],
        ['Acct-Delay-Time', 3],
        ['Vendor-Specific', 'FaxBack', [['FB-Dial-Number', '2025550143']]],
      ]),
      dictionary.vendorId,
      received,
    );
    expect(cdr).toMatchObject({
      status: 'start',
      sessionId: 'c0ffee01',
      account: 'ACME',
      dialNumber: '2025550143',
      isSend: undefined,
      faxErrorCode: undefined,
    });
    expect(cdr!.at).toEqual(new Date(received.getTime() - 3000));
  });

  it('takes Event-Timestamp for the time, and names FaxBack attributes the dictionary lacks by number in the detail', () => {
    const at = new Date('2026-05-06T07:00:00.000Z');
    const cdr = readCdr(
      record([['Acct-Status-Type', 'Stop'], session, ['Event-Timestamp', at], ['Vendor-Specific', 'FaxBack', [[206, Buffer.alloc(4)]]]]),
      dictionary.vendorId,
      received,
    );
    expect(cdr).toMatchObject({ status: 'stop', at });
    expect(cdr!.faxErrorCode).toBeUndefined();
    expect(cdr!.detail).toContain('FaxBack-Attr-206=0x00000000');
  });

  it('reads an interim record, and nothing from records about no session', () => {
    expect(readCdr(record([['Acct-Status-Type', 'Interim-Update'], session]), dictionary.vendorId)?.status).toBe('interim');
    expect(readCdr(record([['Acct-Status-Type', 'Accounting-On'], session]), dictionary.vendorId)).toBeUndefined();
    expect(readCdr(record([['Acct-Status-Type', 'Start']]), dictionary.vendorId)).toBeUndefined();
    expect(
      readCdr(
        record([
          ['Acct-Status-Type', 'Start'],
          ['Acct-Session-Id', 'x'.repeat(65)],
        ]),
        dictionary.vendorId,
      ),
    ).toBeUndefined();
  });

  it('keys one Start and one Stop per session, and interims by what they say but not by their delay', () => {
    const key = (attributes: unknown[]) => {
      const packet = record(attributes);
      return recordKey(readCdr(packet, dictionary.vendorId)!, packet, dictionary.vendorId);
    };
    expect(key([['Acct-Status-Type', 'Start'], session, ['Acct-Delay-Time', 1]])).toBe('c0ffee01:start');
    expect(key([['Acct-Status-Type', 'Stop'], session])).toBe('c0ffee01:stop');
    const interim = (delay: number, number: string) =>
      key([['Acct-Status-Type', 'Interim-Update'], session, ['Acct-Delay-Time', delay], ['Vendor-Specific', 'FaxBack', [['FB-Dial-Number', number]]]]);
    expect(interim(0, '1')).toMatch(/^c0ffee01:interim:[0-9a-f]{32}$/);
    expect(interim(5, '1')).toBe(interim(0, '1'));
    expect(interim(0, '2')).not.toBe(interim(0, '1'));
  });

  it('cleans a remote CSID: control characters out, spaces folded, at most 64 characters', () => {
    expect(cleanCsid(' +1\u0000202\t555\u009b 0143\n ')).toBe('+1 202 555 0143');
    expect(cleanCsid('9'.repeat(80))).toHaveLength(64);
  });
});

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
    [{ faxErrorCode: 9, calledNumberResult: 'VoiceError' as const }, 'failed_no_answer', 'ATA_VOICE_ANSWERED_9', 'voice'],
    [{ faxErrorCode: 9, calledNumberResult: 'FaxError' as const }, 'failed', 'ATA_FAX_ERROR_9', 'fax'],
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
