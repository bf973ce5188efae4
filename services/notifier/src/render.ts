import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Handlebars from 'handlebars';
import { NO_SUBJECT, OUTCOME_LABELS, describeStatus, type DeliveryRecipientFinal, type Locale } from '@faxnotify/contracts';
import { RecentMap, plainText } from '@faxnotify/kit';
import { SMS_MAX_SEGMENTS, shortenForSms, smsSize } from './channels/sms/segments';
import type { Channel, SmsEncoding } from './channels/types';

const TEMPLATES_ROOT = dirname(require.resolve('@faxnotify/templates/package.json'));

/** Longest fax subject shown in a title (email Subject, SMS); the body shows more. */
export const TITLE_SUBJECT_MAX = 120;
export const BODY_SUBJECT_MAX = 500;
const CSID_MAX = 40;
const DETAIL_MAX = 300;

const PAGE_WORDS: Record<Locale, (n: number) => string> = {
  en: (n) => (n === 1 ? 'page' : 'pages'),
  ru: () => 'стр.',
  it: (n) => (n === 1 ? 'pagina' : 'pagine'),
};
const OF: Record<Locale, string> = { en: 'of', ru: 'из', it: 'di' };

/** "3 pages" / "3 стр." / "3 pagine" when every page went; "2 of 3 pages" / "2 из 3 стр." / "2 di 3 pagine" otherwise. */
export function pagesPhrase(locale: Locale, sent: number, total: number): string {
  return sent === total ? `${sent} ${PAGE_WORDS[locale](sent)}` : `${sent} ${OF[locale]} ${total} ${PAGE_WORDS[locale](total)}`;
}

/**
 * One formatter per locale, time zone and style: building an Intl.DateTimeFormat costs far more
 * than formatting with it, and every notice formats three times. Only zones Intl accepts get here
 * (an unknown one throws before it is kept), so the map stays as small as the zones in use.
 */
