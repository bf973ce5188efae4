import type { Locale } from '@faxnotify/contracts';
import type { Channel } from '../channels/types';

/** The words of the settings page's "confirm your addresses" section. */
export interface ConfirmationStrings {
  title: string;
  intro: string;
  none: string;
  channel: Record<Channel, string>;
  confirmed: string;
  unconfirmed: string;
  pending: (expires: string) => string;
  unavailable: string;
  sendCode: Record<Channel, string>;
  sendAgain: Record<Channel, string>;
  codeLabel: Record<Channel, string>;
  codeHint: string;
  confirm: Record<Channel, string>;
  nextCode: (at: string) => string;
  sent: (address: string, minutes: number) => string;
  done: (address: string) => string;
  noAddress: string;
  alreadyConfirmed: (address: string) => string;
  rateLimited: (seconds: number) => string;
  sendFailed: string;
  badCode: string;
  wrong: (left: number) => string;
  voided: string;
  expired: string;
  noCode: string;
}

export const CONFIRMATION_STRINGS: Record<Locale, ConfirmationStrings> = {
  en: {
    title: 'Confirm your addresses',
    intro: 'Notices go only to addresses you have confirmed: ask for a code, then type the code you received.',
    none: 'Save an address above, then confirm it here.',
    channel: { email: 'Email', sms: 'SMS', xmpp: 'Jabber' },
    confirmed: 'Confirmed',
    unconfirmed: 'Not confirmed: no notices are sent to this address yet.',
    pending: (expires) => `Not confirmed yet: a code was sent, valid until ${expires}.`,
    unavailable: 'This channel is not set up on this service.',
    sendCode: { email: 'Send a code by email', sms: 'Send a code by SMS', xmpp: 'Send a code by Jabber' },
    sendAgain: { email: 'Send a new code by email', sms: 'Send a new code by SMS', xmpp: 'Send a new code by Jabber' },
    codeLabel: { email: 'Code received by email', sms: 'Code received by SMS', xmpp: 'Code received by Jabber' },
    codeHint: 'Six digits',
    confirm: { email: 'Confirm email', sms: 'Confirm SMS', xmpp: 'Confirm Jabber' },
    nextCode: (at) => `You can ask for another code at ${at}.`,
    sent: (address, minutes) => `A code has been sent to ${address}. It is valid for ${minutes} minutes.`,
    done: (address) => `${address} is confirmed: notices will be sent to it.`,
    noAddress: 'Save an address for this channel first.',
    alreadyConfirmed: (address) => `${address} is already confirmed.`,
    rateLimited: (seconds) => `Too many codes asked for. Please wait ${seconds} seconds before asking again.`,
    sendFailed: 'The code could not be sent just now. Please try again in a few minutes.',
    badCode: 'Enter the six digits of the code you received.',
    wrong: (left) => `That code is not right. ${left} ${left === 1 ? 'try' : 'tries'} left.`,
    voided: 'Too many wrong tries: that code no longer works. Ask for a new one.',
    expired: 'That code has expired. Ask for a new one.',
    noCode: 'No code is waiting for this address. Ask for one first.',
  },
  ru: {
    title: 'Подтвердите адреса',
    intro: 'Уведомления приходят только на подтверждённые адреса: запросите код и введите полученный код.',
    none: 'Сохраните адрес выше, а затем подтвердите его здесь.',
    channel: { email: 'Почта', sms: 'SMS', xmpp: 'Jabber' },
    confirmed: 'Подтверждён',
    unconfirmed: 'Не подтверждён: уведомления на этот адрес пока не отправляются.',
    pending: (expires) => `Ещё не подтверждён: код отправлен, он действует до ${expires}.`,
    unavailable: 'Этот канал не настроен в сервисе.',
    sendCode: { email: 'Прислать код по почте', sms: 'Прислать код по SMS', xmpp: 'Прислать код в Jabber' },
    sendAgain: { email: 'Прислать новый код по почте', sms: 'Прислать новый код по SMS', xmpp: 'Прислать новый код в Jabber' },
    codeLabel: { email: 'Код из письма', sms: 'Код из SMS', xmpp: 'Код из Jabber' },
    codeHint: 'Шесть цифр',
    confirm: { email: 'Подтвердить почту', sms: 'Подтвердить SMS', xmpp: 'Подтвердить Jabber' },
    nextCode: (at) => `Новый код можно запросить в ${at}.`,
    sent: (address, minutes) => `Код отправлен на ${address}. Он действует ${minutes} мин.`,
    done: (address) => `Адрес ${address} подтверждён: уведомления будут приходить на него.`,
    noAddress: 'Сначала сохраните адрес для этого канала.',
    alreadyConfirmed: (address) => `Адрес ${address} уже подтверждён.`,
    rateLimited: (seconds) => `Слишком много запросов кода. Подождите ${seconds} с и запросите снова.`,
    sendFailed: 'Сейчас не удалось отправить код. Попробуйте через несколько минут.',
    badCode: 'Введите шесть цифр полученного кода.',
    wrong: (left) => `Код неверен. Осталось попыток: ${left}.`,
    voided: 'Слишком много неверных попыток: этот код больше не действует. Запросите новый.',
    expired: 'Срок действия кода истёк. Запросите новый.',
    noCode: 'Для этого адреса нет отправленного кода. Сначала запросите его.',
  },
  it: {
    title: 'Conferma i tuoi indirizzi',
    intro: 'Le notifiche arrivano solo agli indirizzi confermati: chiedi un codice, poi inserisci il codice ricevuto.',
    none: 'Salva un indirizzo qui sopra, poi confermalo qui.',
    channel: { email: 'Email', sms: 'SMS', xmpp: 'Jabber' },
    confirmed: 'Confermato',
    unconfirmed: 'Non confermato: a questo indirizzo non vengono ancora inviate notifiche.',
    pending: (expires) => `Non ancora confermato: è stato inviato un codice, valido fino alle ${expires}.`,
    unavailable: 'Questo canale non è configurato nel servizio.',
    sendCode: { email: 'Invia un codice per email', sms: 'Invia un codice per SMS', xmpp: 'Invia un codice via Jabber' },
    sendAgain: { email: 'Invia un nuovo codice per email', sms: 'Invia un nuovo codice per SMS', xmpp: 'Invia un nuovo codice via Jabber' },
    codeLabel: { email: 'Codice ricevuto per email', sms: 'Codice ricevuto per SMS', xmpp: 'Codice ricevuto via Jabber' },
    codeHint: 'Sei cifre',
    confirm: { email: "Conferma l'email", sms: "Conferma l'SMS", xmpp: 'Conferma Jabber' },
    nextCode: (at) => `Puoi chiedere un altro codice alle ${at}.`,
    sent: (address, minutes) => `È stato inviato un codice a ${address}. È valido per ${minutes} minuti.`,
    done: (address) => `${address} è confermato: le notifiche verranno inviate qui.`,
    noAddress: 'Salva prima un indirizzo per questo canale.',
    alreadyConfirmed: (address) => `${address} è già confermato.`,
    rateLimited: (seconds) => `Troppe richieste di codice. Attendi ${seconds} secondi prima di chiederne un altro.`,
    sendFailed: 'Al momento non è stato possibile inviare il codice. Riprova fra qualche minuto.',
    badCode: 'Inserisci le sei cifre del codice ricevuto.',
    wrong: (left) => `Il codice non è corretto. ${left === 1 ? 'Resta 1 tentativo' : `Restano ${left} tentativi`}.`,
    voided: 'Troppi tentativi sbagliati: questo codice non vale più. Chiedine uno nuovo.',
    expired: 'Il codice è scaduto. Chiedine uno nuovo.',
    noCode: 'Non è in attesa alcun codice per questo indirizzo. Chiedine prima uno.',
  },
};
