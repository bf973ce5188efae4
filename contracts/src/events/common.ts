import { Type } from '@sinclair/typebox';
import { FINAL_STATUSES, PROGRESS_STATUSES, AGGREGATE_STATES } from '../vocabulary/statuses';

/** A timestamp in RFC 3339 form (`date-time`). */
export const Timestamp = Type.String({ format: 'date-time' });
/** An identifier we or a peer minted: printable, bounded. */
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:@-]+$' });
/** A phone number in E.164 form. */
export const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$' });
/**
 * Text that came from strangers (remote CSID, fax subject). Length-bounded here; every channel
 * still escapes it for its own medium.
 */
export const UntrustedText = (maxLength: number) => Type.String({ maxLength });

export const FinalStatusSchema = Type.Unsafe<(typeof FINAL_STATUSES)[number]>({ type: 'string', enum: [...FINAL_STATUSES] });
export const ProgressStatusSchema = Type.Unsafe<(typeof PROGRESS_STATUSES)[number]>({ type: 'string', enum: [...PROGRESS_STATUSES] });
export const AggregateStateSchema = Type.Unsafe<(typeof AGGREGATE_STATES)[number]>({ type: 'string', enum: [...AGGREGATE_STATES] });
export const ChannelSchema = Type.Unsafe<'email' | 'sms' | 'xmpp'>({ type: 'string', enum: ['email', 'sms', 'xmpp'] });
export const LocaleSchema = Type.Unsafe<'ru' | 'en' | 'it'>({ type: 'string', enum: ['ru', 'en', 'it'] });

/** How an SMS text is encoded: GSM-7 when every character is in the GSM alphabet, UCS-2 otherwise. */
export const SMS_ENCODINGS = ['GSM-7', 'UCS-2'] as const;
export type SmsEncoding = (typeof SMS_ENCODINGS)[number];
export const SmsEncodingSchema = Type.Unsafe<SmsEncoding>({ type: 'string', enum: [...SMS_ENCODINGS] });

/** The longest fax subject we keep; longer subjects are cut by the transmitter and the ingest paths. */
export const MAX_SUBJECT_LENGTH = 1000;
/** T.30 identifiers are 20 characters; room is left for raw line detail from other sources. */
export const MAX_CSID_LENGTH = 64;

/** The longest reason code a producer may send. */
export const MAX_REASON_CODE_LENGTH = 64;
/** The longest reason detail a producer may send; producers cut longer line detail to this. */
export const MAX_REASON_DETAIL_LENGTH = 2000;

/** Why a recipient ended as it did: a vocabulary code plus the raw line detail (modem result, T.30 frames, CDR). */
export const Reason = Type.Object(
  {
    code: Type.String({ maxLength: MAX_REASON_CODE_LENGTH }),
    detail: UntrustedText(MAX_REASON_DETAIL_LENGTH),
  },
  { additionalProperties: false },
);
