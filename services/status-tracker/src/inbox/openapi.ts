import { error, json, nullable, ref } from '../openapi-parts';
import { searchParameters } from '../search/openapi';

/**
 * The Inbox API's part of the OpenAPI document (openapi.ts merges it): paths and schemas. Every
 * route is the caller's scope only (their own received faxes; their office's too when they are its
 * admin or it shares its folder); any other fax answers 404 like one that does not exist.
 */

const UNAUTHORIZED = error('No token (or session cookie), or an expired or wrongly signed one.');
const NOT_FOUND = error("No such received fax among those the caller sees (their own, and their office's when they see it): any other answers the same.");
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,200}$' } };
const file = (type: string, description: string) => ({ description, content: { [type]: { schema: { type: 'string', format: 'binary' } } } });

export function inboxPaths(): Record<string, unknown> {
  return {
    '/v1/received': {
      get: {
        summary: 'The received faxes the caller sees (the Inbox), newest first',
        parameters: [
          ...searchParameters('inbox'),
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page.' },
        ],
        responses: {
          200: json(
            {
              type: 'object',
              required: ['received', 'nextCursor'],
              properties: { received: { type: 'array', items: ref('ReceivedFax') }, nextCursor: nullable('string') },
            },
            'A page of the Inbox.',
          ),
          400: error('A bad limit, a cursor this API did not give out, or a search filter that cannot be read.'),
          401: UNAUTHORIZED,
        },
      },
    },
    '/v1/received/{id}': {
      get: {
        summary: 'One received fax with its pages’ sizes',
        parameters: [id],
        responses: { 200: json(ref('ReceivedFaxWithPages'), 'The received fax.'), 401: UNAUTHORIZED, 404: NOT_FOUND },
      },
    },
    '/v1/received/{id}/pdf': {
      get: {
        summary: 'The received fax as a PDF: the pages’ own T.4 data under CCITTFaxDecode, or a provider’s PDF as it came',
        parameters: [id],
        responses: {
          200: file('application/pdf', 'The PDF.'),
          401: UNAUTHORIZED,
          404: NOT_FOUND,
          409: error('No page was received, or the provider gave the fax as a TIFF only.'),
        },
      },
    },
    '/v1/received/{id}/tiff': {
      get: {
        summary: 'The received fax as a G3 TIFF (each page at its own resolution), or a provider’s TIFF as it came',
        parameters: [id],
        responses: {
          200: file('image/tiff', 'The TIFF.'),
          401: UNAUTHORIZED,
          404: NOT_FOUND,
          409: error('No page was received, or the provider gave the fax as a PDF only.'),
        },
      },
    },
  };
}

const RECEIVED_FAX = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The receivedId the receiving side minted.' },
    owner: { type: 'string' },
    source: { type: 'string', enum: ['line', 'ata', 'faxplus', 'replixfax'] },
    callerNumber: nullable('string'),
    calledNumber: nullable('string'),
    remoteCsid: nullable('string', { description: "The sender's TSI as sent: untrusted text." }),
    status: { type: 'string', enum: ['success', 'partially_received', 'failed'] },
    reason: { oneOf: [{ type: 'object', properties: { code: { type: 'string' }, detail: { type: 'string' } } }, { type: 'null' }] },
    pages: { type: 'integer' },
    startedAt: { type: 'string', format: 'date-time' },
    receivedAt: { type: 'string', format: 'date-time' },
    read: { type: 'boolean' },
    readAt: nullable('string', { format: 'date-time' }),
    file: nullable('string', { description: "A provider's file type (application/pdf or image/tiff); null for pages from a line." }),
  },
};

export const INBOX_SCHEMAS = {
  ReceivedFax: RECEIVED_FAX,
  ReceivedFaxWithPages: {
    allOf: [
      ref('ReceivedFax'),
      {
        type: 'object',
        properties: {
          pageList: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                page: { type: 'integer' },
                width: { type: 'integer' },
                rows: { type: 'integer' },
                resolution: { type: 'string', enum: ['standard', 'fine'] },
                badRows: { type: 'integer' },
              },
            },
          },
        },
      },
    ],
  },
};
