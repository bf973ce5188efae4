import { ConfigError, authSchema, type AuthSettings, commonSchema, loadConfig, rateLimitSchema, signInRateLimitSchema } from '@faxnotify/kit';

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

const optionalUrl = (value: unknown): void => {
  if (typeof value !== 'string' || !(value === '' || /^https?:\/\/[^\s]+$/.test(value))) throw new Error('must be empty or an http(s) URL');
};
const xmppService = (value: unknown): void => {
  if (typeof value !== 'string' || !(value === '' || /^(xmpps?|wss?):\/\/[^\s]+$/.test(value)))
    throw new Error('must be empty or an xmpp://, xmpps://, ws:// or wss:// URL');
};

/** The notifier's settings; exported so the README's configuration table is generated from it. */
export const notifierSchema = {
  ...commonSchema('notifier', 8083),
  ...authSchema(),
  smtp: {
    host: { doc: 'SMTP server that sends the email notices.', format: 'nonempty-string', default: '127.0.0.1', env: 'SMTP_HOST' },
    port: { doc: 'SMTP port.', format: 'port', default: 25, env: 'SMTP_PORT' },
    secure: {
      doc: 'Connect with TLS from the start (port 465); otherwise STARTTLS is used when offered.',
      format: Boolean,
      default: false,
      env: 'SMTP_SECURE',
    },
    requireTls: { doc: 'Refuse to send unless STARTTLS succeeds.', format: Boolean, default: false, env: 'SMTP_REQUIRE_TLS' },
    user: { doc: 'SMTP user name; empty for no authentication.', format: String, default: '', env: 'SMTP_USER' },
    password: { doc: 'SMTP password.', format: String, default: '', env: 'SMTP_PASSWORD', sensitive: true },
    from: { doc: 'Sender of the notices.', format: 'nonempty-string', default: '"faxnotify" <fax@localhost>', env: 'SMTP_FROM' },
    maxConnections: { doc: 'Pooled SMTP connections.', format: 'positive-int', default: 5, env: 'SMTP_MAX_CONNECTIONS' },
    maxMessages: { doc: 'Messages sent over one pooled connection before it is renewed.', format: 'positive-int', default: 100, env: 'SMTP_MAX_MESSAGES' },
    timeoutMs: { doc: 'Give up on an SMTP exchange after this long (then it is retried).', format: 'positive-int', default: 20_000, env: 'SMTP_TIMEOUT_MS' },
  },
  mail: {
    messageIdDomain: {
      doc: 'Domain of the Message-ID and thread root of every notice.',
      format: 'nonempty-string',
      default: 'faxnotify.localhost',
      env: 'MAIL_MESSAGE_ID_DOMAIN',
    },
  },
  links: {
    settingsUrlTemplate: {
      doc: 'Link to the notification settings page, put in every notice; `{userId}` is replaced by the owner.',
      format: 'url-template',
      default: 'http://127.0.0.1:8083/settings',
      env: 'SETTINGS_URL_TEMPLATE',
    },
  },
  tracker: {
    url: {
      doc: "The status tracker's base URL, asked as the owner (a one-minute token signed with auth.jwtSecret) when they answer a Jabber notice: `status` reads their faxes in progress, `resend` checks the fax it names. Empty: those commands answer that the status cannot be read.",
      format: optionalUrl,
      default: 'http://127.0.0.1:8082',
      env: 'TRACKER_URL',
    },
    reportUrlTemplate: {
      doc: "The status tracker's confirmation report of a fax (GET /v1/faxes/{faxId}/report.pdf), attached to the email notices of owners who turned email.attachReport on; `{faxId}` is replaced by the fax. Fetched with a two-minute token of the owner signed with auth.jwtSecret. Empty: never attached.",
      format: optionalUrl,
      default: 'http://127.0.0.1:8082/v1/faxes/{faxId}/report.pdf',
      env: 'TRACKER_REPORT_URL_TEMPLATE',
    },
    reportTimeoutMs: {
      doc: 'Give up fetching a confirmation report after this long; the notice then goes without it (and the log says so).',
      format: 'positive-int',
      default: 10_000,
      env: 'TRACKER_REPORT_TIMEOUT_MS',
    },
  },
  defaults: {
    locale: { doc: 'Locale of a user who has not chosen one.', format: locale, default: 'en', env: 'NOTIFIER_DEFAULT_LOCALE' },
    timeZone: { doc: 'Time zone of a user who has not chosen one.', format: timeZone, default: 'UTC', env: 'NOTIFIER_DEFAULT_TIME_ZONE' },
  },
  twilio: {
    accountSid: {
      doc: 'Twilio account SID (AC…); SMS notices are off while it is empty.',
      format: (value: unknown) => {
        if (typeof value !== 'string' || !(value === '' || /^AC[0-9a-fA-F]{32}$/.test(value))) throw new Error('must be empty or AC followed by 32 hex digits');
      },
      default: '',
      env: 'TWILIO_ACCOUNT_SID',
    },
    authToken: {
      doc: 'Twilio auth token: authenticates the API calls and checks the signature of status callbacks.',
      format: String,
      default: '',
      env: 'TWILIO_AUTH_TOKEN',
      sensitive: true,
    },
    from: {
      doc: 'Sender of the SMS notices: an E.164 number or alphanumeric sender ID; leave empty to send through `twilio.messagingServiceSid`.',
      format: String,
      default: '',
      env: 'TWILIO_FROM',
    },
    messagingServiceSid: {
      doc: 'Twilio Messaging Service (MG…) that picks the sender, used when `twilio.from` is empty.',
      format: (value: unknown) => {
        if (typeof value !== 'string' || !(value === '' || /^MG[0-9a-fA-F]{32}$/.test(value))) throw new Error('must be empty or MG followed by 32 hex digits');
      },
      default: '',
      env: 'TWILIO_MESSAGING_SERVICE_SID',
    },
    statusCallbackUrl: {
      doc: "Public URL of this notifier's POST /twilio/status, exactly as Twilio reaches it (signatures are checked against it); empty: no delivery reports are asked for.",
      format: optionalUrl,
      default: '',
      env: 'TWILIO_STATUS_CALLBACK_URL',
    },
    baseUrl: {
      doc: "Base URL of a Twilio-compatible endpoint that replaces Twilio's API hosts (tests and the demo); empty in production.",
      format: optionalUrl,
      default: '',
      env: 'TWILIO_BASE_URL',
    },
    timeoutMs: { doc: 'Give up on a Twilio API call after this long (then it is retried).', format: 'positive-int', default: 15_000, env: 'TWILIO_TIMEOUT_MS' },
    lookupPageSize: {
      doc: "When Twilio's answer to a send is lost (a timeout, a dropped connection), the retry first looks for the message in Twilio's message list (same number, sender and text, sent since the lost send) and sends again only if it is not there. How many of the newest listed messages one look-up reads (one page, at most 1000).",
      format: 'positive-int',
      default: 50,
      env: 'TWILIO_LOOKUP_PAGE_SIZE',
    },
    lookupSettleMs: {
      doc: 'A look-up that does not find the message of a lost answer is trusted, and the SMS sent again, only once the answer has been lost for this long; sooner, the notice is retried later, as Twilio may not list a message it has just taken.',
      format: 'positive-int',
      default: 5_000,
      env: 'TWILIO_LOOKUP_SETTLE_MS',
    },
  },
  xmpp: {
    service: {
      doc: 'XMPP server to connect to, e.g. xmpp://chat.example.com:5222 (STARTTLS) or xmpps://chat.example.com:5223; empty: the domain on port 5222.',
      format: xmppService,
      default: '',
      env: 'XMPP_SERVICE',
    },
    domain: { doc: "Domain of the service's own account.", format: String, default: 'localhost', env: 'XMPP_DOMAIN' },
    username: { doc: "User name of the service's own account; Jabber notices are off while it is empty.", format: String, default: '', env: 'XMPP_USERNAME' },
    password: { doc: "Password of the service's own account.", format: String, default: '', env: 'XMPP_PASSWORD', sensitive: true },
    resource: {
      doc: "Resource prefix of the service's connection; each notifier process adds a suffix of its own, so replicas sharing the account keep their own sessions.",
      format: 'nonempty-string',
      default: 'faxnotify-notifier',
      env: 'XMPP_RESOURCE',
    },
    allowPlainWithoutTls: {
      doc: 'Log in with PLAIN over an unencrypted connection (local tests on loopback only). Off: the connection must be TLS and the login SCRAM.',
      format: Boolean,
      default: false,
      env: 'XMPP_ALLOW_PLAIN_WITHOUT_TLS',
    },
    reconnectInitialMs: {
      doc: 'First wait before reconnecting after the connection drops; doubles per failed attempt.',
      format: 'positive-int',
      default: 500,
      env: 'XMPP_RECONNECT_INITIAL_MS',
    },
    reconnectMaxMs: { doc: 'Longest wait between reconnection attempts.', format: 'positive-int', default: 30_000, env: 'XMPP_RECONNECT_MAX_MS' },
    timeoutMs: {
      doc: 'Give up on a login or on the server confirming a message after this long (then it is retried).',
      format: 'positive-int',
      default: 10_000,
      env: 'XMPP_TIMEOUT_MS',
    },
    commandsPerHour: {
      doc: 'Jabber commands (status, resend, mute…) one address may send in an hour; the ones over it get a short refusal. 0: no limit.',
      format: 'nat',
      default: 30,
      env: 'XMPP_COMMANDS_PER_HOUR',
    },
  },
  channels: {
    requireConfirmation: {
      doc: 'Send notices to an email address, SMS number or Jabber ID only once its owner has confirmed it with a code sent to it; a notice for an unconfirmed address is recorded as skipped. Off: any address gets notices as soon as it is saved.',
      format: Boolean,
      default: true,
      env: 'NOTIFIER_REQUIRE_CONFIRMATION',
    },
    codeTtlMs: {
      doc: 'How long a confirmation code stays valid after it is sent.',
      format: 'positive-int',
      default: 900_000,
      env: 'NOTIFIER_CONFIRMATION_CODE_TTL_MS',
    },
    codeIntervalMs: {
      doc: 'Shortest wait between two confirmation codes sent to one user on one channel.',
      format: 'positive-int',
      default: 60_000,
      env: 'NOTIFIER_CONFIRMATION_CODE_INTERVAL_MS',
    },
    codesPerHour: {
      doc: 'Most confirmation codes sent to one user on one channel within an hour.',
      format: 'positive-int',
      default: 5,
      env: 'NOTIFIER_CONFIRMATION_CODES_PER_HOUR',
    },
    codeMaxAttempts: {
      doc: 'Wrong tries after which a confirmation code is void (a new one must be asked for).',
      format: 'positive-int',
      default: 5,
      env: 'NOTIFIER_CONFIRMATION_CODE_MAX_ATTEMPTS',
    },
  },
  rateLimits: {
    notices: {
      email: {
        doc: 'Most email notices one owner gets in any window of rateLimits.notices.windowSeconds (0: no limit); a notice over it is not sent and is recorded in the ledger as skipped with the reason, e.g. "rate limit: 1000 email notices per hour". Counted in the database, so replicas share it.',
        format: 'nat',
        default: 1000,
        env: 'NOTIFIER_RATE_LIMIT_EMAIL_NOTICES',
      },
      sms: {
        doc: 'Most SMS notices one owner gets in a window (0: no limit), as for email; lower, as each costs money.',
        format: 'nat',
        default: 100,
        env: 'NOTIFIER_RATE_LIMIT_SMS_NOTICES',
      },
      xmpp: {
        doc: 'Most Jabber (XMPP) notices one owner gets in a window (0: no limit), as for email.',
        format: 'nat',
        default: 1000,
        env: 'NOTIFIER_RATE_LIMIT_XMPP_NOTICES',
      },
      windowSeconds: {
        doc: 'The window of the limits on notices, in seconds (a sliding window).',
        format: 'positive-int',
        default: 3600,
        env: 'NOTIFIER_RATE_LIMIT_NOTICES_WINDOW_SECONDS',
      },
    },
    signIn: signInRateLimitSchema('NOTIFIER'),
    unsubscribe: rateLimitSchema({
      what: 'requests to the one-click unsubscribe links (GET /unsubscribe/… and POST together)',
      per: "client address (behind a proxy, set http.trustProxy so it is the mail client's)",
      max: 60,
      windowSeconds: 600,
      env: 'NOTIFIER_RATE_LIMIT_UNSUBSCRIBE',
    }),
  },
  ledger: {
    claimMs: {
      doc: 'How long a notice being sent is reserved for the worker sending it; after a crash it is sent again once this has passed.',
      format: 'positive-int',
      default: 30_000,
      env: 'NOTIFIER_LEDGER_CLAIM_MS',
    },
    workerLeaseMs: {
      doc: 'Each notifier process writes a heartbeat to the database several times within this; a claim whose process has missed its heartbeat this long (killed, frozen) is taken over by another notifier at once, before ledger.claimMs runs out.',
      format: 'positive-int',
      default: 5_000,
      env: 'NOTIFIER_LEDGER_WORKER_LEASE_MS',
    },
    heldPollMs: {
      doc: "How often the notifier looks for notices held through an owner's quiet hours that are now due, and sends them (each once, whichever notifier claims it).",
      format: 'positive-int',
      default: 15_000,
      env: 'NOTIFIER_LEDGER_HELD_POLL_MS',
    },
  },
};

