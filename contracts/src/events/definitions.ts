import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  AggregateStateSchema,
  ChannelSchema,
  E164,
  FinalStatusSchema,
  Id,
  LocaleSchema,
  ProgressStatusSchema,
  Reason,
  SmsEncodingSchema,
  Timestamp,
  UntrustedText,
} from './common';

import { MAX_CSID_LENGTH, MAX_SUBJECT_LENGTH } from './common';
import { DeliveryFaxReceivedV1, FaxReceivedV1 } from './inbound';
import { FaxResendOrderedV1, FaxResendRequestedV1, PageRangeV1 } from './resend';

const RetryPolicy = Type.Object(
  {
    count: Type.Integer({ minimum: 0, maximum: 3, description: 'How many more times a failed recipient is dialled.' }),
    delayMinutes: Type.Integer({ minimum: 0, maximum: 1440, description: 'Minutes between attempts.' }),
  },
  { additionalProperties: false },
);

const RecipientRef = {
  faxId: Id,
  recipientId: Id,
  number: E164,
};

/** Where an event stands in a recipient's history: later attempts win, then later sequence numbers. */
const Ordering = {
  attempt: Type.Integer({ minimum: 1, description: 'Dial attempt this event belongs to, from 1.' }),
  sequence: Type.Integer({ minimum: 0, description: 'Order of the event within the attempt.' }),
};

