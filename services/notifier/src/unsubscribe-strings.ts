import type { Locale } from '@faxnotify/contracts';
import type { Channel } from './channels/types';

/** The one-click unsubscribe page's words in each language (the page is unsubscribe.ts). */
export interface UnsubscribeStrings {
  product: string;
  /** The page's title, per channel the link turns off. */
  title: Record<Channel, string>;
  question: Record<Channel, string>;
  confirm: string;
  done: Record<Channel, string>;
  settingsLink: string;
  invalidTitle: string;
  invalid: string;
}

export const UNSUBSCRIBE_STRINGS: Record<Locale, UnsubscribeStrings> = {
  en: {
    product: 'faxnotify',
    title: { email: 'Stop email notices', sms: 'Stop SMS notices', xmpp: 'Stop Jabber notices' },
    question: {
      email: 'Stop the email notices of the results of your faxes?',
      sms: 'Stop the SMS notices of the results of your faxes?',
      xmpp: 'Stop the Jabber notices of the results of your faxes?',
    },
    confirm: 'Unsubscribe',
    done: {
      email: 'You will get no more email notices of the results of your faxes.',
      sms: 'You will get no more SMS notices of the results of your faxes.',
      xmpp: 'You will get no more Jabber notices of the results of your faxes.',
    },
    settingsLink: 'You can turn them on again in your notification settings.',
    invalidTitle: 'This link does not work',
    invalid: 'This unsubscribe link is not valid. You can choose your notices in your notification settings.',
  },
  ru: {
    product: 'faxnotify',
    title: { email: 'Отписка от писем', sms: 'Отписка от SMS', xmpp: 'Отписка от сообщений Jabber' },
    question: {
      email: 'Больше не присылать письма о результатах ваших факсов?',
      sms: 'Больше не присылать SMS о результатах ваших факсов?',
      xmpp: 'Больше не присылать сообщения Jabber о результатах ваших факсов?',
    },
    confirm: 'Отписаться',
    done: {
      email: 'Письма о результатах ваших факсов больше не будут приходить.',
      sms: 'SMS о результатах ваших факсов больше не будут приходить.',
      xmpp: 'Сообщения Jabber о результатах ваших факсов больше не будут приходить.',
    },
    settingsLink: 'Снова включить их можно в настройках уведомлений.',
    invalidTitle: 'Ссылка не работает',
    invalid: 'Эта ссылка для отписки недействительна. Выбрать уведомления можно в настройках уведомлений.',
  },
  it: {
    product: 'faxnotify',
    title: { email: 'Stop agli avvisi via email', sms: 'Stop agli avvisi via SMS', xmpp: 'Stop agli avvisi via Jabber' },
    question: {
      email: 'Non ricevere più avvisi via email sull’esito dei tuoi fax?',
      sms: 'Non ricevere più avvisi via SMS sull’esito dei tuoi fax?',
      xmpp: 'Non ricevere più avvisi via Jabber sull’esito dei tuoi fax?',
    },
    confirm: 'Annulla l’iscrizione',
    done: {
      email: 'Non riceverai più avvisi via email sull’esito dei tuoi fax.',
      sms: 'Non riceverai più avvisi via SMS sull’esito dei tuoi fax.',
      xmpp: 'Non riceverai più avvisi via Jabber sull’esito dei tuoi fax.',
    },
    settingsLink: 'Puoi riattivarli nelle impostazioni degli avvisi.',
    invalidTitle: 'Questo link non funziona',
    invalid: 'Questo link per annullare l’iscrizione non è valido. Puoi scegliere gli avvisi nelle impostazioni degli avvisi.',
  },
};
