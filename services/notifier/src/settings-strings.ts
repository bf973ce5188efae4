import type { Locale } from '@faxnotify/contracts';

/** The settings page's words in each language (the settings page is settings-page.ts). */
export interface PageStrings {
  product: string;
  skipToContent: string;
  title: string;
  signInTitle: string;
  signedInAs: string;
  intro: string;
  emailLegend: string;
  emailEnable: string;
  emailAddress: string;
  emailHint: string;
  /** The email fieldset's choice of the confirmation report (PDF) on the notices of final faxes. */
  emailAttachReport: string;
  smsLegend: string;
  smsEnable: string;
  smsNumber: string;
  smsHint: string;
  xmppLegend: string;
  xmppEnable: string;
  xmppJid: string;
  xmppHint: string;
  notifyLegend: string;
  /** Per channel: which results it gets, and the option that follows the general choice under notifyLegend. */
  resultsLabel: string;
  resultsDefault: string;
  resultsAll: string;
  resultsFailures: string;
  resultsNone: string;
  /** Quiet hours of SMS and Jabber. */
  quietLabel: string;
  quietFrom: string;
  quietUntil: string;
  quietHint: string;
  notifyAll: string;
  notifyFailures: string;
  inboundLegend: string;
  inboundOn: string;
  inboundOff: string;
  regionLegend: string;
  localeLabel: string;
  timeZoneLabel: string;
  timeZoneHint: string;
  save: string;
  saved: string;
  errorSummary: string;
  expired: string;
  signInIntro: string;
  signIn: string;
  signOut: string;
  signedOut: string;
  /** Why a sign-in did not go through (the kit's SignInProblem), each with what to do. */
  signInProblems: { cancelled: string; expired: string; refused: string; unavailable: string };
  /** Sign-in through an identity provider is not set up: what the operator can do, and how the API is used meanwhile. */
  signInNotConfigured: string;
  apiWithToken: string;
  /** Per field: what to enter when it is missing, and when it is wrong. */
  fields: Record<string, { required?: string; invalid: string }>;
}

