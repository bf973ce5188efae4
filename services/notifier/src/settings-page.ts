import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import Handlebars from 'handlebars';
import { LOCALES, type Locale } from '@faxnotify/contracts';
import {
  csrfCheck,
  csrfToken,
  isCsrfRefusal,
  registerSignIn,
  sessionViewer,
  type AuthSettings,
  type Logger,
  type SignInView,
  type TokenIssuerOptions,
  type VerifiedToken,
} from '@faxnotify/kit';
import {
  fieldOfSchemaError,
  settingsBodySchema,
  type FieldError,
  type NotificationSettings,
  type ResultChoice,
  type SettingsInput,
  type SettingsStore,
} from './settings';
import { confirmationSection, registerConfirmationForms, registerConfirmationPartial, type ConfirmationMessage } from './confirmations/page';
import type { ChannelConfirmations } from './confirmations/service';
import { STRINGS, type PageStrings } from './settings-strings';
import { SUMMARY_MODES, type SummaryChoice } from './summary/choice';
import { SUMMARY_STRINGS } from './summary/page-strings';

/**
 * The notification settings page: the target of the "notification settings" link in every
 * notice. A plain HTML form that works without JavaScript, in the owner's language.
 *
 * Signing in: the page takes the bearer header or the kit's signed session cookie (the one the
 * fax pages use, so one sign-in serves both), which the kit's OpenID Connect sign-in sets
 * (`/auth/login` … `/auth/callback`; a signed-out visitor is sent there and back). Every form
 * post signed in by cookie, sign-out included, must carry the kit's CSRF token (made for this
 * browser's secret cookie and this user), and the kit refuses a post whose Origin is another
 * site or `null`.
 */
const SETTINGS_PATH = '/settings';

const TEMPLATES = join(dirname(require.resolve('@faxnotify/templates/package.json')), 'pages');

const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', ru: 'Русский', it: 'Italiano' };

/** The form field (and its element id) each settings field is edited in. */
const FIELD_IDS: Record<string, { id: string; key: string }> = {
  'email.address': { id: 'email-address', key: 'emailAddress' },
  'email.enabled': { id: 'email-enabled', key: 'emailEnabled' },
  'sms.number': { id: 'sms-number', key: 'smsNumber' },
  'sms.enabled': { id: 'sms-enabled', key: 'smsEnabled' },
  'xmpp.jid': { id: 'xmpp-jid', key: 'xmppJid' },
  'xmpp.enabled': { id: 'xmpp-enabled', key: 'xmppEnabled' },
  'email.results': { id: 'email-results', key: 'emailResults' },
  'sms.results': { id: 'sms-results', key: 'smsResults' },
  'xmpp.results': { id: 'xmpp-results', key: 'xmppResults' },
  'sms.quietHours': { id: 'sms-quiet-start', key: 'smsQuiet' },
  'sms.quietHours.start': { id: 'sms-quiet-start', key: 'smsQuiet' },
  'sms.quietHours.end': { id: 'sms-quiet-end', key: 'smsQuiet' },
  'xmpp.quietHours': { id: 'xmpp-quiet-start', key: 'xmppQuiet' },
  'xmpp.quietHours.start': { id: 'xmpp-quiet-start', key: 'xmppQuiet' },
  'xmpp.quietHours.end': { id: 'xmpp-quiet-end', key: 'xmppQuiet' },
  notifyOn: { id: 'notify-all', key: 'notifyOn' },
  notifyInbound: { id: 'inbound-on', key: 'notifyInbound' },
  'summary.mode': { id: 'summary-mode-auto', key: 'summaryMode' },
  'summary.threshold': { id: 'summary-threshold', key: 'summaryThreshold' },
  'summary.channels': { id: 'summary-channel-email', key: 'summaryChannels' },
  locale: { id: 'locale', key: 'locale' },
  timeZone: { id: 'time-zone', key: 'timeZone' },
};

