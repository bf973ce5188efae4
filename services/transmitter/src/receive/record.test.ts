import { encodeMh, type FaxLine, type LineReceiveResult, type ReceivedPage } from '@faxnotify/fax-line';
import { patternBitmap } from '@faxnotify/fax-line/testing';
import { faxReceivedData, isReceivedFax, ownerFor, receivedEvent } from './record';
import type { ReceivingLine } from './types';

const receiving = (owners: Record<string, string> = {}): ReceivingLine => ({ line: { id: 'rx1', mode: 'receive' } as FaxLine, owner: 'alice', owners });

const page = (seed: number): ReceivedPage => {
  const bitmap = patternBitmap(40, seed);
  return { width: bitmap.width, height: bitmap.height, resolution: 'fine', data: encodeMh(bitmap), badRows: seed - 1 };
};

const result = (overrides: Partial<LineReceiveResult> = {}): LineReceiveResult => ({
  status: 'success',
  pages: [page(1), page(2)],
  partialPage: null,
  pagesRejected: 0,
  remoteCsid: 'CALLER 555',
  remoteCsidRaw: '555 RELLAC',
  callerNumber: '1001',
  calledNumber: '2002',
  reason: { code: 'OK', detail: 'DCN after EOP' },
  startedAt: new Date('2026-12-07T01:00:00.000Z'),
  connectedAt: new Date('2026-12-07T01:00:05.250Z'),
  endedAt: new Date('2026-12-07T01:00:40.000Z'),
  signallingRate: 14400,
  ...overrides,
});

describe('a receive result as fax.received', () => {
  it('is a fax when a call was answered or a page came; a wait without a call is not', () => {
    expect(isReceivedFax(result())).toBe(true);
    expect(isReceivedFax(result({ status: 'failed', pages: [], reason: { code: 'T30_T1_TIMEOUT', detail: '' } }))).toBe(true);
    expect(isReceivedFax(result({ status: 'failed', pages: [], connectedAt: null, reason: { code: 'NO_CALL', detail: 'no ring' } }))).toBe(false);
    expect(isReceivedFax(result({ status: 'failed', pages: [], connectedAt: null, reason: { code: 'MODEM_ERROR', detail: 'ENOENT' } }))).toBe(false);
  });

  it('carries the pages as base64 T.4 data, the numbers, the TSI and an id made of the line and the answer time', () => {
    const data = faxReceivedData(receiving(), result());
    expect(data).toMatchObject({
      receivedId: 'rx1:2026-12-07T01:00:05.250Z',
      source: 'line',
      lineId: 'rx1',
      ownerId: 'alice',
      callerNumber: '1001',
      calledNumber: '2002',
      remoteCsid: 'CALLER 555',
      status: 'success',
      reason: { code: 'OK', detail: 'DCN after EOP' },
      pagesReceived: 2,
      startedAt: '2026-12-07T01:00:00.000Z',
      endedAt: '2026-12-07T01:00:40.000Z',
    });
    expect(data.pages.map((p) => ({ ...p, data: Buffer.from(p.data, 'base64') }))).toEqual(
      [page(1), page(2)].map((p) => ({ width: 1728, rows: 40, resolution: 'fine', badRows: p.badRows, data: p.data })),
    );
    const event = receivedEvent(data);
    expect(event).toMatchObject({ id: data.receivedId, type: 'faxnotify.fax.received.v1', subject: `received/${data.receivedId}`, time: data.endedAt });
  });

  it('goes to the owner of the called number where the line has one, else to the line owner', () => {
    const line = receiving({ '+1 (202) 555-0103': 'bob', '2002': 'carol' });
    expect(ownerFor(line, '+12025550103')).toBe('bob');
    expect(ownerFor(line, '2002')).toBe('carol');
    expect(ownerFor(line, '2009')).toBe('alice');
    expect(ownerFor(line, null)).toBe('alice');
    expect(faxReceivedData(line, result()).ownerId).toBe('carol');
  });

  it('leaves out what the contract cannot carry: a caller id that is not a number; a long TSI is cut', () => {
    const data = faxReceivedData(receiving(), result({ callerNumber: 'Anonymous', remoteCsid: 'X'.repeat(80), calledNumber: null }));
    expect(data).toMatchObject({ callerNumber: null, calledNumber: null, remoteCsid: 'X'.repeat(64) });
    expect(() => receivedEvent(data)).not.toThrow();
  });
});
