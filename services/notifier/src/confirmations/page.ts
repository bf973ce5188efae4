import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type Handlebars from 'handlebars';
import type { Locale } from '@faxnotify/contracts';
import { sessionViewer, type TokenIssuerOptions } from '@faxnotify/kit';
import { CHANNELS, type Channel } from '../channels/types';
import { CONFIRMATION_STRINGS } from './page-strings';
import { confirmRefusal, sendCodeRefusal } from './routes';
import type { ChannelConfirmations, ConfirmResult, SendCodeResult } from './service';

const PARTIAL = join(dirname(require.resolve('@faxnotify/templates/package.json')), 'pages', 'partials', 'channel-confirmations.hbs');

/** The settings page's section that shows each address's confirmation, as the `channel-confirmations` partial. */
export function registerConfirmationPartial(pages: typeof Handlebars): void {
  pages.registerPartial('channel-confirmations', readFileSync(PARTIAL, 'utf8'));
}

/** What the last form post or redirect has to say about one channel. */
export interface ConfirmationMessage {
  channel: Channel;
  text: string;
  error: boolean;
}

const isChannel = (value: unknown): value is Channel => typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);

const clock = (iso: string, locale: Locale, timeZone: string) =>
  new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : locale, { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date(iso));

/**
 * The section's data: each channel with a saved address, whether it is confirmed, and the forms
 * to ask for a code and type it. Undefined when notices do not wait for confirmation.
 */
export async function confirmationSection(
  confirmations: ChannelConfirmations,
  request: FastifyRequest,
  page: { userId: string; locale: Locale; timeZone: string; csrf: string; minutes: number; message?: ConfirmationMessage },
): Promise<Record<string, unknown> | undefined> {
  if (!confirmations.required) return undefined;
  const t = CONFIRMATION_STRINGS[page.locale];
  const view = await confirmations.view(page.userId);
  // After a redirect: the code went out, or the address is confirmed.
  const query = (request.query ?? {}) as Record<string, unknown>;
  let message = page.message;
  if (!message && isChannel(query.code_sent) && view.channels[query.code_sent].address)
    message = { channel: query.code_sent, text: t.sent(view.channels[query.code_sent].address!, page.minutes), error: false };
  if (!message && isChannel(query.confirmed) && view.channels[query.confirmed].confirmed)
    message = { channel: query.confirmed, text: t.done(view.channels[query.confirmed].address!), error: false };

  const channels = CHANNELS.filter((channel) => view.channels[channel].address).map((channel) => {
    const state = view.channels[channel];
    const stateText = state.confirmed
      ? t.confirmed
      : !state.available
        ? t.unavailable
        : state.codePending && state.codeExpiresAt
          ? t.pending(clock(state.codeExpiresAt, page.locale, page.timeZone))
          : t.unconfirmed;
    return {
      channel,
      name: t.channel[channel],
      address: state.address,
      confirmed: state.confirmed,
      canConfirm: !state.confirmed && state.available,
      stateText,
      sendLabel: state.codePending ? t.sendAgain[channel] : t.sendCode[channel],
      codeLabel: t.codeLabel[channel],
      confirmLabel: t.confirm[channel],
      nextCode: state.nextCodeAt && !state.confirmed ? t.nextCode(clock(state.nextCodeAt, page.locale, page.timeZone)) : undefined,
      message: message?.channel === channel ? message : undefined,
    };
  });
  return { t, csrf: page.csrf, channels, none: channels.length === 0 };
}

/** The page words for a refused code request or code. */
export function refusalText(locale: Locale, result: Exclude<SendCodeResult, { kind: 'sent' }> | Exclude<ConfirmResult, { kind: 'confirmed' }>): string {
  const t = CONFIRMATION_STRINGS[locale];
  switch (result.kind) {
    case 'no_address':
      return t.noAddress;
    case 'unavailable':
      return t.unavailable;
    case 'already_confirmed':
      return t.alreadyConfirmed(result.address);
    case 'rate_limited':
      return t.rateLimited(result.retryAfterSeconds);
    case 'send_failed':
      return t.sendFailed;
    case 'bad_code':
      return t.badCode;
    case 'wrong':
      return t.wrong(result.attemptsLeft);
    case 'voided':
      return t.voided;
    case 'expired':
      return t.expired;
    case 'no_code':
      return t.noCode;
  }
}

export interface ConfirmationFormsOptions {
  confirmations: ChannelConfirmations;
  auth: TokenIssuerOptions;
  checkCsrf: preHandlerHookHandler[];
  /** The settings page's path; the forms post below it. */
  settingsPath: string;
  /** The sign-in page, for a post whose session has ended. */
  signIn: (request: FastifyRequest, reply: FastifyReply) => unknown;
  /** The settings page with a message for one channel, in the page's language (`locale` picks it). */
  show: (request: FastifyRequest, reply: FastifyReply, page: { status: number; userId: string; message: (locale: Locale) => ConfirmationMessage }) => unknown;
}

/**
 * The section's two forms, for the signed-in owner (session cookie and CSRF token, like the
 * settings form): POST <settings>/channels/:channel/code sends a code to the saved address and
 * POST <settings>/channels/:channel/confirm takes the code. Success redirects back to the page;
 * a refusal shows the page again with its reason (429 and Retry-After over the limits).
 */
export function registerConfirmationForms(scope: FastifyInstance, options: ConfirmationFormsOptions): void {
  const { confirmations, auth, settingsPath } = options;
  type Post = { Params: { channel: string }; Body: Record<string, string | undefined> };

  const refused = (
    request: FastifyRequest,
    reply: FastifyReply,
    userId: string,
    channel: Channel,
    result: Parameters<typeof refusalText>[1],
    refusal: { status: number },
  ) => {
    if (result.kind === 'rate_limited') void reply.header('retry-after', String(result.retryAfterSeconds));
    return options.show(request, reply, { status: refusal.status, userId, message: (locale) => ({ channel, text: refusalText(locale, result), error: true }) });
  };

  scope.post<Post>(`${settingsPath}/channels/:channel/code`, { preHandler: options.checkCsrf }, async (request, reply) => {
    const viewer = await sessionViewer(auth, request);
    if (!viewer) return options.signIn(request, reply);
    const { channel } = request.params;
    if (!isChannel(channel)) return reply.code(404).send({ error: 'not_found', message: 'no such channel' });
    const result = await confirmations.sendCode(viewer.userId, channel);
    if (result.kind !== 'sent') return refused(request, reply, viewer.userId, channel, result, sendCodeRefusal(result));
    return reply.code(303).header('location', `${settingsPath}?code_sent=${channel}#confirm-${channel}`).send();
  });

  scope.post<Post>(`${settingsPath}/channels/:channel/confirm`, { preHandler: options.checkCsrf }, async (request, reply) => {
    const viewer = await sessionViewer(auth, request);
    if (!viewer) return options.signIn(request, reply);
    const { channel } = request.params;
    if (!isChannel(channel)) return reply.code(404).send({ error: 'not_found', message: 'no such channel' });
    const code = typeof request.body?.code === 'string' ? request.body.code.slice(0, 32) : '';
    const result = await confirmations.confirm(viewer.userId, channel, code);
    if (result.kind !== 'confirmed') return refused(request, reply, viewer.userId, channel, result, confirmRefusal(result));
    return reply.code(303).header('location', `${settingsPath}?confirmed=${channel}#confirm-${channel}`).send();
  });
}
