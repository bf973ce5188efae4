/**
 * What a previous run left in flight: entries caught mid-preparation wait again, and a call cut by
 * the restart counts as a failed attempt (TRANSMITTER_RESTART), redialled if the fax's policy
 * allows — unless its line handed the fax over before the cut.
 */
import type { Logger } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { TransmitterDatabase } from '../db/schema';
import { TRANSMITTER_RESTART } from '../retry-policy';
import type { CallRecorder } from './call-end';
import type { LinePool } from './line-pool';

export async function recoverInFlight(options: {
  db: Kysely<TransmitterDatabase>;
  recorder: CallRecorder;
  pool: LinePool;
  logger: Logger;
  now: () => Date;
}): Promise<void> {
  const { db, logger } = options;
  const now = options.now();
  const reverted = await db.updateTable('faxes').set({ state: 'waiting', updated_at: now.toISOString() }).where('state', '=', 'preparing').executeTakeFirst();
  if (Number(reverted.numUpdatedRows) > 0) logger.warn({ entries: Number(reverted.numUpdatedRows) }, 'outbox entries caught mid-preparation wait again');
  const cut = await db.selectFrom('recipients').selectAll().where('state', '=', 'in_call').execute();
  for (const recipient of cut) {
    const fax = await db.selectFrom('faxes').selectAll().where('outbox_id', '=', recipient.outbox_id).executeTakeFirst();
    if (!fax) continue;
    const connected = recipient.connected_at !== null;
    const detail =
      `the transmitter restarted during attempt ${recipient.attempt} on line ${recipient.line_id ?? '?'}` +
      (connected
        ? `, connected to ${recipient.remote_csid ?? 'a fax machine without an id'} with ${recipient.pages_confirmed} of ${recipient.pages_total} pages confirmed`
        : ', before the call connected') +
      '; the call was cut';
    logger.warn({ faxId: fax.fax_id, recipientId: recipient.recipient_id, attempt: recipient.attempt }, 'a call was cut by a restart');
    await options.recorder.record(fax, recipient, options.pool.byId(recipient.line_id), {
      status: 'failed_to_send',
      pagesConfirmed: recipient.pages_confirmed,
      pagesTotal: recipient.pages_total,
      remoteCsid: recipient.remote_csid,
      remoteCsidRaw: recipient.remote_csid_raw,
      reason: { code: TRANSMITTER_RESTART, detail },
      startedAt: recipient.call_started_at ? new Date(recipient.call_started_at) : now,
      connectedAt: recipient.connected_at ? new Date(recipient.connected_at) : null,
      endedAt: now,
      signallingRate: null,
    });
  }
}
