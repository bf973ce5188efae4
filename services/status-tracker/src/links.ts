import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { derivedKey, signedCookie } from '@faxnotify/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { TrackerDatabase } from './schema';

/**
 * Link tokens: what a notice's fax link carries so it opens that one fax without a sign-in.
 *
 * A token is 24 URL-safe characters: a random id (9 bytes, 12 characters) naming a row of
 * `link_tokens` (owner, fax, issue and expiry time, revocation), then a MAC (HMAC-SHA256 with a
 * key derived from the shared auth secret for this one purpose, cut to 9 bytes) over that row.
 *
 * Why a stored id rather than a JWT or a self-contained (fax, issued-at) pair: the link must fit an
 * SMS beside the notice, and a fax id alone is a 36-character UUID (a JWT naming fax, owner and
 * expiry runs past 200); revoking ("sign out all links") needs state on the server in any case;
 * and a row can say which fax and owner it opens in a 12-character id. The MAC over the row means
 * a token cannot be made up by guessing ids, nor by writing a row without the key; a row edited
 * to open another fax, for another owner, or for longer no longer verifies. 72 random bits plus
 * 72 bits of MAC are far beyond what trying links over HTTP can reach.
 */
export const LINK_TOKEN_LENGTH = 24;
const ID_LENGTH = 12;
const ID_BYTES = 9;
const MAC_BYTES = 9;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{24}$/;

/** Why a token does not open its fax. `off`: the operator turned link tokens off (links.tokens). */
export type LinkRefusal = 'malformed' | 'unknown' | 'tampered' | 'expired' | 'revoked' | 'off';

/** What a good token grants: reading one fax of one owner, until `expiresAt`. */
export interface LinkGrant {
  faxId: string;
  ownerId: string;
  expiresAt: string;
}

export type LinkCheck = { ok: true; grant: LinkGrant } | { ok: false; reason: LinkRefusal };

export interface LinkTokensOptions {
  db: Kysely<TrackerDatabase>;
  /** The services' shared auth secret (auth.jwtSecret); the MAC key is derived from it. */
  secret: string;
  /** How long a token opens its fax. */
  ttlMs: number;
  now?: () => Date;
}

/** The browser's link grants: the tokens of the links it opened (signed, HttpOnly), newest first. */
export const LINK_COOKIE = 'faxnotify_link';
/** Grants a browser keeps at once: enough for the links of a day's notices. */
const MAX_GRANTS = 5;
/** A grant cookie lasts a day at most; every use checks its token again (expiry, revocation). */
const GRANT_COOKIE_SECONDS = 24 * 3600;

export class LinkTokens {
  private readonly key: Buffer;
  private readonly now: () => Date;

  constructor(private readonly options: LinkTokensOptions) {
    this.key = Buffer.from(derivedKey(options.secret, 'notice link token'), 'base64url');
    this.now = options.now ?? (() => new Date());
  }

  /** A new token opening `faxId` of `ownerId`, written with `db` (the caller's transaction, when it has one). */
  async mint(db: Kysely<TrackerDatabase>, ownerId: string, faxId: string): Promise<string> {
    const id = randomBytes(ID_BYTES).toString('base64url');
    const issued = this.now();
    const row = {
      id,
      owner_id: ownerId,
      fax_id: faxId,
      issued_at: issued.toISOString(),
      expires_at: new Date(issued.getTime() + this.options.ttlMs).toISOString(),
      revoked_at: null,
    };
    await db.insertInto('link_tokens').values(row).execute();
    return id + this.mac(row).toString('base64url');
  }

  /** Whether a token opens a fax, and which. */
  async check(token: string): Promise<LinkCheck> {
    if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' };
    const id = token.slice(0, ID_LENGTH);
    const row = await this.options.db.selectFrom('link_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return { ok: false, reason: 'unknown' };
    const given = Buffer.from(token.slice(ID_LENGTH), 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(row))) return { ok: false, reason: 'tampered' };
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
    if (Date.parse(row.expires_at) <= this.now().getTime()) return { ok: false, reason: 'expired' };
    return { ok: true, grant: { faxId: row.fax_id, ownerId: row.owner_id, expiresAt: row.expires_at } };
  }

  /**
   * "Sign out all links": every token of the owner issued until now stops working (tokens minted
   * later, for results still to come, work). Expired rows of the owner go at the same time.
   */
  async revokeAll(ownerId: string): Promise<{ revoked: number; revokedAt: string }> {
    const revokedAt = this.now().toISOString();
    return this.options.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('link_tokens').where('owner_id', '=', ownerId).where('expires_at', '<=', revokedAt).execute();
      const result = await trx
        .updateTable('link_tokens')
        .set({ revoked_at: revokedAt })
        .where('owner_id', '=', ownerId)
        .where('revoked_at', 'is', null)
        .where('issued_at', '<=', revokedAt)
        .executeTakeFirst();
      return { revoked: Number(result.numUpdatedRows), revokedAt };
    });
  }

  /** Lets this browser read the token's fax: the token joins the grants in its link cookie. */
  grant(request: FastifyRequest, reply: FastifyReply, token: string): void {
    const tokens = [token, ...grantTokens(request).filter((t) => t !== token)].slice(0, MAX_GRANTS);
    reply.setCookie(LINK_COOKIE, tokens.join('.'), { path: '/', maxAge: GRANT_COOKIE_SECONDS, httpOnly: true, sameSite: 'lax', secure: 'auto', signed: true });
  }

  /** The grant this browser holds for `faxId` (a token of its link cookie that still opens that fax), or null. */
  async grantFor(request: FastifyRequest, faxId: string): Promise<LinkGrant | null> {
    for (const token of grantTokens(request)) {
      const check = await this.check(token);
      if (check.ok && check.grant.faxId === faxId) return check.grant;
    }
    return null;
  }

  private mac(row: { id: string; owner_id: string; fax_id: string; issued_at: string; expires_at: string }): Buffer {
    return createHmac('sha256', this.key)
      .update(['faxnotify link v1', row.id, row.owner_id, row.fax_id, row.issued_at, row.expires_at].join('\n'))
      .digest()
      .subarray(0, MAC_BYTES);
  }
}

const grantTokens = (request: FastifyRequest): string[] =>
  (signedCookie(request, LINK_COOKIE) ?? '')
    .split('.')
    .filter((t) => TOKEN_PATTERN.test(t))
    .slice(0, MAX_GRANTS);

/** The link a notice carries: `template` with `{token}` replaced. */
export const tokenLink = (template: string, token: string): string => template.replaceAll('{token}', token);

/**
 * Where token links point when links.tokenUrlTemplate is empty: beside the fax pages, so a fax
 * template `https://host/prefix/faxes/{faxId}` gives `https://host/prefix/l/{token}`.
 */
export function tokenUrlTemplateOf(faxUrlTemplate: string, tokenUrlTemplate: string): string {
  if (tokenUrlTemplate) return tokenUrlTemplate;
  const at = faxUrlTemplate.indexOf('/faxes/{faxId}');
  if (at >= 0) return `${faxUrlTemplate.slice(0, at)}/l/{token}`;
  return `${new URL(faxUrlTemplate).origin}/l/{token}`;
}
