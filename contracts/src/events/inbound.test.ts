import { createEvent, parseEvent } from '../envelope';
import type { FaxReceived } from './definitions';
import { MAX_RECEIVED_PAGES } from './inbound';

const received = (overrides: Partial<FaxReceived> = {}): FaxReceived => ({
  receivedId: 'line-1:2026-12-06T10:00:00.000Z',
  source: 'line',
  lineId: 'line-1',
  ownerId: 'alice',
  callerNumber: '+390612345678',
  calledNumber: '2002',
  remoteCsid: 'ACME SALES',
  status: 'partially_received',
  reason: { code: 'T30_DISCONNECTED', detail: 'the sender hung up during page 2' },
  pagesReceived: 1,
  startedAt: '2026-12-06T10:00:00.000Z',
  endedAt: '2026-12-06T10:01:10.000Z',
  pages: [{ width: 1728, rows: 2292, resolution: 'fine', badRows: 0, data: Buffer.from([0x00, 0x10]).toString('base64') }],
  ...overrides,
});

describe('fax.received', () => {
  it('carries a received fax from a line, pages and all, through the envelope unchanged', () => {
    const parsed = parseEvent(JSON.stringify(createEvent('fax.received', received(), { source: '/faxnotify/transmitter' })));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.key).toBe('fax.received');
    expect(parsed.event.type).toBe('faxnotify.fax.received.v1');
    expect(parsed.event.data).toEqual(received());
  });

  it('takes a provider file in place of pages', () => {
    const data = received({ source: 'faxplus', lineId: null, pages: [], file: { contentType: 'application/pdf', data: 'JVBERi0=' } });
    expect(createEvent('fax.received', data, { source: '/faxnotify/status-tracker' }).data).toEqual(data);
  });

  it('refuses a status it does not know, a caller number with letters and too many pages', () => {
    expect(() => createEvent('fax.received', received({ status: 'received' as never }), { source: '/t' })).toThrow(/status/);
    expect(() => createEvent('fax.received', received({ callerNumber: '+39 06 CALL ME' }), { source: '/t' })).toThrow(/callerNumber/);
    const page = received().pages[0];
    expect(() => createEvent('fax.received', received({ pages: Array.from({ length: MAX_RECEIVED_PAGES + 1 }, () => page) }), { source: '/t' })).toThrow(
      /pages/,
    );
  });
});