export interface NotifierConfig {
  log: { level: string };
  amqp: { url: string; prefetch: number };
  http: { host: string; port: number; publicUrl: string; trustProxy: string };
  db: { url: string; sqlitePath: string };
  auth: AuthSettings;
  smtp: {
    host: string;
    port: number;
    secure: boolean;
    requireTls: boolean;
    user: string;
    password: string;
    from: string;
    maxConnections: number;
    maxMessages: number;
    timeoutMs: number;
  };
  mail: { messageIdDomain: string };
  links: { settingsUrlTemplate: string };
  tracker: { url: string; reportUrlTemplate: string; reportTimeoutMs: number };
  defaults: { locale: 'ru' | 'en' | 'it'; timeZone: string };
  twilio: {
    accountSid: string;
    authToken: string;
    from: string;
    messagingServiceSid: string;
    statusCallbackUrl: string;
    baseUrl: string;
    timeoutMs: number;
    lookupPageSize: number;
    lookupSettleMs: number;
  };
  xmpp: {
    service: string;
    domain: string;
    username: string;
    password: string;
    resource: string;
    allowPlainWithoutTls: boolean;
    reconnectInitialMs: number;
    reconnectMaxMs: number;
    timeoutMs: number;
    commandsPerHour: number;
  };
  channels: { requireConfirmation: boolean; codeTtlMs: number; codeIntervalMs: number; codesPerHour: number; codeMaxAttempts: number };
  rateLimits: {
    notices: { email: number; sms: number; xmpp: number; windowSeconds: number };
    signIn: { max: number; windowSeconds: number };
    unsubscribe: { max: number; windowSeconds: number };
  };
  ledger: { claimMs: number; workerLeaseMs: number; heldPollMs: number };
}

export function loadNotifierConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  const config = loadConfig<NotifierConfig>(notifierSchema as never, overrides, env);
  const { twilio, xmpp } = config;
  // Settings that only make sense together: a half-configured channel stops the service at start.
  if (twilio.accountSid) {
    if (!twilio.authToken) throw new ConfigError('invalid configuration: twilio.authToken is required when twilio.accountSid is set');
    if (!twilio.from && !twilio.messagingServiceSid)
      throw new ConfigError('invalid configuration: twilio.from or twilio.messagingServiceSid is required when twilio.accountSid is set');
  }
  if (twilio.lookupPageSize > 1000) throw new ConfigError('invalid configuration: twilio.lookupPageSize must not exceed 1000 (the largest page Twilio gives)');
  if (xmpp.username) {
    if (!xmpp.password) throw new ConfigError('invalid configuration: xmpp.password is required when xmpp.username is set');
    if (!xmpp.domain) throw new ConfigError('invalid configuration: xmpp.domain is required when xmpp.username is set');
  }
  if (xmpp.reconnectMaxMs < xmpp.reconnectInitialMs)
    throw new ConfigError('invalid configuration: xmpp.reconnectMaxMs must not be less than xmpp.reconnectInitialMs');
  return config;
}
