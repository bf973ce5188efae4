import { Type } from '@sinclair/typebox';
import { Id, MAX_CSID_LENGTH, Reason, Timestamp, UntrustedText } from './common';

/** How a received fax ended: every page confirmed, some pages kept (the sender stopped or the line broke), none. */
export const RECEIVE_STATUSES = ['success', 'partially_received', 'failed'] as const;
export type ReceiveStatus = (typeof RECEIVE_STATUSES)[number];
export const ReceiveStatusSchema = Type.Unsafe<ReceiveStatus>({ type: 'string', enum: [...RECEIVE_STATUSES] });

/** Where a received fax came from: one of our modem lines, a fax ATA's port server, or a cloud provider's inbound. */
export const RECEIVE_SOURCES = ['line', 'ata', 'faxplus', 'replixfax'] as const;
export type ReceiveSource = (typeof RECEIVE_SOURCES)[number];

/** The most pages one received fax may carry. */
export const MAX_RECEIVED_PAGES = 200;
/** The largest base64 text of one page's T.4 data (a dense fine A4 page is about 150 kB of MH). */
export const MAX_RECEIVED_PAGE_BASE64 = 2_000_000;
/** The largest base64 text of a provider's file or of a notice's PDF attachment. */
export const MAX_RECEIVED_FILE_BASE64 = 28_000_000;

/** A phone number as a line or provider reports it: not always E.164 (an extension, a local number, digits only). */
const ReportedNumber = Type.Union([Type.String({ maxLength: 32, pattern: '^[0-9+*#() .-]*$' }), Type.Null()]);

/** One page as received: clean T.4 1-D (MH) data, no fill, no RTC. */
export const ReceivedPageV1 = Type.Object(
  {
    width: Type.Integer({ minimum: 1, maximum: 4864, description: 'Pixels per row (1728 for A4).' }),
    rows: Type.Integer({ minimum: 0, maximum: 20000 }),
    resolution: Type.Unsafe<'standard' | 'fine'>({ type: 'string', enum: ['standard', 'fine'], description: '98 or 196 rows per inch.' }),
    badRows: Type.Integer({ minimum: 0, description: 'Rows that did not decode (kept as white).' }),
    data: Type.String({ maxLength: MAX_RECEIVED_PAGE_BASE64, contentEncoding: 'base64', description: 'T.4 1-D data of the page, base64.' }),
  },
  { additionalProperties: false },
);

/** A received document as a file (a provider's download). */
export const ReceivedFileV1 = Type.Object(
  {
    contentType: Type.Unsafe<'application/pdf' | 'image/tiff'>({ type: 'string', enum: ['application/pdf', 'image/tiff'] }),
    data: Type.String({ maxLength: MAX_RECEIVED_FILE_BASE64, contentEncoding: 'base64' }),
  },
  { additionalProperties: false },
);

export const FaxReceivedV1 = Type.Object(
  {
    receivedId: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[A-Za-z0-9._:@-]+$',
      description: 'Minted by the side that received it; the same fax reported twice has the same id.',
    }),
    source: Type.Unsafe<ReceiveSource>({ type: 'string', enum: [...RECEIVE_SOURCES] }),
    lineId: Type.Union([Id, Type.Null()], { description: 'Our line that answered, null for a provider.' }),
    ownerId: Id,
    callerNumber: ReportedNumber,
    calledNumber: ReportedNumber,
    remoteCsid: Type.Union([UntrustedText(MAX_CSID_LENGTH), Type.Null()], { description: "The sender's TSI, as sent." }),
    status: ReceiveStatusSchema,
    reason: Reason,
    pagesReceived: Type.Integer({ minimum: 0, maximum: MAX_RECEIVED_PAGES }),
    startedAt: Timestamp,
    endedAt: Timestamp,
    pages: Type.Array(ReceivedPageV1, { maxItems: MAX_RECEIVED_PAGES, description: 'The pages from a line, in order; empty when the document is a file.' }),
    file: Type.Optional(ReceivedFileV1),
  },
  { additionalProperties: false },
);

export const DeliveryFaxReceivedV1 = Type.Object(
  {
    receivedId: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[A-Za-z0-9._:@-]+$',
      description: 'The idempotency key of every notice about this fax.',
    }),
    ownerId: Id,
    callerNumber: ReportedNumber,
    calledNumber: ReportedNumber,
    remoteCsid: Type.Union([UntrustedText(MAX_CSID_LENGTH), Type.Null()]),
    status: ReceiveStatusSchema,
    reason: Reason,
    pagesReceived: Type.Integer({ minimum: 0 }),
    startedAt: Timestamp,
    receivedAt: Timestamp,
    links: Type.Object({ fax: Type.String({ maxLength: 2000, description: 'The received fax in the Inbox.' }) }, { additionalProperties: false }),
    document: Type.Optional(
      Type.Object(
        {
          fileName: Type.String({ minLength: 1, maxLength: 200 }),
          contentType: Type.Literal('application/pdf'),
          sizeBytes: Type.Integer({ minimum: 0 }),
          data: Type.String({ maxLength: MAX_RECEIVED_FILE_BASE64, contentEncoding: 'base64' }),
        },
        { additionalProperties: false, description: 'The PDF, when it is within the attachment cap; above it, the notice carries the link only.' },
      ),
    ),
  },
  { additionalProperties: false },
);