/** The summary fieldset's values: the mode's radio buttons, the threshold, a checkbox per channel, in the page's language. */
const summaryValues = (summary: Partial<SummaryChoice>, locale: Locale) => ({
  t: SUMMARY_STRINGS[locale],
  modes: SUMMARY_MODES.map((mode) => ({ mode, label: SUMMARY_STRINGS[locale].modes[mode], checked: summary.mode === mode })),
  threshold: summary.threshold,
  channels: (['email', 'sms', 'xmpp'] as const).map((channel) => ({
    channel,
    label: SUMMARY_STRINGS[locale].channelNames[channel],
    checked: summary.channels?.includes(channel) ?? false,
  })),
});

/**
 * A channel's "which results" choice as the form shows it: its own choice, or '' when it follows
 * the general one (saved settings say which through `own`; a posted form says it by its value).
 */
function resultsShown(shown: SettingsInput | NotificationSettings, channel: 'email' | 'sms' | 'xmpp'): ResultChoice | '' {
  const given = shown[channel]?.results ?? '';
  const own = 'own' in shown ? shown.own : undefined;
  return own && !own[channel] ? '' : given;
}

/** The options of a channel's "which results" select, in the page's language. */
const resultOptions = (t: PageStrings, selected: ResultChoice | '') =>
  (
    [
      ['', t.resultsDefault],
      ['all', t.resultsAll],
      ['failures', t.resultsFailures],
      ['none', t.resultsNone],
    ] as const
  ).map(([value, label]) => ({ value, label, selected: value === selected }));

/**
 * Results and quiet hours as the form posts them: a select left at "as chosen under Which results"
 * follows notifyOn (null); quiet hours left empty are none (null); fields the form does not have keep what was saved.
 */
function channelChoicesOfForm(form: FormBody, text: (name: string) => string, channel: 'email' | 'sms' | 'xmpp') {
  const results = `${channel}_results` in form ? { results: (text(`${channel}_results`) || null) as ResultChoice | null } : {};
  if (channel === 'email' || !(`${channel}_quiet_start` in form || `${channel}_quiet_end` in form)) return results;
  const start = text(`${channel}_quiet_start`).slice(0, 5);
  const end = text(`${channel}_quiet_end`).slice(0, 5);
  return { ...results, quietHours: start || end ? { start, end } : null };
}

const TIME_ZONES: readonly string[] = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])];

/** The form as posted: flat strings, a checkbox present only when ticked. */
type FormBody = Record<string, string | undefined>;

const formToInput = (form: FormBody): SettingsInput => {
  const text = (name: string) => (typeof form[name] === 'string' ? form[name].trim() : '');
  return {
    email: {
      enabled: form.email_enabled === 'on',
      address: text('email_address') || null,
      ...channelChoicesOfForm(form, text, 'email'),
      attachReport: form.email_attach_report === 'on',
    },
    sms: { enabled: form.sms_enabled === 'on', number: text('sms_number') || null, ...channelChoicesOfForm(form, text, 'sms') },
    xmpp: { enabled: form.xmpp_enabled === 'on', jid: text('xmpp_jid') || null, ...channelChoicesOfForm(form, text, 'xmpp') },
    locale: text('locale') as Locale,
    timeZone: text('time_zone'),
    notifyOn: text('notify_on') as 'all' | 'failures',
    // Left out of the form, the saved choice stands.
    ...(text('notify_inbound') ? { notifyInbound: text('notify_inbound') as 'on' | 'off' } : {}),
    ...(text('summary_mode') ? { summary: summaryOfForm(form, text) } : {}),
  };
};

/** The summary choice as the form posts it (a threshold that is not a whole number is left for the schema to refuse). */
function summaryOfForm(form: FormBody, text: (name: string) => string): Partial<SummaryChoice> {
  const threshold = text('summary_threshold');
  return {
    mode: text('summary_mode') as SummaryChoice['mode'],
    ...(threshold ? { threshold: /^\d+$/.test(threshold) ? Number(threshold) : (threshold as unknown as number) } : {}),
    channels: (['email', 'sms', 'xmpp'] as const).filter((channel) => form[`summary_${channel}`] === 'on'),
  };
}

