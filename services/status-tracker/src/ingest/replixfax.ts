import { SecretUnreadableError, errorMessage, intervalPasses, type CoalescedPasses, type Logger, type SecretBox } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { ProviderAccountRow, TrackerDatabase } from '../schema';
import { openStoredSecret, secretContext, secretName } from '../secrets';
import { WebhookTargetBlockedError, type TargetClient, type TargetResponse, type WebhookTargets } from '../webhook-targets';
import { IngestError, parseReplixFaxOutbound } from './providers';
import { parseReplixFaxInbound, type ProviderInbound } from './inbound';
import type { IngestRecorder } from './recorder';

/**
 * The ReplixFax REST API as far as the query-and-mark pattern needs it (paths relative to the
 * account's base URL, HTTP Basic authentication, JSON answers):
 * - `GET /outboundfaxes?FaxStatus=sent|failed&Mark=false&ResultLimit=n[&GetNextResults=token]`
 *   lists outbound faxes in that status not yet marked;
 * - `PUT /outboundfaxes/{FaxId}?Mark=true` marks one, so the query stops returning it.
 *
 * The requests go through a {@link TargetClient}: only to addresses the provider-URL policy allows,
 * checked on the addresses the host name resolves to when each connection is made, and without
 * following redirects (a 3xx answer is a failed request).
 */
export class ReplixFaxClient {
  constructor(
    /** The account with its password in clear (opened from the stored form). */
    private readonly account: Pick<ProviderAccountRow, 'base_url' | 'username' | 'password'>,
    private readonly http: TargetClient,
    private readonly timeoutMs: number,
  ) {}

  private url(path: string, query: Record<string, string>): URL {
    const base = (this.account.base_url ?? '').replace(/\/+$/, '');
    return new URL(`${base}${path}?${new URLSearchParams(query).toString()}`);
  }

  private send(method: 'GET' | 'PUT', url: URL): Promise<TargetResponse> {
    return this.http.request(url, { method, headers: this.headers(), timeoutMs: this.timeoutMs, maxResponseBytes: MAX_ANSWER_BYTES });
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.account.username) headers.authorization = `Basic ${Buffer.from(`${this.account.username}:${this.account.password ?? ''}`).toString('base64')}`;
    return headers;
  }

  /** Every unmarked outbound fax in one final status, following the provider's paging (at most `maxPages` pages). */
  async unmarked(faxStatus: 'sent' | 'failed', maxPages = 20): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let next: string | undefined;
    for (let page = 0; page < maxPages; page += 1) {
      const query: Record<string, string> = { FaxStatus: faxStatus, Mark: 'false', ResultLimit: '100', SortColumn: 'faxId', SortOrder: 'asc' };
      if (next) query.GetNextResults = next;
      const response = await this.send('GET', this.url('/outboundfaxes', query));
      if (response.status < 200 || response.status > 299) throw new Error(`ReplixFax query for ${faxStatus} faxes answered HTTP ${response.status}`);
      if (!response.complete) throw new Error(`ReplixFax answer to the query for ${faxStatus} faxes was cut short or longer than ${MAX_ANSWER_BYTES} bytes`);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new Error(`ReplixFax answer to the query for ${faxStatus} faxes is not JSON`);
      }
      if (typeof body !== 'object' || body === null) throw new Error(`ReplixFax answer to the query for ${faxStatus} faxes is not a JSON object`);
      const list = [body.OutboundFaxes, body.OutboundFax, body.Faxes, body.FaxList].find(Array.isArray) as Array<Record<string, unknown>> | undefined;
      items.push(...(list ?? []).filter((item) => item && typeof item === 'object'));
      next = typeof body.GetNextResults === 'string' && body.GetNextResults !== '' ? body.GetNextResults : undefined;
      if (!next || !list || list.length === 0) break;
    }
    return items;
  }

  /** Every unmarked inbound fax of all users (`GET /inboundfaxes?Mark=false`, the administrative account sees them all). */
  async unmarkedInbound(maxPages = 20): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let next: string | undefined;
    for (let page = 0; page < maxPages; page += 1) {
      const query: Record<string, string> = { Mark: 'false', ResultLimit: '100' };
      if (next) query.GetNextResults = next;
      const response = await this.send('GET', this.url('/inboundfaxes', query));
      if (response.status < 200 || response.status > 299) throw new Error(`ReplixFax query for inbound faxes answered HTTP ${response.status}`);
      if (!response.complete) throw new Error(`ReplixFax answer to the query for inbound faxes was cut short or longer than ${MAX_ANSWER_BYTES} bytes`);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new Error('ReplixFax answer to the query for inbound faxes is not JSON');
      }
      if (typeof body !== 'object' || body === null) throw new Error('ReplixFax answer to the query for inbound faxes is not a JSON object');
      const list = [body.InboundFaxes, body.InboundFax, body.Faxes].find(Array.isArray) as Array<Record<string, unknown>> | undefined;
      items.push(...(list ?? []).filter((item) => item && typeof item === 'object'));
      next = typeof body.GetNextResults === 'string' && body.GetNextResults !== '' ? body.GetNextResults : undefined;
      if (!next || !list || list.length === 0) break;
    }
    return items;
  }

  async markInbound(faxId: string): Promise<void> {
    const response = await this.send('PUT', this.url(`/inboundfaxes/${encodeURIComponent(faxId)}`, { Mark: 'true' }));
    if (response.status < 200 || response.status > 299) throw new Error(`ReplixFax mark of inbound fax ${faxId} answered HTTP ${response.status}`);
  }

  async mark(faxId: string): Promise<void> {
    const response = await this.send('PUT', this.url(`/outboundfaxes/${encodeURIComponent(faxId)}`, { Mark: 'true' }));
    if (response.status < 200 || response.status > 299) throw new Error(`ReplixFax mark of fax ${faxId} answered HTTP ${response.status}`);
  }
}

