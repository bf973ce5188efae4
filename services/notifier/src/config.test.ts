import { ConfigError, describeConfig } from '@faxnotify/kit';
import { loadNotifierConfig, notifierSchema } from './config';

const SID = `AC${'0a'.repeat(16)}`;

describe('notifier configuration', () => {
  it('leaves SMS and XMPP off by default and reads them from the environment', () => {
    const defaults = loadNotifierConfig({}, {});
    expect(defaults.twilio).toMatchObject({ accountSid: '', statusCallbackUrl: '', baseUrl: '', lookupPageSize: 50, lookupSettleMs: 5_000 });
    expect(defaults.xmpp).toMatchObject({ username: '', allowPlainWithoutTls: false, domain: 'localhost' });
    expect(defaults.links.settingsUrlTemplate).toBe('http://127.0.0.1:8083/settings');
    const config = loadNotifierConfig(
      {},
      {
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: 'token',
        TWILIO_MESSAGING_SERVICE_SID: `MG${'1'.repeat(32)}`,
        TWILIO_STATUS_CALLBACK_URL: 'https://notify.example.test/twilio/status',
        XMPP_SERVICE: 'xmpps://chat.example.test:5223',
        XMPP_DOMAIN: 'example.test',
        XMPP_USERNAME: 'faxbot',
        XMPP_PASSWORD: 'secret',
        XMPP_ALLOW_PLAIN_WITHOUT_TLS: 'true',
      },
    );
    expect(config.twilio).toMatchObject({ accountSid: SID, messagingServiceSid: `MG${'1'.repeat(32)}`, from: '' });
    expect(config.xmpp).toMatchObject({ service: 'xmpps://chat.example.test:5223', username: 'faxbot', allowPlainWithoutTls: true });
  });

  it('stops on a wrong or half-configured channel, naming the key', () => {
    expect(() => loadNotifierConfig({}, { TWILIO_ACCOUNT_SID: 'AC123' })).toThrow(/twilio\.accountSid/);
    expect(() => loadNotifierConfig({}, { TWILIO_ACCOUNT_SID: SID })).toThrow(/twilio\.authToken is required/);
    expect(() => loadNotifierConfig({}, { TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 't' })).toThrow(/twilio\.from or twilio\.messagingServiceSid/);
    expect(() => loadNotifierConfig({}, { TWILIO_STATUS_CALLBACK_URL: 'ftp://x' })).toThrow(/twilio\.statusCallbackUrl/);
    expect(() => loadNotifierConfig({}, { TWILIO_LOOKUP_PAGE_SIZE: '5000' })).toThrow(/twilio\.lookupPageSize must not exceed 1000/);
    expect(() => loadNotifierConfig({}, { TWILIO_LOOKUP_SETTLE_MS: '0' })).toThrow(/twilio\.lookupSettleMs/);
    expect(() => loadNotifierConfig({}, { XMPP_USERNAME: 'faxbot' })).toThrow(ConfigError);
    expect(() => loadNotifierConfig({}, { XMPP_USERNAME: 'faxbot' })).toThrow(/xmpp\.password is required/);
    expect(() => loadNotifierConfig({}, { XMPP_SERVICE: 'http://chat.example.test' })).toThrow(/xmpp\.service/);
    expect(() => loadNotifierConfig({ 'xmpp.reconnectInitialMs': 5000, 'xmpp.reconnectMaxMs': 1000 }, {})).toThrow(/xmpp\.reconnectMaxMs/);
  });

  it('documents every key with an environment variable and hides the secrets', () => {
    const rows = describeConfig(notifierSchema);
    expect(rows.every((row) => row.doc.length > 0 && row.env.length > 0)).toBe(true);
    for (const key of ['twilio.authToken', 'xmpp.password', 'smtp.password', 'auth.jwtSecret'])
      expect(rows.find((row) => row.key === key)).toMatchObject({ sensitive: true });
  });
});
