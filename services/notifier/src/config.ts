import { authSchema, commonSchema, loadConfig } from '@faxnotify/kit';

const locale = (value: unknown): void => {
  if (!['ru', 'en', 'it'].includes(value as string)) throw new Error('must be one of ru, en, it');
};
const timeZone = (value: unknown): void => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value as string });
  } catch {
    throw new Error('must be an IANA time zone such as Europe/Rome');
  }
};

/** The notifier's settings; exported so the README's configuration table is generated from it. */
export const notifierSchema = {
  ...commonSchema('notifier', 8083),
  ...authSchema(),
  smtp: {
    host: { doc: 'SMTP server that sends the email notices.', format: 'nonempty-string', default: '127.0.0.1', env: 'SMTP_HOST' },
    port: { doc: 'SMTP port.', format: 'port', default: 25, env: 'SMTP_PORT' },
    secure: { doc: 'Connect with TLS from the start (port 465); otherwise STARTTLS is used when offered.', format: Boolean, default: false, env: 'SMTP_SECURE' },
    requireTls: { doc: 'Refuse to send unless STARTTLS succeeds.', format: Boolean, default: false, env: 'SMTP_REQUIRE_TLS' },
    user: { doc: 'SMTP user name; empty for no authentication.', format: String, default: '', env: 'SMTP_USER' },
    password: { doc: 'SMTP password.', format: String, default: '', env: 'SMTP_PASSWORD', sensitive: true },
    from: { doc: 'Sender of the notices.', format: 'nonempty-string', default: '"faxnotify" <fax@localhost>', env: 'SMTP_FROM' },
    maxConnections: { doc: 'Pooled SMTP connections.', format: 'positive-int', default: 5, env: 'SMTP_MAX_CONNECTIONS' },
    maxMessages: { doc: 'Messages sent over one pooled connection before it is renewed.', format: 'positive-int', default: 100, env: 'SMTP_MAX_MESSAGES' },
    timeoutMs: { doc: 'Give up on an SMTP exchange after this long (then it is retried).', format: 'positive-int', default: 20_000, env: 'SMTP_TIMEOUT_MS' },
  },
  mail: {
    messageIdDomain: { doc: 'Domain of the Message-ID and thread root of every notice.', format: 'nonempty-string', default: 'faxnotify.localhost', env: 'MAIL_MESSAGE_ID_DOMAIN' },
  },
  links: {
    settingsUrlTemplate: {
      doc: 'Link to the notification settings page, put in every notice; `{userId}` is replaced by the owner.',
      format: 'url-template',
      default: 'http://127.0.0.1:8083/settings',
      env: 'SETTINGS_URL_TEMPLATE',
    },
  },
  defaults: {
    locale: { doc: 'Locale of a user who has not chosen one.', format: locale, default: 'en', env: 'NOTIFIER_DEFAULT_LOCALE' },
    timeZone: { doc: 'Time zone of a user who has not chosen one.', format: timeZone, default: 'UTC', env: 'NOTIFIER_DEFAULT_TIME_ZONE' },
  },
  ledger: {
    claimMs: {
      doc: 'How long a notice being sent is reserved for the worker sending it; after a crash it is sent again once this has passed.',
      format: 'positive-int',
      default: 30_000,
      env: 'NOTIFIER_LEDGER_CLAIM_MS',
    },
  },
};

export interface NotifierConfig {
  log: { level: string };
  amqp: { url: string; prefetch: number };
  http: { host: string; port: number };
  db: { url: string; sqlitePath: string };
  auth: { jwtSecret: string };
  smtp: { host: string; port: number; secure: boolean; requireTls: boolean; user: string; password: string; from: string; maxConnections: number; maxMessages: number; timeoutMs: number };
  mail: { messageIdDomain: string };
  links: { settingsUrlTemplate: string };
  defaults: { locale: 'ru' | 'en' | 'it'; timeZone: string };
  ledger: { claimMs: number };
}

export function loadNotifierConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  return loadConfig<NotifierConfig>(notifierSchema as never, overrides, env);
}
