import { issueToken, type TokenIssuerOptions } from '@faxnotify/kit';

export interface TrackerClientOptions {
  /** The status tracker's base URL (tracker.url); empty: it is never asked. */
  url: string;
  timeoutMs: number;
  /** What the notifier signs the owner's short-lived token with: the services' shared auth settings. */
  auth: TokenIssuerOptions;
}

/** A fax as the tracker's API lists it (GET /v1/faxes). */
export interface TrackerFaxSummary {
  id: string;
  owner: string;
  subject: string;
  state: string;
  recipients?: { total: number; final: number };
}

/** How many in-progress faxes a `status` answer lists. */
export const STATUS_LIMIT = 10;
/** Long enough for one request, short enough that a token seen in a log opens nothing for long. */
const TOKEN_SECONDS = 60;

/**
 * The status tracker's API, asked as the owner: the notifier holds no fax state, and the API
 * already answers with exactly the faxes the owner may see, so a token of the owner for one
 * minute is all the notifier needs (no new bus request, no copy of fax state).
 */
export class TrackerClient {
  constructor(private readonly options: TrackerClientOptions) {}

  get configured(): boolean {
    return this.options.url !== '';
  }

  /** The owner's own faxes still in progress, newest first (at most STATUS_LIMIT), and whether there are more. */
  async inProgress(ownerId: string): Promise<{ faxes: TrackerFaxSummary[]; more: boolean }> {
    const body = (await this.get(ownerId, `/v1/faxes?state=in_progress&limit=${STATUS_LIMIT + 1}`)) as { faxes?: TrackerFaxSummary[] } | null;
    // An office admin's list holds colleagues' faxes too: `status` is about the owner's own.
    const own = (body?.faxes ?? []).filter((fax) => fax.owner === ownerId);
    return { faxes: own.slice(0, STATUS_LIMIT), more: own.length > STATUS_LIMIT };
  }

  /** One fax, when it is the owner's own; undefined for a fax the owner cannot see or does not own. */
  async ownFax(ownerId: string, faxId: string): Promise<{ state: string; failed: number } | undefined> {
    const body = (await this.get(ownerId, `/v1/faxes/${encodeURIComponent(faxId)}`)) as {
      owner?: string;
      state?: string;
      recipients?: Array<{ final: boolean; status: string; listed: boolean }>;
    } | null;
    if (!body || body.owner !== ownerId || typeof body.state !== 'string') return undefined;
    // What the tracker resends: the listed recipients whose final status is not success.
    const failed = (body.recipients ?? []).filter((r) => r.listed && r.final && r.status !== 'success').length;
    return { state: body.state, failed };
  }

  /** The JSON answer, null for a 404; throws when the tracker cannot be asked or answers anything else. */
  private async get(ownerId: string, path: string): Promise<unknown> {
    if (!this.configured) throw new Error('no status tracker is configured (tracker.url)');
    const token = await issueToken(this.options.auth, ownerId, TOKEN_SECONDS);
    const response = await fetch(`${this.options.url.replace(/\/+$/, '')}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`the status tracker answered ${response.status}`);
    }
    return response.json();
  }
}
