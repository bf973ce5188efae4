import type { Locale } from '@faxnotify/contracts';

/** The Inbox's words (the nav's "Inbox" is in the page strings). */
export interface InboxStrings {
  caption: string;
  empty: string;
  unknownNumber: string;
  unread: string;
  read: string;
  calledNumber: string;
  downloadPdf: string;
  downloadTiff: string;
  /** `{n}` of `{total}`. */
  pageCaption: string;
  noPages: string;
  providerFile: string;
  columns: { from: string; received: string; status: string; pages: string };
  status: Record<'success' | 'partially_received' | 'failed', string>;
}

const en: InboxStrings = {
  caption: 'Received faxes, newest first',
  empty: 'No fax has been received yet.',
  unknownNumber: 'Unknown number',
  unread: 'unread',
  read: 'read',
  calledNumber: 'To number',
  downloadPdf: 'Download PDF',
  downloadTiff: 'Download TIFF',
  pageCaption: 'Page {n} of {total}',
  noPages: 'No page of this fax was received.',
  providerFile: 'The document came from the provider as a file: use the download link.',
  columns: { from: 'From', received: 'Received', status: 'Status', pages: 'Pages' },
  status: { success: 'Received', partially_received: 'Partly received', failed: 'Failed' },
};

const ru: InboxStrings = {
  caption: 'Полученные факсы, новые сверху',
  empty: 'Факсов пока не было.',
  unknownNumber: 'Номер неизвестен',
  unread: 'не прочитан',
  read: 'прочитан',
  calledNumber: 'На номер',
  downloadPdf: 'Скачать PDF',
  downloadTiff: 'Скачать TIFF',
  pageCaption: 'Страница {n} из {total}',
  noPages: 'Ни одной страницы этого факса не получено.',
  providerFile: 'Документ пришёл от провайдера файлом: скачайте его по ссылке.',
  columns: { from: 'От кого', received: 'Получен', status: 'Состояние', pages: 'Страниц' },
  status: { success: 'Получен', partially_received: 'Получен частично', failed: 'Не получен' },
};

const it: InboxStrings = {
  caption: 'Fax ricevuti, dal più recente',
  empty: 'Nessun fax ricevuto finora.',
  unknownNumber: 'Numero sconosciuto',
  unread: 'da leggere',
  read: 'letto',
  calledNumber: 'Al numero',
  downloadPdf: 'Scarica PDF',
  downloadTiff: 'Scarica TIFF',
  pageCaption: 'Pagina {n} di {total}',
  noPages: 'Nessuna pagina di questo fax è stata ricevuta.',
  providerFile: 'Il documento è arrivato dal provider come file: usa il link per scaricarlo.',
  columns: { from: 'Da', received: 'Ricevuto', status: 'Stato', pages: 'Pagine' },
  status: { success: 'Ricevuto', partially_received: 'Ricevuto in parte', failed: 'Non ricevuto' },
};

export const INBOX_STRINGS: Record<Locale, InboxStrings> = { en, ru, it };
