import { Type } from '@sinclair/typebox';
import { E164, Id, Timestamp } from './common';

/** Where a resend was asked for: the fax page, the API, the command line, a Jabber reply. */
export const RESEND_VIAS = ['page', 'api', 'cli', 'xmpp'] as const;
export type ResendVia = (typeof RESEND_VIAS)[number];

/** Pages `first`..`last` of a fax's documents, counted from 1. */
export const PageRangeV1 = Type.Object(
  {
    first: Type.Integer({ minimum: 1 }),
    last: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false, description: 'Only these pages of the documents, from 1, both included.' },
);

/**
 * A command to the status tracker: make a new fax of a final fax's documents for the recipients that
 * did not get every page. Any service may publish it (the tracker's own API and page do it in
 * process; the notifier's Jabber `resend` reply publishes this): the tracker checks who asks.
 */
export const FaxResendRequestedV1 = Type.Object(
  {
    faxId: Id,
    ownerId: Type.String({
      ...Id,
      description: "Who asks: the fax's owner, or an admin of the owner's virtual office. Anyone else is refused (dead-lettered with the reason).",
    }),
    onlyMissingPages: Type.Boolean({ description: 'A partially_sent recipient gets only the pages it did not get (pagesSent+1 to the last).' }),
    requestedVia: Type.Unsafe<ResendVia>({ type: 'string', enum: [...RESEND_VIAS] }),
    requestId: Type.String({
      ...Id,
      description: 'The idempotency key: the same requestId (from the same asker) makes one new fax, however often it comes.',
    }),
  },
  { additionalProperties: false },
);

/**
 * The tracker's order to the transmitter: send the documents of fax `resendOf` again as fax
 * `faxId` (the id is the tracker's, so both ends link the two at once), to these numbers, each
 * with the pages it is to get. Written through the tracker's outbox.
 */
export const FaxResendOrderedV1 = Type.Object(
  {
    faxId: Type.String({ ...Id, description: 'The new fax.' }),
    resendOf: Type.String({ ...Id, description: 'The fax whose documents are sent again.' }),
    ownerId: Id,
    requestId: Id,
    recipients: Type.Array(Type.Object({ number: E164, pages: Type.Optional(PageRangeV1) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 1000,
    }),
    orderedAt: Timestamp,
  },
  { additionalProperties: false },
);
