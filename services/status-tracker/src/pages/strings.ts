import { LOCALES, type Locale } from '@faxnotify/contracts';

/**
 * The words of the Sent folder and fax pages that the contracts' vocabulary does not already
 * give (status labels, descriptions and advice, aggregate labels and "no subject" come from there).
 * `{n}`-style placeholders are filled by the page code.
 */
export interface PageStrings {
  htmlLang: string;
  dateLocale: string;
  skipToContent: string;
  product: string;
  mainNav: string;
  sentFolder: string;
  inboxFolder: string;
  signOut: string;
  language: string;
  categoryNav: string;
  categories: { all: string; outbox: string; sent: string };
  folderCaption: string;
  columns: { state: string; subject: string; submitted: string; recipients: string; pages: string; sentBy: string };
  /** An office-wide folder's "sent by" for the viewer's own faxes. */
  sentByYou: string;
  recipientsMore: string;
  finishedOf: string;
  emptyFolder: string;
  older: string;
  newest: string;
  timesIn: string;
  faxHeading: string;
  submitted: string;
  /** The fax's sender number. */
  from: string;
  /** Whose fax it is, on an office colleague's fax page. */
  sentBy: string;
  /** What a provider charged for the fax. */
  cost: string;
  pages: string;
  files: string;
  recipientsHeading: string;
  recipientsCaption: string;
  recipientColumns: { number: string; status: string; pages: string; csid: string; started: string; ended: string; attempts: string };
  pagesOf: string;
  whatToDo: string;
  lineDetail: string;
  retryAt: string;
  notListed: string;
  noticesHeading: string;
  noticesCaption: string;
  /** The same on an office colleague's fax: the notices went to its sender (their addresses are not shown). */
  noticesCaptionColleague: string;
  noticeColumns: { recipient: string; channel: string; outcome: string; address: string; at: string; reason: string };
  noNotices: string;
  channels: Record<string, string>;
  noticeOutcomes: Record<string, string>;
  /** What a notice outcome carries as fields, shown after its reason. */
  noticeFacts: { sms: string; provider: string; providerError: string; smtp: string };
  webhooksHeading: string;
  webhooksCaption: string;
  webhookColumns: { recipient: string; status: string; attempts: string; last: string; next: string };
  noWebhooks: string;
  webhookStatuses: Record<string, string>;
  attemptLog: string;
  attemptLine: string;
  liveNote: string;
  finalNote: string;
  refresh: string;
  backToFolder: string;
  signInTitle: string;
  signInIntro: string;
  signInButton: string;
  /** Why a sign-in did not go through (the kit's SignInProblem), each with what to do. */
  signInProblems: { cancelled: string; expired: string; refused: string; unavailable: string };
  /** A form posted without a valid CSRF token (left open too long, or posted from elsewhere). */
  formExpired: string;
  signedOut: string;
  /** Sign-in through an identity provider is not set up: what the operator can do, and how the API is used meanwhile. */
  signInNotConfigured: string;
  apiWithToken: string;
  notFoundTitle: string;
  notFoundText: string;
  dash: string;
}

