import { createEvent, parseEvent } from '../envelope';
import type { DeliveryFaxFinal, DeliveryRecipientFinal } from './definitions';

/** What a tracker not yet upgraded publishes: version 1 of both final events, exactly as it writes them. */
const envelope = (type: string, data: unknown) => ({
  id: 'f1c0ffee-0000-4000-8000-000000000001',
  source: '/faxnotify/status-tracker',
  specversion: '1.0',
  type,
  time: '2026-11-22T10:02:00.000Z',
  subject: 'fax/fax-1',
  datacontenttype: 'application/json',
  data,
});

const row = { recipientId: 'r1', number: '+12025550101', status: 'success', pagesSent: 2, pagesTotal: 2 } as const;
const faxV1 = {
  faxId: 'fax-1',
  ownerId: 'alice',
  subject: 'Q3 report',
  state: 'delivered' as const,
  completedAt: '2026-11-22T10:01:40.000Z',
  recipients: [row],
  links: { fax: 'http://127.0.0.1:8082/l/AAAAAAAAAAAAAAAAAAAAAAAA' },
};
const resultV1 = {
  resultId: 'fax-1:r1',
  faxId: 'fax-1',
  recipientId: 'r1',
  number: '+12025550101',
  ownerId: 'alice',
  subject: 'Q3 report',
  status: 'success' as const,
  reason: { code: 'OK', detail: '' },
  pagesSent: 2,
  pagesTotal: 2,
  remoteCsid: 'ACME',
  submittedAt: '2026-11-22T09:00:00.000Z',
  startedAt: '2026-11-22T09:00:10.000Z',
  endedAt: '2026-11-22T09:01:40.000Z',
  attempts: 1,
  links: { fax: 'http://127.0.0.1:8082/faxes/fax-1' },
};

describe('the final events a fax summary reads', () => {
  it('publishes v2: each row with its CSID, end time and attempts; each result with its fax recipient count', () => {
    const fax: DeliveryFaxFinal = { ...faxV1, recipients: [{ ...row, remoteCsid: 'ACME', endedAt: '2026-11-22T09:01:40.000Z', attempts: 1 }] };
    expect(createEvent('delivery.fax.final', fax, { source: '/t' }).type).toBe('faxnotify.delivery.fax.final.v2');
    const result: DeliveryRecipientFinal = { ...resultV1, recipientCount: 40 };
    expect(createEvent('delivery.recipient.final', result, { source: '/t' }).type).toBe('faxnotify.delivery.recipient.final.v2');
    // A CSID is strangers' text, bounded; a fax has at least one recipient; a count is at least one.
    expect(() => createEvent('delivery.fax.final', { ...fax, recipients: [{ ...fax.recipients[0], remoteCsid: 'X'.repeat(65) }] }, { source: '/t' })).toThrow(
      /remoteCsid/,
    );
    expect(() => createEvent('delivery.fax.final', { ...fax, recipients: [] }, { source: '/t' })).toThrow(/recipients/);
    expect(() => createEvent('delivery.recipient.final', { ...result, recipientCount: 0 }, { source: '/t' })).toThrow(/recipientCount/);
  });

  it('hands v1 events of an older tracker over as v2, what v1 did not say as unknown', () => {
    const fax = parseEvent(JSON.stringify(envelope('faxnotify.delivery.fax.final.v1', faxV1)), ['delivery.fax.final']);
    expect(fax).toMatchObject({ ok: true, upgradedFrom: 'faxnotify.delivery.fax.final.v1', event: { type: 'faxnotify.delivery.fax.final.v2' } });
    expect(fax.ok && fax.event.data).toEqual({ ...faxV1, recipients: [{ ...row, remoteCsid: null, endedAt: null, attempts: null }] });
    const result = parseEvent(JSON.stringify(envelope('faxnotify.delivery.recipient.final.v1', resultV1)), ['delivery.recipient.final']);
    expect(result).toMatchObject({ ok: true, upgradedFrom: 'faxnotify.delivery.recipient.final.v1' });
    expect(result.ok && result.event.data).toEqual({ ...resultV1, recipientCount: null });
  });

  it('holds v1 to the v1 schema: a v1 event with a v2 field is refused', () => {
    const parsed = parseEvent(JSON.stringify(envelope('faxnotify.delivery.recipient.final.v1', { ...resultV1, recipientCount: 3 })));
    expect(parsed).toMatchObject({ ok: false, reason: expect.stringMatching(/additional properties/) as unknown });
  });
});
