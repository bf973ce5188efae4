import type { Locale } from '@faxnotify/contracts';

/** The search form's words (Sent folder and Inbox) and the CSV exports' column names, in every locale. */
export interface SearchStrings {
  sentForm: string;
  inboxForm: string;
  number: string;
  callerNumber: string;
  subject: string;
  csid: string;
  from: string;
  to: string;
  state: string;
  status: string;
  any: string;
  search: string;
  clear: string;
  csv: string;
  noMatch: string;
  /** Shown when a value in the query string could not be read (it is left out of the search). */
  unreadable: string;
  /** Columns of the Sent folder's CSV: one row per recipient. Times are in `{tz}`. */
  sentColumns: {
    faxId: string;
    submitted: string;
    subject: string;
    sentBy: string;
    number: string;
    csid: string;
    status: string;
    pagesSent: string;
    pagesTotal: string;
    started: string;
    ended: string;
    attempts: string;
  };
  /** Columns of the Inbox's CSV: one row per received fax. */
  inboxColumns: { id: string; received: string; started: string; from: string; to: string; csid: string; status: string; pages: string; read: string };
  yes: string;
  no: string;
}

export const SEARCH_STRINGS: Record<Locale, SearchStrings> = {
  en: {
    sentForm: 'Search the Sent folder',
    inboxForm: 'Search the Inbox',
    number: 'Number',
    callerNumber: "Sender's number",
    subject: 'Subject',
    csid: 'CSID',
    from: 'From',
    to: 'To',
    state: 'State',
    status: 'Status',
    any: 'Any',
    search: 'Search',
    clear: 'Clear',
    csv: 'Download CSV',
    noMatch: 'No fax matches this search.',
    unreadable: 'Part of this search could not be read and was left out.',
    sentColumns: {
      faxId: 'Fax ID',
      submitted: 'Submitted ({tz})',
      subject: 'Subject',
      sentBy: 'Sent by',
      number: 'Number',
      csid: 'CSID',
      status: 'Status',
      pagesSent: 'Pages sent',
      pagesTotal: 'Pages in total',
      started: 'Started ({tz})',
      ended: 'Ended ({tz})',
      attempts: 'Attempts',
    },
    inboxColumns: {
      id: 'Received fax ID',
      received: 'Received ({tz})',
      started: 'Started ({tz})',
      from: "Sender's number",
      to: 'Called number',
      csid: 'CSID',
      status: 'Status',
      pages: 'Pages',
      read: 'Read',
    },
    yes: 'yes',
    no: 'no',
  },
  ru: {
    sentForm: 'Поиск в отправленных',
    inboxForm: 'Поиск во входящих',
    number: 'Номер',
    callerNumber: 'Номер отправителя',
    subject: 'Тема',
    csid: 'CSID',
    from: 'С',
    to: 'По',
    state: 'Состояние',
    status: 'Состояние',
    any: 'Любое',
    search: 'Найти',
    clear: 'Сбросить',
    csv: 'Скачать CSV',
    noMatch: 'По этому запросу факсов нет.',
    unreadable: 'Часть запроса не удалось прочитать, она не учтена.',
    sentColumns: {
      faxId: 'ID факса',
      submitted: 'Отправлен ({tz})',
      subject: 'Тема',
      sentBy: 'Отправитель',
      number: 'Номер',
      csid: 'CSID',
      status: 'Состояние',
      pagesSent: 'Передано страниц',
      pagesTotal: 'Всего страниц',
      started: 'Начало ({tz})',
      ended: 'Конец ({tz})',
      attempts: 'Попыток',
    },
    inboxColumns: {
      id: 'ID полученного факса',
      received: 'Получен ({tz})',
      started: 'Начало ({tz})',
      from: 'Номер отправителя',
      to: 'Вызванный номер',
      csid: 'CSID',
      status: 'Состояние',
      pages: 'Страниц',
      read: 'Прочитан',
    },
    yes: 'да',
    no: 'нет',
  },
  it: {
    sentForm: 'Cerca nella cartella Inviati',
    inboxForm: 'Cerca nella posta in arrivo',
    number: 'Numero',
    callerNumber: 'Numero del mittente',
    subject: 'Oggetto',
    csid: 'CSID',
    from: 'Dal',
    to: 'Al',
    state: 'Stato',
    status: 'Stato',
    any: 'Qualsiasi',
    search: 'Cerca',
    clear: 'Azzera',
    csv: 'Scarica CSV',
    noMatch: 'Nessun fax corrisponde a questa ricerca.',
    unreadable: 'Una parte della ricerca non era leggibile ed è stata ignorata.',
    sentColumns: {
      faxId: 'ID fax',
      submitted: 'Inviato ({tz})',
      subject: 'Oggetto',
      sentBy: 'Inviato da',
      number: 'Numero',
      csid: 'CSID',
      status: 'Stato',
      pagesSent: 'Pagine inviate',
      pagesTotal: 'Pagine totali',
      started: 'Inizio ({tz})',
      ended: 'Fine ({tz})',
      attempts: 'Tentativi',
    },
    inboxColumns: {
      id: 'ID fax ricevuto',
      received: 'Ricevuto ({tz})',
      started: 'Inizio ({tz})',
      from: 'Numero del mittente',
      to: 'Numero chiamato',
      csid: 'CSID',
      status: 'Stato',
      pages: 'Pagine',
      read: 'Letto',
    },
    yes: 'sì',
    no: 'no',
  },
};
