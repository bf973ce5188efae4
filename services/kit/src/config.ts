import convict, { type Schema } from 'convict';
import { ConfigError } from './errors';

/** A whole number given as text, as environment variables give it; anything else as it is (validation names it). */
export const coerceWholeNumber = (value: unknown): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** JSON given as text, as environment variables give it; text that is not JSON stays text (validation names it). */
export const coerceJson = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

/** A convict format for a JSON value (an object or list) checked by `problem`, which says what is wrong or null. */
export function jsonFormat(problem: (value: unknown) => string | null): { validate(value: unknown): void; coerce(value: unknown): unknown } {
  return {
    validate(value: unknown) {
      const found = problem(value);
      if (found) throw new Error(found);
    },
    coerce: coerceJson,
  };
}

convict.addFormats({
  'region-code': {
    validate(value: unknown) {
      if (typeof value !== 'string' || !/^[A-Z]{2}$/.test(value)) throw new Error('must be a two-letter ISO 3166 region code such as US or DE');
    },
  },
  'amqp-url': {
    validate(value: unknown) {
      // One URL, or the nodes of a cluster as a comma-separated list (the bus fails over between them).
      if (typeof value !== 'string' || !value.split(',').every((url) => /^amqps?:\/\/[^\s,]+$/.test(url.trim())))
        throw new Error('must be an amqp:// or amqps:// URL, or several separated by commas (the nodes of a cluster)');
    },
  },
  'database-url': {
    validate(value: unknown) {
      if (typeof value !== 'string' || !(value === '' || /^postgres(ql)?:\/\/[^\s]+$/.test(value)))
        throw new Error('must be empty (embedded SQLite) or a postgres:// URL');
    },
  },
  'url-template': {
    validate(value: unknown) {
      if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/.test(value)) throw new Error('must be an http(s) URL template');
    },
  },
  'nonempty-string': {
    validate(value: unknown) {
      if (typeof value !== 'string' || value.trim() === '') throw new Error('must not be empty');
    },
  },
  'jwt-secret': {
    validate(value: unknown) {
      if (typeof value !== 'string' || value.length < 16) throw new Error('must be a string of at least 16 characters');
    },
  },
  'optional-http-url': {
    validate(value: unknown) {
      if (typeof value !== 'string' || !(value === '' || (/^https?:\/\/[^\s]+[^/\s]$/.test(value) && URL.canParse(value))))
        throw new Error('must be empty or an http(s) URL without a trailing slash');
    },
  },
  'trust-proxy': {
    validate(value: unknown) {
      if (typeof value !== 'string' || !/^(|true|\d+|[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*)$/.test(value.trim()))
        throw new Error('must be empty, true, a number of hops, or comma-separated addresses or CIDR ranges');
    },
  },
  'positive-int': {
    validate(value: unknown) {
      if (!Number.isInteger(value) || (value as number) < 1) throw new Error('must be a positive whole number');
    },
    coerce: coerceWholeNumber,
  },
  'log-level': {
    validate(value: unknown) {
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value as string))
        throw new Error('must be one of fatal, error, warn, info, debug, trace, silent');
    },
  },
});

/** An empty default (nothing, an empty text or list) shows as itself even for a secret setting: it reveals nothing. */
const isEmptyDefault = (value: unknown): boolean => !value || (Array.isArray(value) && value.length === 0);