/** The most of one ReplixFax answer that is read (a page lists at most 100 faxes). */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

export interface ReplixFaxPollerOptions {
  db: Kysely<TrackerDatabase>;
  recorder: IngestRecorder;
  logger: Logger;
  /** Where the accounts' base URLs may lead: the webhook policy in provider-URL words (`targets.forUse(PROVIDER_BASE_URLS)`). */
  targets: WebhookTargets;
  /** Opens the accounts' stored passwords. */
  secrets: SecretBox;
  intervalMs: number;
  timeoutMs: number;
  /** Inbound faxes: queried, recorded and marked in the same round when given. */
  inbound?: ProviderInbound;
  now?: () => Date;
}

export interface PollReport {
  /** Final faxes the query returned. */
  seen: number;
  /** Of those, results recorded for the first time (the post had not brought them). */
  recorded: number;
  /** Faxes marked at the provider. */
  marked: number;
}

/**
 * The ReplixFax pattern: every `intervalMs`, for each ReplixFax account with a base URL, query the
 * provider for final faxes (sent, failed) not yet marked, record each, and only then mark it; a
 * fax that arrived by post is marked right after it is recorded (and, if that fails, by the next
 * poll). Recording is idempotent, so a result seen by both post and query is recorded and
 * announced once.
 *
 * An account whose base URL leads to an address that is not allowed (its host resolves to a
 * loopback, link-local, private… address outside the allowed ranges) is not queried: the refusal
 * is logged and kept as the account's last poll error, and the other accounts are polled as usual.
 * So is an account whose stored password cannot be decrypted (the key it is under is not
 * configured): nothing is sent to the provider without it.
 */
export class ReplixFaxPoller {
  private readonly passes: CoalescedPasses;
  private readonly marking = new Set<Promise<unknown>>();
  private readonly now: () => Date;
  private readonly http: TargetClient;

  constructor(private readonly options: ReplixFaxPollerOptions) {
    this.now = options.now ?? (() => new Date());
    this.http = options.targets.client();
    this.passes = intervalPasses(() => this.pollOnce(), { intervalMs: options.intervalMs, logger: options.logger, what: 'ReplixFax poll' });
  }

  /** True once `stop` was called: a poll in progress ends early and no mark is sent. */
  private get stopped(): boolean {
    return this.passes.stopped;
  }