export const FaxSubmittedV1 = Type.Object(
  {
    faxId: Id,
    outboxId: Type.Optional(Id),
    ownerId: Id,
    from: Type.Optional(
      Type.String({
        pattern: E164.pattern,
        description: "The fax's sender number, E.164: sent as the TSI where the line allows it, and the `from` of the owner's webhook.",
      }),
    ),
    subject: UntrustedText(MAX_SUBJECT_LENGTH),
    recipients: Type.Array(Type.Object({ recipientId: Id, number: E164 }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 1000,
    }),
    files: Type.Array(Type.Object({ name: Type.String({ maxLength: 255 }), pages: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), {
      maxItems: 10,
    }),
    pages: Type.Integer({ minimum: 0, description: 'Pages per recipient, all files together.' }),
    submittedAt: Timestamp,
    sendAt: Type.Optional(Timestamp),
    retry: RetryPolicy,
  },
  { additionalProperties: false },
);

/** The most base64 characters a first page's picture may take in fax.submitted (about 30 KB of PNG). */
export const FIRST_PAGE_MAX_BASE64 = 40_000;

/** The first page of a fax as its recipients get it, small: what the confirmation report shows. */
const FirstPagePicture = Type.Object(
  {
    png: Type.String({
      minLength: 8,
      maxLength: FIRST_PAGE_MAX_BASE64,
      pattern: '^[A-Za-z0-9+/]+={0,2}$',
      contentEncoding: 'base64',
      contentMediaType: 'image/png',
      description: 'A grey PNG of page 1 scaled to about 200 pixels across, base64.',
    }),
    width: Type.Integer({ minimum: 1, maximum: 400, description: 'Pixels across.' }),
    height: Type.Integer({ minimum: 1, maximum: 800, description: 'Pixels down (the printed page’s proportions).' }),
  },
  { additionalProperties: false, description: "A picture of the fax's first page, made by the transmitter from the prepared pages." },
);

/**
 * Version 2 of fax.submitted: version 1's fields, plus the fax it resends (if it is a resend) and,
 * per recipient, the pages it is to get when that is not all of them, and a small picture of its first page.
 */
export const FaxSubmittedV2 = Type.Object(
  {
    ...FaxSubmittedV1.properties,
    recipients: Type.Array(Type.Object({ recipientId: Id, number: E164, pages: Type.Optional(PageRangeV1) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 1000,
    }),
    resendOf: Type.Optional(Type.String({ ...Id, description: 'This fax sends the documents of that fax again, to those of its recipients that failed.' })),
    firstPage: Type.Optional(FirstPagePicture),
  },
  { additionalProperties: false },
);

/** Version 1 submissions (from transmitters not yet upgraded) lack only v2's optional fields. */
const upgradeFaxSubmittedV1 = (data: Static<typeof FaxSubmittedV1>): Static<typeof FaxSubmittedV2> => ({ ...data });

export const FaxRecipientProgressV1 = Type.Object(
  {
    ...RecipientRef,
    ...Ordering,
    status: ProgressStatusSchema,
    at: Timestamp,
    remoteCsid: Type.Optional(UntrustedText(MAX_CSID_LENGTH)),
    page: Type.Optional(Type.Object({ n: Type.Integer({ minimum: 0 }), of: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })),
    retry: Type.Optional(Type.Object({ at: Timestamp, reason: Reason }, { additionalProperties: false, description: 'Set with status retry_scheduled.' })),
  },
  { additionalProperties: false },
);

export const FaxRecipientResultV1 = Type.Object(
  {
    ...RecipientRef,
    ...Ordering,
    status: FinalStatusSchema,
    reason: Reason,
    pagesSent: Type.Integer({ minimum: 0 }),
    pagesTotal: Type.Integer({ minimum: 0 }),
    remoteCsid: Type.Union([UntrustedText(MAX_CSID_LENGTH), Type.Null()]),
    remoteCsidRaw: Type.Optional(Type.Union([UntrustedText(MAX_CSID_LENGTH), Type.Null()])),
    startedAt: Type.Union([Timestamp, Type.Null()], { description: 'When the successful (or last) call connected.' }),
    endedAt: Timestamp,
    attempts: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

export const DeliveryRecipientFinalV1 = Type.Object(
  {
    resultId: Type.String({ minLength: 1, maxLength: 300, description: 'One per recipient result; the idempotency key of every notice about it.' }),
    ...RecipientRef,
    ownerId: Id,
    subject: UntrustedText(MAX_SUBJECT_LENGTH),
    status: FinalStatusSchema,
    reason: Reason,
    pagesSent: Type.Integer({ minimum: 0 }),
    pagesTotal: Type.Integer({ minimum: 0 }),
    remoteCsid: Type.Union([UntrustedText(MAX_CSID_LENGTH), Type.Null()]),
    submittedAt: Timestamp,
    startedAt: Type.Union([Timestamp, Type.Null()]),
    endedAt: Timestamp,
    attempts: Type.Integer({ minimum: 1 }),
    links: Type.Object({ fax: Type.String({ maxLength: 2000 }) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

/**
 * Version 2 of delivery.recipient.final: version 1's fields, plus how many recipients the fax has,
 * so the notifier can choose a notice per recipient or one summary per fax as the result arrives.
 */
export const DeliveryRecipientFinalV2 = Type.Object(
  {
    ...DeliveryRecipientFinalV1.properties,
    recipientCount: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      description: 'How many recipients the fax has; null only in an event upgraded from version 1 (the notifier then notices per recipient).',
    }),
  },
  { additionalProperties: false },
);

/** Version 1 results (from trackers not yet upgraded) do not say how many recipients the fax has. */
const upgradeDeliveryRecipientFinalV1 = (data: Static<typeof DeliveryRecipientFinalV1>): Static<typeof DeliveryRecipientFinalV2> => ({
  ...data,
  recipientCount: null,
});

export const DeliveryFaxFinalV1 = Type.Object(
  {
    faxId: Id,
    ownerId: Id,
    subject: UntrustedText(MAX_SUBJECT_LENGTH),
    state: AggregateStateSchema,
    completedAt: Timestamp,
    recipients: Type.Array(
      Type.Object(
        {
          recipientId: Id,
          number: E164,
          status: FinalStatusSchema,
          pagesSent: Type.Integer({ minimum: 0 }),
          pagesTotal: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
    ),
    links: Type.Object({ fax: Type.String({ maxLength: 2000 }) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

/**
 * Version 2 of delivery.fax.final: each recipient's row also carries what a summary notice shows
 * (the remote CSID, when the recipient ended, dial attempts); the fax link is the notices' link
 * (with a link token when the tracker issues them).
 */
export const DeliveryFaxFinalV2 = Type.Object(
  {
    ...DeliveryFaxFinalV1.properties,
    recipients: Type.Array(
      Type.Object(
        {
          recipientId: Id,
          number: E164,
          status: FinalStatusSchema,
          pagesSent: Type.Integer({ minimum: 0 }),
          pagesTotal: Type.Integer({ minimum: 0 }),
          remoteCsid: Type.Union([UntrustedText(MAX_CSID_LENGTH), Type.Null()], { description: "The answering fax's identity (CSID): strangers' text." }),
          endedAt: Type.Union([Timestamp, Type.Null()], { description: 'When the recipient ended; null only in an event upgraded from version 1.' }),
          attempts: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'Dial attempts; null only in an event upgraded from version 1.' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);

/** Version 1 fax results lack the rows' CSID, end time and attempts: they come as unknown. */
const upgradeDeliveryFaxFinalV1 = (data: Static<typeof DeliveryFaxFinalV1>): Static<typeof DeliveryFaxFinalV2> => ({
  ...data,
  recipients: data.recipients.map((r) => ({ ...r, remoteCsid: null, endedAt: null, attempts: null })),
});

export const NotificationOutcomeV1 = Type.Object(
  {
    resultId: Type.String({ minLength: 1, maxLength: 300 }),
    faxId: Id,
    recipientId: Id,
    ownerId: Id,
    channel: ChannelSchema,
    outcome: Type.Unsafe<'sent' | 'delivered' | 'failed' | 'skipped'>({
      type: 'string',
      enum: ['sent', 'delivered', 'failed', 'skipped'],
      description: 'sent: the provider accepted it; delivered: the provider confirmed delivery; failed: given up; skipped: the owner does not want it.',
    }),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
    address: Type.Optional(Type.String({ maxLength: 320, description: 'Where it went: email address, phone number or JID.' })),
    locale: Type.Optional(LocaleSchema),
    providerMessageId: Type.Optional(Type.String({ maxLength: 500 })),
    attempts: Type.Integer({ minimum: 0 }),
    at: Timestamp,
  },
  { additionalProperties: false },
);

/**
 * Version 2 of notification.outcome: version 1's fields, plus what the notifier knows about the
 * notice in structured form instead of only inside `reason`.
 */
export const NotificationOutcomeV2 = Type.Object(
  {
    ...NotificationOutcomeV1.properties,
    reason: Type.Optional(
      Type.String({
        maxLength: 2000,
        description: 'In words, why it failed or was skipped (or what else is worth knowing); facts that have their own field are not repeated here.',
      }),
    ),
    sms: Type.Optional(
      Type.Object(
        {
          segments: Type.Integer({ minimum: 1, maximum: 255, description: 'Parts the SMS went out (and is billed) as.' }),
          encoding: SmsEncodingSchema,
        },
        { additionalProperties: false, description: 'SMS: how the text went out.' },
      ),
    ),
    provider: Type.Optional(
      Type.Object(
        {
          status: Type.String({
            minLength: 1,
            maxLength: 64,
            description: "The provider's latest report on the notice in its own words, e.g. Twilio's MessageStatus sent, delivered, undelivered, failed.",
          }),
          errorCode: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 64,
              description: "The provider's error code with an undelivered or failed report, e.g. Twilio's ErrorCode 30003.",
            }),
          ),
        },
        {
          additionalProperties: false,
          description: 'What the provider reported after accepting the notice, when it reports in words of its own (SMS status callbacks).',
        },
      ),
    ),
    smtp: Type.Optional(
      Type.Object(
        { code: Type.Integer({ minimum: 200, maximum: 599, description: 'The reply code: 2xx accepted, 4xx try later, 5xx refused.' }) },
        { additionalProperties: false, description: "Email: the SMTP server's reply to the message, when it replied." },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Version 1 outcomes (from notifiers not yet upgraded) lack only v2's optional fields. */
const upgradeNotificationOutcomeV1 = (data: Static<typeof NotificationOutcomeV1>): Static<typeof NotificationOutcomeV2> => ({ ...data });

/**
 * An older version of an event that consumers still accept from producers not yet upgraded: its
 * data schema, what it carries, and the function that turns its data into the current version's.
 */
export interface OlderEventVersion {
  readonly version: number;
  readonly schema: TSchema;
  readonly doc: string;
  readonly upgrade: (data: never) => unknown;
}

export interface CatalogueEntry {
  /** The current version: the one producers publish. */
  readonly version: number;
  readonly exchange: string;
  readonly schema: TSchema;
  readonly doc: string;
  readonly from: string;
  readonly to: string;
  /** Older versions still accepted; consumers get them upgraded to the current version. */
  readonly older?: readonly OlderEventVersion[];
}

/**
 * The catalogue: every event type, its routing key and its data schema. CloudEvents `type` is
 * `faxnotify.<routingKey>.v<version>`. A published version is never edited: a new version becomes
 * the entry's current one, and the old one moves to `older` with its upgrade for as long as
 * producers may still send it.
 */
export const EVENT_CATALOGUE = {
  'fax.submitted': {
    version: 2,
    exchange: 'faxnotify.fax',
    schema: FaxSubmittedV2,
    doc: 'A fax was accepted for sending: owner, sender number, subject, recipients (with their pages when not all), files, pages, send time, retry policy, the fax it resends, a small picture of the first page.',
    from: 'transmitter',
    to: 'status-tracker',
    older: [
      {
        version: 1,
        schema: FaxSubmittedV1,
        doc: 'A fax was accepted for sending: owner, sender number, subject, recipients, files, pages, send time, retry policy.',
        upgrade: upgradeFaxSubmittedV1,
      },
    ],
  },
  'fax.resend.requested': {
    version: 1,
    exchange: 'faxnotify.fax',
    schema: FaxResendRequestedV1,
    doc: "Someone asks to resend a final fax to its recipients that did not get every page (optionally only the missing pages): fax, who asks, how, the request's idempotency key.",
    from: 'notifier (Jabber replies), any client of the bus',
    to: 'status-tracker',
  },
  'fax.resend.ordered': {
    version: 1,
    exchange: 'faxnotify.fax',
    schema: FaxResendOrderedV1,
    doc: "The tracker's order to send a fax's documents again as a new fax (its id minted by the tracker) to the numbers given, each with its pages.",
    from: 'status-tracker',
    to: 'transmitter',
  },
  'fax.recipient.progress': {
    version: 1,
    exchange: 'faxnotify.fax',
    schema: FaxRecipientProgressV1,
    doc: 'A non-final step of one recipient: dialing, connected (remote CSID), page n of m sent, retry scheduled (when, why).',
    from: 'transmitter',
    to: 'status-tracker',
  },
  'fax.recipient.result': {
    version: 1,
    exchange: 'faxnotify.fax',
    schema: FaxRecipientResultV1,
    doc: 'The final result of one recipient: status, reason with line detail, pages, remote CSID, times, attempts.',
    from: 'transmitter',
    to: 'status-tracker',
  },
  'delivery.recipient.final': {
    version: 2,
    exchange: 'faxnotify.delivery',
    schema: DeliveryRecipientFinalV2,
    doc: 'Everything a notice needs about one recipient result, and how many recipients the fax has, published once per recipient through the tracker outbox.',
    from: 'status-tracker',
    to: 'notifier',
    older: [
      {
        version: 1,
        schema: DeliveryRecipientFinalV1,
        doc: 'Everything a notice needs about one recipient result, published once per recipient through the tracker outbox.',
        upgrade: upgradeDeliveryRecipientFinalV1,
      },
    ],
  },
  'delivery.fax.final': {
    version: 2,
    exchange: 'faxnotify.delivery',
    schema: DeliveryFaxFinalV2,
    doc: "The aggregate state of a fax once every recipient is final, with a row per recipient (number, status, pages, CSID, end time, attempts) and the notices' fax link: the fax summary notice.",
    from: 'status-tracker',
    to: 'notifier, webhooks',
    older: [
      {
        version: 1,
        schema: DeliveryFaxFinalV1,
        doc: 'The aggregate state of a fax once every recipient is final.',
        upgrade: upgradeDeliveryFaxFinalV1,
      },
    ],
  },
  'fax.received': {
    version: 1,
    exchange: 'faxnotify.fax',
    schema: FaxReceivedV1,
    doc: 'A fax that reached one of our lines (or a provider) for an owner: caller and called number, remote CSID, status (success, partially_received, failed), pages as received (T.4 1-D data) or the provider file.',
    from: 'transmitter, status-tracker ingest',
    to: 'status-tracker',
  },
  'delivery.fax.received': {
    version: 1,
    exchange: 'faxnotify.delivery',
    schema: DeliveryFaxReceivedV1,
    doc: 'Everything an inbound notice needs about one received fax, with its PDF when it fits the attachment cap, published once through the tracker outbox.',
    from: 'status-tracker',
    to: 'notifier',
  },
  'notification.outcome': {
    version: 2,
    exchange: 'faxnotify.notification',
    schema: NotificationOutcomeV2,
    doc: "What became of one notice on one channel: sent, delivered, failed (why), skipped; the provider message id; SMS parts and encoding, the provider's own delivery status and error code, the SMTP reply code.",
    from: 'notifier',
    to: 'status-tracker',
    older: [
      {
        version: 1,
        schema: NotificationOutcomeV1,
        doc: 'What became of one notice on one channel: sent, delivered, failed (why), skipped; the provider message id.',
        upgrade: upgradeNotificationOutcomeV1,
      },
    ],
  },
} as const satisfies Record<string, CatalogueEntry>;

export type EventKey = keyof typeof EVENT_CATALOGUE;
/** The data of each event, derived from its schema (never written twice). */
export type EventData<K extends EventKey> = Static<(typeof EVENT_CATALOGUE)[K]['schema']>;

export type FaxSubmitted = EventData<'fax.submitted'>;
export type FaxRecipientProgress = EventData<'fax.recipient.progress'>;
export type FaxRecipientResult = EventData<'fax.recipient.result'>;
export type DeliveryRecipientFinal = EventData<'delivery.recipient.final'>;
export type DeliveryFaxFinal = EventData<'delivery.fax.final'>;
export type NotificationOutcome = EventData<'notification.outcome'>;
export type FaxReceived = EventData<'fax.received'>;
export type FaxResendRequested = EventData<'fax.resend.requested'>;
export type FaxResendOrdered = EventData<'fax.resend.ordered'>;
export type DeliveryFaxReceived = EventData<'delivery.fax.received'>;
export type RetryPolicy = Static<typeof RetryPolicy>;
