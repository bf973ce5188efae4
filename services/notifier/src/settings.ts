import type { FastifyError, FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { PhoneNumberFormat, PhoneNumberUtil } from 'google-libphonenumber';
import { LOCALES, type Locale } from '@faxnotify/contracts';
import { compiledQuery, requireUser, userOf } from '@faxnotify/kit';
import type { NotifierDatabase, SettingsTable } from './schema';
import { DEFAULT_SUMMARY, mergeSummary, summaryBodySchema, summaryColumns, summaryOfRow, type SummaryChoice } from './summary/choice';
import { QUIET_TIME, type QuietHours } from './quiet-hours';

/** Which results of faxes sent a channel gets: every one, failed and partly delivered ones only, or none. */
export type ResultChoice = 'all' | 'failures' | 'none';
export const RESULT_CHOICES: readonly ResultChoice[] = ['all', 'failures', 'none'];
export type { QuietHours };

/** A user's notification settings as the API shows them. */
export interface NotificationSettings {
  /**
   * `results`: which results the channel gets (the channel's own choice, else `notifyOn`).
   * `attachReport`: the notice of a result that leaves the fax final carries the fax's confirmation report (PDF); off by default.
   */
  email: { enabled: boolean; address: string | null; results: ResultChoice; attachReport: boolean };
  /** E.164 phone number. `quietHours`: SMS notices due in them are held and sent when they end. */
  sms: { enabled: boolean; number: string | null; results: ResultChoice; quietHours: QuietHours | null };
  /** Bare Jabber ID; quiet hours as for SMS. */
  xmpp: { enabled: boolean; jid: string | null; results: ResultChoice; quietHours: QuietHours | null };
  locale: Locale;
  timeZone: string;
  /** 'failures': failed and partially delivered results only. The choice of every channel that has none of its own. */
  notifyOn: 'all' | 'failures';
  /** Notices of faxes received for the user (inbound), chosen apart from the results of faxes sent: 'on' (the default) or 'off'. */
  notifyInbound: 'on' | 'off';
  /** A notice per recipient, one summary per fax, both, or a summary above a number of recipients (`auto`, the default). */
  summary: SummaryChoice;
  /** Stored only, never shown: which channels have a results choice of their own (the others follow notifyOn). */
  own?: Record<'email' | 'sms' | 'xmpp', boolean>;
  /** Never shown nor saved with the settings: until when the owner muted Jabber notices at their saved JID (a `mute` command there). */
  xmppMutedUntil?: Date;
}

/** The settings as the API shows them (without what is only stored). */
export const settingsView = ({ own, xmppMutedUntil, ...settings }: NotificationSettings): NotificationSettings => (void own, void xmppMutedUntil, settings);

/**
 * What a client sends: `sms`, `xmpp`, `notifyOn`, `notifyInbound`, a channel's `results` and
 * `quietHours` may be left out, which keeps what the user had. A client that knows only `notifyOn`
 * sets it for every channel without a choice of its own; a channel's `results: null` makes it
 * follow `notifyOn` again.
 */
export type SettingsInput = { summary?: Partial<SummaryChoice> } & Omit<
  NotificationSettings,
  'email' | 'sms' | 'xmpp' | 'notifyOn' | 'notifyInbound' | 'summary'
> & {
    email: { enabled: boolean; address: string | null; results?: ResultChoice | null; attachReport?: boolean };
    sms?: { enabled: boolean; number: string | null; results?: ResultChoice | null; quietHours?: QuietHours | null };
    xmpp?: { enabled: boolean; jid: string | null; results?: ResultChoice | null; quietHours?: QuietHours | null };
    notifyOn?: 'all' | 'failures';
    notifyInbound?: 'on' | 'off';
  };

/** A rejected value: `field` is its dotted path in the settings (`sms.number`), `message` says what is wrong. */
export interface FieldError {
  field: string;
  message: string;
}

export const isTimeZone = (value: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

const nullableString = (maxLength: number, extra: Record<string, unknown> = {}) => ({ anyOf: [{ type: 'string', maxLength, ...extra }, { type: 'null' }] });
const results = { anyOf: [{ type: 'string', enum: [...RESULT_CHOICES] }, { type: 'null' }] } as const;
const quietHours = {
  anyOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['start', 'end'],
      properties: { start: { type: 'string', pattern: QUIET_TIME.source }, end: { type: 'string', pattern: QUIET_TIME.source } },
    },
    { type: 'null' },
  ],
} as const;

