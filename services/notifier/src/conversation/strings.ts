import type { Locale } from '@faxnotify/contracts';

/** A fax still in progress, as the `status` answer lists it (subject already made plain by the caller). */
export interface FaxInProgress {
  id: string;
  subject: string;
  total: number;
  final: number;
}

/** The answers to Jabber commands, in the owner's language. Nothing the sender typed is ever repeated in them. */
export interface ConversationStrings {
  help: string;
  unknown: string;
  noneInProgress: string;
  inProgress: (faxes: FaxInProgress[], more: boolean) => string;
  statusUnavailable: string;
  noNoticeYet: string;
  notYourFax: string;
  badFaxId: string;
  notFinal: (faxId: string) => string;
  nothingFailed: (faxId: string) => string;
  resendRequested: (faxId: string, failed: number) => string;
  resendUnavailable: string;
  badDuration: string;
  muted: (until: string) => string;
  mutedHeld: string;
  unmuted: string;
  notMuted: string;
  rateLimited: string;
}

const fax = (f: FaxInProgress, done: string) => `• ${f.id}${f.subject ? ` «${f.subject}»` : ''}: ${f.final}/${f.total} ${done}`;

export const CONVERSATION_STRINGS: Record<Locale, ConversationStrings> = {
  en: {
    help: [
      'You can answer with:',
      'status: your faxes still being sent',
      'resend: send the fax of the last notice again to its recipients that did not get every page (resend FAX_ID: that fax)',
      'mute 2h: no Jabber notices for a while (30m, 2h, 1d; at most 7d); unmute: notices again',
      'help: this list',
    ].join('\n'),
    unknown: 'That is not a command I know. Send "help" for the list.',
    noneInProgress: 'None of your faxes is being sent right now.',
    inProgress: (faxes, more) =>
      ['Faxes still being sent:', ...faxes.map((f) => fax(f, 'recipients done')), ...(more ? ['…and more on the fax pages.'] : [])].join('\n'),
    statusUnavailable: 'The fax status cannot be read right now. Please try again in a few minutes.',
    noNoticeYet: 'There is no notice of a fax to answer yet. Send "resend FAX_ID" to name the fax.',
    notYourFax: 'There is no such fax among yours.',
    badFaxId: 'That is not a fax id. Send "resend" alone for the fax of the last notice, or "resend FAX_ID".',
    notFinal: (id) => `Fax ${id} is still being sent: it can be resent once every recipient has a result.`,
    nothingFailed: (id) => `Every recipient of fax ${id} got every page: there is nothing to resend.`,
    resendRequested: (id, failed) => `Fax ${id} will be sent again to ${failed} recipient(s) that did not get every page. You will be notified of the results.`,
    resendUnavailable: 'The resend could not be requested right now. Please try again in a few minutes.',
    badDuration: 'Say how long, e.g. "mute 30m", "mute 2h" or "mute 1d" (at most 7d).',
    muted: (until) => `No Jabber notices until ${until}.`,
    mutedHeld: 'Notices due meanwhile will be sent when the mute ends.',
    unmuted: 'Jabber notices are on again.',
    notMuted: 'Jabber notices were not muted.',
    rateLimited: 'Too many commands: please wait a little before the next one.',
  },
  ru: {
    help: [
      'Можно ответить:',
      'status — ваши факсы, которые ещё отправляются',
      'resend — отправить факс из последнего уведомления ещё раз тем получателям, которые получили не все страницы (resend НОМЕР_ФАКСА — этот факс)',
      'mute 2h — не присылать уведомления в Jabber какое-то время (30m, 2h, 1d; не больше 7d); unmute — снова присылать',
      'help — этот список',
    ].join('\n'),
    unknown: 'Такой команды нет. Отправьте «help», чтобы увидеть список.',
    noneInProgress: 'Сейчас ни один ваш факс не отправляется.',
    inProgress: (faxes, more) =>
      ['Факсы, которые ещё отправляются:', ...faxes.map((f) => fax(f, 'получателей готово')), ...(more ? ['…и другие — на страницах факсов.'] : [])].join('\n'),
    statusUnavailable: 'Сейчас не удаётся узнать состояние факсов. Попробуйте через несколько минут.',
    noNoticeYet: 'Пока нет уведомления о факсе, на которое можно ответить. Отправьте «resend НОМЕР_ФАКСА».',
    notYourFax: 'Среди ваших факсов такого нет.',
    badFaxId: 'Это не номер факса. Отправьте просто «resend» для факса из последнего уведомления или «resend НОМЕР_ФАКСА».',
    notFinal: (id) => `Факс ${id} ещё отправляется: отправить его снова можно, когда у всех получателей будет результат.`,
    nothingFailed: (id) => `Все получатели факса ${id} получили все страницы: отправлять снова нечего.`,
    resendRequested: (id, failed) =>
      `Факс ${id} будет отправлен снова получателям, которые получили не все страницы (${failed}). О результатах придут уведомления.`,
    resendUnavailable: 'Сейчас не удаётся запросить повторную отправку. Попробуйте через несколько минут.',
    badDuration: 'Укажите срок, например «mute 30m», «mute 2h» или «mute 1d» (не больше 7d).',
    muted: (until) => `Уведомлений в Jabber не будет до ${until}.`,
    mutedHeld: 'Уведомления за это время придут, когда срок закончится.',
    unmuted: 'Уведомления в Jabber снова включены.',
    notMuted: 'Уведомления в Jabber и не были отключены.',
    rateLimited: 'Слишком много команд: подождите немного перед следующей.',
  },
  it: {
    help: [
      'Puoi rispondere con:',
      'status: i tuoi fax ancora in invio',
      "resend: invia di nuovo il fax dell'ultimo avviso ai destinatari che non ne hanno ricevuto tutte le pagine (resend ID_FAX: quel fax)",
      'mute 2h: niente avvisi Jabber per un po’ (30m, 2h, 1d; al massimo 7d); unmute: di nuovo gli avvisi',
      'help: questo elenco',
    ].join('\n'),
    unknown: 'Non conosco questo comando. Invia «help» per l’elenco.',
    noneInProgress: 'Nessuno dei tuoi fax è in invio in questo momento.',
    inProgress: (faxes, more) =>
      ['Fax ancora in invio:', ...faxes.map((f) => fax(f, 'destinatari conclusi')), ...(more ? ['…e altri nelle pagine dei fax.'] : [])].join('\n'),
    statusUnavailable: 'Lo stato dei fax non è leggibile in questo momento. Riprova tra qualche minuto.',
    noNoticeYet: 'Non c’è ancora un avviso di un fax a cui rispondere. Invia «resend ID_FAX» per indicare il fax.',
    notYourFax: 'Tra i tuoi fax non ce n’è uno così.',
    badFaxId: 'Questo non è l’ID di un fax. Invia solo «resend» per il fax dell’ultimo avviso, o «resend ID_FAX».',
    notFinal: (id) => `Il fax ${id} è ancora in invio: si potrà inviare di nuovo quando ogni destinatario avrà un esito.`,
    nothingFailed: (id) => `Tutti i destinatari del fax ${id} hanno ricevuto tutte le pagine: non c’è niente da inviare di nuovo.`,
    resendRequested: (id, failed) =>
      `Il fax ${id} sarà inviato di nuovo ai destinatari che non hanno ricevuto tutte le pagine (${failed}). Riceverai gli avvisi degli esiti.`,
    resendUnavailable: 'Il nuovo invio non può essere richiesto in questo momento. Riprova tra qualche minuto.',
    badDuration: 'Indica per quanto, ad es. «mute 30m», «mute 2h» o «mute 1d» (al massimo 7d).',
    muted: (until) => `Niente avvisi Jabber fino alle ${until}.`,
    mutedHeld: 'Gli avvisi dovuti nel frattempo saranno inviati alla fine.',
    unmuted: 'Gli avvisi Jabber sono di nuovo attivi.',
    notMuted: 'Gli avvisi Jabber non erano disattivati.',
    rateLimited: 'Troppi comandi: attendi un poco prima del prossimo.',
  },
};
