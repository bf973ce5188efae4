import {
  AGGREGATE_LABELS,
  FINAL_STATUS_INFO,
  NO_SUBJECT,
  PROGRESS_LABELS,
  isFinalStatus,
  type AggregateState,
  type Locale,
  type ProgressStatus,
} from '@faxnotify/contracts';
import {
  csrfCheck,
  csrfToken,
  isCsrfRefusal,
  plainText,
  safeNext,
  sessionViewer,
  type Logger,
  type VerifiedToken,
  type createHttpServer,
} from '@faxnotify/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { AuthOptions } from '../auth';
import { isTimeZone } from '../config';
import { CATEGORIES, decodeCursor, listFaxes, loadFax, type Category, type FaxRecord, type Sender } from '../folder';
import { faxScopeOf } from '../offices/scope';
import type { LinkTokens } from '../links';
import type { NoticeRow, TrackerDatabase } from '../schema';
import { registerInboxPages } from '../inbox/pages';
import { reportPath } from '../report/api';
import { REPORT_STRINGS } from '../report/strings';
import { pageSearch } from '../search/form';
import { registerLinkPages } from './links';
import { LINK_STRINGS, type LinkStrings } from './link-strings';
import { LIVE_SCRIPT } from './live-script';
import { registerResendPages, resendPageData, type ResendPageOptions } from './resend';
import { PageRenderer, type LayoutData, type PageName } from './render';
import { SENT_FOLDER, registerPagesSignIn, type PagesSignInOptions } from './sign-in';
import { PAGE_STRINGS, fill, isLocale, pickLocale, type PageStrings } from './strings';

type HttpServer = ReturnType<typeof createHttpServer>;

export interface PagesOptions {
  db: Kysely<TrackerDatabase>;
  auth: AuthOptions;
  /** Time zone of the times shown when the token has no `tz` claim. */
  defaultTimeZone: string;
  /** A final fax's page keeps its live stream this long after it became final (notices still arrive). */
  liveTailMs?: number;
  renderer?: PageRenderer;
  /** Notice link tokens (links.tokens on): `/l/:token` and the grants it gives; absent, every link asks for a sign-in. */
  links?: LinkTokens;
  /** What "sign out all links" revokes with, also while link tokens are off; `links` when absent. */
  linkRevoker?: LinkTokens;
  /** Where the link routes say what links were opened, refused or signed out (never a token). */
  logger?: Logger;
  /** OpenID Connect sign-in (auth.oidc); absent or without an issuer, signed-out visitors are told how to use the API instead. */
  signIn?: PagesSignInOptions;
  /** "Resend to the failed" on the fax page (pages/resend.ts); absent, the page only shows the resends' links. */
  resend?: ResendPageOptions;
  now?: () => Date;
}

const FOLDER_PAGE = 25;
const LANG_COOKIE = 'faxnotify_lang';
const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', ru: 'Русский', it: 'Italiano' };

export interface PageContext {
  locale: Locale;
  t: PageStrings;
  /** The notice links' words. */
  l: LinkStrings;
  tz: string;
  viewer: VerifiedToken | null;
  time: (iso: string | null | undefined) => string;
}

/**
 * The owner's pages: the Sent folder (`GET /faxes`), one fax (`GET /faxes/:faxId`, the target of
 * every notice's deep link), and the sign-in pages (pages/sign-in.ts). Rendered on the
 * server, complete without JavaScript; the fax page's script only adds live updates.
 *
 * Signed out, a page redirects to sign-in with the page as `next`, and sign-in comes back to it.
 * Another user's fax answers 404, the same page as a fax that does not exist.
 *
 * Language: `?lang=` (remembered in a cookie), else the token's `locale` claim, else the
 * browser's Accept-Language, else English. Time zone: the token's `tz` claim, else the default.
 */