/** The JSON shape of the settings, for the API and for the settings page's form (after it is turned into this shape). */
export const settingsBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'locale', 'timeZone'],
  properties: {
    email: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled'],
      properties: {
        enabled: { type: 'boolean' },
        address: { anyOf: [{ type: 'string', format: 'email', maxLength: 254 }, { type: 'null' }] },
        results,
        attachReport: { type: 'boolean' },
      },
    },
    sms: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled'],
      properties: { enabled: { type: 'boolean' }, number: nullableString(32), results, quietHours },
    },
    xmpp: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled'],
      properties: { enabled: { type: 'boolean' }, jid: nullableString(1000), results, quietHours },
    },
    locale: { type: 'string', enum: [...LOCALES] },
    timeZone: { type: 'string', minLength: 1, maxLength: 64 },
    notifyOn: { type: 'string', enum: ['all', 'failures'] },
    notifyInbound: { type: 'string', enum: ['on', 'off'] },
    summary: summaryBodySchema,
  },
} as const;

/** The settings field a JSON-schema error is about, as a dotted path (`email.address`, `sms.enabled`). */
export function fieldOfSchemaError(error: { instancePath?: string; params?: Record<string, unknown> }): string {
  const path = (error.instancePath ?? '').split('/').filter(Boolean);
  const missing = error.params?.missingProperty;
  if (typeof missing === 'string') path.push(missing);
  return path.join('.') || 'body';
}

const phoneNumbers = PhoneNumberUtil.getInstance();

/** An E.164 number from what a user typed ("+39 333 123 4567" → "+393331234567"), or null when it is not a valid international number. */
export function normalisePhoneNumber(value: string): string | null {
  const trimmed = value.trim();
  if (!trimmed.startsWith('+') || /[^+\d\s().-]/.test(trimmed)) return null;
  try {
    const parsed = phoneNumbers.parse(trimmed);
    return phoneNumbers.isValidNumber(parsed) ? phoneNumbers.format(parsed, PhoneNumberFormat.E164) : null;
  } catch {
    return null;
  }
}

