import type { Locale } from '@faxnotify/contracts';

/** The confirmation report's own words; status labels and descriptions come from the contracts' vocabulary. */
export interface ReportStrings {
  dateLocale: string;
  title: string;
  faxId: string;
  subject: string;
  from: string;
  submitted: string;
  state: string;
  pages: string;
  files: string;
  finished: string;
  generated: string;
  /** `{tz}`: the time zone every time in the report is given in. */
  timesIn: string;
  firstPage: string;
  noPreview: string;
  recipients: string;
  columns: { number: string; csid: string; pages: string; started: string; ended: string; status: string; attempts: string };
  /** `{n}`: the page number, `{of}`: how many pages the report has. */
  pageOf: string;
  dash: string;
  /** The PDF's file name stem (the fax id follows). */
  fileStem: string;
  /** The fax page's link to the report. */
  link: string;
}

export const REPORT_STRINGS: Record<Locale, ReportStrings> = {
  en: {
    dateLocale: 'en-GB',
    title: 'Fax confirmation report',
    faxId: 'Fax ID',
    subject: 'Subject',
    from: 'From',
    submitted: 'Submitted',
    state: 'State',
    pages: 'Pages',
    files: 'Files',
    finished: 'Recipients finished',
    generated: 'Report made',
    timesIn: 'Times in {tz}',
    firstPage: 'First page',
    noPreview: 'No preview of the first page',
    recipients: 'Recipients',
    columns: { number: 'Number', csid: 'Remote CSID', pages: 'Pages', started: 'Started', ended: 'Ended', status: 'Status', attempts: 'Attempts' },
    pageOf: 'Page {n} of {of}',
    dash: '—',
    fileStem: 'fax-report',
    link: 'Confirmation report (PDF)',
  },
  ru: {
    dateLocale: 'ru-RU',
    title: 'Отчёт о доставке факса',
    faxId: 'Номер факса',
    subject: 'Тема',
    from: 'Отправитель',
    submitted: 'Отправлен',
    state: 'Состояние',
    pages: 'Страниц',
    files: 'Файлы',
    finished: 'Получатели: завершено',
    generated: 'Отчёт составлен',
    timesIn: 'Время: {tz}',
    firstPage: 'Первая страница',
    noPreview: 'Нет изображения первой страницы',
    recipients: 'Получатели',
    columns: { number: 'Номер', csid: 'CSID получателя', pages: 'Страницы', started: 'Начало', ended: 'Конец', status: 'Статус', attempts: 'Попытки' },
    pageOf: 'Страница {n} из {of}',
    dash: '—',
    fileStem: 'fax-report',
    link: 'Отчёт о доставке (PDF)',
  },
  it: {
    dateLocale: 'it-IT',
    title: 'Rapporto di conferma del fax',
    faxId: 'ID del fax',
    subject: 'Oggetto',
    from: 'Mittente',
    submitted: 'Inviato',
    state: 'Stato',
    pages: 'Pagine',
    files: 'File',
    finished: 'Destinatari conclusi',
    generated: 'Rapporto creato',
    timesIn: 'Orari nel fuso {tz}',
    firstPage: 'Prima pagina',
    noPreview: 'Nessuna anteprima della prima pagina',
    recipients: 'Destinatari',
    columns: { number: 'Numero', csid: 'CSID remoto', pages: 'Pagine', started: 'Inizio', ended: 'Fine', status: 'Stato', attempts: 'Tentativi' },
    pageOf: 'Pagina {n} di {of}',
    dash: '—',
    fileStem: 'rapporto-fax',
    link: 'Rapporto di conferma (PDF)',
  },
};