export function registerPages(app: HttpServer, options: PagesOptions): void {
  const { db, auth } = options;
  const renderer = options.renderer ?? new PageRenderer();
  const now = options.now ?? (() => new Date());
  const tailMs = options.liveTailMs ?? 60_000;

  const contextOf = async (request: FastifyRequest, reply: FastifyReply): Promise<PageContext> => {
    const query = request.query as { lang?: unknown };
    const viewer = await sessionViewer(auth, request);
    if (isLocale(query.lang)) reply.setCookie(LANG_COOKIE, query.lang, { path: '/', maxAge: 31536000, sameSite: 'lax' });
    const locale = pickLocale({
      query: query.lang,
      cookie: request.cookies[LANG_COOKIE],
      claim: viewer?.locale,
      acceptLanguage: request.headers['accept-language'],
    });
    const t = PAGE_STRINGS[locale];
    const tz = viewer?.tz && isTimeZone(viewer.tz) ? viewer.tz : options.defaultTimeZone;
    const format = new Intl.DateTimeFormat(t.dateLocale, { dateStyle: 'medium', timeStyle: 'short', timeZone: tz });
    return { locale, t, l: LINK_STRINGS[locale], tz, viewer, time: (iso) => (iso ? format.format(new Date(iso)) : t.dash) };
  };

  const languagesFor = (request: FastifyRequest, locale: Locale) => {
    const url = new URL(request.url, 'http://page.invalid');
    return (Object.keys(LANGUAGE_NAMES) as Locale[]).map((code) => {
      url.searchParams.set('lang', code);
      return { code, name: LANGUAGE_NAMES[code], href: `${url.pathname}${url.search}`, current: code === locale };
    });
  };

  // The security headers and the content security policy come from the kit's helmet set-up; a page is never cached.
  // Every page's forms (sign-in, sign-out) carry a CSRF token for this browser and viewer.
  const send = (
    reply: FastifyReply,
    request: FastifyRequest,
    context: PageContext,
    page: PageName,
    data: Record<string, unknown>,
    layout: Partial<LayoutData> & { title: string },
    code = 200,
  ) => {
    const csrf = csrfToken(reply, context.viewer?.userId);
    return reply
      .code(code)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(
        renderer.render(
          page,
          { ...data, csrf, l: context.l },
          { t: context.t, signedIn: context.viewer !== null, csrf, languages: languagesFor(request, context.locale), ...layout },
        ),
      );
  };

  // Sign-in (pages/sign-in.ts): the kit's OpenID Connect routes under /auth/, with the pages' look.
  const signIn = registerPagesSignIn(app, auth, options.signIn, { contextOf, send, logger: options.logger });
  const { toSignIn } = signIn;

  void app.register(async (scope) => {
    // A form posted without a valid CSRF token (another site's forged post, or a page left open
    // past the token's life) gets the sign-in page, saying the form expired; nothing changes.
    scope.setErrorHandler(async (error, request, reply) => {
      if (!isCsrfRefusal(error)) throw error;
      return signIn.formExpired(request, reply, safeNext((request.body as { next?: unknown } | undefined)?.next, SENT_FOLDER));
    });
    const checkCsrf = csrfCheck(app, auth);

    scope.get('/assets/pages.css', async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(renderer.css),
    );
    scope.get('/assets/fax-live.js', async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(LIVE_SCRIPT),
    );
    scope.get('/', async (_request, reply) => reply.redirect('/faxes', 303));
    // Browsers ask for an icon on every page; answering "none" (not 404) keeps their consoles clean.
    scope.get('/favicon.ico', async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());

    registerLinkPages(scope, {
      links: options.links,
      revoker: options.linkRevoker,
      logger: options.logger,
      contextOf,
      send,
      checkCsrf,
      signInHref: signIn.signInHref,
    });

    registerInboxPages(scope, { db, contextOf, send, toSignIn, now });
    if (options.resend) registerResendPages(scope, { ...options.resend, contextOf, checkCsrf, toSignIn, logger: options.logger });

    scope.get<{ Querystring: Record<string, string | undefined> }>('/faxes', async (request, reply) => {
      const context = await contextOf(request, reply);
      if (!context.viewer) return toSignIn(request, reply);
      const { t, locale } = context;
      const category = (CATEGORIES as readonly string[]).includes(request.query.category ?? '') ? (request.query.category as Category) : undefined;
      const cursor = request.query.cursor ? (decodeCursor(request.query.cursor) ?? undefined) : undefined;
      // A search (search/form.ts) is kept in the query string, so it is a link; the tabs and the paging keep it.
      const search = pageSearch('sent', request.query, context, category ? { category } : {});
      // An office admin's (or a shared office's) folder holds every member's faxes, with who sent each.
      const scope = await faxScopeOf(db, context.viewer.userId);
      const { entries, nextCursor } = await listFaxes(db, { owner: scope, limit: FOLDER_PAGE, cursor, category, filters: search.filters });
      const withSearch = (first: Record<string, string>) => {
        const query = [new URLSearchParams(first).toString(), search.query].filter(Boolean).join('&');
        return query ? `/faxes?${query}` : '/faxes';
      };
      const data = {
        categories: (['all', 'outbox', 'sent'] as const).map((key) => ({
          label: t.categories[key],
          href: withSearch(key === 'all' ? {} : { category: key }),
          current: (category ?? 'all') === key,
        })),
        search: search.form,
        noMatch: search.noMatch,
        showSender: scope.officeId !== null,
        entries: entries.map(({ fax, recipients, sender }) => {
          const subject = plainText(fax.subject, 200);
          return {
            href: `/faxes/${encodeURIComponent(fax.id)}`,
            subject: subject || NO_SUBJECT[locale],
            hasSubject: subject !== '',
            state: fax.state,
            stateLabel: AGGREGATE_LABELS[locale][fax.state as AggregateState] ?? fax.state,
            submitted: context.time(fax.submitted_at),
            submittedIso: fax.submitted_at,
            recipients: recipients.numbers.slice(0, 3).join(', '),
            more: recipients.total > 3 ? fill(t.recipientsMore, { n: recipients.total - 3 }) : '',
            finished: fill(t.finishedOf, { final: recipients.final, total: recipients.total }),
            pages: fax.pages ?? t.dash,
            sentBy: senderLabel(sender, context),
          };
        }),
        paging: Boolean(nextCursor || cursor),
        olderHref: nextCursor ? withSearch({ ...(category ? { category } : {}), cursor: nextCursor }) : '',
        newestHref: cursor ? withSearch(category ? { category } : {}) : '',
        timesIn: fill(t.timesIn, { tz: context.tz }),
        linksRevoked: /^\d{1,9}$/.test(request.query.linksRevoked ?? '') ? fill(context.l.revoked, { n: Number(request.query.linksRevoked) }) : '',
      };
      return send(reply, request, context, 'sent', data, { title: t.sentFolder, inFolder: true });
    });

    scope.get<{ Params: { faxId: string }; Querystring: { resent?: string; resendRefused?: string } }>('/faxes/:faxId', async (request, reply) => {
      const context = await contextOf(request, reply);
      const { faxId } = request.params;
      let record = context.viewer ? await loadFax(db, await faxScopeOf(db, context.viewer.userId), faxId) : undefined;
      // A notice link's grant (pages/links.ts) opens this one fax as its owner sees it, signed in or not.
      const grant = record ? null : ((await options.links?.grantFor(request, faxId)) ?? null);
      if (grant) record = await loadFax(db, grant.ownerId, faxId);
      if (!record && !context.viewer) return toSignIn(request, reply);
      if (!record) return send(reply, request, context, 'not-found', {}, { title: context.t.notFoundTitle }, 404);
      const data: Record<string, unknown> = {
        ...faxPageData(record, context, now(), tailMs),
        viaLink: grant !== null && context.viewer === null,
        signInHref: signIn.signInHref(SENT_FOLDER),
        resend: await resendPageData(db, record, context, request.query, grant !== null && context.viewer === null),
      };
      return send(reply, request, context, 'fax', data, { title: String(data.subject), script: data.eventsUrl ? '/assets/fax-live.js' : undefined });
    });
  });
}