const en: PageStrings = {
  htmlLang: 'en',
  dateLocale: 'en-GB',
  skipToContent: 'Skip to content',
  product: 'faxnotify',
  mainNav: 'Main',
  sentFolder: 'Sent',
  inboxFolder: 'Inbox',
  signOut: 'Sign out',
  language: 'Language',
  categoryNav: 'Show',
  categories: { all: 'All faxes', outbox: 'In progress', sent: 'Finished' },
  folderCaption: 'Sent faxes, newest first',
  columns: { state: 'Status', subject: 'Subject', submitted: 'Sent', recipients: 'Recipients', pages: 'Pages', sentBy: 'Sent by' },
  sentByYou: 'You',
  recipientsMore: 'and {n} more',
  finishedOf: '{final} of {total} finished',
  emptyFolder: 'No faxes here yet.',
  older: 'Older faxes',
  newest: 'Newest faxes',
  timesIn: 'Times are shown in {tz}.',
  faxHeading: 'Fax',
  submitted: 'Sent',
  from: 'From',
  sentBy: 'Sent by',
  cost: 'Cost',
  pages: 'Pages',
  files: 'Files',
  recipientsHeading: 'Recipients',
  recipientsCaption: 'Delivery to each recipient',
  recipientColumns: {
    number: 'Number',
    status: 'Status',
    pages: 'Pages delivered',
    csid: 'Remote fax ID',
    started: 'Transmission started',
    ended: 'Finished',
    attempts: 'Attempts',
  },
  pagesOf: '{sent} of {total}',
  whatToDo: 'What to do:',
  lineDetail: 'Line detail',
  retryAt: 'Next attempt: {time}',
  notListed: 'Not in the fax as submitted',
  noticesHeading: 'Notices',
  noticesCaption: 'Notices sent to you about each recipient',
  noticesCaptionColleague: "Notices sent to the fax's sender about each recipient",
  noticeColumns: { recipient: 'Recipient', channel: 'Channel', outcome: 'Outcome', address: 'Sent to', at: 'When', reason: 'Details' },
  noNotices: 'No notices have been sent about this fax yet.',
  channels: { email: 'Email', sms: 'SMS', xmpp: 'Jabber (XMPP)' },
  noticeOutcomes: { sent: 'Sent', delivered: 'Delivered', failed: 'Failed', skipped: 'Not wanted' },
  noticeFacts: {
    sms: 'SMS parts: {segments} ({encoding})',
    provider: 'Provider status: {status}',
    providerError: 'Provider status: {status}, error {code}',
    smtp: 'SMTP reply: {code}',
  },
  webhooksHeading: 'Webhook deliveries',
  webhooksCaption: 'POSTs to your webhook about each recipient',
  webhookColumns: { recipient: 'Recipient', status: 'Status', attempts: 'Attempts', last: 'Last answer', next: 'Next attempt' },
  noWebhooks: 'No webhook deliveries for this fax.',
  webhookStatuses: { queued: 'Queued', pending: 'Waiting to retry', delivered: 'Delivered', failed: 'Given up', cancelled: 'Cancelled' },
  attemptLog: 'Attempts',
  attemptLine: 'Attempt {n}',
  liveNote: 'This fax is still in progress; this page updates itself.',
  finalNote: 'Every recipient has a final result.',
  refresh: 'Refresh',
  backToFolder: 'Back to Sent',
  signInTitle: 'Sign in',
  signInIntro: 'Sign in to see your sent faxes.',
  signInButton: 'Sign in',
  signInProblems: {
    cancelled: 'The sign-in was cancelled. You can try again.',
    expired: 'This sign-in had expired or was already used. Please sign in again.',
    refused: 'The sign-in could not be completed. Please try again, or ask your administrator.',
    unavailable: 'The sign-in service cannot be reached right now. Please try again in a few minutes.',
  },
  formExpired: 'The form had expired. Please try again.',
  signedOut: 'You are signed out.',
  signInNotConfigured: 'Sign-in on these pages is not set up: the administrator has not configured an identity provider (auth.oidc.issuer).',
  apiWithToken: 'Meanwhile the API answers with a bearer token in the Authorization header, for example:',
  notFoundTitle: 'Fax not found',
  notFoundText: 'There is no such fax among yours. Check the link, or sign in as the person who sent it.',
  dash: '—',
};