  /** Polls every `intervalMs`, the first time one interval after the start. */
  start(): void {
    this.passes.start();
  }

  private accounts(account?: string) {
    let query = this.options.db.selectFrom('provider_accounts').selectAll().where('provider', '=', 'replixfax').where('base_url', 'is not', null);
    if (account !== undefined) query = query.where('account', '=', account);
    return query.execute();
  }

  /** One round over every ReplixFax account with a base URL (or only `account`). */
  async pollOnce(account?: string): Promise<PollReport> {
    const total: PollReport = { seen: 0, recorded: 0, marked: 0 };
    for (const row of await this.accounts(account)) {
      if (this.stopped) break;
      try {
        const report = await this.pollAccount(row);
        total.seen += report.seen;
        total.recorded += report.recorded;
        total.marked += report.marked;
        await this.options.db
          .updateTable('provider_accounts')
          .set({ last_polled_at: this.now().toISOString(), last_poll_error: null })
          .where('provider', '=', 'replixfax')
          .where('account', '=', row.account)
          .execute();
      } catch (error) {
        const blocked = error instanceof WebhookTargetBlockedError;
        const reason = `${blocked ? 'blocked: ' : ''}${errorMessage(error)}`;
        if (blocked)
          this.options.logger.warn(
            { account: row.account, baseUrl: row.base_url, err: reason },
            'ReplixFax account not polled: its base URL leads to an address that is not allowed',
          );
        else if (error instanceof SecretUnreadableError)
          this.options.logger.error({ account: row.account, err: reason }, 'ReplixFax account not polled: its password cannot be decrypted');
        else this.options.logger.warn({ account: row.account, err: reason }, 'ReplixFax account poll failed');
        await this.options.db
          .updateTable('provider_accounts')
          .set({ last_polled_at: this.now().toISOString(), last_poll_error: reason.slice(0, 1000) })
          .where('provider', '=', 'replixfax')
          .where('account', '=', row.account)
          .execute();
        if (account !== undefined) throw error;
      }
    }
    return total;
  }

  private async pollAccount(row: ProviderAccountRow): Promise<PollReport> {
    const client = this.client(row);
    const report: PollReport = { seen: 0, recorded: 0, marked: 0 };
    for (const status of ['failed', 'sent'] as const) {
      for (const item of await client.unmarked(status)) {
        if (this.stopped) return report;
        let result;
        try {
          result = parseReplixFaxOutbound(item);
        } catch (error) {
          if (!(error instanceof IngestError)) throw error;
          this.options.logger.warn({ account: row.account, faxId: item.FaxId, err: error.message }, 'ReplixFax listed a fax we cannot read; left unmarked');
          continue;
        }
        if (!result) continue;
        report.seen += 1;
        const outcome = await this.options.recorder.record(row, result, 'query');
        if (!outcome.duplicate) report.recorded += 1;
        if (await this.markOne(row, client, result.providerFaxId)) report.marked += 1;
      }
    }
    // Then what was recorded from posts (or earlier polls) and is still not marked at the provider.
    report.marked += await this.markRecorded(row, client);
    if (this.options.inbound) await this.pollInbound(row, client, this.options.inbound, report);
    return report;
  }

  /**
   * Unmarked inbound faxes: each one recorded (its content retrieved) unless a post did it already,
   * then marked. One whose content cannot be had now stays unmarked, so the next query has it again.
   */
  private async pollInbound(row: ProviderAccountRow, client: ReplixFaxClient, inbound: ProviderInbound, report: PollReport): Promise<void> {
    for (const item of await client.unmarkedInbound()) {
      if (this.stopped) return;
      let fax;
      try {
        fax = parseReplixFaxInbound(item);
      } catch (error) {
        if (!(error instanceof IngestError)) throw error;
        this.options.logger.warn(
          { account: row.account, faxId: item.FaxId, err: error.message },
          'ReplixFax listed an inbound fax we cannot read; left unmarked',
        );
        continue;
      }
      report.seen += 1;
      try {
        const outcome = await inbound.record(row, fax, 'query');
        if (!outcome.duplicate) report.recorded += 1;
      } catch (error) {
        this.options.logger.warn(
          { account: row.account, faxId: fax.providerFaxId, err: errorMessage(error) },
          'ReplixFax inbound fax not recorded yet; left unmarked',
        );
        continue;
      }
      try {
        await client.markInbound(fax.providerFaxId);
        report.marked += 1;
      } catch (error) {
        this.options.logger.warn(
          { account: row.account, faxId: fax.providerFaxId, err: errorMessage(error) },
          'ReplixFax inbound mark failed; the next poll tries again',
        );
      }
    }
  }

