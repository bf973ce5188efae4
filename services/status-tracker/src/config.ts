import {
  ConfigError,
  SecretBox,
  authSchema,
  type AuthSettings,
  commonSchema,
  errorMessage,
  loadConfig,
  looksSealed,
  rateLimitSchema,
  signInRateLimitSchema,
} from '@faxnotify/kit';
import { PROVIDER_BASE_URLS, WebhookTargets } from './webhook-targets';

/** The status tracker's settings; exported so the README's configuration table is generated from it. */
export const statusTrackerSchema = {
  ...commonSchema('status-tracker', 8082),
  auth: {
    ...authSchema().auth,
    jwksUrl: {
      doc: "URL of a JSON Web Key Set (an identity provider's): tokens signed by its keys (RS256, PS256, ES256, EdDSA) are accepted beside HS256 ones; empty: the shared secret only.",
      format: String,
      default: '',
      env: 'JWKS_URL',
    },
  },
  amqp: {
    ...commonSchema('status-tracker', 8082).amqp,
    batchSize: {
      doc: 'Most messages of a queue handled in one database transaction: under a backlog the tracker takes what the broker has delivered, up to this many, and commits them together (a batch that fails is redone one message at a time); at low load a batch is one message. The broker then sends up to amqp.prefetch / 2 × this many. 1 turns batching off.',
      format: 'positive-int',
      default: 100,
      env: 'STATUS_TRACKER_AMQP_BATCH_SIZE',
    },
  },
  links: {
    faxUrlTemplate: {
      doc: 'Deep link to one fax, put in every delivery event for the notices; `{faxId}` is replaced by the fax id.',
      format: 'url-template',
      default: 'http://127.0.0.1:8082/faxes/{faxId}',
      env: 'FAX_URL_TEMPLATE',
    },
    tokens: {
      doc: "Whether a notice's fax link carries a link token that opens that one fax without signing in (until it expires or its owner signs out all links). Off: the link is the plain fax page (links.faxUrlTemplate), which asks for a sign-in, and links already sent no longer open their fax.",
      format: Boolean,
      default: true,
      env: 'STATUS_TRACKER_LINK_TOKENS',
    },
    tokenDays: {
      doc: 'How long a link token opens its fax, in days (a fraction is allowed: 0.5 is twelve hours).',
      format: Number,
      default: 30,
      env: 'STATUS_TRACKER_LINK_TOKEN_DAYS',
    },
    tokenUrlTemplate: {
      doc: 'Link with a token, put in the delivery events for the notices when links.tokens is on; `{token}` is replaced. Empty: beside the fax pages, i.e. links.faxUrlTemplate with `/faxes/{faxId}` replaced by `/l/{token}`.',
      format: String,
      default: '',
      env: 'STATUS_TRACKER_LINK_TOKEN_URL_TEMPLATE',
    },
  },
  outbox: {
    pollMs: {
      doc: 'How often the outbox relay looks for events not yet confirmed by the broker (it also runs right after each handled message).',
      format: 'positive-int',
      default: 1000,
      env: 'STATUS_TRACKER_OUTBOX_POLL_MS',
    },
  },
  inbox: {
    urlTemplate: {
      doc: 'Link to one received fax in the Inbox, put in every delivery.fax.received for the notices; `{receivedId}` is replaced. Empty: beside the fax pages, i.e. links.faxUrlTemplate with `/faxes/{faxId}` replaced by `/inbox/{receivedId}`.',
      format: String,
      default: '',
      env: 'STATUS_TRACKER_INBOX_URL_TEMPLATE',
    },
    retentionDays: {
      doc: 'How long a received fax (its record and its pages) is kept, in days from when it was recorded; older ones are deleted by a pass that runs every hour.',
      format: 'positive-int',
      default: 365,
      env: 'STATUS_TRACKER_INBOX_RETENTION_DAYS',
    },
    attachMaxBytes: {
      doc: "The largest PDF a delivery.fax.received carries for the notices (the email's attachment); a larger one is announced with the Inbox link alone.",
      format: 'nat',
      default: 5_000_000,
      env: 'STATUS_TRACKER_INBOX_ATTACH_MAX_BYTES',
    },
  },
  reconcile: {
    intervalMs: {
      doc: 'How often the reconciliation sweep runs: it re-publishes final results never confirmed as handed over and restores missing outbox rows.',
      format: 'positive-int',
      default: 60_000,
      env: 'STATUS_TRACKER_RECONCILE_INTERVAL_MS',
    },
    minAgeMs: {
      doc: 'An outbox event still unconfirmed this long after it was written is re-published by the sweep.',
      format: 'positive-int',
      default: 30_000,
      env: 'STATUS_TRACKER_RECONCILE_MIN_AGE_MS',
    },
  },
  pages: {
    defaultTimeZone: {
      doc: 'Time zone of the times on the pages when the token has no `tz` claim (an IANA name).',
      format: 'nonempty-string',
      default: 'UTC',
      env: 'STATUS_TRACKER_DEFAULT_TIME_ZONE',
    },
    liveUpdateMs: {
      doc: 'How often the live-update stream of a fax page (server-sent events) looks for changes.',
      format: 'positive-int',
      default: 1000,
      env: 'STATUS_TRACKER_LIVE_UPDATE_MS',
    },
    liveTailMs: {
      doc: 'How long the live-update stream stays open after the fax became final, so the notices sent about it show up.',
      format: 'positive-int',
      default: 60_000,
      env: 'STATUS_TRACKER_LIVE_TAIL_MS',
    },
  },
  webhooks: {
    pollMs: {
      doc: 'How often the webhook dispatcher looks for deliveries due (it also runs right after each new final result).',
      format: 'positive-int',
      default: 1000,
      env: 'STATUS_TRACKER_WEBHOOK_POLL_MS',
    },
    firstRetryMs: {
      doc: 'Wait before the first retry of a failed webhook POST; each later wait doubles, up to webhooks.maxRetryMs.',
      format: 'positive-int',
      default: 30_000,
      env: 'STATUS_TRACKER_WEBHOOK_FIRST_RETRY_MS',
    },
    maxRetryMs: {
      doc: 'Longest wait between two attempts of one webhook delivery.',
      format: 'positive-int',
      default: 4 * 3_600_000,
      env: 'STATUS_TRACKER_WEBHOOK_MAX_RETRY_MS',
    },
    maxAgeMs: {
      doc: 'A webhook delivery still failing this long after the result is given up (recorded as failed on the fax page).',
      format: 'positive-int',
      default: 24 * 3_600_000,
      env: 'STATUS_TRACKER_WEBHOOK_MAX_AGE_MS',
    },
    timeoutMs: {
      doc: 'How long one webhook POST may take before it counts as failed.',
      format: 'positive-int',
      default: 10_000,
      env: 'STATUS_TRACKER_WEBHOOK_TIMEOUT_MS',
    },
    allowedPrivateRanges: {
      doc: "CIDR ranges webhooks may be sent to although they are not public, e.g. 10.20.0.0/16 for receivers on your own network (comma-separated in the environment). They apply to provider base URLs too (a ReplixFax account's baseUrl, which the tracker queries). Empty: loopback, link-local (cloud metadata), private (RFC 1918, fc00::/7) and other special-purpose addresses are refused, both when a webhook URL or base URL is set (and at start for ingest.accounts) and when a delivery or provider request resolves its host name.",
      format: Array,
      default: [] as string[],
      env: 'STATUS_TRACKER_WEBHOOK_ALLOWED_RANGES',
    },
  },
  secrets: {
    key: {
      doc: "Key that encrypts the secrets the tracker stores (owners' webhook signing secrets, provider accounts' ingest secrets and ReplixFax passwords) with AES-256-GCM: 32 random bytes as base64 or hex, e.g. `openssl rand -base64 32`. Empty: they are stored in clear (a warning at start says how many). At start, values in clear or under a previous key are re-encrypted under this one.",
      format: 'secret-key',
      default: '',
      env: 'STATUS_TRACKER_SECRETS_KEY',
      sensitive: true,
    },
    previousKeys: {
      doc: 'Keys that secrets may still be encrypted under, used only to decrypt (comma-separated in the environment). To rotate: put the new key in secrets.key and the old one here; the start re-encrypts every value under the new key and logs how many are left under previous keys (0: the old key can go). With several replicas, first give every replica the new key here, then swap the two.',
      format: 'secret-key-list',
      default: [] as string[],
      env: 'STATUS_TRACKER_SECRETS_PREVIOUS_KEYS',
      sensitive: true,
    },
  },
  ingest: {
    adminUsers: {
      doc: "User ids (comma-separated in the environment) who set up, change, delete and query provider accounts through the API (/v1/ingest/accounts): an account decides whose Sent folder a provider's results land in. Other users only list the accounts they own.",
      format: Array,
      default: [] as string[],
      env: 'STATUS_TRACKER_INGEST_ADMIN_USERS',
    },
    accounts: {
      doc: 'Provider accounts configured here rather than through the API: a JSON array of {provider: "faxplus"|"replixfax", account, ownerId, secret, baseUrl?, username?, password?}. A baseUrl whose host is an address outside webhooks.allowedPrivateRanges (or localhost) that is not public stops the start.',
      format: String,
      default: '',
      env: 'STATUS_TRACKER_INGEST_ACCOUNTS',
      sensitive: true,
    },
    replixfaxPollMs: {
      doc: 'How often ReplixFax accounts with a base URL are queried for final faxes not yet marked (the provider suggests every 10 to 60 minutes).',
      format: 'positive-int',
      default: 15 * 60_000,
      env: 'STATUS_TRACKER_REPLIXFAX_POLL_MS',
    },
    requestTimeoutMs: {
      doc: "How long one request to a provider's API may take.",
      format: 'positive-int',
      default: 10_000,
      env: 'STATUS_TRACKER_PROVIDER_TIMEOUT_MS',
    },
  },
  offices: {
    adminUsers: {
      doc: "User ids (comma-separated in the environment) who create, rename and delete virtual offices and set their members and roles through the API (/v1/offices). An office's own admins only list, add and remove its members and switch whether it shares its Sent folder.",
      format: Array,
      default: [] as string[],
      env: 'STATUS_TRACKER_OFFICES_ADMIN_USERS',
    },
  },
  rateLimits: {
    ingest: rateLimitSchema({
      what: 'provider posts (POST /ingest/{provider}/{account}, counted once the secret matches)',
      per: 'provider account',
      max: 600,
      windowSeconds: 60,
      env: 'STATUS_TRACKER_RATE_LIMIT_INGEST',
      note: 'A post over it is not recorded; ReplixFax results are fetched again by the poll.',
    }),
    signIn: signInRateLimitSchema('STATUS_TRACKER'),
  },
};

