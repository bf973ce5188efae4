import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Handlebars from 'handlebars';
import type { Locale } from '@faxnotify/contracts';
import { derivedKey, rateLimitHook, type Logger, type RateLimiter } from '@faxnotify/kit';
import { CHANNELS, type Channel } from './channels/types';
import type { SettingsStore } from './settings';
import { UNSUBSCRIBE_STRINGS } from './unsubscribe-strings';

/**
 * One-click unsubscribe (RFC 8058, with the List-Unsubscribe header of RFC 2369): every email
 * notice names `<publicUrl>/unsubscribe/<token>`, a token bound to its owner and channel and signed
 * with a key derived from the service's secret. It needs no sign-in: holding the email is enough.
 *
 * Token: `<owner id, base64url>.<channel>.<HMAC-SHA256 of both, base64url, 128 bits>`.
 */
const SIGNATURE_CHARS = 22;

/** The signing key, derived once per secret (every email notice signs a token with it). */
const keys = new Map<string, Buffer>();
function keyOf(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = Buffer.from(derivedKey(secret, 'unsubscribe link'), 'base64url');
    keys.set(secret, key);
  }
  return key;
}
const signatureOf = (key: Buffer, ownerId: string, channel: Channel) =>
  createHmac('sha256', key).update(`${ownerId}\n${channel}`).digest('base64url').slice(0, SIGNATURE_CHARS);

/** The token of an owner's notices on a channel. */
export function unsubscribeToken(secret: string, ownerId: string, channel: Channel): string {
  return `${Buffer.from(ownerId, 'utf8').toString('base64url')}.${channel}.${signatureOf(keyOf(secret), ownerId, channel)}`;
}

/** The owner and channel a token is for, or undefined when it is not one of ours. */
export function readUnsubscribeToken(secret: string, token: string): { ownerId: string; channel: Channel } | undefined {
  const [owner, channel, signature, ...rest] = token.split('.');
  if (rest.length > 0 || !owner || !signature || !(CHANNELS as readonly string[]).includes(channel ?? '')) return undefined;
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(owner) || signature.length !== SIGNATURE_CHARS) return undefined;
  const ownerId = Buffer.from(owner, 'base64url').toString('utf8');
  const expected = Buffer.from(signatureOf(keyOf(secret), ownerId, channel as Channel));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ownerId, channel: channel as Channel } : undefined;
}

/** The link in an email notice: `<base>/unsubscribe/<token>`. */
export const unsubscribeUrl = (base: string, secret: string, ownerId: string, channel: Channel): string =>
  `${base.replace(/\/+$/, '')}/unsubscribe/${unsubscribeToken(secret, ownerId, channel)}`;

export interface UnsubscribeOptions {
  store: SettingsStore;
  secret: string;
  defaultLocale: Locale;
  limiter: RateLimiter;
  /** rateLimits.unsubscribe: requests per client address in a window. */
  limit: { max: number; windowSeconds: number };
  settingsUrl: (ownerId: string) => string;
  logger: Logger;
}

const TEMPLATE = join(dirname(require.resolve('@faxnotify/templates/package.json')), 'pages', 'unsubscribe.hbs');

/**
 * - `GET /unsubscribe/:token`: a page asking to confirm, with a button (mail scanners follow links,
 *   so a GET changes nothing);
 * - `POST /unsubscribe/:token` with `List-Unsubscribe=One-Click` (as a mail client sends it, as
 *   multipart/form-data or a URL-encoded form, or from that page): turns the channel's notices of
 *   results off for the owner; again changes nothing; 200.
 * Both are counted per client address like the other public endpoints; a bad token is 404.
 */
export function registerUnsubscribeRoutes(app: FastifyInstance, options: UnsubscribeOptions): void {
  const template = Handlebars.create().compile(readFileSync(TEMPLATE, 'utf8'), { strict: false });
  const guard = rateLimitHook({
    limiter: options.limiter,
    rule: { name: 'unsubscribe', what: 'unsubscribe requests', per: 'client address', ...options.limit },
    key: (request) => request.ip,
  });

  const page = async (reply: FastifyReply, status: number, locale: Locale, view: Record<string, unknown>) => {
    const t = UNSUBSCRIBE_STRINGS[locale];
    return reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(template({ lang: locale, t, ...view }));
  };
  const checked = async (request: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply) => {
    const owner = readUnsubscribeToken(options.secret, request.params.token);
    if (!owner) {
      options.logger.info('unsubscribe link refused');
      await page(reply, 404, options.defaultLocale, { title: UNSUBSCRIBE_STRINGS[options.defaultLocale].invalidTitle, invalid: true });
      return undefined;
    }
    const settings = await options.store.get(owner.ownerId);
    return { ...owner, locale: settings?.locale ?? options.defaultLocale };
  };

  void app.register(async (scope) => {
    // Only this scope reads multipart bodies: RFC 8058 asks mail clients to post one.
    await scope.register(fastifyMultipart, { attachFieldsToBody: 'keyValues', limits: { fields: 10, fieldSize: 1024, files: 0, parts: 10 } });

    scope.get<{ Params: { token: string } }>('/unsubscribe/:token', { preHandler: guard }, async (request, reply) => {
      const owner = await checked(request, reply);
      if (!owner) return reply;
      const t = UNSUBSCRIBE_STRINGS[owner.locale];
      return page(reply, 200, owner.locale, { title: t.title[owner.channel], question: t.question[owner.channel], action: request.url.split('?')[0] });
    });

    scope.post<{ Params: { token: string }; Body: Record<string, unknown> | undefined }>(
      '/unsubscribe/:token',
      { preHandler: guard },
      async (request, reply) => {
        const owner = await checked(request, reply);
        if (!owner) return reply;
        if (request.body?.['List-Unsubscribe'] !== 'One-Click') {
          return reply.code(400).send({ error: 'bad_request', message: 'the body must be List-Unsubscribe=One-Click (RFC 8058)' });
        }
        await options.store.turnOff(owner.ownerId, owner.channel);
        options.logger.info({ owner: owner.ownerId, channel: owner.channel }, 'notices of results turned off by one-click unsubscribe');
        const t = UNSUBSCRIBE_STRINGS[owner.locale];
        return page(reply, 200, owner.locale, { title: t.title[owner.channel], done: t.done[owner.channel], settingsUrl: options.settingsUrl(owner.ownerId) });
      },
    );
  });
}