  /** A client for the account, with its stored password opened; throws a SecretUnreadableError naming the account when it cannot be. */
  private client(row: ProviderAccountRow): ReplixFaxClient {
    const password =
      row.password === null
        ? null
        : openStoredSecret(
            this.options.secrets,
            row.password,
            secretContext.providerPassword(row.provider, row.account),
            secretName.providerPassword(row.provider, row.account),
          );
    return new ReplixFaxClient({ base_url: row.base_url, username: row.username, password }, this.http, this.options.timeoutMs);
  }

  /** Marks the account's recorded results the provider has not been told about yet (posts, earlier failures). */
  private async markRecorded(row: ProviderAccountRow, client: ReplixFaxClient): Promise<number> {
    const pending = await this.options.db
      .selectFrom('ingested_results')
      .select('provider_fax_id')
      .where('provider', '=', 'replixfax')
      .where('account', '=', row.account)
      .where('marked_at', 'is', null)
      .where('mark_attempts', '<', 100)
      .limit(500)
      .execute();
    let marked = 0;
    for (const { provider_fax_id } of pending) {
      if (this.stopped) break;
      if (await this.markOne(row, client, provider_fax_id)) marked += 1;
    }
    return marked;
  }

  private async markOne(row: ProviderAccountRow, client: ReplixFaxClient, providerFaxId: string): Promise<boolean> {
    const where = this.options.db
      .updateTable('ingested_results')
      .where('provider', '=', 'replixfax')
      .where('account', '=', row.account)
      .where('provider_fax_id', '=', providerFaxId);
    try {
      await client.mark(providerFaxId);
      await where.set((eb) => ({ marked_at: this.now().toISOString(), mark_attempts: eb('mark_attempts', '+', 1), mark_error: null })).execute();
      return true;
    } catch (error) {
      await where.set((eb) => ({ mark_attempts: eb('mark_attempts', '+', 1), mark_error: errorMessage(error).slice(0, 1000) })).execute();
      this.options.logger.warn({ account: row.account, providerFaxId, err: errorMessage(error) }, 'ReplixFax mark failed; the next poll tries again');
      return false;
    }
  }

  /** After a post was recorded: mark it at the provider now, without holding up the answer to the post. */
  markSoon(row: ProviderAccountRow, providerFaxId: string): void {
    if (this.stopped || !row.base_url) return;
    let client: ReplixFaxClient;
    try {
      client = this.client(row);
    } catch (error) {
      // Left unmarked: the next poll reports it as the account's poll error.
      this.options.logger.error(
        { account: row.account, providerFaxId, err: errorMessage(error) },
        "ReplixFax mark not sent: the account's password cannot be decrypted",
      );
      return;
    }
    const task = this.markOne(row, client, providerFaxId)
      .catch(() => undefined)
      .finally(() => this.marking.delete(task));
    this.marking.add(task);
  }

  /** After an inbound post was recorded: mark it at the provider now; a failed mark is made by the next query (it lists the fax again). */
  markInboundSoon(row: ProviderAccountRow, providerFaxId: string): void {
    if (this.stopped || !row.base_url) return;
    const task = Promise.resolve()
      .then(() => this.client(row).markInbound(providerFaxId))
      .catch((error: unknown) => this.options.logger.warn({ account: row.account, providerFaxId, err: errorMessage(error) }, 'ReplixFax inbound mark failed'))
      .finally(() => this.marking.delete(task));
    this.marking.add(task);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.passes.stop(), ...this.marking]);
    this.http.close();
  }
}
