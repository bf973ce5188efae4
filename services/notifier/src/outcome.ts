import { createHash } from 'node:crypto';
import { SMS_ENCODINGS, type Locale, type NotificationOutcome, type SmsEncoding } from '@faxnotify/contracts';
import type { Channel } from './channels/types';
import type { LedgerTable } from './schema';

/**
 * The notification.outcome event a ledger row stands for: what became of one notice, as the
 * status tracker files it beside the recipient of the fax it is about.
 */

/**
 * Ledger rows of notices of received faxes: their result id is `received/<receivedId>` ('/' is in
 * no outbound result id, so the two never share a key) and their recipient id is this marker.
 */
export const RECEIVED_RESULT_PREFIX = 'received/';
export const RECEIVED_RECIPIENT = '(received)';
export const isReceivedNotice = (row: Pick<LedgerTable, 'result_id'>): boolean => row.result_id.startsWith(RECEIVED_RESULT_PREFIX);

/** Ledger rows of fax summaries: result id `summary/<faxId>` (one row per fax and channel), recipient id this marker. */
export const SUMMARY_RESULT_PREFIX = 'summary/';
export const SUMMARY_RECIPIENT = '(summary)';
export const isSummaryNotice = (row: Pick<LedgerTable, 'result_id'>): boolean => row.result_id.startsWith(SUMMARY_RESULT_PREFIX);

/** The outcome event of a ledger row, with its id and subject; none for a row that has no outcome event. */
export function outcomeEventOf(row: LedgerTable): { outcome: NotificationOutcome; id: string; subject: string } | undefined {
  // A notice of a received fax has no outcome event: notification.outcome is about one recipient of
  // a fax we sent (faxId, recipientId, resultId) and the tracker files it beside that fax, which a
  // received fax is not. Its ledger row is its record.
  // A fax summary has none either: it is about no one recipient, and the tracker files outcomes by recipient.
  if (isReceivedNotice(row) || isSummaryNotice(row)) return undefined;
  const channel = row.channel as Channel;
  const reason = describeNotice(row);
  const outcome: NotificationOutcome = {
    resultId: row.result_id,
    faxId: row.fax_id,
    recipientId: row.recipient_id,
    ownerId: row.owner_id,
    channel,
    outcome: outcomeOf(row),
    ...(reason ? { reason: reason.slice(0, 2000) } : {}),
    ...(row.address ? { address: row.address } : {}),
    ...(row.locale ? { locale: row.locale as Locale } : {}),
    ...(row.provider_message_id ? { providerMessageId: row.provider_message_id.slice(0, 500) } : {}),
    ...noticeFacts(row),
    attempts: row.sends,
    at: row.updated_at,
  };
  // The same id for the same ledger state, so a re-published outcome is recognisably the same fact.
  const id = createHash('sha256')
    .update(`${row.idempotency_key}\n${row.status}\n${row.sends}\n${row.delivery_status ?? ''}`)
    .digest('hex')
    .slice(0, 32);
  return { outcome, id, subject: `fax/${row.fax_id}/recipient/${row.recipient_id}/${channel}` };
}

/** What became of a notice: the send's result, then what the provider reported after accepting it. */
export function outcomeOf(row: LedgerTable): NotificationOutcome['outcome'] {
  if (row.status === 'skipped') return 'skipped';
  if (row.status !== 'sent') return 'failed';
  if (row.delivery_status === 'delivered') return 'delivered';
  if (row.delivery_status === 'undelivered' || row.delivery_status === 'failed') return 'failed';
  return 'sent';
}

const isSmsEncoding = (value: string | null): value is SmsEncoding => (SMS_ENCODINGS as readonly (string | null)[]).includes(value);

/**
 * What the ledger knows about a notice, as the outcome's fields: for an SMS the parts and encoding
 * it went out as and Twilio's status callback (MessageStatus, which the ledger keeps as Twilio
 * spells it, with its ErrorCode); for an email the SMTP server's reply code.
 */
export function noticeFacts(row: LedgerTable): Pick<NotificationOutcome, 'sms' | 'provider' | 'smtp'> {
  const facts: Pick<NotificationOutcome, 'sms' | 'provider' | 'smtp'> = {};
  if (row.channel === 'sms') {
    if (row.segments !== null && row.segments >= 1 && row.segments <= 255 && isSmsEncoding(row.encoding))
      facts.sms = { segments: row.segments, encoding: row.encoding };
    if (row.delivery_status)
      facts.provider = { status: row.delivery_status.slice(0, 64), ...(row.delivery_error_code ? { errorCode: row.delivery_error_code.slice(0, 64) } : {}) };
  }
  if (row.channel === 'email' && row.smtp_code !== null && row.smtp_code >= 200 && row.smtp_code <= 599) facts.smtp = { code: row.smtp_code };
  return facts;
}

/**
 * The outcome's words: why it failed or was skipped, and that an XMPP receipt came. What has a
 * field of its own (SMS parts, the carrier's report, the SMTP reply code) is left to it.
 */
export function describeNotice(row: LedgerTable): string | undefined {
  const parts: string[] = [];
  if (row.error && row.status !== 'sent') parts.push(row.error);
  if (row.delivery_status === 'delivered' && row.channel === 'xmpp') parts.push('receipt received');
  return parts.length > 0 ? parts.join('; ') : undefined;
}
