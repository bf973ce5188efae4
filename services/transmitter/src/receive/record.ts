/**
 * A line's receive result as the fax.received event and the received_faxes row, written in one
 * transaction with the event in the event outbox: the relay publishes it once the broker takes it,
 * after a restart too, and the same call recorded twice stays one fax.
 */
import { createHash } from 'node:crypto';
import {
  createEvent,
  MAX_CSID_LENGTH,
  MAX_REASON_DETAIL_LENGTH,
  MAX_RECEIVED_PAGE_BASE64,
  MAX_RECEIVED_PAGES,
  type CloudEvent,
  type FaxReceived,
} from '@faxnotify/contracts';
import type { LineReceiveResult } from '@faxnotify/fax-line';
import type { Kysely } from 'kysely';
import type { TransmitterDatabase } from '../db/schema';
import { TRANSMITTER_SOURCE } from '../events';
import type { ReceivingLine } from './types';

/** Whether a receive result is a fax to report: a call was answered or a page came. A wait that ended without a call is not. */
export function isReceivedFax(result: LineReceiveResult): boolean {
  return result.connectedAt !== null || result.pages.length > 0;
}

/** A number as the contracts take it (digits and dialling punctuation, up to 32), or null. */
const reported = (number: string | null): string | null => (number !== null && /^[0-9+*#() .-]{0,32}$/.test(number) ? number : null);
const digits = (number: string): string => number.replace(/[^0-9+*#]/g, '');

/** Who gets a call's fax: the owner of the called number where the line has one for it, else the line's owner. */
export function ownerFor(receiving: ReceivingLine, calledNumber: string | null): string {
  if (calledNumber !== null) {
    const called = digits(calledNumber);
    for (const [number, owner] of Object.entries(receiving.owners)) if (digits(number) === called) return owner;
  }
  return receiving.owner;
}

/** The event's data for a received fax; pages beyond the contract's limits are left out and the fax counted partially received. */
export function faxReceivedData(receiving: ReceivingLine, result: LineReceiveResult): FaxReceived {
  const answeredAt = result.connectedAt ?? result.startedAt;
  const pages: FaxReceived['pages'] = [];
  for (const page of result.pages) {
    const data = page.data.toString('base64');
    if (pages.length >= MAX_RECEIVED_PAGES || data.length > MAX_RECEIVED_PAGE_BASE64 || page.height > 20_000) break;
    pages.push({ width: page.width, rows: page.height, resolution: page.resolution, badRows: page.badRows, data });
  }
  const left = result.pages.length - pages.length;
  const detail = left > 0 ? `${result.reason.detail} (${left} page(s) beyond the size limits were not kept)` : result.reason.detail;
  return {
    receivedId: `${receiving.line.id}:${answeredAt.toISOString()}`,
    source: 'line',
    lineId: receiving.line.id,
    ownerId: ownerFor(receiving, result.calledNumber),
    callerNumber: reported(result.callerNumber),
    calledNumber: reported(result.calledNumber),
    remoteCsid: result.remoteCsid === null ? null : result.remoteCsid.slice(0, MAX_CSID_LENGTH),
    status: left > 0 && result.status === 'success' ? 'partially_received' : result.status,
    reason: { code: result.reason.code, detail: detail.slice(0, MAX_REASON_DETAIL_LENGTH) },
    pagesReceived: pages.length,
    startedAt: result.startedAt.toISOString(),
    endedAt: result.endedAt.toISOString(),
    pages,
  };
}

/** The event outbox's fax_id column holds 64 characters: a received fax is filed under a digest of its id. */
export const receivedKey = (receivedId: string): string => `received-${createHash('sha256').update(receivedId).digest('hex').slice(0, 40)}`;

/** The fax.received event of a received fax: its id is the receivedId, so a second publish of it is the same event. */
export function receivedEvent(data: FaxReceived): CloudEvent<'fax.received'> {
  return createEvent('fax.received', data, {
    id: data.receivedId,
    source: TRANSMITTER_SOURCE,
    subject: `received/${data.receivedId}`,
    time: new Date(data.endedAt),
  });
}

/**
 * Records a received fax and its fax.received event in one transaction. Returns false when this
 * fax was recorded already (nothing is written then).
 */
export async function recordReceivedFax(
  db: Kysely<TransmitterDatabase>,
  event: CloudEvent<'fax.received'>,
  meta: { answeredAt: Date | null; now: Date },
): Promise<boolean> {
  return db.transaction().execute((trx) => insertReceivedFax(trx, event, meta));
}

/** The same, inside a transaction the caller holds (the ATA accounting writes its record in it too). */
export async function insertReceivedFax(
  trx: Kysely<TransmitterDatabase>,
  event: CloudEvent<'fax.received'>,
  meta: { answeredAt: Date | null; now: Date },
): Promise<boolean> {
  const { data } = event;
  const now = meta.now.toISOString();
  const inserted = await trx
    .insertInto('received_faxes')
    .values({
      received_id: data.receivedId,
      line_id: data.lineId ?? '',
      owner_id: data.ownerId,
      caller_number: data.callerNumber,
      called_number: data.calledNumber,
      remote_csid: data.remoteCsid,
      status: data.status,
      reason_code: data.reason.code,
      reason_detail: data.reason.detail,
      pages_received: data.pagesReceived,
      bytes: data.pages.reduce((sum, page) => sum + Buffer.byteLength(page.data, 'base64'), 0),
      started_at: data.startedAt,
      answered_at: meta.answeredAt?.toISOString() ?? null,
      ended_at: data.endedAt,
      created_at: now,
    })
    .onConflict((conflict) => conflict.column('received_id').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
  await trx
    .insertInto('event_outbox')
    .values({
      id: event.id,
      routing_key: 'fax.received',
      fax_id: receivedKey(data.receivedId),
      recipient_id: null,
      event_json: JSON.stringify(event),
      created_at: now,
      published_at: null,
      publish_attempts: 0,
      last_error: null,
    })
    .execute();
  return true;
}
