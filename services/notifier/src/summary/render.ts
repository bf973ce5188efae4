import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Handlebars from 'handlebars';
import { AGGREGATE_LABELS, NO_SUBJECT, describeStatus, type AggregateState, type DeliveryFaxFinal, type Locale } from '@faxnotify/contracts';
import { plainText } from '@faxnotify/kit';
import { SMS_MAX_SEGMENTS, shortenForSms, smsSize } from '../channels/sms/segments';
import type { Channel } from '../channels/types';
import { BODY_SUBJECT_MAX, TITLE_SUBJECT_MAX, formatShortTime, formatTime, pagesPhrase, type RenderedParts } from '../render';

const TEMPLATES_ROOT = dirname(require.resolve('@faxnotify/templates/package.json'));
const CSID_MAX = 40;

/** One recipient's row of a summary. */
export interface SummaryRow {
  number: string;
  /** The answering fax's identity, strangers' text made plain; null when the line gave none. */
  csid: string | null;
  outcome: 'delivered' | 'partial' | 'failed';
  delivered: boolean;
  status: { code: string; label: string };
  pages: { sent: number; total: number; text: string };
  attempts: number | null;
  ended: string | null;
}

export interface SummaryContext {
  state: Exclude<AggregateState, 'in_progress'>;
  stateLabel: string;
  subject: string;
  titleSubject: string;
  hasSubject: boolean;
  counts: { total: number; delivered: number; partial: number; failed: number };
  rows: SummaryRow[];
  times: { completed: string | null; completedShort: string | null; timeZone: string };
  links: { fax: string; settings: string };
}

/** Everything a summary template may show, from the fax's final event and the owner's locale and time zone. */
export function summaryContext(event: DeliveryFaxFinal, options: { locale: Locale; timeZone: string; settingsUrl: string }): SummaryContext {
  const { locale, timeZone } = options;
  const rows = event.recipients.map((r): SummaryRow => {
    const status = describeStatus(r.status, locale);
    return {
      number: r.number,
      csid: plainText(r.remoteCsid, CSID_MAX) || null,
      outcome: status.outcome,
      delivered: status.outcome === 'delivered',
      status: { code: r.status, label: status.label },
      pages: { sent: r.pagesSent, total: r.pagesTotal, text: pagesPhrase(locale, r.pagesSent, r.pagesTotal) },
      attempts: r.attempts,
      ended: formatTime(r.endedAt, locale, timeZone),
    };
  });
  const count = (outcome: SummaryRow['outcome']) => rows.filter((r) => r.outcome === outcome).length;
  const subject = plainText(event.subject, BODY_SUBJECT_MAX);
  // The tracker sends the final event only once every recipient is final.
  const state = event.state === 'in_progress' ? 'partial' : event.state;
  return {
    state,
    stateLabel: AGGREGATE_LABELS[locale][state],
    subject: subject || NO_SUBJECT[locale],
    titleSubject: plainText(event.subject, TITLE_SUBJECT_MAX) || NO_SUBJECT[locale],
    hasSubject: subject.length > 0,
    counts: { total: rows.length, delivered: count('delivered'), partial: count('partial'), failed: count('failed') },
    rows,
    times: { completed: formatTime(event.completedAt, locale, timeZone), completedShort: formatShortTime(event.completedAt, locale, timeZone), timeZone },
    links: { fax: event.links.fax, settings: options.settingsUrl },
  };
}

type Part = 'summary-subject' | 'summary-text' | 'summary-html';
const PARTS: Record<Channel, Part[]> = {
  email: ['summary-subject', 'summary-text', 'summary-html'],
  sms: ['summary-text'],
  xmpp: ['summary-text'],
};

const compiled = new Map<string, Handlebars.TemplateDelegate<SummaryContext>>();
// As for the other notices: the HTML part is escaped by Handlebars; plain-text parts get values already free of control characters.
const engine = Handlebars.create();

function template(channel: Channel, locale: Locale, part: Part): Handlebars.TemplateDelegate<SummaryContext> {
  const key = `${channel}/${locale}/${part}`;
  let found = compiled.get(key);
  if (!found) {
    found = engine.compile<SummaryContext>(readFileSync(join(TEMPLATES_ROOT, channel, locale, `${part}.hbs`), 'utf8'), {
      noEscape: part !== 'summary-html',
      strict: true,
    });
    compiled.set(key, found);
  }
  return found;
}

const renderText = (channel: Channel, locale: Locale, context: SummaryContext): string =>
  template(
    channel,
    locale,
    'summary-text',
  )(context)
    .replace(/\n{3,}/g, '\n\n')
    .trim();

/** Renders a fax summary's parts for a channel and locale from templates/<channel>/<locale>/summary-*.hbs. */
export function renderSummary(channel: Channel, locale: Locale, context: SummaryContext): RenderedParts {
  if (channel === 'sms') return fitSummarySms(locale, context);
  const parts = PARTS[channel];
  return {
    title: parts.includes('summary-subject') ? plainText(template(channel, locale, 'summary-subject')(context), 250) : '',
    text: renderText(channel, locale, context),
    ...(parts.includes('summary-html') ? { html: template(channel, locale, 'summary-html')(context) } : {}),
  };
}

/**
 * An SMS summary within SMS_MAX_SEGMENTS parts: the counts and the link always; the fax subject
 * gives way (the longest that fits, cut with "..."), then the time; only then is the text cut.
 */
function fitSummarySms(locale: Locale, context: SummaryContext): RenderedParts {
  const fitted = (text: string): RenderedParts => {
    const size = smsSize(text);
    return { title: '', text, sms: { encoding: size.encoding, segments: size.segments } };
  };
  const fits = (text: string) => smsSize(text).segments <= SMS_MAX_SEGMENTS;
  const subject = context.hasSubject ? context.subject.replace(/…$/, '...') : context.subject;
  const withoutTime = { ...context, times: { ...context.times, completedShort: null } };
  for (const variant of [context, withoutTime]) {
    const full = renderText('sms', locale, { ...variant, subject });
    if (fits(full)) return fitted(full);
    if (!context.hasSubject) continue;
    // Parts only grow with the subject's length: bisect for the longest that fits.
    let [low, high] = [0, [...subject].length - 1];
    let found: string | undefined;
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      const candidate = renderText('sms', locale, { ...variant, subject: shortenForSms(subject, middle) });
      if (fits(candidate)) {
        found = candidate;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (found) return fitted(found);
  }
  const chars = [...renderText('sms', locale, { ...withoutTime, subject: '' })];
  while (chars.length > 0 && !fits(chars.join(''))) chars.pop();
  return fitted(chars.join('').trimEnd());
}
