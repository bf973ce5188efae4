import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Handlebars from 'handlebars';
import type { DeliveryFaxReceived, Locale, ReceiveStatus } from '@faxnotify/contracts';
import { plainText } from '@faxnotify/kit';
import { SMS_MAX_SEGMENTS, smsSize } from './channels/sms/segments';
import type { Channel } from './channels/types';
import { formatShortTime, formatTime, pagesPhrase, type RenderedParts } from './render';

const TEMPLATES_ROOT = dirname(require.resolve('@faxnotify/templates/package.json'));
const CSID_MAX = 40;
const DETAIL_MAX = 300;

/** How a received fax ended, in each locale: its label and what it means for the owner. */
const STATUS_WORDS: Record<Locale, Record<ReceiveStatus, { label: string; description: string }>> = {
  en: {
    success: { label: 'Received', description: 'Every page arrived.' },
    partially_received: {
      label: 'Partly received',
      description:
        'The call ended before the sender had finished: the pages that arrived are kept, but some may be missing. If the fax looks incomplete, ask the sender to send it again.',
    },
    failed: { label: 'Not received', description: 'No page arrived. Ask the sender to send the fax again.' },
  },
  ru: {
    success: { label: 'Принят', description: 'Получены все страницы.' },
    partially_received: {
      label: 'Принят частично',
      description:
        'Связь прервалась раньше, чем отправитель закончил: полученные страницы сохранены, но части может не хватать. Если факс неполный, попросите отправителя прислать его ещё раз.',
    },
    failed: { label: 'Не принят', description: 'Не получено ни одной страницы. Попросите отправителя прислать факс ещё раз.' },
  },
  it: {
    success: { label: 'Ricevuto', description: 'Sono arrivate tutte le pagine.' },
    partially_received: {
      label: 'Ricevuto in parte',
      description:
        'La chiamata si è chiusa prima che il mittente finisse: le pagine arrivate sono conservate, ma alcune possono mancare. Se il fax sembra incompleto, chiedi al mittente di inviarlo di nuovo.',
    },
    failed: { label: 'Non ricevuto', description: 'Non è arrivata nessuna pagina. Chiedi al mittente di inviare di nuovo il fax.' },
  },
};

/** What stands for a caller the line could not name. */
const UNKNOWN_NUMBER: Record<Locale, string> = { en: 'an unknown number', ru: 'неизвестного номера', it: 'numero sconosciuto' };

export interface ReceivedContext {
  status: { code: ReceiveStatus; label: string; description: string };
  received: boolean;
  partial: boolean;
  failed: boolean;
  /** The caller as the line reported it, and the sender's CSID (TSI), both strangers' text made plain. */
  sender: { number: string; known: boolean; csid: string | null; display: string };
  /** Our number that was called, when the line or provider said. */
  called: string | null;
  pages: { count: number; text: string };
  times: { received: string | null; receivedShort: string | null; timeZone: string };
  reason: { code: string; detail: string };
  /** Whether the email carries the PDF (else the link is the way to it). */
  attached: boolean;
  links: { fax: string; settings: string };
}

/** Everything an inbound notice may show, derived from the event and the owner's locale and time zone. */
export function receivedContext(event: DeliveryFaxReceived, options: { locale: Locale; timeZone: string; settingsUrl: string }): ReceivedContext {
  const { locale, timeZone } = options;
  const number = plainText(event.callerNumber, 32);
  const csid = plainText(event.remoteCsid, CSID_MAX) || null;
  const shownNumber = number || UNKNOWN_NUMBER[locale];
  return {
    status: { code: event.status, ...STATUS_WORDS[locale][event.status] },
    received: event.status === 'success',
    partial: event.status === 'partially_received',
    failed: event.status === 'failed',
    sender: { number: shownNumber, known: number.length > 0, csid, display: csid ? `${shownNumber} (${csid})` : shownNumber },
    called: plainText(event.calledNumber, 32) || null,
    pages: { count: event.pagesReceived, text: pagesPhrase(locale, event.pagesReceived, event.pagesReceived) },
    times: { received: formatTime(event.receivedAt, locale, timeZone), receivedShort: formatShortTime(event.receivedAt, locale, timeZone), timeZone },
    reason: { code: plainText(event.reason.code, 64), detail: plainText(event.reason.detail, DETAIL_MAX) },
    attached: event.document !== undefined,
    links: { fax: event.links.fax, settings: options.settingsUrl },
  };
}

type Part = 'received-subject' | 'received-text' | 'received-html';
const PARTS: Record<Channel, Part[]> = {
  email: ['received-subject', 'received-text', 'received-html'],
  sms: ['received-text'],
  xmpp: ['received-text'],
};

const compiled = new Map<string, Handlebars.TemplateDelegate<ReceivedContext>>();
// As for the other notices: the HTML part is escaped by Handlebars; plain-text parts get values already free of control characters.
const engine = Handlebars.create();

function template(channel: Channel, locale: Locale, part: Part): Handlebars.TemplateDelegate<ReceivedContext> {
  const key = `${channel}/${locale}/${part}`;
  let found = compiled.get(key);
  if (!found) {
    found = engine.compile<ReceivedContext>(readFileSync(join(TEMPLATES_ROOT, channel, locale, `${part}.hbs`), 'utf8'), {
      noEscape: part !== 'received-html',
      strict: true,
    });
    compiled.set(key, found);
  }
  return found;
}

const renderText = (channel: Channel, locale: Locale, context: ReceivedContext): string =>
  template(
    channel,
    locale,
    'received-text',
  )(context)
    .replace(/\n{3,}/g, '\n\n')
    .trim();

/** Renders an inbound notice's parts for a channel and locale from templates/<channel>/<locale>/received-*.hbs. */
export function renderReceivedNotice(channel: Channel, locale: Locale, context: ReceivedContext): RenderedParts {
  if (channel === 'sms') return fitReceivedSms(locale, context);
  const parts = PARTS[channel];
  return {
    title: parts.includes('received-subject') ? plainText(template(channel, locale, 'received-subject')(context), 250) : '',
    text: renderText(channel, locale, context),
    ...(parts.includes('received-html') ? { html: template(channel, locale, 'received-html')(context) } : {}),
  };
}

/**
 * An SMS within SMS_MAX_SEGMENTS parts (its first line says how the reception went, so no status
 * line): the sender's CSID gives way first, then the receive time; only as a last resort is the
 * text cut, as the outbound notices are.
 */
function fitReceivedSms(locale: Locale, context: ReceivedContext): RenderedParts {
  const withoutCsid = { ...context, sender: { ...context.sender, csid: null, display: context.sender.number } };
  const withoutTime = { ...withoutCsid, times: { ...withoutCsid.times, receivedShort: null } };
  for (const variant of [context, withoutCsid, withoutTime]) {
    const text = renderText('sms', locale, variant);
    const size = smsSize(text);
    if (size.segments <= SMS_MAX_SEGMENTS) return { title: '', text, sms: { encoding: size.encoding, segments: size.segments } };
  }
  const chars = [...renderText('sms', locale, withoutTime)];
  while (chars.length > 0 && smsSize(chars.join('')).segments > SMS_MAX_SEGMENTS) chars.pop();
  const text = chars.join('').trimEnd();
  const size = smsSize(text);
  return { title: '', text, sms: { encoding: size.encoding, segments: size.segments } };
}