/** Settings every service has. Each service spreads these into its own schema and may change defaults. */
export const commonSchema = (service: string, httpPort: number) => ({
  log: {
    level: { doc: 'Log level.', format: 'log-level', default: 'info', env: 'LOG_LEVEL' },
  },
  amqp: {
    url: {
      doc: "RabbitMQ URL (credentials included); for a cluster, every node's URL separated by commas: the service connects to one and fails over to the next when it goes away.",
      format: 'amqp-url',
      default: 'amqp://guest:guest@127.0.0.1:5672',
      env: 'AMQP_URL',
      sensitive: true,
    },
    prefetch: { doc: 'Messages a consumer holds unacknowledged at once.', format: 'nat', default: 32, env: 'AMQP_PREFETCH' },
  },
  http: {
    host: { doc: `Address the ${service} HTTP server listens on.`, format: String, default: '127.0.0.1', env: `${envPrefix(service)}_HTTP_HOST` },
    port: {
      doc: `Port of the ${service} HTTP server (health, metrics, API); 0 picks a free one.`,
      format: 'port',
      default: httpPort,
      env: `${envPrefix(service)}_HTTP_PORT`,
    },
    publicUrl: {
      doc: `Base URL of the ${service} as browsers reach it, e.g. https://fax.example.com (no trailing slash); its OpenID Connect redirect URI is <publicUrl>/auth/callback. Empty: http://<http.host>:<http.port>.`,
      format: 'optional-http-url',
      default: '',
      env: `${envPrefix(service)}_PUBLIC_URL`,
    },
    trustProxy: {
      doc: 'Proxies whose X-Forwarded-For/-Proto/-Host headers are believed (so cookies are marked Secure behind a TLS-terminating proxy): empty (none), `true` (any), a number of hops, or addresses/CIDR ranges (comma-separated), e.g. 127.0.0.1,10.0.0.0/8.',
      format: 'trust-proxy',
      default: '',
      env: `${envPrefix(service)}_TRUST_PROXY`,
    },
  },
  db: {
    url: {
      doc: 'PostgreSQL URL; empty for the embedded SQLite file.',
      format: 'database-url',
      default: '',
      env: `${envPrefix(service)}_DATABASE_URL`,
      sensitive: true,
    },
    sqlitePath: {
      doc: 'SQLite file used when no PostgreSQL URL is set.',
      format: 'nonempty-string',
      default: `var/${service}.sqlite`,
      env: `${envPrefix(service)}_SQLITE_PATH`,
    },
    connectTimeoutMs: {
      doc: 'PostgreSQL: milliseconds opening a connection may take before it fails.',
      format: 'positive-int',
      default: 10_000,
      env: `${envPrefix(service)}_DATABASE_CONNECT_TIMEOUT_MS`,
    },
    statementTimeoutMs: {
      doc: 'PostgreSQL: milliseconds one statement may run before the server cancels it and the call fails.',
      format: 'positive-int',
      default: 30_000,
      env: `${envPrefix(service)}_DATABASE_STATEMENT_TIMEOUT_MS`,
    },
  },
});

/** Fastify's `trustProxy` for an `http.trustProxy` setting: false (none), true (any), a hop count, or a list of addresses or ranges. */
export function trustProxyOption(setting: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  const value = setting.trim();
  if (value === '') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value.split(',').map((part) => part.trim());
}

/** The secret a service has when none is set: it only suits the demo and tests (see `refuseDevelopmentSecret`). */
export const DEVELOPMENT_JWT_SECRET = 'faxnotify-development-secret-change-me';

/** The bearer-token secret every service with an API shares (HS256 JWT, the user in `sub`). */
export const authSchema = () => ({
  auth: {
    jwtSecret: {
      doc: 'Secret that signs and verifies the bearer tokens (HS256 JWT, the user in `sub`); every service must have the same one, e.g. `openssl rand -hex 32`. A service refuses to start with the built-in default unless auth.allowDevelopmentSecret is set or NODE_ENV is `test`.',
      format: 'jwt-secret',
      default: DEVELOPMENT_JWT_SECRET,
      env: 'JWT_SECRET',
      sensitive: true,
    },
    allowDevelopmentSecret: {
      doc: 'Lets the service start with the built-in development JWT secret, for a trial on one machine; never in a shared deployment.',
      format: Boolean,
      default: false,
      env: 'JWT_ALLOW_DEVELOPMENT_SECRET',
    },
    audience: {
      doc: 'The `aud` of the tokens the services issue and accept: a bearer or session token without it (or without an expiry) is refused.',
      format: 'nonempty-string',
      default: 'faxnotify',
      env: 'JWT_AUDIENCE',
    },
    sessionHours: {
      doc: 'How long a browser stays signed in after an OpenID Connect sign-in (the session token and cookie expire then).',
      format: 'positive-int',
      default: 8,
      env: 'AUTH_SESSION_HOURS',
    },
    oidc: {
      issuer: {
        doc: "The OpenID Connect provider's issuer URL (its /.well-known/openid-configuration is read); the pages' sign-in goes there. Empty: OpenID Connect sign-in is off and the pages say how to use the API with a bearer token. Plain http is taken only for a loopback address.",
        format: 'optional-http-url',
        default: '',
        env: 'OIDC_ISSUER',
      },
      clientId: { doc: 'The client id the services are registered under at the OpenID Connect provider.', format: String, default: '', env: 'OIDC_CLIENT_ID' },
      clientSecret: {
        doc: 'The client secret (sent with HTTP Basic authentication); empty for a public client (PKCE only).',
        format: String,
        default: '',
        env: 'OIDC_CLIENT_SECRET',
        sensitive: true,
      },
      scopes: {
        doc: 'Scopes asked for at sign-in (space-separated; must include openid).',
        format: String,
        default: 'openid profile email',
        env: 'OIDC_SCOPES',
      },
      userClaim: {
        doc: 'The ID token (or userinfo) claim whose value is the user id, e.g. sub, email or preferred_username.',
        format: 'nonempty-string',
        default: 'sub',
        env: 'OIDC_USER_CLAIM',
      },
    },
  },
});