/** A provider account from configuration (ingest.accounts). */
export interface ConfiguredProviderAccount {
  provider: 'faxplus' | 'replixfax';
  account: string;
  ownerId: string;
  secret: string;
  baseUrl?: string;
  username?: string;
  password?: string;
}

export interface StatusTrackerConfig {
  log: { level: string };
  amqp: { url: string; prefetch: number; batchSize: number };
  http: { host: string; port: number; publicUrl: string; trustProxy: string };
  db: { url: string; sqlitePath: string };
  auth: AuthSettings & { jwksUrl: string };
  links: { faxUrlTemplate: string; tokens: boolean; tokenDays: number; tokenUrlTemplate: string };
  outbox: { pollMs: number };
  reconcile: { intervalMs: number; minAgeMs: number };
  inbox: { urlTemplate: string; retentionDays: number; attachMaxBytes: number };
  pages: { defaultTimeZone: string; liveUpdateMs: number; liveTailMs: number };
  webhooks: { pollMs: number; firstRetryMs: number; maxRetryMs: number; maxAgeMs: number; timeoutMs: number; allowedPrivateRanges: string[] };
  secrets: { key: string; previousKeys: string[] };
  ingest: { adminUsers: string[]; accounts: string; replixfaxPollMs: number; requestTimeoutMs: number };
  offices: { adminUsers: string[] };
  rateLimits: { ingest: { max: number; windowSeconds: number }; signIn: { max: number; windowSeconds: number } };
}

