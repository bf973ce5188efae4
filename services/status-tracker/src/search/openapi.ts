import { error } from '../openapi-parts';
import { AGGREGATE_STATES, RECEIVE_STATUSES } from '@faxnotify/contracts';
import { MAX_TEXT, type SearchKind } from './filters';
import { MAX_EXPORT } from './export';

/** The search's part of the OpenAPI document (openapi.ts and inbox/openapi.ts use it): the filters and the CSV exports. */
const text = (name: string, description: string) => ({ name, in: 'query', schema: { type: 'string', maxLength: MAX_TEXT }, description });
const DATES =
  'A day (YYYY-MM-DD) in `tz` (else the token’s `tz` claim, else UTC), or a date-time with its offset. `from` is inclusive; `to` takes in its whole day.';

/** The query parameters of a search: every one given must match. */
export function searchParameters(kind: SearchKind): object[] {
  const when = kind === 'sent' ? 'Submitted' : 'Received';
  return [
    text(
      'number',
      kind === 'sent'
        ? 'Digits a recipient’s number contains (anything else typed is ignored: "+39 06" finds +3906…).'
        : 'Digits the caller’s number contains (anything else typed is ignored).',
    ),
    ...(kind === 'sent' ? [text('subject', 'Text the subject contains, whatever its case; `%` and `_` are taken literally.')] : []),
    text(
      'csid',
      kind === 'sent' ? 'Text the remote CSID of any recipient contains, whatever its case.' : 'Text the sender’s CSID contains, whatever its case.',
    ),
    { name: 'from', in: 'query', schema: { type: 'string' }, description: `${when} on or after this day. ${DATES}` },
    { name: 'to', in: 'query', schema: { type: 'string' }, description: `${when} on or before this day. ${DATES}` },
    kind === 'sent'
      ? { name: 'state', in: 'query', schema: { type: 'string', enum: [...AGGREGATE_STATES] }, description: 'The fax’s aggregate state.' }
      : { name: 'status', in: 'query', schema: { type: 'string', enum: [...RECEIVE_STATUSES] } },
    {
      name: 'tz',
      in: 'query',
      schema: { type: 'string' },
      description: 'The IANA time zone `from` and `to` days are read in (and the CSV’s times are written in).',
    },
  ];
}

const csv = (description: string) => ({ description, content: { 'text/csv': { schema: { type: 'string' } } } });
const EXPORT =
  `UTF-8 with a byte order mark, every field quoted (RFC 4180, CRLF between records); a cell starting with \`=\`, \`+\`, \`-\`, \`@\`, a tab or a carriage return gets a leading \`'\` so a spreadsheet keeps it as text. ` +
  `Sent as an attachment. At most ${MAX_EXPORT} faxes, the newest that match. Column names in \`lang\` (else the token’s \`locale\` claim, else Accept-Language, else English); times as YYYY-MM-DD HH:MM:SS in \`tz\`.`;
const lang = { name: 'lang', in: 'query', schema: { type: 'string', enum: ['ru', 'en', 'it'] } };

export function searchPaths(): Record<string, unknown> {
  return {
    '/v1/faxes.csv': {
      get: {
        summary: 'The Sent folder as CSV, as a search shows it: one row per recipient',
        description: `Fax ID, submitted, subject, sent by, number, CSID, status, pages sent, pages in total, started, ended, attempts. ${EXPORT}`,
        parameters: [{ name: 'category', in: 'query', schema: { type: 'string', enum: ['sent', 'outbox'] } }, ...searchParameters('sent'), lang],
        responses: {
          200: csv('The faxes found.'),
          400: error('A filter, category or time zone that cannot be read.'),
          401: error('No token (or session cookie), or an expired or wrongly signed one.'),
        },
      },
    },
    '/v1/received.csv': {
      get: {
        summary: 'The Inbox as CSV, as a search shows it: one row per received fax',
        description: `Received fax ID, received, started, sender’s number, called number, CSID, status, pages, read. ${EXPORT}`,
        parameters: [...searchParameters('inbox'), lang],
        responses: {
          200: csv('The received faxes found.'),
          400: error('A filter or time zone that cannot be read.'),
          401: error('No token (or session cookie), or an expired or wrongly signed one.'),
        },
      },
    },
  };
}