const ru: PageStrings = {
  htmlLang: 'ru',
  dateLocale: 'ru-RU',
  skipToContent: 'Перейти к содержимому',
  product: 'faxnotify',
  mainNav: 'Основное меню',
  sentFolder: 'Отправленные',
  inboxFolder: 'Входящие',
  signOut: 'Выйти',
  language: 'Язык',
  categoryNav: 'Показать',
  categories: { all: 'Все факсы', outbox: 'Отправляются', sent: 'Завершённые' },
  folderCaption: 'Отправленные факсы, сначала новые',
  columns: { state: 'Статус', subject: 'Тема', submitted: 'Отправлен', recipients: 'Получатели', pages: 'Страниц', sentBy: 'Кем отправлен' },
  sentByYou: 'Вы',
  recipientsMore: 'и ещё {n}',
  finishedOf: 'завершено {final} из {total}',
  emptyFolder: 'Здесь пока нет факсов.',
  older: 'Более ранние факсы',
  newest: 'Самые новые факсы',
  timesIn: 'Время указано в часовом поясе {tz}.',
  faxHeading: 'Факс',
  submitted: 'Отправлен',
  from: 'Отправитель',
  sentBy: 'Кем отправлен',
  cost: 'Стоимость',
  pages: 'Страниц',
  files: 'Файлы',
  recipientsHeading: 'Получатели',
  recipientsCaption: 'Доставка каждому получателю',
  recipientColumns: {
    number: 'Номер',
    status: 'Статус',
    pages: 'Доставлено страниц',
    csid: 'Идентификатор факса получателя',
    started: 'Начало передачи',
    ended: 'Завершено',
    attempts: 'Попыток',
  },
  pagesOf: '{sent} из {total}',
  whatToDo: 'Что делать:',
  lineDetail: 'Сведения от линии',
  retryAt: 'Следующая попытка: {time}',
  notListed: 'Нет в отправленном факсе',
  noticesHeading: 'Уведомления',
  noticesCaption: 'Уведомления, отправленные вам по каждому получателю',
  noticesCaptionColleague: 'Уведомления, отправленные отправителю факса по каждому получателю',
  noticeColumns: { recipient: 'Получатель', channel: 'Канал', outcome: 'Результат', address: 'Куда', at: 'Когда', reason: 'Подробности' },
  noNotices: 'Уведомления об этом факсе ещё не отправлялись.',
  channels: { email: 'Электронная почта', sms: 'SMS', xmpp: 'Jabber (XMPP)' },
  noticeOutcomes: { sent: 'Отправлено', delivered: 'Доставлено', failed: 'Не удалось', skipped: 'Отключено в настройках' },
  noticeFacts: {
    sms: 'Частей SMS: {segments} ({encoding})',
    provider: 'Статус у провайдера: {status}',
    providerError: 'Статус у провайдера: {status}, ошибка {code}',
    smtp: 'Ответ SMTP-сервера: {code}',
  },
  webhooksHeading: 'Доставка веб-хуков',
  webhooksCaption: 'Запросы к вашему веб-хуку по каждому получателю',
  webhookColumns: { recipient: 'Получатель', status: 'Статус', attempts: 'Попыток', last: 'Последний ответ', next: 'Следующая попытка' },
  noWebhooks: 'По этому факсу веб-хуки не отправлялись.',
  webhookStatuses: { queued: 'В очереди', pending: 'Ожидает повтора', delivered: 'Доставлен', failed: 'Попытки прекращены', cancelled: 'Отменён' },
  attemptLog: 'Попытки',
  attemptLine: 'Попытка {n}',
  liveNote: 'Факс ещё отправляется; страница обновляется сама.',
  finalNote: 'По всем получателям есть окончательный результат.',
  refresh: 'Обновить',
  backToFolder: 'К отправленным',
  signInTitle: 'Вход',
  signInIntro: 'Войдите, чтобы увидеть отправленные факсы.',
  signInButton: 'Войти',
  signInProblems: {
    cancelled: 'Вход отменён. Можно попробовать ещё раз.',
    expired: 'Срок этого входа истёк, или он уже был использован. Войдите ещё раз.',
    refused: 'Не удалось завершить вход. Попробуйте ещё раз или обратитесь к администратору.',
    unavailable: 'Служба входа сейчас недоступна. Попробуйте через несколько минут.',
  },
  formExpired: 'Срок действия формы истёк. Попробуйте ещё раз.',
  signedOut: 'Вы вышли.',
  signInNotConfigured: 'Вход на эти страницы не настроен: администратор не указал поставщика удостоверений (auth.oidc.issuer).',
  apiWithToken: 'Пока что API отвечает на запросы с ключом доступа в заголовке Authorization, например:',
  notFoundTitle: 'Факс не найден',
  notFoundText: 'Среди ваших факсов такого нет. Проверьте ссылку или войдите под учётной записью отправителя.',
  dash: '—',
};

