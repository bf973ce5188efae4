import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { LOCALES, type Locale } from '@faxnotify/contracts';
import { requireUser, userOf } from '@faxnotify/kit';
import type { NotifierDatabase, SettingsTable } from './schema';

/** A user's notification settings as the API shows them. */
export interface NotificationSettings {
  email: { enabled: boolean; address: string | null };
  locale: Locale;
  timeZone: string;
  /** 'failures': failed and partially delivered results only. */
  notifyOn: 'all' | 'failures';
}

export const isTimeZone = (value: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

const settingsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'locale', 'timeZone', 'notifyOn'],
  properties: {
    email: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled'],
      properties: { enabled: { type: 'boolean' }, address: { anyOf: [{ type: 'string', format: 'email', maxLength: 254 }, { type: 'null' }] } },
    },
    locale: { type: 'string', enum: [...LOCALES] },
    timeZone: { type: 'string', minLength: 1, maxLength: 64 },
    notifyOn: { type: 'string', enum: ['all', 'failures'] },
  },
} as const;

export class SettingsStore {
  constructor(
    private readonly db: Kysely<NotifierDatabase>,
    private readonly defaults: { locale: Locale; timeZone: string },
  ) {}

  async get(userId: string): Promise<NotificationSettings | undefined> {
    const row = await this.db.selectFrom('settings').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** What a user without saved settings sees: nothing enabled, the service's defaults. */
  defaultsFor(): NotificationSettings {
    return { email: { enabled: false, address: null }, locale: this.defaults.locale, timeZone: this.defaults.timeZone, notifyOn: 'all' };
  }

  async save(userId: string, settings: NotificationSettings): Promise<void> {
    const row = {
      locale: settings.locale,
      time_zone: settings.timeZone,
      notify_on: settings.notifyOn,
      email_enabled: settings.email.enabled ? 1 : 0,
      email_address: settings.email.address,
      updated_at: new Date().toISOString(),
    };
    await this.db
      .insertInto('settings')
      .values({ user_id: userId, ...row })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(row))
      .execute();
  }
}

const fromRow = (row: SettingsTable): NotificationSettings => ({
  email: { enabled: row.email_enabled === 1, address: row.email_address },
  locale: row.locale as Locale,
  timeZone: row.time_zone,
  notifyOn: row.notify_on as 'all' | 'failures',
});

/** GET/PUT /v1/settings: the token's user reads and writes only their own settings. */
export function registerSettingsRoutes(app: FastifyInstance, store: SettingsStore, auth: { secret: string }): void {
  const preHandler = requireUser(auth);
  app.get('/v1/settings', { preHandler }, async (request) => (await store.get(userOf(request))) ?? store.defaultsFor());
  app.put<{ Body: NotificationSettings }>('/v1/settings', { preHandler, schema: { body: settingsBody } }, async (request, reply) => {
    const settings = request.body;
    if (!isTimeZone(settings.timeZone)) return reply.code(400).send({ error: 'bad_request', field: 'timeZone', message: 'timeZone must be an IANA time zone such as Europe/Rome' });
    if (settings.email.enabled && !settings.email.address)
      return reply.code(400).send({ error: 'bad_request', field: 'email.address', message: 'email.address is required when email is enabled' });
    await store.save(userOf(request), settings);
    return store.get(userOf(request));
  });
}
