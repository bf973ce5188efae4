import { ConfigError, describeConfig } from '@faxnotify/kit';
import { loadStatusTrackerConfig, statusTrackerSchema } from './config';

describe('status tracker configuration', () => {
  it('has a default for everything and reads the environment', () => {
    const defaults = loadStatusTrackerConfig({}, {});
    expect(defaults).toMatchObject({ http: { port: 8082 }, links: { faxUrlTemplate: 'http://127.0.0.1:8082/faxes/{faxId}' }, outbox: { pollMs: 1000 } });
    const config = loadStatusTrackerConfig({}, { JWT_SECRET: 'a-secret-long-enough-for-hs256', FAX_URL_TEMPLATE: 'https://fax.example.test/f/{faxId}', STATUS_TRACKER_RECONCILE_MIN_AGE_MS: '5000' });
    expect(config.auth.jwtSecret).toBe('a-secret-long-enough-for-hs256');
    expect(config.links.faxUrlTemplate).toBe('https://fax.example.test/f/{faxId}');
    expect(config.reconcile.minAgeMs).toBe(5000);
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
});