/** The auth settings every service shares, as the services read them. */
export interface AuthSettings {
  jwtSecret: string;
  allowDevelopmentSecret: boolean;
  audience: string;
  sessionHours: number;
  oidc: { issuer: string; clientId: string; clientSecret: string; scopes: string; userClaim: string };
}

/**
 * Refuses the built-in development JWT secret, which anyone can read here and sign tokens with,
 * unless the configuration allows it or the process runs tests (NODE_ENV `test`).
 */
function refuseDevelopmentSecret(config: unknown, env: NodeJS.ProcessEnv): void {
  const auth = (config as { auth?: { jwtSecret?: unknown; allowDevelopmentSecret?: unknown } }).auth;
  if (auth?.jwtSecret !== DEVELOPMENT_JWT_SECRET || auth.allowDevelopmentSecret === true) return;
  if ((env.NODE_ENV ?? process.env.NODE_ENV) === 'test') return;
  throw new ConfigError(
    'invalid configuration: auth.jwtSecret: the built-in development secret is refused outside the demo and tests; set JWT_SECRET (the same in every service, e.g. `openssl rand -hex 32`), or JWT_ALLOW_DEVELOPMENT_SECRET=true for a trial on one machine',
  );
}

/** OpenID Connect on needs a client id and the openid scope; its issuer on plain http only on a loopback address. */
function checkOidcSettings(config: unknown): void {
  const oidc = (config as { auth?: { oidc?: AuthSettings['oidc'] } }).auth?.oidc;
  if (!oidc?.issuer) return;
  const fail = (why: string): never => {
    throw new ConfigError(`invalid configuration: auth.oidc.${why}`);
  };
  if (!oidc.clientId) fail('clientId: must be set when auth.oidc.issuer is (OIDC_CLIENT_ID)');
  if (!oidc.scopes.split(/\s+/).includes('openid')) fail('scopes: must include openid');
  const issuer = new URL(oidc.issuer);
  if (issuer.protocol === 'http:' && !isLoopbackHost(issuer.hostname)) fail('issuer: must be an https URL (plain http only on a loopback address)');
}

/** Whether a URL's host name is this machine (127.0.0.0/8, ::1, localhost). */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);

export const envPrefix = (service: string): string => service.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

/**
 * Builds and strictly validates a service's configuration: defaults, then the file named by
 * FAXNOTIFY_CONFIG (JSON), then the environment, then `overrides`. A wrong or unknown value
 * throws a ConfigError naming the key, before anything is connected; so does the built-in
 * development JWT secret outside the demo and tests.
 */
export function loadConfig<T>(schema: Schema<T>, overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): T {
  let properties: T;
  try {
    const config = convict(schema, { env, args: [] });
    if (env.FAXNOTIFY_CONFIG) config.loadFile(env.FAXNOTIFY_CONFIG);
    for (const [key, value] of Object.entries(overrides)) config.set(key as never, value as never);
    config.validate({ allowed: 'strict' });
    properties = config.getProperties();
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
  }
  refuseDevelopmentSecret(properties, env);
  checkOidcSettings(properties);
  return properties;
}

export interface ConfigDocRow {
  key: string;
  env: string;
  default: string;
  doc: string;
  sensitive: boolean;
}

/** Flattens a convict schema into rows, for the README's configuration table. */
export function describeConfig(schema: object, prefix = ''): ConfigDocRow[] {
  const rows: ConfigDocRow[] = [];
  for (const [name, node] of Object.entries(schema as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (node && typeof node === 'object' && 'doc' in node && 'default' in node) {
      const leaf = node as { doc: string; default: unknown; env?: string; sensitive?: boolean };
      rows.push({
        key,
        env: leaf.env ?? '',
        default: leaf.sensitive && !isEmptyDefault(leaf.default) ? '(secret)' : JSON.stringify(leaf.default),
        doc: leaf.doc,
        sensitive: Boolean(leaf.sensitive),
      });
    } else if (node && typeof node === 'object') {
      rows.push(...describeConfig(node, key));
    }
  }
  return rows;
}
