import { createEvent, envelopeSchema, eventType, olderVersions, parseEvent } from './envelope';
import { EVENT_CATALOGUE, type EventKey, type FaxRecipientResult, type NotificationOutcome } from './events/definitions';
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

  it("carries a fax's sender number in fax.submitted when it has one, only in E.164", () => {
    const submitted = {
      faxId: 'fax-1',
      ownerId: 'olga',
      subject: 'Invoice',
      recipients: [{ recipientId: 'r1', number: '+12025550101' }],
      files: [],
      pages: 1,
      submittedAt: '2026-11-22T10:00:00.000Z',
      retry: { count: 0, delayMinutes: 0 },
    };
    expect(createEvent('fax.submitted', submitted, { source: '/t' }).data).not.toHaveProperty('from');
    const parsed = parseEvent(JSON.stringify(createEvent('fax.submitted', { ...submitted, from: '+390612345678' }, { source: '/t' })));
    expect(parsed.ok && parsed.event.data).toMatchObject({ from: '+390612345678' });
    expect(() => createEvent('fax.submitted', { ...submitted, from: '06 1234 5678' }, { source: '/t' })).toThrow(/from/);
  });

  it("bounds strangers' text: a 10 KB CSID is invalid", () => {
    expect(() => createEvent('fax.recipient.result', { ...result, remoteCsid: 'x'.repeat(10_000) }, { source: '/t' })).toThrow(/remoteCsid/);
  });
});

describe('topology', () => {
  it('gives every work queue retry tiers and a dead-letter queue, all quorum', () => {
    const { queues, bindings } = describeTopology();
    for (const q of queues) expect(q.arguments['x-queue-type']).toBe('quorum');
    expect(queues.map((q) => q.name)).toEqual(
      expect.arrayContaining(['notifier.recipient-final', 'notifier.recipient-final.retry.1', 'notifier.recipient-final.dead']),
    );
    expect(bindings).toEqual(expect.arrayContaining([{ queue: 'status-tracker.fax-events', exchange: 'faxnotify.fax', routingKey: 'fax.recipient.result' }]));
  });

  it('names every event type once', () => {
    const keys = Object.keys(EVENT_CATALOGUE) as EventKey[];
    const types = keys.flatMap((k) => [eventType(k), ...olderVersions(k).map((o) => eventType(k, o.version))]);
    expect(types).toHaveLength(14);
    expect(new Set(types).size).toBe(14);
  });
});

