import { LOCALES } from '@faxnotify/contracts';
import { CHANNELS } from '../channels/types';
import { renderCodeMessage } from './code-message';

/** The confirmation code message on each channel and in each language, with what each medium needs escaped. */

const context = { code: '042917', address: 'ann@example.test', minutes: 15, settingsUrl: 'http://127.0.0.1:8083/settings' };

it.each(CHANNELS.flatMap((channel) => LOCALES.map((locale) => [channel, locale] as const)))('%s in %s carries the code and its life', (channel, locale) => {
  const message = renderCodeMessage(channel, locale, context, 'faxnotify.test');
  expect(message).toMatchObject({ channel, locale, threadId: '' });
  expect(message.text).toContain('042917');
  expect(message.text).toContain('15');
  expect(message.noticeId).toMatch(/^code-[0-9a-f]{20}$/);
  expect(message.messageId).toBe(`<${message.noticeId}@faxnotify.test>`);
  if (channel === 'email') {
    expect(message.title).toContain('042917');
    expect(message.html).toContain('<strong>042917</strong>');
    expect(message.text).toContain('ann@example.test');
  }
  // An SMS code fits one part in English and Italian (GSM-7), at most two in Russian (UCS-2).
  if (channel === 'sms') expect(message.sms).toEqual(locale === 'ru' ? { encoding: 'UCS-2', segments: 2 } : { encoding: 'GSM-7', segments: 1 });
});

it('escapes the address in the HTML part and folds control characters in the text parts', () => {
  const hostile = { ...context, address: 'a<b>&"c\r\nBcc: x@evil\u0000' };
  const email = renderCodeMessage('email', 'en', hostile, 'faxnotify.test');
  expect(email.html).toContain('a&lt;b&gt;&amp;&quot;c Bcc: x@evil');
  expect(email.html).not.toContain('<b>');
  expect(email.text).toContain('a<b>&"c Bcc: x@evil');
  // eslint-disable-next-line no-control-regex
  expect(email.text).not.toMatch(/\r|\u0000/);
  expect(email.title).toBe('Your faxnotify confirmation code: 042917');
  const chat = renderCodeMessage('xmpp', 'it', hostile, 'faxnotify.test');
  expect(chat.text.split('\n')).toHaveLength(4);
});

it('gives every message its own notice id', () => {
  expect(renderCodeMessage('sms', 'en', context, 'x').noticeId).not.toBe(renderCodeMessage('sms', 'en', context, 'x').noticeId);
});
