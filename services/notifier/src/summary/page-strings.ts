import type { Locale } from '@faxnotify/contracts';
import type { SummaryMode } from './choice';

/** The summary part of the settings page, in each language. */
export interface SummaryPageStrings {
  legend: string;
  modes: Record<SummaryMode, string>;
  threshold: string;
  thresholdHint: string;
  channels: string;
  channelNames: { email: string; sms: string; xmpp: string };
  channelsHint: string;
}

export const SUMMARY_STRINGS: Record<Locale, SummaryPageStrings> = {
  en: {
    legend: 'Faxes to many recipients',
    modes: {
      auto: 'One summary per fax when it has more recipients than the number below, else a notice per recipient',
      recipient: 'Always a notice per recipient',
      fax: 'Always one summary per fax',
      both: 'Both: a notice per recipient and a summary per fax',
    },
    threshold: 'Recipients up to which each gets its own notice',
    thresholdHint: 'A fax with more recipients than this gets one summary instead.',
    channels: 'Summaries go to',
    channelNames: { email: 'Email (a row per recipient)', sms: 'SMS (the counts and the link)', xmpp: 'Jabber (the counts and the link)' },
    channelsHint: 'A channel left out keeps a notice per recipient.',
  },
  ru: {
    legend: 'Факсы многим получателям',
    modes: {
      auto: 'Одна сводка на факс, если получателей больше числа ниже, иначе уведомление по каждому получателю',
      recipient: 'Всегда уведомление по каждому получателю',
      fax: 'Всегда одна сводка на факс',
      both: 'И то и другое: уведомление по каждому получателю и сводка на факс',
    },
    threshold: 'До скольких получателей каждому отдельное уведомление',
    thresholdHint: 'Факс с большим числом получателей придёт одной сводкой.',
    channels: 'Куда отправлять сводки',
    channelNames: { email: 'Почта (строка на каждого получателя)', sms: 'SMS (итоги и ссылка)', xmpp: 'Jabber (итоги и ссылка)' },
    channelsHint: 'Канал без сводок получает уведомление по каждому получателю.',
  },
  it: {
    legend: 'Fax a molti destinatari',
    modes: {
      auto: 'Un riepilogo per fax quando ha più destinatari del numero qui sotto, altrimenti un avviso per destinatario',
      recipient: 'Sempre un avviso per destinatario',
      fax: 'Sempre un riepilogo per fax',
      both: 'Entrambi: un avviso per destinatario e un riepilogo per fax',
    },
    threshold: 'Destinatari fino ai quali ognuno ha il suo avviso',
    thresholdHint: 'Un fax con più destinatari riceve invece un solo riepilogo.',
    channels: 'I riepiloghi vanno a',
    channelNames: { email: 'Email (una riga per destinatario)', sms: 'SMS (i conteggi e il link)', xmpp: 'Jabber (i conteggi e il link)' },
    channelsHint: 'Un canale escluso riceve un avviso per destinatario.',
  },
};