/** Defaults, then FAXNOTIFY_CONFIG, then the environment, then `overrides`; a wrong value throws naming the key. */
export function loadStatusTrackerConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): StatusTrackerConfig {
  const config = loadConfig<StatusTrackerConfig>(statusTrackerSchema, overrides, env);
  for (const [setting, users] of [
    ['ingest.adminUsers', config.ingest.adminUsers],
    ['offices.adminUsers', config.offices.adminUsers],
  ] as const) {
    const notUser = users.find((user) => typeof user !== 'string' || !USER_ID.test(user));
    if (notUser !== undefined) throw new ConfigError(`invalid configuration: ${setting}: ${JSON.stringify(notUser)} is not a user id`);
  }
  if (config.auth.jwksUrl && !/^https?:\/\/\S+$/.test(config.auth.jwksUrl))
    throw new ConfigError('invalid configuration: auth.jwksUrl: must be an http(s) URL or empty');
  if (!Number.isFinite(config.links.tokenDays) || config.links.tokenDays <= 0 || config.links.tokenDays > 3650)
    throw new ConfigError('invalid configuration: links.tokenDays: must be a number of days above 0 and at most 3650');
  const tokenTemplate = config.links.tokenUrlTemplate;
  if (tokenTemplate && (!/^https?:\/\/\S+$/.test(tokenTemplate) || !tokenTemplate.includes('{token}')))
    throw new ConfigError('invalid configuration: links.tokenUrlTemplate: must be empty or an http(s) URL template with {token}');
  const inboxTemplate = config.inbox.urlTemplate;
  if (inboxTemplate && (!/^https?:\/\/\S+$/.test(inboxTemplate) || !inboxTemplate.includes('{receivedId}')))
    throw new ConfigError('invalid configuration: inbox.urlTemplate: must be empty or an http(s) URL template with {receivedId}');
  if (config.inbox.attachMaxBytes > 20_000_000)
    throw new ConfigError('invalid configuration: inbox.attachMaxBytes: at most 20000000 (the event carries the PDF as base64)');
  if (!isTimeZone(config.pages.defaultTimeZone))
    throw new ConfigError(`invalid configuration: pages.defaultTimeZone: ${JSON.stringify(config.pages.defaultTimeZone)} is not a time zone`);
  const secrets = secretBoxOf(config.secrets);
  const accounts = parseProviderAccounts(config.ingest.accounts);
  for (const account of accounts) {
    if (!secrets.encrypting && account.password !== undefined && looksSealed(account.password))
      throw new ConfigError(
        `invalid configuration: ingest.accounts: account ${account.account}: its password has the form of an encrypted value (v<n>:<8 hex digits>:…), which cannot be stored in clear; set secrets.key`,
      );
  }
  let targets: WebhookTargets;
  try {
    targets = new WebhookTargets(config.webhooks.allowedPrivateRanges).forUse(PROVIDER_BASE_URLS);
  } catch (error) {
    throw new ConfigError(`invalid configuration: webhooks.allowedPrivateRanges: ${errorMessage(error)}`);
  }
  // The operator's own accounts meet the same rule as the owners': a base URL at an internal
  // address works once its range is listed, and a mistake shows now rather than at every poll.
  for (const account of accounts) {
    const problem = account.baseUrl === undefined ? null : targets.checkUrl(new URL(account.baseUrl));
    if (problem)
      throw new ConfigError(
        `invalid configuration: ingest.accounts: account ${account.account}: ${problem}; list its range in webhooks.allowedPrivateRanges if it is yours`,
      );
  }
  return config;
}

