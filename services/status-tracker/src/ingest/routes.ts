import {
  PermanentError,
  RateLimiter,
  SecretUnreadableError,
  bearerToken,
  checkRateLimit,
  errorMessage,
  looksSealed,
  userOf,
  type RateLimitRule,
  type SecretBox,
  type createHttpServer,
} from '@faxnotify/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { authenticateApi, type AuthOptions } from '../auth';
import { ACCOUNT_NAME, USER_ID, type ConfiguredProviderAccount } from '../config';
import type { ProviderAccountRow, TrackerDatabase } from '../schema';
import { openStoredSecret, secretContext, secretName } from '../secrets';
import { WebhookTargetBlockedError, type WebhookTargets } from '../webhook-targets';
import { IngestError, PROVIDERS, parseFaxPlusWebhook, parseReplixFaxOutbound, type Provider, type ProviderResult } from './providers';
import { hashSecret, secretMatches, type IngestRecorder } from './recorder';
import { isReplixFaxInbound, parseFaxPlusReceived, parseReplixFaxInbound, type InboundFax, type ProviderInbound } from './inbound';
import type { ReplixFaxPoller } from './replixfax';

type HttpServer = ReturnType<typeof createHttpServer>;

export interface IngestRoutesOptions {
  db: Kysely<TrackerDatabase>;
  auth: AuthOptions;
  recorder: IngestRecorder;
  poller: ReplixFaxPoller;
  /** Received faxes from providers (Fax.Plus `fax_received`, ReplixFax inbound callbacks) into the owner's Inbox. */
  inbound?: ProviderInbound;
  /** Which base URLs may be set (provider-URL wording); the poller checks the same again at every request. */
  targets: WebhookTargets;
  /** Seals the secrets and passwords as they are stored, and opens them to check a post. */
  secrets: SecretBox;
  /**
   * Users who create, change, delete and query provider accounts (ingest.adminUsers): an account
   * decides whose Sent folder a provider's results land in, so nobody else may.
   */
  adminUsers: readonly string[];
  /** rateLimits.ingest: posts per provider account, counted in the tracker's database. */
  ingestLimit: { max: number; windowSeconds: number };
  now?: () => Date;
}

/**
 * The secret a provider's post presents. Neither Fax.Plus nor ReplixFax signs its posts, so the
 * secret travels in what the account owner configures at the provider: the target URL's `token`
 * query parameter, HTTP Basic credentials in the URL (the password), or a header where the
 * provider allows custom headers (`Authorization: Bearer …`, `X-Faxnotify-Ingest-Secret`).
 */
function presentedSecret(request: FastifyRequest): string | undefined {
  const query = request.query as { token?: unknown };
  if (typeof query.token === 'string' && query.token !== '') return query.token;
  const header = request.headers['x-faxnotify-ingest-secret'];
  if (typeof header === 'string' && header !== '') return header;
  const bearer = bearerToken(request);
  if (bearer) return bearer;
  const basic = request.headers.authorization?.startsWith('Basic ')
    ? Buffer.from(request.headers.authorization.slice(6), 'base64').toString('utf8')
    : undefined;
  if (basic && basic.includes(':')) return basic.slice(basic.indexOf(':') + 1);
  return undefined;
}

