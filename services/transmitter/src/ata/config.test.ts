import { loadConfig } from '@faxnotify/kit';
import { ataConfigSchema, type AtaConfig } from './config';
import { DEFAULT_DICTIONARY } from './dictionary';

const load = (overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) => loadConfig<{ ata: AtaConfig }>(ataConfigSchema, overrides, env).ata;

describe('ATA configuration', () => {
  it('is off by default, on the standard RADIUS ports, with the shipped dictionary', () => {
    expect(load()).toMatchObject({ enabled: false, authPort: 1812, acctPort: 1813, dictionary: DEFAULT_DICTIONARY, clients: [], region: 'US' });
  });

  it('asks for shared secrets of 16 characters and bounds password checks by default, both settable', () => {
    expect(load()).toMatchObject({ minSecretLength: 16, passwordChecks: { concurrent: 4, queued: 32 } });
    expect(
      load({}, { TRANSMITTER_ATA_MIN_SECRET_LENGTH: '24', TRANSMITTER_ATA_PASSWORD_CHECKS_CONCURRENT: '2', TRANSMITTER_ATA_PASSWORD_CHECKS_QUEUED: '0' }),
    ).toMatchObject({
      minSecretLength: 24,
      passwordChecks: { concurrent: 2, queued: 0 },
    });
  });

  it('reads clients, error statuses and admin users from the environment', () => {
    const config = load(
      {},
      {
        TRANSMITTER_ATA_ENABLED: 'true',
        TRANSMITTER_ATA_CLIENTS: '[{"address":"10.0.0.0/24","secret":"s"},{"address":"::1","secret":"t","requireMessageAuthenticator":true}]',
        TRANSMITTER_ATA_ERROR_STATUSES: '{"1234":"failed_user_busy"}',
        TRANSMITTER_ATA_ADMIN_USERS: 'operator, root',
      },
    );
    expect(config.enabled).toBe(true);
    expect(config.clients).toHaveLength(2);
    expect(config.errorStatuses).toEqual({ '1234': 'failed_user_busy' });
    expect(config.adminUsers).toEqual(['operator', 'root']);
  });

  it.each([
    [{ 'ata.clients': [{ address: '10.0.0.300', secret: 's' }] }, /not an IP address/],
    [{ 'ata.clients': [{ address: '10.0.0.0/33', secret: 's' }] }, /prefix length/],
    [{ 'ata.clients': [{ address: '0.0.0.0/0', secret: 's' }] }, /client 1: 0\.0\.0\.0\/0 lets every address ask/],
    [
      {
        'ata.clients': [
          { address: '10.0.0.1', secret: 's' },
          { address: '::/0', secret: 's' },
        ],
      },
      /client 2: ::\/0 lets every address ask/,
    ],
    [{ 'ata.passwordChecks.concurrent': 0 }, /passwordChecks\.concurrent/],
    [{ 'ata.clients': [{ address: '10.0.0.1', secret: '' }] }, /secret/],
    [{ 'ata.clients': [{ address: '10.0.0.1', secret: 's', port: 1 }] }, /unknown key "port"/],
    [{ 'ata.errorStatuses': { '12': 'lost' } }, /not a final status/],
    [{ 'ata.region': 'usa' }, /region code/],
  ])('refuses %j', (overrides, message) => {
    expect(() => load(overrides)).toThrow(message);
  });
});
