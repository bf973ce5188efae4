import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Handlebars from 'handlebars';
import type { Locale } from '@faxnotify/contracts';
import { plainText } from '@faxnotify/kit';
import { smsSize } from '../channels/sms/segments';
import type { Channel, RenderedNotice } from '../channels/types';

const TEMPLATES_ROOT = dirname(require.resolve('@faxnotify/templates/package.json'));

/** What a confirmation code message may show. */
export interface CodeContext {
  code: string;
  /** The address being confirmed, as the settings hold it. */
  address: string;
  /** How long the code is valid, in whole minutes. */
  minutes: number;
  settingsUrl: string;
}

type Part = 'code-subject' | 'code-text' | 'code-html';
const PARTS: Record<Channel, Part[]> = { email: ['code-subject', 'code-text', 'code-html'], sms: ['code-text'], xmpp: ['code-text'] };

const compiled = new Map<string, Handlebars.TemplateDelegate<CodeContext>>();
// As for notices: the HTML part is escaped by Handlebars, plain-text parts get values already free of control characters.
const engine = Handlebars.create();

function template(channel: Channel, locale: Locale, part: Part): Handlebars.TemplateDelegate<CodeContext> {
  const key = `${channel}/${locale}/${part}`;
  let found = compiled.get(key);
  if (!found) {
    found = engine.compile<CodeContext>(readFileSync(join(TEMPLATES_ROOT, channel, locale, `${part}.hbs`), 'utf8'), {
      noEscape: part !== 'code-html',
      strict: true,
    });
    compiled.set(key, found);
  }
  return found;
}

/**
 * The message that carries a confirmation code, rendered from templates/<channel>/<locale>/code-*.hbs
 * as a notice its channel's adapter sends like any other: its own notice id (so a delivery report
 * about it matches no ledger row) and no thread.
 */
export function renderCodeMessage(channel: Channel, locale: Locale, context: CodeContext, messageIdDomain: string): RenderedNotice {
  const safe: CodeContext = { ...context, address: plainText(context.address, 1000), settingsUrl: plainText(context.settingsUrl, 2000) };
  const parts = PARTS[channel];
  const text = template(channel, locale, 'code-text')(safe).trim();
  const noticeId = `code-${randomBytes(10).toString('hex')}`;
  const size = channel === 'sms' ? smsSize(text) : undefined;
  return {
    channel,
    locale,
    noticeId,
    title: parts.includes('code-subject') ? plainText(template(channel, locale, 'code-subject')(safe), 250) : '',
    text,
    ...(parts.includes('code-html') ? { html: template(channel, locale, 'code-html')(safe) } : {}),
    ...(size ? { sms: { encoding: size.encoding, segments: size.segments } } : {}),
    messageId: `<${noticeId}@${messageIdDomain}>`,
    threadId: '',
  };
}