interface TimeFormatter {
  format: Intl.DateTimeFormat;
  /**
   * The texts of the last minutes formatted (ms since the epoch / 60,000), oldest first: a burst of
   * notices formats the same few minutes (submitted, started, ended) over and over.
   */
  minutes: RecentMap<number, string>;
}
const MINUTES_KEPT = 16;
const formatters = new Map<string, TimeFormatter>();
function formatterFor(style: 'full' | 'short', locale: Locale, timeZone: string): TimeFormatter {
  const key = `${style} ${locale} ${timeZone}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    const options: Intl.DateTimeFormatOptions =
      style === 'full'
        ? { dateStyle: 'medium', timeStyle: 'short', timeZone }
        : { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', timeZone };
    formatter = { format: new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : locale, options), minutes: new RecentMap(MINUTES_KEPT) };
    formatters.set(key, formatter);
  }
  return formatter;
}

/**
 * Since 1972 every zone's offset from UTC is a whole number of minutes, so two instants in the
 * same UTC minute show the same local minute; neither style shows seconds. Earlier instants are
 * formatted every time.
 */
const WHOLE_MINUTE_OFFSETS_SINCE = Date.UTC(1972, 0, 1);

function formatAt(formatter: TimeFormatter, iso: string): string {
  const at = new Date(iso);
  const time = at.getTime();
  const minute = Math.floor(time / 60_000);
  const known = formatter.minutes.get(minute);
  if (known !== undefined) return known;
  const text = formatter.format.format(at);
  if (time >= WHOLE_MINUTE_OFFSETS_SINCE) {
    formatter.minutes.set(minute, text);
  }
  return text;
}

export function formatTime(iso: string | null, locale: Locale, timeZone: string): string | null {
  if (!iso) return null;
  return formatAt(formatterFor('full', locale, timeZone), iso);
}

/** Day, month and time only ("22/11, 10:01"; "22.11, 12:01"): what an SMS has room for. */
export function formatShortTime(iso: string | null, locale: Locale, timeZone: string): string | null {
  if (!iso) return null;
  return formatAt(formatterFor('short', locale, timeZone), iso);
}

export interface NoticeContext {
  outcome: 'delivered' | 'partial' | 'failed';
  delivered: boolean;
  outcomeLabel: string;
  status: { code: string; label: string; description: string; advice: string };
  subject: string;
  titleSubject: string;
  hasSubject: boolean;
  recipient: { number: string; csid: string | null; display: string };
  pages: { sent: number; total: number; text: string };
  times: { submitted: string | null; started: string | null; ended: string | null; endedShort: string | null; timeZone: string };
  attempts: number;
  reason: { code: string; detail: string };
  links: { fax: string; settings: string };
}

/** Everything a template may show, derived from the event and the owner's locale and time zone. */
export function noticeContext(event: DeliveryRecipientFinal, options: { locale: Locale; timeZone: string; settingsUrl: string }): NoticeContext {
  const { locale, timeZone } = options;
  const status = describeStatus(event.status, locale);
  const subject = plainText(event.subject, BODY_SUBJECT_MAX);
  const csid = plainText(event.remoteCsid, CSID_MAX) || null;
  return {
    outcome: status.outcome,
    delivered: status.outcome === 'delivered',
    outcomeLabel: OUTCOME_LABELS[locale][status.outcome],
    status: { code: event.status, label: status.label, description: status.description, advice: status.advice },
    subject: subject || NO_SUBJECT[locale],
    titleSubject: plainText(event.subject, TITLE_SUBJECT_MAX) || NO_SUBJECT[locale],
    hasSubject: subject.length > 0,
    recipient: { number: event.number, csid, display: csid ? `${event.number} (${csid})` : event.number },
    pages: { sent: event.pagesSent, total: event.pagesTotal, text: pagesPhrase(locale, event.pagesSent, event.pagesTotal) },
    times: {
      submitted: formatTime(event.submittedAt, locale, timeZone),
      started: formatTime(event.startedAt, locale, timeZone),
      ended: formatTime(event.endedAt, locale, timeZone),
      endedShort: formatShortTime(event.endedAt, locale, timeZone),
      timeZone,
    },
    attempts: event.attempts,
    reason: { code: plainText(event.reason.code, 64), detail: plainText(event.reason.detail, DETAIL_MAX) },
    links: { fax: event.links.fax, settings: options.settingsUrl },
  };
}

type Part = 'title' | 'text' | 'html';
const FILES: Record<Channel, Partial<Record<Part, string>>> = {
  email: { title: 'subject.hbs', text: 'text.hbs', html: 'html.hbs' },
  sms: { text: 'text.hbs' },
  xmpp: { text: 'text.hbs' },
};

const compiled = new Map<string, Handlebars.TemplateDelegate<NoticeContext>>();
// Plain-text parts are not HTML: values are already free of control characters, so no escaping.
const engine = Handlebars.create();

function template(channel: Channel, locale: Locale, part: Part): Handlebars.TemplateDelegate<NoticeContext> | undefined {
  const file = FILES[channel][part];
  if (!file) return undefined;
  const key = `${channel}/${locale}/${part}`;
  let compiledTemplate = compiled.get(key);
  if (!compiledTemplate) {
    const source = readFileSync(join(TEMPLATES_ROOT, channel, locale, file), 'utf8');
    compiledTemplate = engine.compile<NoticeContext>(source, { noEscape: part !== 'html', strict: true });
    compiled.set(key, compiledTemplate);
  }
  return compiledTemplate;
}

export interface RenderedParts {
  title: string;
  text: string;
  html?: string;
  /** SMS only: the encoding and parts of the fitted text. */
  sms?: { encoding: SmsEncoding; segments: number };
}

const renderText = (channel: Channel, locale: Locale, context: NoticeContext): string =>
  template(channel, locale, 'text')!(context)
    .replace(/\n{3,}/g, '\n\n')
    .trim();

/** Renders a notice's parts for a channel and locale from templates/<channel>/<locale>/. */
export function renderNotice(channel: Channel, locale: Locale, context: NoticeContext): RenderedParts {
  if (channel === 'sms') return fitSms(locale, context);
  const title = template(channel, locale, 'title');
  const html = template(channel, locale, 'html');
  return {
    title: title ? plainText(title(context), 250) : '',
    text: renderText(channel, locale, context),
    ...(html ? { html: html(context) } : {}),
  };
}

/** Shortest subject kept while anything else can still give way. */
const SMS_MIN_SUBJECT = 16;

/**
 * An SMS within SMS_MAX_SEGMENTS parts. The fax subject gives way first (the longest that fits,
 * down to SMS_MIN_SUBJECT characters, cut with "..." so a Latin text stays GSM-7); then, step by
 * step, the remote CSID, the delivery time and the status line are left out; only then does the
 * subject shrink further, and as a last resort the text is cut.
 */
function fitSms(locale: Locale, context: NoticeContext): RenderedParts {
  const render = (variant: NoticeContext) => {
    const text = renderText('sms', locale, variant);
    return { text, size: smsSize(text) };
  };
  const fits = (result: { size: { segments: number } }) => result.size.segments <= SMS_MAX_SEGMENTS;
  const withoutCsid = { ...context, recipient: { ...context.recipient, csid: null, display: context.recipient.number } };
  const withoutTime = { ...withoutCsid, times: { ...withoutCsid.times, endedShort: null } };
  const withoutStatus = { ...withoutTime, status: { ...withoutTime.status, label: '' } };
  const levels: NoticeContext[] = [context, withoutCsid, withoutTime, withoutStatus];

  const subject = context.hasSubject ? context.subject.replace(/…$/, '...') : context.subject;
  const length = [...subject].length;
  /** The variant with the longest subject, no shorter than `min`, that fits; undefined when none does. */
  const longestFitting = (variant: NoticeContext, min: number) => {
    const full = render({ ...variant, subject });
    if (fits(full)) return full;
    if (!context.hasSubject) return undefined;
    // Parts only grow with the subject's length: bisect for the longest that fits.
    let [low, high] = [Math.min(min, length), length - 1];
    let found: ReturnType<typeof render> | undefined;
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      const candidate = render({ ...variant, subject: shortenForSms(subject, middle) });
      if (fits(candidate)) {
        found = candidate;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  };

  let best: ReturnType<typeof render> | undefined;
  for (const level of levels) {
    best = longestFitting(level, SMS_MIN_SUBJECT);
    if (best) break;
  }
  best ??= longestFitting(withoutStatus, 0);
  if (!best) {
    const chars = [...render({ ...withoutStatus, subject: '' }).text];
    while (chars.length > 0 && smsSize(chars.join('')).segments > SMS_MAX_SEGMENTS) chars.pop();
    const text = chars.join('').trimEnd();
    best = { text, size: smsSize(text) };
  }
  return { title: '', text: best.text, sms: { encoding: best.size.encoding, segments: best.size.segments } };
}
