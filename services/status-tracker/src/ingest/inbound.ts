import { createEvent, type ReceiveStatus } from '@faxnotify/contracts';
import type { Logger, SecretBox } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { ProviderAccountRow, TrackerDatabase } from '../schema';
import { openStoredSecret, secretContext, secretName } from '../secrets';
import type { StatusTracker } from '../tracker';
import type { TargetClient, WebhookTargets } from '../webhook-targets';
import { IngestError, providerTime } from './providers';
import { providerFaxIdOf } from './recorder';

/** A provider's inbound fax as its post or its query reports it, before its document is fetched. */
export interface InboundFax {
  provider: 'faxplus' | 'replixfax';
  /** The provider's fax id: the key of the received fax (the same by post and by query). */
  providerFaxId: string;
  callerNumber: string | null;
  calledNumber: string | null;
  remoteCsid: string | null;
  status: ReceiveStatus;
  rawStatus: string;
  pagesReceived: number;
  startedAt: string;
  endedAt: string;
  /** Fax.Plus: the file id for its file download. ReplixFax fetches by fax id. */
  fileId: string | null;
}

/** The largest provider file kept (the contract's base64 cap). */
const MAX_FILE_BYTES = 21_000_000;
const str = (value: unknown): string => (typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '');
const int = (value: unknown): number => {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(str(value)) ? Number(str(value)) : 0;
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 200) : 0;
};
/** A number as the provider wrote it, kept when it reads as a phone number (a Fax.Plus user id is not one). */
const reportedNumber = (raw: unknown): string | null => {
  const text = str(raw).slice(0, 32);
  return text && /^[0-9+*#() .-]+$/.test(text) ? text : null;
};
const csid = (raw: unknown): string | null => str(raw).slice(0, 20) || null;
const receiveStatus = (raw: string): ReceiveStatus =>
  raw === 'success' || raw === 'received' || raw === '' ? 'success' : raw === 'partially_received' || raw === 'partial' ? 'partially_received' : 'failed';

/** ReplixFax's inbound statuses (`recvOk`, `Received`, a partial reception): anything else is a failed reception. */
const replixStatus = (raw: string): ReceiveStatus => {
  const text = raw.toLowerCase();
  if (text === '' || /ok$|^received$|^success$/.test(text)) return 'success';
  return text.includes('partial') ? 'partially_received' : 'failed';
};

/** A Fax.Plus webhook about a received fax (`fax_received`, or a fax whose direction is `incoming`); null for any other. */
export function parseFaxPlusReceived(body: unknown): InboundFax | null {
  if (typeof body !== 'object' || body === null) throw new IngestError('the body is not a JSON object');
  const { hook, data } = body as { hook?: Record<string, unknown>; data?: Record<string, unknown> };
  if (!hook || typeof hook !== 'object' || !data || typeof data !== 'object') throw new IngestError('a Fax.Plus webhook has `hook` and `data` objects');
  if (str(hook.event) !== 'fax_received' && str(data.direction) !== 'incoming') return null;
  const id = str(data.id);
  if (!id) throw new IngestError('data.id is missing');
  const rawStatus = str(data.status);
  if (!rawStatus) throw new IngestError('data.status is missing');
  const startedAt = data.start_time ? providerTime(data.start_time, 'data.start_time') : null;
  const endedAt = hook.event_time ? providerTime(hook.event_time, 'hook.event_time') : startedAt;
  if (!endedAt) throw new IngestError('neither data.start_time nor hook.event_time is given');
  const fileId = str(data.file);
  if (receiveStatus(rawStatus) !== 'failed' && !fileId) throw new IngestError('data.file is missing: a received fax has a file to download');
  return {
    provider: 'faxplus',
    providerFaxId: id,
    callerNumber: reportedNumber(data.from),
    calledNumber: reportedNumber(data.to),
    remoteCsid: csid(data.csid ?? data.remote_csid),
    status: receiveStatus(rawStatus),
    rawStatus,
    pagesReceived: int(data.pages),
    startedAt: startedAt ?? endedAt,
    endedAt,
    fileId: fileId || null,
  };
}

/** Whether a ReplixFax post is about an inbound fax (its receive queue, an inbound direction, or the caller's ANI). */
export const isReplixFaxInbound = (fields: Record<string, unknown>): boolean =>
  /^inbound$/i.test(str(fields.Direction)) || str(fields.Queue) === 'ReceiveFax' || str(fields.ANI) !== '';

/** A ReplixFax inbound fax, from its URL callback (form fields) or from the inbound query's list. */
export function parseReplixFaxInbound(fields: Record<string, unknown>): InboundFax {
  const id = str(fields.FaxId);
  if (!id) throw new IngestError('FaxId is missing');
  const time = fields.ReceiveTime ?? fields.CompleteTime;
  if (!time) throw new IngestError('ReceiveTime is missing');
  const endedAt = providerTime(time, 'ReceiveTime');
  const rawStatus = str(fields.FaxStatus);
  return {
    provider: 'replixfax',
    providerFaxId: id,
    callerNumber: reportedNumber(fields.ANI ?? fields.SenderFaxNumber),
    calledNumber: reportedNumber(fields.DNIS ?? fields.DestFaxNumber),
    remoteCsid: csid(fields.CSI ?? fields.RemoteCSID),
    status: replixStatus(rawStatus),
    rawStatus,
    pagesReceived: int(fields.Pages ?? fields.PagesReceived ?? fields.TotalPages),
    startedAt: fields.StartTime ? providerTime(fields.StartTime, 'StartTime') : endedAt,
    endedAt,
    fileId: null,
  };
}

/** A provider's file as the Inbox keeps it: a PDF or a TIFF, known by its first bytes. */
export function providerFile(data: Buffer): { contentType: 'application/pdf' | 'image/tiff'; data: string } {
  const head = data.subarray(0, 4).toString('latin1');
  if (head === '%PDF') return { contentType: 'application/pdf', data: data.toString('base64') };
  if (head === 'II*\0' || head === 'MM\0*') return { contentType: 'image/tiff', data: data.toString('base64') };
  throw new Error('the provider answered a document that is neither a PDF nor a TIFF');
}

export interface ProviderInboundOptions {
  db: Kysely<TrackerDatabase>;
  tracker: StatusTracker;
  logger: Logger;
  secrets: SecretBox;
  /** Where the accounts' base URLs may lead (the provider-URL policy the ReplixFax poller uses). */
  targets: WebhookTargets;
  timeoutMs: number;
  /** Called after a received fax committed its notice to the outbox (hand it over now). */
  onRecorded?: () => void;
}

/**
 * Turns a provider's inbound fax into a received fax: fetches its document from the provider with
 * the account's API credentials (Fax.Plus: `GET {baseUrl}/accounts/self/files/{fileId}?format=pdf`
 * with the password as a bearer token; ReplixFax: `GET {baseUrl}/inboundfaxes/{FaxId}/content`
 * with HTTP Basic) and records it as a `fax.received` through the tracker, so the Inbox's record
 * and its `delivery.fax.received` are written in one transaction, once per provider fax id.
 */
export class ProviderInbound {
  private readonly http: TargetClient;

  constructor(private readonly options: ProviderInboundOptions) {
    this.http = options.targets.client();
  }

  close(): void {
    this.http.close();
  }

  receivedIdOf(account: Pick<ProviderAccountRow, 'account'>, fax: Pick<InboundFax, 'provider' | 'providerFaxId'>): string {
    return providerFaxIdOf(fax.provider, account.account, fax.providerFaxId);
  }

  private password(row: ProviderAccountRow): string {
    if (row.password === null) return '';
    return openStoredSecret(
      this.options.secrets,
      row.password,
      secretContext.providerPassword(row.provider, row.account),
      secretName.providerPassword(row.provider, row.account),
    );
  }

  /** The fax's document from the provider; throws (to be tried again later) when it cannot be had. */
  async download(row: ProviderAccountRow, fax: InboundFax): Promise<Buffer> {
    if (!row.base_url) throw new Error(`the ${row.provider} account ${row.account} has no baseUrl to download received faxes from`);
    const base = row.base_url.replace(/\/+$/, '');
    const password = this.password(row);
    const url =
      fax.provider === 'faxplus'
        ? new URL(`${base}/accounts/self/files/${encodeURIComponent(fax.fileId ?? '')}?format=pdf`)
        : new URL(`${base}/inboundfaxes/${encodeURIComponent(fax.providerFaxId)}/content`);
    const authorization = fax.provider === 'faxplus' ? `Bearer ${password}` : `Basic ${Buffer.from(`${row.username ?? ''}:${password}`).toString('base64')}`;
    const response = await this.http.request(url, {
      method: 'GET',
      headers: { accept: 'application/pdf, image/tiff', authorization },
      timeoutMs: this.options.timeoutMs,
      maxResponseBytes: MAX_FILE_BYTES,
    });
    if (response.status < 200 || response.status > 299)
      throw new Error(`${fax.provider} download of fax ${fax.providerFaxId} answered HTTP ${response.status}`);
    if (!response.complete) throw new Error(`${fax.provider} download of fax ${fax.providerFaxId} was cut short or larger than ${MAX_FILE_BYTES} bytes`);
    return response.body;
  }

  /**
   * Records the fax in the owner's Inbox (the account's owner). A fax already recorded is not
   * downloaded again. Throws when the download fails: nothing is recorded, and the fax is tried
   * again (the provider's retried post, the next ReplixFax query).
   */
  async record(row: ProviderAccountRow, fax: InboundFax, via: 'post' | 'query'): Promise<{ receivedId: string; duplicate: boolean }> {
    const receivedId = this.receivedIdOf(row, fax);
    const log = this.options.logger.child({ provider: fax.provider, account: row.account, providerFaxId: fax.providerFaxId, receivedId, via });
    if (await this.options.db.selectFrom('received_faxes').select('id').where('id', '=', receivedId).executeTakeFirst()) {
      log.info('received fax seen again');
      return { receivedId, duplicate: true };
    }
    const file = fax.status === 'failed' && !fax.fileId && fax.provider === 'faxplus' ? null : providerFile(await this.download(row, fax));
    const event = createEvent(
      'fax.received',
      {
        receivedId,
        source: fax.provider,
        lineId: null,
        ownerId: row.owner_id,
        callerNumber: fax.callerNumber,
        calledNumber: fax.calledNumber,
        remoteCsid: fax.remoteCsid,
        status: fax.status,
        reason: {
          code: fax.status === 'success' ? 'ok' : fax.status,
          detail: `${fax.provider} status=${fax.rawStatus || 'received'}, fax ${fax.providerFaxId}`,
        },
        pagesReceived: fax.pagesReceived,
        startedAt: fax.startedAt,
        endedAt: fax.endedAt,
        pages: [],
        ...(file ? { file } : {}),
      },
      { source: `/faxnotify/ingest/${fax.provider}/${row.account}`, id: `ingest:${receivedId}:received`, subject: `received/${receivedId}` },
    );
    const outcome = await this.options.tracker.handle(event, log);
    if (outcome.outboxRows > 0) this.options.onRecorded?.();
    log.info({ status: fax.status, duplicate: outcome.duplicate }, outcome.duplicate ? 'received fax seen again' : 'received fax recorded');
    return { receivedId, duplicate: outcome.duplicate };
  }
}
