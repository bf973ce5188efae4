import type { Locale } from '@faxnotify/contracts';
import type { ResendRefusal } from '../resend';

/** The words of "resend to the failed" on the fax page. */
export interface ResendStrings {
  heading: string;
  /** `{n}` is how many recipients did not get every page. */
  help: string;
  button: string;
  onlyMissingPages: string;
  /** Before the link to the fax this one resends. */
  resendOf: string;
  /** Before the links to the faxes that resent this one. */
  resentAs: string;
  /** After a resend; `{faxId}` is the new fax. */
  done: string;
  refused: Record<ResendRefusal, string>;
}

const en: ResendStrings = {
  heading: 'Resend to the failed',
  help: '{n} recipient(s) did not get every page. Resending makes a new fax of the same documents for them only.',
  button: 'Resend to failed',
  onlyMissingPages: 'Recipients that got some pages: send only the missing pages',
  resendOf: 'Resend of',
  resentAs: 'Resent as',
  done: 'Resent as a new fax: {faxId}. It appears here as soon as the transmitter takes it.',
  refused: {
    not_found: 'This fax cannot be resent.',
    forbidden: "Only the fax's owner or an admin of their office can resend it.",
    not_final: 'The fax is still being sent: resend it once every recipient has a result.',
    nothing_failed: 'Every recipient got every page: there is nothing to resend.',
    request_reused: 'This form was already used for another fax. Reload the page and try again.',
  },
};

const ru: ResendStrings = {
  heading: 'Повторная отправка неполучившим',
  help: 'Получателей, не получивших все страницы: {n}. Повторная отправка создаст новый факс с теми же документами только для них.',
  button: 'Отправить повторно неполучившим',
  onlyMissingPages: 'Тем, кто получил часть страниц, отправить только недостающие',
  resendOf: 'Повторная отправка факса',
  resentAs: 'Отправлен повторно как',
  done: 'Отправлен повторно новым факсом: {faxId}. Он появится здесь, как только передатчик его примет.',
  refused: {
    not_found: 'Этот факс нельзя отправить повторно.',
    forbidden: 'Повторно отправить факс может только его владелец или администратор его офиса.',
    not_final: 'Факс ещё отправляется: отправьте его повторно, когда у каждого получателя будет результат.',
    nothing_failed: 'Все получатели получили все страницы: отправлять повторно нечего.',
    request_reused: 'Эта форма уже использована для другого факса. Обновите страницу и попробуйте снова.',
  },
};

const it: ResendStrings = {
  heading: 'Reinvia a chi non ha ricevuto',
  help: 'Destinatari che non hanno ricevuto tutte le pagine: {n}. Il reinvio crea un nuovo fax con gli stessi documenti solo per loro.',
  button: 'Reinvia ai falliti',
  onlyMissingPages: 'A chi ha ricevuto alcune pagine, invia solo le pagine mancanti',
  resendOf: 'Reinvio di',
  resentAs: 'Reinviato come',
  done: 'Reinviato come nuovo fax: {faxId}. Comparirà qui appena il trasmettitore lo prende in carico.',
  refused: {
    not_found: 'Questo fax non può essere reinviato.',
    forbidden: 'Solo il proprietario del fax o un amministratore del suo ufficio può reinviarlo.',
    not_final: 'Il fax è ancora in invio: reinvialo quando ogni destinatario ha un esito.',
    nothing_failed: 'Ogni destinatario ha ricevuto tutte le pagine: non c’è nulla da reinviare.',
    request_reused: 'Questo modulo è già stato usato per un altro fax. Ricarica la pagina e riprova.',
  },
};

export const RESEND_STRINGS: Record<Locale, ResendStrings> = { en, ru, it };
