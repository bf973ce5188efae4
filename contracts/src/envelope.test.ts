import { createEvent, eventType, parseEvent } from './envelope';
import { EVENT_CATALOGUE, type FaxRecipientResult } from './events/definitions';
import { describeTopology } from './topology';

const result: FaxRecipientResult = {
  faxId: 'fax-1',
  recipientId: 'r1',
  number: '+12025550101',
  attempt: 1,
  sequence: 4,
  status: 'success',
  reason: { code: 'OK', detail: 'MCF after EOP' },
  pagesSent: 2,
  pagesTotal: 2,
  remoteCsid: 'ACME',
  startedAt: '2026-11-22T10:00:00.000Z',
  endedAt: '2026-11-22T10:01:00.000Z',
  attempts: 1,
};

describe('CloudEvents envelope', () => {
  it('builds a valid, frozen envelope whose type carries the version', () => {
    const event = createEvent('fax.recipient.result', result, { source: '/faxnotify/test' });
    expect(event.type).toBe('faxnotify.fax.recipient.result.v1');
    expect(event.specversion).toBe('1.0');
    expect(Object.isFrozen(event)).toBe(true);
    const parsed = parseEvent(JSON.stringify(event));
    expect(parsed.ok && parsed.key).toBe('fax.recipient.result');
  });

  it('refuses to build an event its consumers would reject', () => {
    expect(() => createEvent('fax.recipient.result', { ...result, status: 'delivered' as never }, { source: '/t' })).toThrow(/status/);
    expect(() => createEvent('fax.recipient.result', { ...result, number: '12345' }, { source: '/t' })).toThrow(/number/);
  });

  it.each([
    ['not JSON', '{oops', /unparseable JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    ['no type', '{"id":"1"}', /no CloudEvents type/],
    ['an unknown type', '{"type":"faxnotify.fax.exploded.v1"}', /unknown event type/],
  ])('names the reason for %s', (_label, body, reason) => {
    const parsed = parseEvent(body);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });

  it('names the offending field of a schema-invalid event', () => {
    const event = { ...createEvent('fax.recipient.result', result, { source: '/t' }), data: { ...result, pagesSent: -1 } };
    const parsed = parseEvent(Buffer.from(JSON.stringify(event)));
    expect(!parsed.ok && parsed.reason).toMatch(/pagesSent/);
  });

  it('refuses a valid event of a type the consumer does not take', () => {
    const event = createEvent('fax.recipient.result', result, { source: '/t' });
    const parsed = parseEvent(JSON.stringify(event), ['delivery.recipient.final']);
    expect(!parsed.ok && parsed.reason).toMatch(/not accepted/);
  });

  it('bounds strangers\' text: a 10 KB CSID is invalid', () => {
    expect(() => createEvent('fax.recipient.result', { ...result, remoteCsid: 'x'.repeat(10_000) }, { source: '/t' })).toThrow(/remoteCsid/);
  });
});

describe('topology', () => {
  it('gives every work queue retry tiers and a dead-letter queue, all quorum', () => {
    const { queues, bindings } = describeTopology();
    for (const q of queues) expect(q.arguments['x-queue-type']).toBe('quorum');
    expect(queues.map((q) => q.name)).toEqual(expect.arrayContaining(['notifier.recipient-final', 'notifier.recipient-final.retry.1', 'notifier.recipient-final.dead']));
    expect(bindings).toEqual(expect.arrayContaining([{ queue: 'status-tracker.fax-events', exchange: 'faxnotify.fax', routingKey: 'fax.recipient.result' }]));
  });

  it('names every event type once', () => {
    const types = Object.keys(EVENT_CATALOGUE).map((k) => eventType(k as keyof typeof EVENT_CATALOGUE));
    expect(new Set(types).size).toBe(6);
  });
});
