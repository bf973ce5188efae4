import { ConfigError, describeConfig } from '@faxnotify/kit';
import { loadStatusTrackerConfig, parseProviderAccounts, secretBoxOf, statusTrackerSchema } from './config';

describe('status tracker configuration', () => {
  it('has a default for everything and reads the environment', () => {
    const defaults = loadStatusTrackerConfig({}, {});
    expect(defaults).toMatchObject({ http: { port: 8082 }, links: { faxUrlTemplate: 'http://127.0.0.1:8082/faxes/{faxId}' }, outbox: { pollMs: 1000 } });
    const config = loadStatusTrackerConfig(
      {},
      { JWT_SECRET: 'a-secret-long-enough-for-hs256', FAX_URL_TEMPLATE: 'https://fax.example.test/f/{faxId}', STATUS_TRACKER_RECONCILE_MIN_AGE_MS: '5000' },
    );
    expect(config.auth.jwtSecret).toBe('a-secret-long-enough-for-hs256');
    expect(config.links.faxUrlTemplate).toBe('https://fax.example.test/f/{faxId}');
    expect(config.reconcile.minAgeMs).toBe(5000);
  });

  it('turns link tokens on for 30 days by default, and reads a fraction of a day', () => {
    expect(loadStatusTrackerConfig({}, {}).links).toMatchObject({ tokens: true, tokenDays: 30, tokenUrlTemplate: '' });
    const config = loadStatusTrackerConfig(
      {},
      {
        STATUS_TRACKER_LINK_TOKENS: 'false',
        STATUS_TRACKER_LINK_TOKEN_DAYS: '0.5',
        STATUS_TRACKER_LINK_TOKEN_URL_TEMPLATE: 'https://f.example.test/x/{token}',
      },
    );
    expect(config.links).toMatchObject({ tokens: false, tokenDays: 0.5, tokenUrlTemplate: 'https://f.example.test/x/{token}' });
    for (const days of ['0', '-1', 'soon', '4000'])
      expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_LINK_TOKEN_DAYS: days })).toThrow(/links\.tokenDays/);
    for (const template of ['https://f.example.test/x/', 'javascript:{token}'])
      expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_LINK_TOKEN_URL_TEMPLATE: template })).toThrow(/links\.tokenUrlTemplate/);
  });

  it('stops on a wrong value, naming the key', () => {
    expect(() => loadStatusTrackerConfig({}, { JWT_SECRET: 'short' })).toThrow(ConfigError);
    expect(() => loadStatusTrackerConfig({}, { JWT_SECRET: 'short' })).toThrow(/auth\.jwtSecret/);
    expect(() => loadStatusTrackerConfig({}, { FAX_URL_TEMPLATE: 'javascript:alert(1)' })).toThrow(/links\.faxUrlTemplate/);
    expect(() => loadStatusTrackerConfig({ 'outbox.pollMs': 0 }, {})).toThrow(/outbox\.pollMs/);
    expect(() => loadStatusTrackerConfig({ 'reconcile.every': 5 }, {})).toThrow(/reconcile\.every/);
  });

  it('documents every key with an environment variable and hides the secret', () => {
    const rows = describeConfig(statusTrackerSchema);
    expect(rows.every((row) => row.doc.length > 0 && row.env.length > 0)).toBe(true);
    expect(rows.find((row) => row.key === 'auth.jwtSecret')).toMatchObject({ env: 'JWT_SECRET', sensitive: true, default: '(secret)' });
  });

  it("reads provider accounts, the key set and the pages' time zone, and stops on wrong ones", () => {
    const accounts = [
      {
        provider: 'replixfax',
        account: 'main',
        ownerId: 'alice',
        secret: 'a-secret-of-enough-length',
        baseUrl: 'https://api.replix.test/v1',
        username: 'u',
        password: 'p',
      },
    ];
    const config = loadStatusTrackerConfig(
      {},
      {
        STATUS_TRACKER_INGEST_ACCOUNTS: JSON.stringify(accounts),
        JWKS_URL: 'https://idp.example.test/jwks.json',
        STATUS_TRACKER_DEFAULT_TIME_ZONE: 'Europe/Rome',
      },
    );
    expect(parseProviderAccounts(config.ingest.accounts)).toEqual(accounts);
    expect(config).toMatchObject({
      auth: { jwksUrl: 'https://idp.example.test/jwks.json' },
      pages: { defaultTimeZone: 'Europe/Rome' },
      webhooks: { maxAgeMs: 86_400_000 },
    });
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: '{' })).toThrow(/ingest\.accounts/);
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: JSON.stringify([{ ...accounts[0], provider: 'fax2000' }]) })).toThrow(
      /ingest\.accounts: entry 0: provider/,
    );
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: JSON.stringify([{ ...accounts[0], secret: 'short' }]) })).toThrow(/secret/);
    expect(() => loadStatusTrackerConfig({}, { JWKS_URL: 'file:///etc/keys' })).toThrow(/auth\.jwksUrl/);
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_DEFAULT_TIME_ZONE: 'Mars/Olympus' })).toThrow(/pages\.defaultTimeZone/);
  });

  it('allows no private range to webhooks unless told, reads a list of ranges, and stops on a wrong one', () => {
    expect(loadStatusTrackerConfig({}, {}).webhooks.allowedPrivateRanges).toEqual([]);
    const config = loadStatusTrackerConfig({}, { STATUS_TRACKER_WEBHOOK_ALLOWED_RANGES: '10.20.0.0/16,fd00:1::/64' });
    expect(config.webhooks.allowedPrivateRanges).toEqual(['10.20.0.0/16', 'fd00:1::/64']);
    expect(loadStatusTrackerConfig({ 'webhooks.allowedPrivateRanges': ['127.0.0.0/8'] }, {}).webhooks.allowedPrivateRanges).toEqual(['127.0.0.0/8']);
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_WEBHOOK_ALLOWED_RANGES: '10.20.0.0/16,intranet' })).toThrow(
      'invalid configuration: webhooks.allowedPrivateRanges: "intranet" is not a CIDR range such as 10.20.0.0/16 or fd00:1::/64',
    );
    expect(() => loadStatusTrackerConfig({ 'webhooks.allowedPrivateRanges': ['10.0.0.0/8', 7] }, {})).toThrow(
      'webhooks.allowedPrivateRanges: 7 is not a CIDR range',
    );
  });

  it('stops the start on a configured account whose base URL is an address not allowed, naming the account, unless its range is listed', () => {
    const account = (baseUrl: string) =>
      JSON.stringify([
        { provider: 'replixfax', account: 'ops-rpx', ownerId: 'ops', secret: 'a-secret-of-enough-length', baseUrl, username: 'u', password: 'p' },
      ]);
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: account('http://10.1.2.3:8080/restapi/v1') })).toThrow(
      "invalid configuration: ingest.accounts: account ops-rpx: baseUrl's host 10.1.2.3 is a private (RFC 1918) address; provider APIs are called only at public addresses; list its range in webhooks.allowedPrivateRanges if it is yours",
    );
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: account('http://169.254.169.254/latest') })).toThrow(
      /account ops-rpx: baseUrl's host 169\.254\.169\.254 is a link-local address/,
    );
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: account('http://localhost:9000/') })).toThrow(
      /account ops-rpx: baseUrl's host localhost is a loopback name/,
    );
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: account('http://[oops/') })).toThrow(
      /entry 0: baseUrl must be an http\(s\) URL/,
    );
    const allowed = loadStatusTrackerConfig(
      {},
      { STATUS_TRACKER_INGEST_ACCOUNTS: account('http://10.1.2.3:8080/restapi/v1'), STATUS_TRACKER_WEBHOOK_ALLOWED_RANGES: '10.1.0.0/16' },
    );
    expect(parseProviderAccounts(allowed.ingest.accounts)[0].baseUrl).toBe('http://10.1.2.3:8080/restapi/v1');
  });

  it('reads the secrets key and previous keys (sensitive), and stops on a wrong one without repeating it', () => {
    const key = 'w6Ib75uqYbmTIfK2pmgRz+e0BAIr1aTS0y4H0qQDKQU=';
    const previous = '1771f18b3f0175558a30b575867d94ba90bec879018c6768232b4337bb8a7715';
    expect(loadStatusTrackerConfig({}, {}).secrets).toEqual({ key: '', previousKeys: [] });
    const config = loadStatusTrackerConfig({}, { STATUS_TRACKER_SECRETS_KEY: key, STATUS_TRACKER_SECRETS_PREVIOUS_KEYS: previous });
    expect(config.secrets).toEqual({ key, previousKeys: [previous] });
    expect(secretBoxOf(config.secrets)).toMatchObject({ encrypting: true, previousKeyIds: [expect.stringMatching(/^[0-9a-f]{8}$/)] });
    const rows = describeConfig(statusTrackerSchema);
    expect(rows.find((row) => row.key === 'secrets.key')).toMatchObject({ env: 'STATUS_TRACKER_SECRETS_KEY', sensitive: true });
    expect(rows.find((row) => row.key === 'secrets.previousKeys')).toMatchObject({ env: 'STATUS_TRACKER_SECRETS_PREVIOUS_KEYS', sensitive: true });

    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_SECRETS_KEY: 'my-database-password' })).toThrow(
      'invalid configuration: secrets.key: must be 32 bytes written as base64 (44 characters) or hex (64 digits), e.g. the output of `openssl rand -base64 32`; this value has 20 characters',
    );
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_SECRETS_KEY: key, STATUS_TRACKER_SECRETS_PREVIOUS_KEYS: `${previous},abc` })).toThrow(
      /secrets\.previousKeys: entry 1: must be 32 bytes/,
    );
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_SECRETS_PREVIOUS_KEYS: previous })).toThrow(
      'invalid configuration: secrets.previousKeys: previous keys only decrypt, so they need a current key beside them',
    );
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_SECRETS_KEY: key, STATUS_TRACKER_SECRETS_PREVIOUS_KEYS: key })).toThrow(
      'secrets.previousKeys: a previous key is the current key',
    );
  });

  it('stops on a configured password that could not be told from an encrypted value while there is no key', () => {
    const accounts = JSON.stringify([
      {
        provider: 'replixfax',
        account: 'ops-rpx',
        ownerId: 'ops',
        secret: 'a-secret-of-enough-length',
        username: 'u',
        password: 'v1:0a1b2c3d:looks-encrypted',
      },
    ]);
    expect(() => loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: accounts })).toThrow(
      /ingest\.accounts: account ops-rpx: its password has the form of an encrypted value .* set secrets\.key/,
    );
    expect(
      loadStatusTrackerConfig({}, { STATUS_TRACKER_INGEST_ACCOUNTS: accounts, STATUS_TRACKER_SECRETS_KEY: 'w6Ib75uqYbmTIfK2pmgRz+e0BAIr1aTS0y4H0qQDKQU=' })
        .ingest.accounts,
    ).toBe(accounts);
  });
});