export const STRINGS: Record<Locale, PageStrings> = {
  en: {
    product: 'faxnotify',
    skipToContent: 'Skip to content',
    title: 'Notification settings',
    signInTitle: 'Sign in',
    signedInAs: 'Signed in as',
    intro: 'Choose how you hear about the result of each fax you send.',
    emailLegend: 'Email',
    emailEnable: 'Send notices by email',
    emailAddress: 'Email address',
    emailHint: 'For example name@example.com',
    emailAttachReport: 'Attach the confirmation report (PDF) once a fax is finished',
    smsLegend: 'SMS',
    smsEnable: 'Send notices by SMS',
    smsNumber: 'Mobile number',
    smsHint: 'In international form with the country code, for example +39 333 123 4567',
    xmppLegend: 'Jabber (XMPP)',
    xmppEnable: 'Send notices by Jabber',
    xmppJid: 'Jabber ID',
    xmppHint: 'For example name@example.com',
    notifyLegend: 'Which results',
    resultsLabel: 'Which results on this channel',
    resultsDefault: 'As chosen under “Which results”',
    resultsAll: 'Every result',
    resultsFailures: 'Only failed or partly delivered faxes',
    resultsNone: 'None',
    quietLabel: 'Quiet hours',
    quietFrom: 'From',
    quietUntil: 'until',
    quietHint: 'In your time zone. Notices due in these hours are sent when they end. Leave both empty for none.',
    notifyAll: 'Every result',
    notifyFailures: 'Only faxes that failed or were partly delivered',
    inboundLegend: 'Faxes received for you',
    inboundOn: 'Tell me of each fax received (with the PDF by email)',
    inboundOff: 'No notices of received faxes',
    regionLegend: 'Language and time',
    localeLabel: 'Language of the notices',
    timeZoneLabel: 'Time zone',
    timeZoneHint: 'Times in the notices are given in this time zone.',
    save: 'Save settings',
    saved: 'Your settings have been saved.',
    errorSummary: 'Please correct the following',
    expired: 'The form had expired. Please check your choices and save again.',
    signInIntro: 'Sign in to choose how you hear about your faxes.',
    signIn: 'Sign in',
    signOut: 'Sign out',
    signedOut: 'You are signed out.',
    signInProblems: {
      cancelled: 'The sign-in was cancelled. You can try again.',
      expired: 'This sign-in had expired or was already used. Please sign in again.',
      refused: 'The sign-in could not be completed. Please try again, or ask your administrator.',
      unavailable: 'The sign-in service cannot be reached right now. Please try again in a few minutes.',
    },
    signInNotConfigured: 'Sign-in on this page is not set up: the administrator has not configured an identity provider (auth.oidc.issuer).',
    apiWithToken: 'Meanwhile the settings API answers with a bearer token in the Authorization header, for example:',
    fields: {
      'email.address': { required: 'Enter the email address for email notices.', invalid: 'Enter an email address such as name@example.com.' },
      'sms.number': { required: 'Enter the mobile number for SMS notices.', invalid: 'Enter a mobile number in international form, such as +39 333 123 4567.' },
      'xmpp.jid': { required: 'Enter the Jabber ID for Jabber notices.', invalid: 'Enter a Jabber ID such as name@example.com.' },
      notifyOn: { invalid: 'Choose which results to hear about.' },
      'email.results': { invalid: 'Choose which results to hear about by email.' },
      'sms.results': { invalid: 'Choose which results to hear about by SMS.' },
      'xmpp.results': { invalid: 'Choose which results to hear about by Jabber.' },
      'sms.quietHours': { invalid: 'Enter SMS quiet hours as two different times, such as 22:00 and 07:00, or leave both empty.' },
      'xmpp.quietHours': { invalid: 'Enter Jabber quiet hours as two different times, such as 22:00 and 07:00, or leave both empty.' },
      notifyInbound: { invalid: 'Choose whether to hear about received faxes.' },
      locale: { invalid: 'Choose a language from the list.' },
      timeZone: { invalid: 'Choose a time zone from the list.' },
      other: { invalid: 'One of the values is not valid.' },
    },
  },
  ru: {
    product: 'faxnotify',
    skipToContent: 'Перейти к содержанию',
    title: 'Настройки уведомлений',
    signInTitle: 'Вход',
    signedInAs: 'Вы вошли как',
    intro: 'Выберите, как сообщать вам о результате каждого отправленного факса.',
    emailLegend: 'Электронная почта',
    emailEnable: 'Присылать уведомления по почте',
    emailAddress: 'Адрес электронной почты',
    emailHint: 'Например, name@example.com',
    emailAttachReport: 'Прикладывать отчёт о доставке (PDF), когда отправка факса завершена',
    smsLegend: 'SMS',
    smsEnable: 'Присылать уведомления по SMS',
    smsNumber: 'Номер мобильного телефона',
    smsHint: 'В международном формате с кодом страны, например +7 916 123-45-67',
    xmppLegend: 'Jabber (XMPP)',
    xmppEnable: 'Присылать уведомления в Jabber',
    xmppJid: 'Jabber ID',
    xmppHint: 'Например, name@example.com',
    notifyLegend: 'О каких результатах сообщать',
    resultsLabel: 'О каких результатах сообщать здесь',
    resultsDefault: 'Как выбрано в «О каких результатах сообщать»',
    resultsAll: 'О каждом результате',
    resultsFailures: 'Только о недоставленных и доставленных частично',
    resultsNone: 'Ни о каких',
    quietLabel: 'Тихие часы',
    quietFrom: 'С',
    quietUntil: 'до',
    quietHint:
      'По вашему часовому поясу. Уведомления, пришедшие в эти часы, будут отправлены, когда они закончатся. Оставьте оба поля пустыми, чтобы их не было.',
    notifyAll: 'Обо всех',
    notifyFailures: 'Только о недоставленных и доставленных частично',
    inboundLegend: 'Полученные для вас факсы',
    inboundOn: 'Сообщать о каждом полученном факсе (по почте — с PDF)',
    inboundOff: 'Не сообщать о полученных факсах',
    regionLegend: 'Язык и время',
    localeLabel: 'Язык уведомлений',
    timeZoneLabel: 'Часовой пояс',
    timeZoneHint: 'Время в уведомлениях указывается в этом часовом поясе.',
    save: 'Сохранить настройки',
    saved: 'Настройки сохранены.',
    errorSummary: 'Исправьте, пожалуйста, следующее',
    expired: 'Срок действия формы истёк. Проверьте настройки и сохраните их ещё раз.',
    signInIntro: 'Войдите, чтобы выбрать, как сообщать вам о факсах.',
    signIn: 'Войти',
    signOut: 'Выйти',
    signedOut: 'Вы вышли.',
    signInProblems: {
      cancelled: 'Вход отменён. Можно попробовать ещё раз.',
      expired: 'Срок этого входа истёк, или он уже был использован. Войдите ещё раз.',
      refused: 'Не удалось завершить вход. Попробуйте ещё раз или обратитесь к администратору.',
      unavailable: 'Служба входа сейчас недоступна. Попробуйте через несколько минут.',
    },
    signInNotConfigured: 'Вход на эту страницу не настроен: администратор не указал поставщика удостоверений (auth.oidc.issuer).',
    apiWithToken: 'Пока что API настроек отвечает на запросы с токеном доступа в заголовке Authorization, например:',
    fields: {
      'email.address': { required: 'Укажите адрес для уведомлений по почте.', invalid: 'Укажите адрес электронной почты, например name@example.com.' },
      'sms.number': { required: 'Укажите номер для уведомлений по SMS.', invalid: 'Укажите номер в международном формате, например +7 916 123-45-67.' },
      'xmpp.jid': { required: 'Укажите Jabber ID для уведомлений в Jabber.', invalid: 'Укажите Jabber ID, например name@example.com.' },
      notifyOn: { invalid: 'Выберите, о каких результатах сообщать.' },
      'email.results': { invalid: 'Выберите, о каких результатах сообщать по почте.' },
      'sms.results': { invalid: 'Выберите, о каких результатах сообщать по SMS.' },
      'xmpp.results': { invalid: 'Выберите, о каких результатах сообщать в Jabber.' },
      'sms.quietHours': { invalid: 'Укажите тихие часы SMS двумя разными временами, например 22:00 и 07:00, или оставьте оба поля пустыми.' },
      'xmpp.quietHours': { invalid: 'Укажите тихие часы Jabber двумя разными временами, например 22:00 и 07:00, или оставьте оба поля пустыми.' },
      notifyInbound: { invalid: 'Выберите, сообщать ли о полученных факсах.' },
      locale: { invalid: 'Выберите язык из списка.' },
      timeZone: { invalid: 'Выберите часовой пояс из списка.' },
      other: { invalid: 'Одно из значений неверно.' },
    },
  },
  it: {
    product: 'faxnotify',
    skipToContent: 'Vai al contenuto',
    title: 'Impostazioni delle notifiche',
    signInTitle: 'Accesso',
    signedInAs: 'Accesso effettuato come',
    intro: "Scegli come ricevere l'esito di ogni fax che invii.",
    emailLegend: 'Email',
    emailEnable: 'Invia le notifiche per email',
    emailAddress: 'Indirizzo email',
    emailHint: 'Per esempio nome@example.com',
    emailAttachReport: 'Allega il rapporto di conferma (PDF) quando il fax è concluso',
    smsLegend: 'SMS',
    smsEnable: 'Invia le notifiche per SMS',
    smsNumber: 'Numero di cellulare',
    smsHint: 'In formato internazionale con il prefisso del paese, per esempio +39 333 123 4567',
    xmppLegend: 'Jabber (XMPP)',
    xmppEnable: 'Invia le notifiche via Jabber',
    xmppJid: 'Jabber ID',
    xmppHint: 'Per esempio nome@example.com',
    notifyLegend: 'Quali esiti',
    resultsLabel: 'Quali esiti su questo canale',
    resultsDefault: 'Come scelto in «Quali esiti»',
    resultsAll: 'Ogni esito',
    resultsFailures: 'Solo i fax non consegnati o consegnati in parte',
    resultsNone: 'Nessuno',
    quietLabel: 'Ore di silenzio',
    quietFrom: 'Dalle',
    quietUntil: 'alle',
    quietHint: 'Nel tuo fuso orario. Gli avvisi che cadono in queste ore sono inviati quando finiscono. Lascia entrambi vuoti per non averne.',
    notifyAll: 'Tutti gli esiti',
    notifyFailures: 'Solo i fax non consegnati o consegnati in parte',
    inboundLegend: 'Fax ricevuti per te',
    inboundOn: 'Avvisami di ogni fax ricevuto (per email con il PDF)',
    inboundOff: 'Nessun avviso dei fax ricevuti',
    regionLegend: 'Lingua e ora',
    localeLabel: 'Lingua delle notifiche',
    timeZoneLabel: 'Fuso orario',
    timeZoneHint: 'Gli orari nelle notifiche sono indicati in questo fuso orario.',
    save: 'Salva le impostazioni',
    saved: 'Le impostazioni sono state salvate.',
    errorSummary: 'Correggi quanto segue',
    expired: 'Il modulo era scaduto. Controlla le scelte e salva di nuovo.',
    signInIntro: 'Accedi per scegliere come ricevere le notizie sui tuoi fax.',
    signIn: 'Accedi',
    signOut: 'Esci',
    signedOut: 'Sei uscito.',
    signInProblems: {
      cancelled: "L'accesso è stato annullato. Puoi riprovare.",
      expired: 'Questo accesso era scaduto o già usato. Accedi di nuovo.',
      refused: "Non è stato possibile completare l'accesso. Riprova, o rivolgiti all'amministratore.",
      unavailable: 'Il servizio di accesso non è raggiungibile in questo momento. Riprova tra qualche minuto.',
    },
    signInNotConfigured: "L'accesso a questa pagina non è configurato: l'amministratore non ha indicato un fornitore di identità (auth.oidc.issuer).",
    apiWithToken: "Nel frattempo l'API delle impostazioni risponde con un token di accesso nell'intestazione Authorization, per esempio:",
    fields: {
      'email.address': { required: "Inserisci l'indirizzo per le notifiche via email.", invalid: 'Inserisci un indirizzo email come nome@example.com.' },
      'sms.number': {
        required: 'Inserisci il numero per le notifiche via SMS.',
        invalid: 'Inserisci un numero in formato internazionale, come +39 333 123 4567.',
      },
      'xmpp.jid': { required: 'Inserisci il Jabber ID per le notifiche via Jabber.', invalid: 'Inserisci un Jabber ID come nome@example.com.' },
      notifyOn: { invalid: 'Scegli quali esiti ricevere.' },
      'email.results': { invalid: 'Scegli quali esiti ricevere via email.' },
      'sms.results': { invalid: 'Scegli quali esiti ricevere via SMS.' },
      'xmpp.results': { invalid: 'Scegli quali esiti ricevere via Jabber.' },
      'sms.quietHours': { invalid: 'Indica le ore di silenzio degli SMS con due orari diversi, ad esempio 22:00 e 07:00, o lascia entrambi vuoti.' },
      'xmpp.quietHours': { invalid: 'Indica le ore di silenzio di Jabber con due orari diversi, ad esempio 22:00 e 07:00, o lascia entrambi vuoti.' },
      notifyInbound: { invalid: 'Scegli se ricevere gli avvisi dei fax ricevuti.' },
      locale: { invalid: "Scegli una lingua dall'elenco." },
      timeZone: { invalid: "Scegli un fuso orario dall'elenco." },
      other: { invalid: 'Uno dei valori non è valido.' },
    },
  },
};