/** The tracker's stored-secret encryption from its settings; a wrong combination throws a ConfigError. */
export function secretBoxOf(settings: StatusTrackerConfig['secrets']): SecretBox {
  try {
    return new SecretBox({
      key: settings.key,
      previousKeys: settings.previousKeys,
      settings: 'secrets.key / secrets.previousKeys (STATUS_TRACKER_SECRETS_KEY / STATUS_TRACKER_SECRETS_PREVIOUS_KEYS)',
    });
  } catch (error) {
    throw new ConfigError(`invalid configuration: secrets.previousKeys: ${errorMessage(error)}`);
  }
}

export const isTimeZone = (name: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

export const ACCOUNT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A user id, as tokens name users. */
export const USER_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Reads ingest.accounts; a wrong entry throws a ConfigError naming it. */
export function parseProviderAccounts(text: string): ConfiguredProviderAccount[] {
  if (text.trim() === '') return [];
  const fail = (why: string): never => {
    throw new ConfigError(`invalid configuration: ingest.accounts: ${why}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('must be a JSON array');
  }
  if (!Array.isArray(value)) return fail('must be a JSON array');
  return value.map((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const str = (key: string, required: boolean) => {
      const v = e[key];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v === '') return fail(`entry ${i}: ${key} must be a non-empty string`);
      return v;
    };
    const provider = str('provider', true);
    if (provider !== 'faxplus' && provider !== 'replixfax') return fail(`entry ${i}: provider must be faxplus or replixfax`);
    const account = str('account', true)!;
    if (!ACCOUNT_NAME.test(account)) return fail(`entry ${i}: account must be 1-64 letters, digits, _ or -`);
    const secret = str('secret', true)!;
    if (secret.length < 16) return fail(`entry ${i}: secret must have at least 16 characters`);
    const baseUrl = str('baseUrl', false);
    if (baseUrl !== undefined && (!/^https?:\/\/\S+$/.test(baseUrl) || !URL.canParse(baseUrl))) return fail(`entry ${i}: baseUrl must be an http(s) URL`);
    return { provider, account, ownerId: str('ownerId', true)!, secret, baseUrl, username: str('username', false), password: str('password', false) };
  });
}

/** The Inbox link template: the setting, else beside the fax pages (links.faxUrlTemplate with `/faxes/{faxId}` as `/inbox/{receivedId}`). */
export function inboxUrlTemplateOf(config: Pick<StatusTrackerConfig, 'links' | 'inbox'>): string {
  if (config.inbox.urlTemplate) return config.inbox.urlTemplate;
  const template = config.links.faxUrlTemplate;
  return template.includes('/faxes/{faxId}') ? template.replace('/faxes/{faxId}', '/inbox/{receivedId}') : `${new URL(template).origin}/inbox/{receivedId}`;
}
