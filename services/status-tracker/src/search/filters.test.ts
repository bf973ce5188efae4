import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { TrackerDatabase } from '../schema';
import { containsPattern, inboxConditions, numberDigits, parseSearch, searchTimeZone, sentConditions, zonedDayStart } from './filters';

/** Queries compiled as PostgreSQL would get them, never run. */
const compiler = new Kysely<TrackerDatabase>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** Reading a search from a query string: the values, the dates in a time zone, what is refused, the LIKE pattern. */
describe('search filters', () => {
  it('escapes the LIKE wildcards and the escape character, and matches anywhere', () => {
    expect(containsPattern('ACME')).toBe('%ACME%');
    expect(containsPattern('50%_off\\now')).toBe('%50\\%\\_off\\\\now%');
    expect(containsPattern('')).toBe('%%');
  });

  it('keeps only the digits of a typed number', () => {
    expect(numberDigits('+39 (06) 123-45.67')).toBe('39061234567');
    expect(numberDigits('abc')).toBe('');
  });

  it('finds when a day starts in a time zone, across a change of offset', () => {
    expect(new Date(zonedDayStart('2026-12-07', 'UTC')!).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(new Date(zonedDayStart('2026-12-07', 'Europe/Moscow')!).toISOString()).toBe('2026-12-06T21:00:00.000Z');
    expect(new Date(zonedDayStart('2026-07-01', 'Europe/Rome')!).toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(new Date(zonedDayStart('2026-12-01', 'Europe/Rome')!).toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(new Date(zonedDayStart('2026-03-29', 'Europe/Rome')!).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(new Date(zonedDayStart('2026-03-08', 'America/New_York')!).toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(new Date(zonedDayStart('2026-03-09', 'America/New_York')!).toISOString()).toBe('2026-03-09T04:00:00.000Z');
    expect(zonedDayStart('2026-02-30', 'UTC')).toBeUndefined();
    expect(zonedDayStart('7 Dec', 'UTC')).toBeUndefined();
  });

  it('reads every Sent filter, dates as whole days in the viewer’s zone', () => {
    const parsed = parseSearch(
      'sent',
      { number: ' +1 202 555 ', subject: 'Счёт 50%', csid: 'acme', from: '2026-12-01', to: '2026-12-07', state: 'delivered', cursor: 'x' },
      'Europe/Rome',
    );
    expect(parsed).toEqual({
      ok: true,
      filters: {
        number: '1202555',
        subject: 'Счёт 50%',
        csid: 'acme',
        from: '2026-11-30T23:00:00.000Z',
        to: '2026-12-07T23:00:00.000Z',
        state: 'delivered',
      },
      params: expect.any(URLSearchParams),
      dropped: [],
    });
    // The kept search is what was typed, in the form's order, without the cursor.
    expect(parsed.ok && parsed.params.toString()).toBe(
      'number=%2B1+202+555&subject=%D0%A1%D1%87%D1%91%D1%82+50%25&csid=acme&from=2026-12-01&to=2026-12-07&state=delivered',
    );
  });

  it('takes an instant with its offset as it is, and leaves empty values out', () => {
    expect(parseSearch('inbox', { from: '2026-12-07T10:00+03:00', to: '', csid: '   ', status: 'failed' }, 'UTC')).toMatchObject({
      ok: true,
      filters: { from: '2026-12-07T07:00:00.000Z', state: 'failed' },
      dropped: [],
    });
    // The Inbox has no subject: it is not read.
    expect(parseSearch('inbox', { subject: 'x' }, 'UTC')).toMatchObject({ ok: true, filters: {} });
  });

  it('refuses what it cannot read, saying which, or on the pages leaves it out', () => {
    expect(parseSearch('sent', { state: 'lost' }, 'UTC')).toEqual({ ok: false, message: expect.stringMatching(/^state must be one of in_progress, /) });
    expect(parseSearch('inbox', { status: 'delivered' }, 'UTC')).toEqual({ ok: false, message: 'status must be one of success, partially_received, failed' });
    expect(parseSearch('sent', { from: '2026-13-01' }, 'UTC')).toEqual({ ok: false, message: expect.stringMatching(/^from must be a date/) });
    expect(parseSearch('sent', { number: 'none' }, 'UTC')).toEqual({ ok: false, message: 'number must contain digits' });
    expect(parseSearch('sent', { subject: 'x'.repeat(101) }, 'UTC')).toEqual({ ok: false, message: 'subject must be at most 100 characters' });
    expect(parseSearch('sent', { csid: ['a', 'b'] }, 'UTC')).toEqual({ ok: false, message: 'csid must be given once' });
    const lenient = parseSearch('sent', { from: 'yesterday', subject: 'Q3', state: 'lost' }, 'UTC', true);
    expect(lenient).toMatchObject({ ok: true, filters: { subject: 'Q3' }, dropped: ['from', 'state'] });
    expect(lenient.ok && lenient.params.toString()).toBe('subject=Q3');
  });

  it('reads dates in the zone asked for, else the fallback; refuses an unknown zone', () => {
    expect(searchTimeZone(undefined, 'Europe/Rome')).toBe('Europe/Rome');
    expect(searchTimeZone('Asia/Tokyo', 'UTC')).toBe('Asia/Tokyo');
    expect(searchTimeZone('Mars/Olympus', 'UTC')).toBeUndefined();
  });

  it('builds the Sent folder conditions: text through lower() with its escape character, recipients through EXISTS on the listed ones', () => {
    const { sql, parameters } = compiler
      .selectFrom('faxes')
      .select('id')
      .where((eb) =>
        sentConditions(eb, { subject: '50%', csid: 'Acme', number: '3906', state: 'failed', from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z' }),
      )
      .compile();
    expect(sql).toBe(
      'select "id" from "faxes" where (lower("faxes"."subject") like lower($1) escape $2 and "faxes"."state" = $3 and "faxes"."submitted_at" >= $4 and "faxes"."submitted_at" < $5' +
        ' and exists (select "recipients"."fax_id" from "recipients" where "recipients"."fax_id" = "faxes"."id" and "recipients"."position" is not null and lower("recipients"."number") like lower($6) escape $7)' +
        ' and exists (select "recipients"."fax_id" from "recipients" where "recipients"."fax_id" = "faxes"."id" and "recipients"."position" is not null and lower("recipients"."remote_csid") like lower($8) escape $9))',
    );
    expect(parameters).toEqual(['%50\\%%', '\\', 'failed', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z', '%3906%', '\\', '%Acme%', '\\']);
  });

  it('builds the Inbox conditions on the caller, the CSID, the status and the receiving time; none for no filter', () => {
    const compiled = compiler
      .selectFrom('received_faxes')
      .select('id')
      .where((eb) => inboxConditions(eb, { number: '39', csid: 'a_b', state: 'failed', to: '2026-12-02T00:00:00.000Z' }))
      .compile();
    expect(compiled.sql).toBe(
      'select "id" from "received_faxes" where (lower("received_faxes"."caller_number") like lower($1) escape $2 and lower("received_faxes"."remote_csid") like lower($3) escape $4' +
        ' and "received_faxes"."status" = $5 and "received_faxes"."ended_at" < $6)',
    );
    expect(compiled.parameters).toEqual(['%39%', '\\', '%a\\_b%', '\\', 'failed', '2026-12-02T00:00:00.000Z']);
    expect(
      compiler
        .selectFrom('received_faxes')
        .select('id')
        .where((eb) => inboxConditions(eb, {}))
        .compile().sql,
    ).toBe('select "id" from "received_faxes" where 1 = 1');
  });
});