/** The first supported language the browser asks for. */
function preferredLocale(header: string | undefined): Locale | undefined {
  const ranked = (header ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { lang: (tag ?? '').slice(0, 2).toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q);
  return ranked.map((entry) => entry.lang).find((lang): lang is Locale => (LOCALES as readonly string[]).includes(lang));
}

export interface SettingsPageOptions {
  store: SettingsStore;
  /** Address confirmation: the page shows each address's state and the forms to confirm it. */
  confirmations?: ChannelConfirmations;
  auth: TokenIssuerOptions;
  defaultLocale: Locale;
  /** OpenID Connect sign-in (auth.oidc) and this service's public base URL; without an issuer, signed-out visitors are told how to use the API. */
  signIn?: { settings: AuthSettings; publicUrl: () => string; attemptGuard?: preHandlerHookHandler[] };
  logger?: Logger;
}

/** What the signed-out page says: a notice, a problem, or that sign-in is not set up; and where to sign in. */
interface SignedOutView {
  notice?: string;
  problem?: string;
  notConfigured?: boolean;
  signInHref?: string;
}

export function registerSettingsPage(app: FastifyInstance, options: SettingsPageOptions): void {
  const { store, auth } = options;
  const pages = Handlebars.create();
  const template = pages.compile(readFileSync(join(TEMPLATES, 'settings.hbs'), 'utf8'), { strict: false });
  const css = readFileSync(join(TEMPLATES, 'assets', 'pages.css'), 'utf8');
  registerConfirmationPartial(pages);

  const lang = (request: FastifyRequest, token?: VerifiedToken | null, settings?: NotificationSettings): Locale => {
    const asked = (request.query as Record<string, unknown> | undefined)?.lang;
    if (typeof asked === 'string' && (LOCALES as readonly string[]).includes(asked)) return asked as Locale;
    if (settings) return settings.locale;
    // A provider's locale claim is a BCP 47 tag such as it-IT: its language is what counts.
    const claimed = token?.locale?.toLowerCase().split(/[-_]/)[0];
    if (claimed && (LOCALES as readonly string[]).includes(claimed)) return claimed as Locale;
    return preferredLocale(request.headers['accept-language']) ?? options.defaultLocale;
  };

  // The security headers and the content security policy come from the kit's helmet set-up; a page is never cached.
  const send = (reply: FastifyReply, status: number, html: string) =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(html);

  const signInPage = (request: FastifyRequest, reply: FastifyReply, status: number, view: SignedOutView) => {
    const locale = lang(request);
    const t = STRINGS[locale];
    const base = options.signIn?.publicUrl() ?? '';
    return send(reply, status, template({ lang: locale, t, title: t.signInTitle, signedIn: false, apiExample: `${base}/v1/settings`, ...view }));
  };

  const oidc = options.signIn?.settings.oidc.issuer ? options.signIn.settings : undefined;
  // Sign-in: the kit's OpenID Connect routes under /auth/, their pages in this page's look.
  const render = (request: FastifyRequest, reply: FastifyReply, view: SignInView, status: number) => {
    const t = STRINGS[lang(request)];
    if (view.kind === 'signed-out')
      return signInPage(request, reply, status, oidc ? { notice: t.signedOut, signInHref: view.signInHref } : { notice: t.signedOut, notConfigured: true });
    if (view.problem === 'not-configured') return signInPage(request, reply, status, { notConfigured: true });
    const problem = view.problem === 'form-expired' ? t.expired : t.signInProblems[view.problem];
    return signInPage(request, reply, status, { problem, signInHref: view.signInHref });
  };
  const signIn = registerSignIn(app, {
    auth,
    settings: oidc ?? {
      jwtSecret: auth.secret,
      allowDevelopmentSecret: false,
      audience: auth.audience ?? 'faxnotify',
      sessionHours: 8,
      oidc: { issuer: '', clientId: '', clientSecret: '', scopes: 'openid', userClaim: 'sub' },
    },
    publicUrl: options.signIn?.publicUrl ?? (() => ''),
    landing: SETTINGS_PATH,
    render,
    logger: options.logger ?? (app.log as Logger),
    attemptGuard: options.signIn?.attemptGuard,
  });
  /** A signed-out visitor: to the identity provider and back to this page, or (sign-in not set up) how to use the API. */
  const toSignIn = (request: FastifyRequest, reply: FastifyReply) =>
    signIn.enabled
      ? reply.code(303).header('cache-control', 'no-store').redirect(signIn.loginHref(request.url), 303)
      : signInPage(request, reply, 401, { notConfigured: true });
  /** A form posted signed out (its session ended meanwhile): 401 with a way to sign in again. */
  const signedOutPost = (request: FastifyRequest, reply: FastifyReply, problem?: string) =>
    signIn.enabled
      ? signInPage(request, reply, problem ? 403 : 401, { problem, signInHref: signIn.loginHref(SETTINGS_PATH) })
      : signInPage(request, reply, problem ? 403 : 401, { problem, notConfigured: true });

  const settingsPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    page: {
      status: number;
      userId: string;
      saved: NotificationSettings;
      shown: SettingsInput;
      errors?: FieldError[];
      saved_?: boolean;
      problem?: 'expired';
      confirmation?: (locale: Locale) => ConfirmationMessage;
    },
  ) => {
    const locale = lang(request, null, page.saved);
    const csrf = csrfToken(reply, page.userId);
    const confirm = options.confirmations
      ? await confirmationSection(options.confirmations, request, {
          userId: page.userId,
          locale,
          timeZone: page.saved.timeZone,
          csrf,
          minutes: options.confirmations.codeMinutes,
          message: page.confirmation?.(locale),
        })
      : undefined;
    const t = STRINGS[locale];
    const errors = (page.errors ?? []).map((error) => {
      const words = t.fields[error.field] ?? t.fields[error.field.replace(/\.(start|end)$/, '')] ?? t.fields.other;
      const required = /required/.test(error.message);
      return {
        field: error.field,
        id: FIELD_IDS[error.field]?.id ?? 'email-enabled',
        key: FIELD_IDS[error.field]?.key ?? 'other',
        message: (required && words.required) || words.invalid,
      };
    });
    const shown = page.shown;
    const timeZones = TIME_ZONES.includes(shown.timeZone) ? TIME_ZONES : [shown.timeZone, ...TIME_ZONES];
    return send(
      reply,
      page.status,
      template({
        lang: locale,
        t,
        title: t.title,
        signedIn: true,
        user: page.userId,
        csrf,
        confirm,
        saved: page.saved_,
        problem: page.problem ? t[page.problem] : undefined,
        errors,
        fieldErrors: Object.fromEntries(errors.map((error) => [error.key, error.message])),
        values: {
          emailEnabled: shown.email.enabled,
          emailAddress: shown.email.address ?? '',
          emailAttachReport: shown.email.attachReport ?? page.saved.email.attachReport,
          smsEnabled: shown.sms?.enabled,
          smsNumber: shown.sms?.number ?? '',
          xmppEnabled: shown.xmpp?.enabled,
          xmppJid: shown.xmpp?.jid ?? '',
          emailResults: resultOptions(t, resultsShown(shown, 'email')),
          smsResults: resultOptions(t, resultsShown(shown, 'sms')),
          xmppResults: resultOptions(t, resultsShown(shown, 'xmpp')),
          smsQuietStart: shown.sms?.quietHours?.start ?? '',
          smsQuietEnd: shown.sms?.quietHours?.end ?? '',
          xmppQuietStart: shown.xmpp?.quietHours?.start ?? '',
          xmppQuietEnd: shown.xmpp?.quietHours?.end ?? '',
          notifyAll: shown.notifyOn !== 'failures',
          notifyFailures: shown.notifyOn === 'failures',
          inboundOn: (shown.notifyInbound ?? page.saved.notifyInbound) !== 'off',
          inboundOff: (shown.notifyInbound ?? page.saved.notifyInbound) === 'off',
          summary: summaryValues({ ...page.saved.summary, ...shown.summary }, locale),
          locales: LOCALES.map((code) => ({ code, name: LANGUAGE_NAMES[code], selected: code === shown.locale })),
          timeZones: timeZones.filter(Boolean).map((name) => ({ name, selected: name === shown.timeZone })),
        },
      }),
    );
  };

  void app.register(async (scope) => {
    // A form posted without a valid CSRF token (another site's forged post, or a form left open past
    // the token's life) is shown again saying it expired; nothing is saved and no one is signed in.
    scope.setErrorHandler(async (error, request, reply) => {
      if (!isCsrfRefusal(error)) throw error;
      const form = (request.body ?? {}) as FormBody;
      const token = await sessionViewer(auth, request);
      const path = request.url.split('?')[0];
      const onSettings = path === SETTINGS_PATH || path?.startsWith(`${SETTINGS_PATH}/`);
      if (!onSettings || !token) return signedOutPost(request, reply, STRINGS[lang(request)].expired);
      const saved = await store.current(token.userId);
      // The confirmation forms carry no settings: the page shows the saved ones.
      const shown = path === SETTINGS_PATH ? formToInput(form) : saved;
      return settingsPage(request, reply, { status: 403, userId: token.userId, saved, shown, problem: 'expired' });
    });
    const checkCsrf = csrfCheck(app, auth);

    scope.get('/assets/pages.css', async (_request, reply) =>
      reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css),
    );

    scope.get<{ Querystring: { saved?: string } }>(SETTINGS_PATH, async (request, reply) => {
      const token = await sessionViewer(auth, request);
      if (!token) return toSignIn(request, reply);
      const saved = await store.current(token.userId);
      return settingsPage(request, reply, { status: 200, userId: token.userId, saved, shown: saved, saved_: request.query.saved === '1' });
    });

    scope.post<{ Body: FormBody & SettingsInput }>(
      SETTINGS_PATH,
      {
        schema: { body: settingsBodySchema },
        attachValidation: true,
        // The CSRF check reads the form as posted (a bearer request needs none: no other site can send one);
        // then the form's flat fields become the settings' shape, so the API's schema checks them too.
        preValidation: [
          ...checkCsrf,
          async (request) => {
            const form = (request.body ?? {}) as FormBody;
            (request as FastifyRequest & { form?: FormBody }).form = form;
            request.body = formToInput(form) as FormBody & SettingsInput;
          },
        ],
      },
      async (request, reply) => {
        const token = await sessionViewer(auth, request);
        if (!token) return signedOutPost(request, reply);
        const form = (request as FastifyRequest & { form?: FormBody }).form ?? {};
        const shown = formToInput(form);
        const saved = await store.current(token.userId);
        const invalid = request.validationError as (Error & { validation?: Array<{ instancePath?: string; params?: Record<string, unknown> }> }) | undefined;
        if (invalid) {
          const field = fieldOfSchemaError(invalid.validation?.[0] ?? {});
          return settingsPage(request, reply, { status: 400, userId: token.userId, saved, shown, errors: [{ field, message: invalid.message }] });
        }
        const result = await store.update(token.userId, request.body);
        if ('error' in result) return settingsPage(request, reply, { status: 400, userId: token.userId, saved, shown, errors: [result.error] });
        return reply.code(303).header('location', `${SETTINGS_PATH}?saved=1`).send();
      },
    );

    if (options.confirmations) {
      registerConfirmationForms(scope, {
        confirmations: options.confirmations,
        auth,
        checkCsrf,
        settingsPath: SETTINGS_PATH,
        signIn: (request, reply) => signedOutPost(request, reply),
        show: async (request, reply, page) => {
          const saved = await store.current(page.userId);
          return settingsPage(request, reply, { status: page.status, userId: page.userId, saved, shown: saved, confirmation: page.message });
        },
      });
    }
  });
}