describe('versions: notification.outcome v2, with v1 still accepted', () => {
  const outcome: NotificationOutcome = {
    resultId: 'fax-1:r1',
    faxId: 'fax-1',
    recipientId: 'r1',
    ownerId: 'alice',
    channel: 'sms',
    outcome: 'failed',
    address: '+393331234567',
    locale: 'it',
    providerMessageId: `SM${'a'.repeat(32)}`,
    attempts: 1,
    at: '2026-11-22T10:02:00.000Z',
  };
  /** A v1 outcome exactly as a notifier not yet upgraded publishes it. */
  const v1 = {
    id: 'a4c1d1c2-0000-4000-8000-000000000001',
    source: '/faxnotify/notifier',
    specversion: '1.0',
    type: 'faxnotify.notification.outcome.v1',
    time: '2026-11-22T10:02:00.000Z',
    subject: 'fax/fax-1/recipient/r1/sms',
    datacontenttype: 'application/json',
    data: { ...outcome, reason: '2 segments (UCS-2); carrier: undelivered, error 30003' },
  };

  it('creates only the current version', () => {
    const event = createEvent('notification.outcome', outcome, { source: '/t' });
    expect(event.type).toBe('faxnotify.notification.outcome.v2');
    expect(eventType('notification.outcome')).toBe('faxnotify.notification.outcome.v2');
    expect(eventType('notification.outcome', 1)).toBe('faxnotify.notification.outcome.v1');
  });

  it("takes v2 with the SMS parts, the provider's status and the SMTP reply code as fields", () => {
    const sms = createEvent(
      'notification.outcome',
      { ...outcome, sms: { segments: 2, encoding: 'UCS-2' }, provider: { status: 'undelivered', errorCode: '30003' } },
      { source: '/t' },
    );
    const parsed = parseEvent(JSON.stringify(sms));
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && parsed.upgradedFrom).toBeUndefined();
    expect(parsed.ok && parsed.event.data).toEqual(sms.data);
    const email = createEvent(
      'notification.outcome',
      { ...outcome, channel: 'email', outcome: 'failed', reason: 'SMTP 550: mailbox unavailable', smtp: { code: 550 } },
      { source: '/t' },
    );
    expect(parseEvent(JSON.stringify(email))).toMatchObject({ ok: true, event: { data: { smtp: { code: 550 } } } });
  });

  it('refuses a v2 outcome whose structured fields are out of their vocabulary or bounds', () => {
    expect(() => createEvent('notification.outcome', { ...outcome, sms: { segments: 2, encoding: 'UTF-8' as never } }, { source: '/t' })).toThrow(/encoding/);
    expect(() => createEvent('notification.outcome', { ...outcome, sms: { segments: 0, encoding: 'GSM-7' } }, { source: '/t' })).toThrow(/segments/);
    expect(() => createEvent('notification.outcome', { ...outcome, provider: { status: '' } }, { source: '/t' })).toThrow(/status/);
    expect(() => createEvent('notification.outcome', { ...outcome, smtp: { code: 42 } }, { source: '/t' })).toThrow(/code/);
  });

  it('hands a v1 outcome from an older notifier over as v2: same id, source, time and data, no new fields', () => {
    const parsed = parseEvent(Buffer.from(JSON.stringify(v1)), ['notification.outcome']);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || parsed.key !== 'notification.outcome') throw new Error('not parsed');
    expect(parsed.upgradedFrom).toBe('faxnotify.notification.outcome.v1');
    expect(parsed.event).toEqual({ ...v1, type: 'faxnotify.notification.outcome.v2' });
    expect(parsed.event.data.sms).toBeUndefined();
    expect(parsed.event.data.provider).toBeUndefined();
    // The v1 text stays as it was written: nothing is parsed out of it.
    expect(parsed.event.data.reason).toBe('2 segments (UCS-2); carrier: undelivered, error 30003');
  });

  it('holds a v1 outcome to the v1 schema, which never changes', () => {
    const withV2Field = parseEvent(JSON.stringify({ ...v1, data: { ...v1.data, sms: { segments: 2, encoding: 'UCS-2' } } }));
    expect(!withV2Field.ok && withV2Field.reason).toMatch(/^faxnotify\.notification\.outcome\.v1 is invalid: .*additional properties/);
    const broken = parseEvent(JSON.stringify({ ...v1, data: { ...v1.data, outcome: 'lost' } }));
    expect(!broken.ok && broken.reason).toMatch(/^faxnotify\.notification\.outcome\.v1 is invalid: \/data\/outcome/);
    expect(envelopeSchema('notification.outcome', 1).description).toBe(EVENT_CATALOGUE['notification.outcome'].older[0].doc);
    expect(envelopeSchema('notification.outcome').description).toMatch(/still accept faxnotify\.notification\.outcome\.v1/);
  });

  it('refuses an accepted older version where the consumer does not take its event', () => {
    const parsed = parseEvent(JSON.stringify(v1), ['delivery.recipient.final']);
    expect(!parsed.ok && parsed.reason).toBe('event type faxnotify.notification.outcome.v1 is not accepted here');
  });

  it('rejects a version it does not know (v3), as any unknown type, for the dead-letter queue', () => {
    const parsed = parseEvent(JSON.stringify({ ...v1, type: 'faxnotify.notification.outcome.v3' }), ['notification.outcome']);
    expect(parsed).toEqual({ ok: false, reason: 'unknown event type "faxnotify.notification.outcome.v3"' });
    expect(() => envelopeSchema('notification.outcome', 3)).toThrow(RangeError);
  });
});