const accountView = (row: ProviderAccountRow) => ({
  provider: row.provider,
  account: row.account,
  /** Whose Sent folder its results land in. */
  ownerId: row.owner_id,
  ingestPath: `/ingest/${row.provider}/${row.account}`,
  baseUrl: row.base_url,
  username: row.username,
  source: row.source,
  lastPolledAt: row.last_polled_at,
  lastPollError: row.last_poll_error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** A provider account, and the answer of `GET /v1/ingest/accounts`, as the API answers them. */
export type ProviderAccountView = ReturnType<typeof accountView>;
export interface ProviderAccountsView {
  accounts: ProviderAccountView[];
}

/** The stored forms of an account's ingest secret (its digest) and password: encrypted when a key is configured. */
export const sealedAccountSecrets = (secrets: SecretBox, provider: Provider, account: string, secret: string, password: string | null) => ({
  secret_hash: secrets.seal(hashSecret(secret), secretContext.ingestSecretDigest(provider, account)),
  password: password === null ? null : secrets.seal(password, secretContext.providerPassword(provider, account)),
});

/** Writes the accounts from configuration (ingest.accounts), replacing what configuration wrote before. */
export async function syncConfiguredAccounts(
  db: Kysely<TrackerDatabase>,
  secrets: SecretBox,
  accounts: ConfiguredProviderAccount[],
  now = new Date(),
): Promise<void> {
  const at = now.toISOString();
  for (const a of accounts) await writeAccount(db, secrets, a, 'config', at);
}

/**
 * Creates an account, or replaces its owner, secrets, base URL and user name (what its polls
 * found stays), recording whether configuration or the API set it up.
 */
async function writeAccount(
  db: Kysely<TrackerDatabase>,
  secrets: SecretBox,
  a: ConfiguredProviderAccount,
  source: 'config' | 'api',
  at: string,
): Promise<void> {
  const values = {
    owner_id: a.ownerId,
    ...sealedAccountSecrets(secrets, a.provider, a.account, a.secret, a.password ?? null),
    base_url: a.baseUrl ?? null,
    username: a.username ?? null,
    source,
    updated_at: at,
  };
  await db
    .insertInto('provider_accounts')
    .values({ provider: a.provider, account: a.account, ...values, last_polled_at: null, last_poll_error: null, created_at: at })
    .onConflict((oc) => oc.columns(['provider', 'account']).doUpdateSet(values))
    .execute();
}

/** The query for one account, by provider and name. */
const accountQuery = (db: Kysely<TrackerDatabase>, provider: Provider, account: string) =>
  db.selectFrom('provider_accounts').selectAll().where('provider', '=', provider).where('account', '=', account);

/**
 * Provider ingest: `POST /ingest/faxplus/{account}` (Fax.Plus `fax_sent` webhooks, JSON) and
 * `POST /ingest/replixfax/{account}` (ReplixFax URL callbacks, form fields or JSON), each
 * authenticated by the account's shared secret; and account management: `GET /v1/ingest/accounts`
 * (an owner's accounts, every account for admin users), and for admin users only (403 otherwise)
 * `PUT/DELETE /v1/ingest/accounts/{provider}/{account}` and
 * `POST /v1/ingest/accounts/replixfax/{account}/poll` (query the provider now).
 */
export function registerIngest(app: HttpServer, options: IngestRoutesOptions): void {
  const { db, recorder, poller } = options;
  const now = options.now ?? (() => new Date());
  const limiter = new RateLimiter(db, { now });
  const ingestLimit: RateLimitRule = { name: 'ingest-posts', what: 'provider posts', per: 'provider account', ...options.ingestLimit };

  void app.register(async (scope) => {
    scope.post<{ Params: { provider: string; account: string } }>('/ingest/:provider/:account', async (request, reply) => {
      const { provider, account } = request.params;
      const unauthorized = () => reply.code(401).send({ error: 'unauthorized', message: 'unknown account or wrong secret' });
      if (!(PROVIDERS as readonly string[]).includes(provider)) return reply.code(404).send({ error: 'not_found', message: 'no such provider' });
      if (!ACCOUNT_NAME.test(account)) return unauthorized();
      const row = await accountQuery(db, provider as Provider, account).executeTakeFirst();
      if (!row) return unauthorized();
      let digest: string;
      try {
        digest = openStoredSecret(
          options.secrets,
          row.secret_hash,
          secretContext.ingestSecretDigest(row.provider, row.account),
          secretName.ingestSecretDigest(row.provider, row.account),
        );
      } catch (error) {
        if (!(error instanceof SecretUnreadableError)) throw error;
        // The operator's to fix (a key left out of the configuration); the provider retries a 5xx later.
        request.log.error({ provider, account, err: error.message }, "provider post not checked: the account's stored secret cannot be decrypted");
        return reply.code(503).send({ error: 'secret_unreadable', message: "the account's stored secret cannot be decrypted by the server; try again later" });
      }
      if (!secretMatches(presentedSecret(request), digest)) return unauthorized();
      // Counted once the secret matches, so a stranger's posts cannot use up an account's allowance.
      if (!(await checkRateLimit(request, reply, { limiter, rule: ingestLimit, key: `${provider}/${account}` }))) return reply;
      const fields = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {};
      let inbound: InboundFax | null = null;
      try {
        inbound = provider === 'faxplus' ? parseFaxPlusReceived(request.body) : isReplixFaxInbound(fields) ? parseReplixFaxInbound(fields) : null;
      } catch (error) {
        if (error instanceof IngestError) return reply.code(400).send({ error: 'bad_request', message: error.message });
        throw error;
      }
      if (inbound) {
        if (!options.inbound) return reply.code(503).send({ error: 'unavailable', message: 'received faxes from providers are not taken here' });
        try {
          const outcome = await options.inbound.record(row, inbound, 'post');
          if (provider === 'replixfax') poller.markInboundSoon(row, inbound.providerFaxId);
          return { recorded: true, duplicate: outcome.duplicate, receivedId: outcome.receivedId, status: inbound.status };
        } catch (error) {
          if (error instanceof PermanentError) return reply.code(409).send({ error: 'conflict', message: errorMessage(error) });
          // The document could not be had now: the provider's retry (or the next ReplixFax query) brings it again.
          request.log.warn({ provider, account, providerFaxId: inbound.providerFaxId, err: errorMessage(error) }, 'received fax not recorded yet');
          return reply.code(503).send({ error: 'download_failed', message: `the received fax's document could not be fetched: ${errorMessage(error)}` });
        }
      }
      let result: ProviderResult | null;
      try {
        result =
          provider === 'faxplus'
            ? parseFaxPlusWebhook(request.body)
            : parseReplixFaxOutbound(typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {});
      } catch (error) {
        if (error instanceof IngestError) return reply.code(400).send({ error: 'bad_request', message: error.message });
        throw error;
      }
      if (!result) return reply.code(202).send({ recorded: false, reason: 'not a final outbound result' });
      try {
        const outcome = await recorder.record(row, result, 'post');
        if (provider === 'replixfax') poller.markSoon(row, result.providerFaxId);
        return { recorded: true, duplicate: outcome.duplicate, faxId: outcome.faxId, status: result.status };
      } catch (error) {
        if (error instanceof PermanentError) return reply.code(409).send({ error: 'conflict', message: errorMessage(error) });
        throw error;
      }
    });
  });

  void app.register(async (scope) => {
    scope.addHook('preHandler', authenticateApi(options.auth));
    const admins = new Set(options.adminUsers);
    const isAdmin = (request: FastifyRequest) => admins.has(userOf(request));
    /** Runs after authentication, before anything of the request is looked at. */
    const adminOnly = (what: string) => async (request: FastifyRequest, reply: FastifyReply) => {
      if (!isAdmin(request)) return reply.code(403).send({ error: 'forbidden', message: `only admin users (ingest.adminUsers) ${what}` });
    };

    scope.get('/v1/ingest/accounts', async (request) => {
      let query = db.selectFrom('provider_accounts').selectAll();
      if (!isAdmin(request)) query = query.where('owner_id', '=', userOf(request));
      const rows = await query.orderBy('provider').orderBy('account').execute();
      return { accounts: rows.map(accountView) } satisfies ProviderAccountsView;
    });

    scope.put<{ Params: { provider: string; account: string }; Body: Record<string, unknown> }>(
      '/v1/ingest/accounts/:provider/:account',
      { preHandler: adminOnly('set up provider accounts') },
      async (request, reply) => {
        const { provider, account } = request.params;
        if (!(PROVIDERS as readonly string[]).includes(provider)) return reply.code(404).send({ error: 'not_found', message: 'no such provider' });
        if (!ACCOUNT_NAME.test(account))
          return reply.code(400).send({ error: 'bad_request', message: 'the account name must be 1-64 letters, digits, _ or -' });
        const body = request.body ?? {};
        const optional = (key: string) => (body[key] === undefined || body[key] === null ? null : body[key]);
        if (typeof body.secret !== 'string' || body.secret.length < 16 || body.secret.length > 200)
          return reply.code(400).send({ error: 'bad_request', message: 'secret must be a string of 16 to 200 characters' });
        const baseUrl = optional('baseUrl');
        if (baseUrl !== null) {
          if (typeof baseUrl !== 'string' || !/^https?:\/\/\S+$/.test(baseUrl) || baseUrl.length > 2000 || !URL.canParse(baseUrl))
            return reply.code(400).send({ error: 'bad_request', message: 'baseUrl must be an http(s) URL' });
          // A literal address or `localhost` is refused here; a host name, by what it resolves to at every request.
          const problem = options.targets.checkUrl(new URL(baseUrl));
          if (problem) return reply.code(400).send({ error: 'bad_request', message: problem });
        }
        const username = optional('username');
        const password = optional('password');
        if ((username !== null && typeof username !== 'string') || (password !== null && typeof password !== 'string'))
          return reply.code(400).send({ error: 'bad_request', message: 'username and password must be strings' });
        if (password !== null && !options.secrets.encrypting && looksSealed(password))
          return reply.code(400).send({
            error: 'bad_request',
            message:
              'password has the form of an encrypted value (v<n>:<8 hex digits>:…), which cannot be stored while the tracker has no encryption key (secrets.key)',
          });
        const ownerId = optional('ownerId');
        if (ownerId !== null && (typeof ownerId !== 'string' || !USER_ID.test(ownerId)))
          return reply.code(400).send({ error: 'bad_request', message: 'ownerId must be a user id (1-128 letters, digits, ., _, :, @ or -)' });
        const existing = await accountQuery(db, provider as Provider, account).executeTakeFirst();
        // The owner whose Sent folder the results go to: as given, else as it was, else the admin user.
        const owner = ownerId ?? existing?.owner_id ?? userOf(request);
        const setting = {
          provider: provider as Provider,
          account,
          ownerId: owner,
          secret: body.secret,
          baseUrl: baseUrl ?? undefined,
          username: username ?? undefined,
          password: password ?? undefined,
        };
        await writeAccount(db, options.secrets, setting, 'api', now().toISOString());
        return accountView(await accountQuery(db, provider as Provider, account).executeTakeFirstOrThrow());
      },
    );

    scope.delete<{ Params: { provider: string; account: string } }>(
      '/v1/ingest/accounts/:provider/:account',
      { preHandler: adminOnly('delete provider accounts') },
      async (request, reply) => {
        const { provider, account } = request.params;
        const result = await db
          .deleteFrom('provider_accounts')
          .where('provider', '=', provider as Provider)
          .where('account', '=', account)
          .executeTakeFirst();
        if (Number(result.numDeletedRows) === 0) return reply.code(404).send({ error: 'not_found', message: 'no such account' });
        return reply.code(204).send();
      },
    );

    scope.post<{ Params: { account: string } }>(
      '/v1/ingest/accounts/replixfax/:account/poll',
      { preHandler: adminOnly('query providers') },
      async (request, reply) => {
        const { account } = request.params;
        const row = await db
          .selectFrom('provider_accounts')
          .select(['base_url'])
          .where('provider', '=', 'replixfax')
          .where('account', '=', account)
          .executeTakeFirst();
        if (!row) return reply.code(404).send({ error: 'not_found', message: 'no such account' });
        if (!row.base_url) return reply.code(400).send({ error: 'bad_request', message: 'the account has no baseUrl to query' });
        try {
          return await poller.pollOnce(account);
        } catch (error) {
          if (error instanceof WebhookTargetBlockedError) return reply.code(400).send({ error: 'bad_request', message: `blocked: ${errorMessage(error)}` });
          if (error instanceof SecretUnreadableError) return reply.code(503).send({ error: 'secret_unreadable', message: error.message });
          return reply.code(502).send({ error: 'provider_error', message: errorMessage(error) });
        }
      },
    );
  });
}