/** Who sent a fax, as the folder and the fax page name them: "you", else the display name, else the user id. */
const senderLabel = (sender: Sender, context: PageContext): string =>
  sender.userId === context.viewer?.userId ? context.t.sentByYou : plainText(sender.name, 100) || plainText(sender.userId, 128);

/** A notice's SMS parts, provider status and SMTP reply, from the outcome's fields (never read out of its reason). */
function noticeFactLines(notice: NoticeRow, t: PageStrings): string[] {
  const lines: string[] = [];
  if (notice.sms_segments !== null && notice.sms_encoding !== null)
    lines.push(fill(t.noticeFacts.sms, { segments: notice.sms_segments, encoding: plainText(notice.sms_encoding, 8) }));
  if (notice.provider_status !== null) {
    const status = plainText(notice.provider_status, 64);
    lines.push(
      notice.provider_error_code
        ? fill(t.noticeFacts.providerError, { status, code: plainText(notice.provider_error_code, 64) })
        : fill(t.noticeFacts.provider, { status }),
    );
  }
  if (notice.smtp_code !== null) lines.push(fill(t.noticeFacts.smtp, { code: notice.smtp_code }));
  return lines;
}

/** Everything the fax page shows, in the viewer's language and time zone. */
function faxPageData(record: FaxRecord, context: PageContext, now: Date, tailMs: number): Record<string, unknown> {
  const { fax, recipients, notices, webhooks } = record;
  const { t, locale, time } = context;
  const subject = plainText(fax.subject, 300);
  const listed = recipients.filter((r) => r.position !== null);
  const numberOf = new Map(recipients.map((r) => [r.recipient_id, r.number]));
  const inProgress = fax.state === 'in_progress';
  const live = inProgress || (fax.final_at !== null && now.getTime() - Date.parse(fax.final_at) < tailMs);
  let files: Array<{ name: string }> = [];
  try {
    files = fax.files_json ? (JSON.parse(fax.files_json) as typeof files) : [];
  } catch {
    files = [];
  }
  return {
    subject: subject || NO_SUBJECT[locale],
    hasSubject: subject !== '',
    state: fax.state,
    stateLabel: AGGREGATE_LABELS[locale][fax.state as AggregateState] ?? fax.state,
    finished: fill(t.finishedOf, { final: listed.filter((r) => r.final === 1).length, total: listed.length }),
    submitted: time(fax.submitted_at),
    submittedIso: fax.submitted_at,
    from: fax.from_number ?? '',
    // An office colleague's fax says whose it is, and leaves out the owner's webhook section.
    sentBy: record.own ? '' : senderLabel(record.sender, context),
    colleague: !record.own,
    cost: fax.cost === null ? '' : new Intl.NumberFormat(locale, { maximumFractionDigits: 4 }).format(fax.cost),
    pages: fax.pages ?? t.dash,
    files: files.map((f) => plainText(f.name, 120)).join(', '),
    inProgress,
    eventsUrl: live ? `/v1/faxes/${encodeURIComponent(fax.id)}/events` : '',
    // The confirmation report in the page's language and time zone (report/api.ts).
    reportHref: `${reportPath(fax.id)}?lang=${locale}&tz=${encodeURIComponent(context.tz)}`,
    reportLink: REPORT_STRINGS[locale].link,
    selfHref: `/faxes/${encodeURIComponent(fax.id)}`,
    recipients: recipients.map((r) => {
      const final = r.final === 1 && isFinalStatus(r.status);
      const info = final ? FINAL_STATUS_INFO[r.status as keyof typeof FINAL_STATUS_INFO] : undefined;
      const text = info?.text[locale];
      const detail = plainText(r.reason_detail, 400);
      return {
        id: r.recipient_id,
        number: r.number,
        listed: r.position !== null,
        outcome: info ? info.outcome : 'in_progress',
        statusLabel: text?.label ?? PROGRESS_LABELS[locale][r.status as ProgressStatus] ?? r.status,
        description: text?.description ?? '',
        advice: info && info.outcome !== 'delivered' ? text!.advice : '',
        retryAt: r.status === 'retry_scheduled' && r.retry_at ? fill(t.retryAt, { time: time(r.retry_at) }) : '',
        reason: r.reason_code ? `${plainText(r.reason_code, 64)}${detail ? ` — ${detail}` : ''}` : '',
        pages: fill(t.pagesOf, { sent: r.pages_sent, total: r.pages_total }),
        csid: r.remote_csid ? plainText(r.remote_csid, 64) || t.dash : t.dash,
        started: time(r.started_at),
        startedIso: r.started_at ?? '',
        ended: final ? time(r.ended_at) : t.dash,
        endedIso: final ? (r.ended_at ?? '') : '',
        attempts: r.attempts ?? (r.attempt > 0 ? r.attempt : t.dash),
      };
    }),
    notices: notices.map((n) => ({
      number: numberOf.get(n.recipient_id) ?? n.recipient_id,
      channel: t.channels[n.channel] ?? n.channel,
      outcome: n.outcome,
      outcomeLabel: t.noticeOutcomes[n.outcome] ?? n.outcome,
      address: plainText(n.address, 120) || t.dash,
      at: time(n.at),
      atIso: n.at,
      reason: [plainText(n.reason, 300), ...noticeFactLines(n, t)].filter(Boolean).join(' · ') || t.dash,
    })),
    webhooks: webhooks.map((w) => ({
      number: numberOf.get(w.recipient_id) ?? w.recipient_id,
      status: w.status,
      statusLabel: t.webhookStatuses[w.status === 'pending' && w.attempts === 0 ? 'queued' : w.status] ?? w.status,
      attempts: w.attempts,
      last:
        w.attempts === 0
          ? t.dash
          : `${w.last_status_code !== null ? `HTTP ${w.last_status_code}` : plainText(w.last_error, 200)}${w.delivered_at ? ` · ${time(w.delivered_at)}` : ''}`,
      next: w.status === 'pending' && w.next_attempt_at ? time(w.next_attempt_at) : t.dash,
      log: w.log.map((a) => ({ at: time(a.at), atIso: a.at, answer: a.status_code !== null ? `HTTP ${a.status_code}` : plainText(a.error, 200) })),
    })),
    timesIn: fill(t.timesIn, { tz: context.tz }),
  };
}