// RFC 7622: a localpart may not hold these (nor spaces or control characters); the domain is a host name or an IP literal.
// eslint-disable-next-line no-control-regex
const JID_LOCAL_FORBIDDEN = /[\s"&'/:<>@\u0000-\u001f\u007f-\u009f]/u;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A bare JID in its usual lower-case form ("Alice@Example.COM" → "alice@example.com"), or null when it is not one. */
export function normaliseJid(value: string): string | null {
  const trimmed = value.trim();
  const at = trimmed.indexOf('@');
  if (at <= 0 || trimmed.includes('/')) return null;
  const local = trimmed.slice(0, at).normalize('NFC');
  const domain = trimmed.slice(at + 1);
  if (JID_LOCAL_FORBIDDEN.test(local) || Buffer.byteLength(local) > 1023) return null;
  let host: string;
  try {
    // The URL parser applies IDNA, so an internationalised domain is checked in its ASCII form.
    host = new URL(`http://${domain}`).hostname;
  } catch {
    return null;
  }
  if (!domain || /[\s/?#@:]/.test(domain) || host.length > 253) return null;
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[');
  if (!isIp && !host.split('.').every((label) => DNS_LABEL.test(label))) return null;
  return `${local.toLowerCase()}@${host}`;
}

/**
 * Checks what the JSON schema cannot and puts the addresses in their usual form: the time zone
 * exists, an enabled channel has an address, the phone number is valid E.164, the JID is a bare JID.
 * `sms` or `xmpp` left out keep the user's current values.
 */
export function checkSettings(input: SettingsInput, current: NotificationSettings): { settings: NotificationSettings } | { error: FieldError } {
  const error = (field: string, message: string) => ({ error: { field, message } });
  if (!isTimeZone(input.timeZone)) return error('timeZone', 'timeZone must be an IANA time zone such as Europe/Rome');
  const emailAddress = input.email.address?.trim() || null;
  if (input.email.enabled && !emailAddress) return error('email.address', 'email.address is required when email is enabled');

  const sms = input.sms ?? current.sms;
  const notifyOn = input.notifyOn ?? current.notifyOn;
  // A channel's own choice, else the one it had; a client that changes only notifyOn changes channels that follow it.
  const choice = (given: ResultChoice | null | undefined, had: ResultChoice, hadOwn: boolean): ResultChoice =>
    given === undefined ? (hadOwn ? had : notifyOn) : (given ?? notifyOn);
  const ownAfter = (given: ResultChoice | null | undefined, hadOwn: boolean): boolean => (given === undefined ? hadOwn : given !== null);
  const ownEmail = current.own?.email ?? false;
  const ownSms = current.own?.sms ?? false;
  const ownXmpp = current.own?.xmpp ?? false;
  for (const [field, quiet] of [
    ['sms.quietHours', input.sms?.quietHours],
    ['xmpp.quietHours', input.xmpp?.quietHours],
  ] as const) {
    if (quiet && (!QUIET_TIME.test(quiet.start) || !QUIET_TIME.test(quiet.end)))
      return error(field, `${field} must have a start and an end as HH:MM, such as 22:00 and 07:00`);
    if (quiet && quiet.start === quiet.end) return error(field, `${field} must end at another time than it starts`);
  }
  let smsNumber: string | null = null;
  if (sms.number?.trim()) {
    smsNumber = normalisePhoneNumber(sms.number);
    if (!smsNumber) return error('sms.number', 'sms.number must be a valid phone number in international E.164 form, such as +393331234567');
  }
  if (sms.enabled && !smsNumber) return error('sms.number', 'sms.number is required when SMS is enabled');

  const xmpp = input.xmpp ?? current.xmpp;
  let jid: string | null = null;
  if (xmpp.jid?.trim()) {
    jid = normaliseJid(xmpp.jid);
    if (!jid) return error('xmpp.jid', 'xmpp.jid must be a bare Jabber ID such as name@example.com');
  }
  if (xmpp.enabled && !jid) return error('xmpp.jid', 'xmpp.jid is required when XMPP is enabled');

  return {
    settings: {
      email: {
        enabled: input.email.enabled,
        address: emailAddress,
        results: choice(input.email.results, current.email.results, ownEmail),
        attachReport: input.email.attachReport ?? current.email.attachReport,
      },
      sms: {
        enabled: sms.enabled,
        number: smsNumber,
        results: choice(input.sms?.results, current.sms.results, ownSms),
        quietHours: input.sms?.quietHours !== undefined ? input.sms.quietHours : current.sms.quietHours,
      },
      xmpp: {
        enabled: xmpp.enabled,
        jid,
        results: choice(input.xmpp?.results, current.xmpp.results, ownXmpp),
        quietHours: input.xmpp?.quietHours !== undefined ? input.xmpp.quietHours : current.xmpp.quietHours,
      },
      locale: input.locale,
      timeZone: input.timeZone,
      notifyOn,
      notifyInbound: input.notifyInbound ?? current.notifyInbound,
      summary: mergeSummary(input.summary, current.summary),
      own: {
        email: ownAfter(input.email.results, ownEmail),
        sms: ownAfter(input.sms?.results, ownSms),
        xmpp: ownAfter(input.xmpp?.results, ownXmpp),
      },
    },
  };
}

/** A user's saved settings, with whether their Jabber address is muted (read for every result). */
const settingsOf = compiledQuery((db: Kysely<NotifierDatabase>, p: { userId: string }) =>
  db
    .selectFrom('settings')
    .leftJoin('jabber_conversations', (join) =>
      join.onRef('jabber_conversations.owner_id', '=', 'settings.user_id').onRef('jabber_conversations.jid', '=', 'settings.xmpp_jid'),
    )
    .selectAll('settings')
    .select('jabber_conversations.muted_until as xmpp_muted_until')
    .where('settings.user_id', '=', p.userId),
);

export class SettingsStore {
  constructor(
    private readonly db: Kysely<NotifierDatabase>,
    private readonly defaults: { locale: Locale; timeZone: string },
  ) {}

  async get(userId: string): Promise<NotificationSettings | undefined> {
    const row = await settingsOf.first(this.db, { userId });
    if (!row) return undefined;
    const { xmpp_muted_until: mutedUntil, ...settingsRow } = row;
    return { ...fromRow(settingsRow), ...(mutedUntil ? { xmppMutedUntil: new Date(mutedUntil) } : {}) };
  }

  /** What a user without saved settings sees: nothing enabled, the service's defaults. */
  defaultsFor(): NotificationSettings {
    return {
      email: { enabled: false, address: null, results: 'all', attachReport: false },
      sms: { enabled: false, number: null, results: 'all', quietHours: null },
      xmpp: { enabled: false, jid: null, results: 'all', quietHours: null },
      locale: this.defaults.locale,
      timeZone: this.defaults.timeZone,
      notifyOn: 'all',
      notifyInbound: 'on',
      own: { email: false, sms: false, xmpp: false },
      summary: { ...DEFAULT_SUMMARY, channels: [...DEFAULT_SUMMARY.channels] },
    };
  }

  /** Saved settings, or the defaults. */
  async current(userId: string): Promise<NotificationSettings> {
    return (await this.get(userId)) ?? this.defaultsFor();
  }

  /** Turns one channel's notices of results off (a one-click unsubscribe); saving it again changes nothing. */
  async turnOff(userId: string, channel: 'email' | 'sms' | 'xmpp'): Promise<void> {
    const current = await this.get(userId);
    if (!current || (current[channel].results === 'none' && current.own?.[channel])) return;
    await this.save(userId, { ...current, [channel]: { ...current[channel], results: 'none' }, own: { ...current.own!, [channel]: true } });
  }

  /** Checks and saves a user's settings; the one way both the API and the settings page change them. */
  async update(userId: string, input: SettingsInput): Promise<{ settings: NotificationSettings } | { error: FieldError }> {
    const checked = checkSettings(input, await this.current(userId));
    if ('settings' in checked) await this.save(userId, checked.settings);
    return checked;
  }

  async save(userId: string, settings: NotificationSettings): Promise<void> {
    const row = {
      locale: settings.locale,
      time_zone: settings.timeZone,
      notify_on: settings.notifyOn,
      notify_inbound: settings.notifyInbound,
      email_enabled: settings.email.enabled ? 1 : 0,
      email_address: settings.email.address,
      email_attach_report: settings.email.attachReport ? 1 : 0,
      sms_enabled: settings.sms.enabled ? 1 : 0,
      sms_number: settings.sms.number,
      xmpp_enabled: settings.xmpp.enabled ? 1 : 0,
      xmpp_jid: settings.xmpp.jid,
      ...summaryColumns(settings.summary),
      email_results: settings.own?.email ? settings.email.results : null,
      sms_results: settings.own?.sms ? settings.sms.results : null,
      xmpp_results: settings.own?.xmpp ? settings.xmpp.results : null,
      sms_quiet_start: settings.sms.quietHours?.start ?? null,
      sms_quiet_end: settings.sms.quietHours?.end ?? null,
      xmpp_quiet_start: settings.xmpp.quietHours?.start ?? null,
      xmpp_quiet_end: settings.xmpp.quietHours?.end ?? null,
      updated_at: new Date().toISOString(),
    };
    await this.db
      .insertInto('settings')
      .values({ user_id: userId, ...row })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(row))
      .execute();
  }
}

const isChoice = (value: string | null): value is ResultChoice => (RESULT_CHOICES as readonly (string | null)[]).includes(value);
const quietOf = (start: string | null, end: string | null): QuietHours | null => (start && end ? { start, end } : null);

function fromRow(row: SettingsTable): NotificationSettings {
  const notifyOn = row.notify_on === 'failures' ? 'failures' : 'all';
  const results = (value: string | null): ResultChoice => (isChoice(value) ? value : notifyOn);
  return {
    email: { enabled: row.email_enabled === 1, address: row.email_address, results: results(row.email_results), attachReport: row.email_attach_report === 1 },
    sms: {
      enabled: row.sms_enabled === 1,
      number: row.sms_number,
      results: results(row.sms_results),
      quietHours: quietOf(row.sms_quiet_start, row.sms_quiet_end),
    },
    xmpp: {
      enabled: row.xmpp_enabled === 1,
      jid: row.xmpp_jid,
      results: results(row.xmpp_results),
      quietHours: quietOf(row.xmpp_quiet_start, row.xmpp_quiet_end),
    },
    locale: row.locale as Locale,
    timeZone: row.time_zone,
    notifyOn,
    notifyInbound: row.notify_inbound === 'off' ? 'off' : 'on',
    summary: summaryOfRow(row),
    own: { email: isChoice(row.email_results), sms: isChoice(row.sms_results), xmpp: isChoice(row.xmpp_results) },
  };
}

/** GET/PUT /v1/settings: the token's user reads and writes only their own settings. */
export function registerSettingsRoutes(app: FastifyInstance, store: SettingsStore, auth: { secret: string }): void {
  const preHandler = requireUser(auth);
  app.get('/v1/settings', { preHandler }, async (request) => settingsView(await store.current(userOf(request))));
  app.put<{ Body: SettingsInput }>('/v1/settings', { preHandler, schema: { body: settingsBodySchema }, attachValidation: true }, async (request, reply) => {
    const invalid = request.validationError as (FastifyError & { validation?: Array<{ instancePath?: string; params?: Record<string, unknown> }> }) | undefined;
    if (invalid) {
      return reply.code(400).send({ error: 'bad_request', field: fieldOfSchemaError(invalid.validation?.[0] ?? {}), message: invalid.message });
    }
    const result = await store.update(userOf(request), request.body);
    if ('error' in result) return reply.code(400).send({ error: 'bad_request', ...result.error });
    return settingsView(result.settings);
  });
}