const it: PageStrings = {
  htmlLang: 'it',
  dateLocale: 'it-IT',
  skipToContent: 'Vai al contenuto',
  product: 'faxnotify',
  mainNav: 'Menu principale',
  sentFolder: 'Inviati',
  inboxFolder: 'In arrivo',
  signOut: 'Esci',
  language: 'Lingua',
  categoryNav: 'Mostra',
  categories: { all: 'Tutti i fax', outbox: 'In corso', sent: 'Completati' },
  folderCaption: 'Fax inviati, dal più recente',
  columns: { state: 'Stato', subject: 'Oggetto', submitted: 'Inviato', recipients: 'Destinatari', pages: 'Pagine', sentBy: 'Inviato da' },
  sentByYou: 'Lei',
  recipientsMore: 'e altri {n}',
  finishedOf: '{final} di {total} completati',
  emptyFolder: 'Non ci sono ancora fax qui.',
  older: 'Fax meno recenti',
  newest: 'Fax più recenti',
  timesIn: 'Gli orari sono nel fuso orario {tz}.',
  faxHeading: 'Fax',
  submitted: 'Inviato',
  from: 'Mittente',
  sentBy: 'Inviato da',
  cost: 'Costo',
  pages: 'Pagine',
  files: 'File',
  recipientsHeading: 'Destinatari',
  recipientsCaption: 'Consegna a ciascun destinatario',
  recipientColumns: {
    number: 'Numero',
    status: 'Stato',
    pages: 'Pagine consegnate',
    csid: 'Identificativo fax del destinatario',
    started: 'Inizio trasmissione',
    ended: 'Terminato',
    attempts: 'Tentativi',
  },
  pagesOf: '{sent} di {total}',
  whatToDo: 'Cosa fare:',
  lineDetail: 'Dettagli della linea',
  retryAt: 'Prossimo tentativo: {time}',
  notListed: 'Non presente nel fax inviato',
  noticesHeading: 'Notifiche',
  noticesCaption: 'Notifiche inviate a Lei per ciascun destinatario',
  noticesCaptionColleague: 'Notifiche inviate al mittente del fax per ciascun destinatario',
  noticeColumns: { recipient: 'Destinatario', channel: 'Canale', outcome: 'Esito', address: 'Inviata a', at: 'Quando', reason: 'Dettagli' },
  noNotices: 'Non sono ancora state inviate notifiche per questo fax.',
  channels: { email: 'E-mail', sms: 'SMS', xmpp: 'Jabber (XMPP)' },
  noticeOutcomes: { sent: 'Inviata', delivered: 'Consegnata', failed: 'Non riuscita', skipped: 'Disattivata' },
  noticeFacts: {
    sms: 'Parti SMS: {segments} ({encoding})',
    provider: 'Stato presso il fornitore: {status}',
    providerError: 'Stato presso il fornitore: {status}, errore {code}',
    smtp: 'Risposta SMTP: {code}',
  },
  webhooksHeading: 'Consegne del webhook',
  webhooksCaption: 'Richieste al Suo webhook per ciascun destinatario',
  webhookColumns: { recipient: 'Destinatario', status: 'Stato', attempts: 'Tentativi', last: 'Ultima risposta', next: 'Prossimo tentativo' },
  noWebhooks: 'Nessuna consegna del webhook per questo fax.',
  webhookStatuses: {
    queued: 'In coda',
    pending: 'In attesa di nuovo tentativo',
    delivered: 'Consegnato',
    failed: 'Tentativi esauriti',
    cancelled: 'Annullato',
  },
  attemptLog: 'Tentativi',
  attemptLine: 'Tentativo {n}',
  liveNote: 'Il fax è ancora in corso; questa pagina si aggiorna da sola.',
  finalNote: 'Tutti i destinatari hanno un esito definitivo.',
  refresh: 'Aggiorna',
  backToFolder: 'Torna agli inviati',
  signInTitle: 'Accesso',
  signInIntro: 'Acceda per vedere i fax inviati.',
  signInButton: 'Accedi',
  signInProblems: {
    cancelled: "L'accesso è stato annullato. Può riprovare.",
    expired: 'Questo accesso era scaduto o già usato. Acceda di nuovo.',
    refused: "Non è stato possibile completare l'accesso. Riprovi, o si rivolga all'amministratore.",
    unavailable: 'Il servizio di accesso non è raggiungibile in questo momento. Riprovi tra qualche minuto.',
  },
  formExpired: 'Il modulo era scaduto. Riprovi.',
  signedOut: 'Ha effettuato la disconnessione.',
  signInNotConfigured: "L'accesso a queste pagine non è configurato: l'amministratore non ha indicato un fornitore di identità (auth.oidc.issuer).",
  apiWithToken: "Nel frattempo l'API risponde con una chiave di accesso nell'intestazione Authorization, per esempio:",
  notFoundTitle: 'Fax non trovato',
  notFoundText: "Tra i Suoi fax non ce n'è uno così. Controlli il link o acceda con l'account di chi lo ha inviato.",
  dash: '—',
};

export const PAGE_STRINGS: Record<Locale, PageStrings> = { en, ru, it };

export const isLocale = (value: unknown): value is Locale => typeof value === 'string' && (LOCALES as readonly string[]).includes(value);

/** Fills `{name}` placeholders. */
export const fill = (text: string, values: Record<string, string | number>): string =>
  text.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));

/**
 * The page's language: `?lang=` (remembered in a cookie), then the token's `locale` claim, then
 * the browser's Accept-Language, then English.
 */
export function pickLocale(input: { query?: unknown; cookie?: string; claim?: string; acceptLanguage?: string }): Locale {
  for (const candidate of [input.query, input.cookie, input.claim]) {
    if (typeof candidate === 'string') {
      const base = candidate.toLowerCase().split(/[-_]/)[0];
      if (isLocale(base)) return base;
    }
  }
  const ranked = (input.acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { base: (tag ?? '').toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), i };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const entry of ranked) if (isLocale(entry.base)) return entry.base;
  return 'en';
}
