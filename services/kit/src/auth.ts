import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Bearer tokens: JWTs naming the user in `sub`, signed with the configured secret (HS256) or, when
 * a key set is configured, with one of its keys (RS256, PS256, ES256, EdDSA). Every read and write
 * is scoped to that user. Tokens may also carry the owner's `locale` and `tz` for the pages.
 */
export interface TokenIssuerOptions {
  secret: string;
  issuer?: string;
  /** The `aud` our tokens carry and a token must carry to be accepted (`auth.audience`); `faxnotify` when not given. */
  audience?: string;
  /** URL of a JSON Web Key Set (an identity provider's); tokens signed by its keys are accepted beside HS256 ones. */
  jwksUrl?: string;
  /** A key set given inline, for the same purpose as `jwksUrl`. */
  keySet?: { keys: Array<Record<string, unknown>> };
}

/** What a verified token says. */
export interface VerifiedToken {
  userId: string;
  /** The `locale` claim, when the token has one (a string, unchecked here). */
  locale?: string;
  /** The `tz` claim (an IANA time zone name), when the token has one. */
  tz?: string;
  /** Expiry, seconds since the epoch (every accepted token has one). */
  expiresAt: number;
  /** The sign-in session a session token belongs to (`sid`), when it has one. */
  sessionId?: string;
}

/** The audience of our tokens when `auth.audience` is not set. */
export const DEFAULT_AUDIENCE = 'faxnotify';

const key = (secret: string) => new TextEncoder().encode(secret);
// jose ships as an ES module only; a dynamic import keeps this package CommonJS.
const jose = () => import('jose');

const ASYMMETRIC = ['RS256', 'PS256', 'ES256', 'EdDSA'];
type KeyResolver = (header: { alg?: string; kid?: string }, token: unknown) => Promise<unknown>;
// One remote key set per URL: jose caches the keys and refetches on an unknown `kid`.
const keySets = new Map<string, KeyResolver>();

async function keySetFor(options: TokenIssuerOptions): Promise<KeyResolver | undefined> {
  const { createLocalJWKSet, createRemoteJWKSet } = await jose();
  if (options.keySet) return createLocalJWKSet(options.keySet) as unknown as KeyResolver;
  if (!options.jwksUrl) return undefined;
  let resolver = keySets.get(options.jwksUrl);
  if (!resolver) {
    resolver = createRemoteJWKSet(new URL(options.jwksUrl)) as unknown as KeyResolver;
    keySets.set(options.jwksUrl, resolver);
  }
  return resolver;
}

export async function issueToken(options: TokenIssuerOptions, userId: string, ttlSeconds = 3600, claims: Record<string, unknown> = {}): Promise<string> {
  const { SignJWT } = await jose();
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(options.issuer ?? 'faxnotify')
    .setAudience(options.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key(options.secret));
}

/**
 * Returns what a token says, or null when it is missing, expired, without an expiry, for another
 * audience (or none), from another issuer or not signed by a key we trust.
 */
export async function verifyTokenClaims(options: TokenIssuerOptions, token: string | undefined): Promise<VerifiedToken | null> {
  if (!token) return null;
  try {
    const { jwtVerify } = await jose();
    const secret = key(options.secret);
    const keySet = await keySetFor(options);
    const resolve = async (header: { alg?: string; kid?: string }, input: unknown) => (header.alg === 'HS256' ? secret : keySet!(header, input));
    const { payload } = await jwtVerify(token, resolve as Parameters<typeof jwtVerify>[1] & object, {
      issuer: options.issuer ?? 'faxnotify',
      audience: options.audience ?? DEFAULT_AUDIENCE,
      // A token that never expires, or is meant for no one in particular, is not taken.
      requiredClaims: ['exp', 'aud'],
      algorithms: keySet ? ['HS256', ...ASYMMETRIC] : ['HS256'],
    });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || typeof payload.exp !== 'number') return null;
    return {
      userId: payload.sub,
      expiresAt: payload.exp,
      ...(typeof payload.locale === 'string' ? { locale: payload.locale } : {}),
      ...(typeof payload.tz === 'string' ? { tz: payload.tz } : {}),
      ...(typeof payload.sid === 'string' ? { sessionId: payload.sid } : {}),
    };
  } catch {
    return null;
  }
}

/** Returns the user a token names, or null when it is missing, expired or not signed by us. */
export async function verifyToken(options: TokenIssuerOptions, token: string | undefined): Promise<string | null> {
  return (await verifyTokenClaims(options, token))?.userId ?? null;
}

export const bearerToken = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
};

/**
 * A signed cookie's value (read by @fastify/cookie, which `registerWebSecurity` sets up), or
 * undefined when it is missing or its signature does not hold: a changed cookie counts as none.
 */
export function signedCookie(request: FastifyRequest, name: string): string | undefined {
  const raw = (request.cookies as Record<string, string | undefined> | undefined)?.[name];
  if (!raw || typeof request.unsignCookie !== 'function') return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined;
}

export interface RequireUserOptions extends TokenIssuerOptions {
  /** Also accept the token from this signed cookie (the pages' session); the bearer header wins when both are there. */
  cookieName?: string;
}

/** The token a request carries: the bearer header, else the named signed cookie. */
export const requestToken = (request: FastifyRequest, cookieName?: string): string | undefined =>
  bearerToken(request) ?? (cookieName ? signedCookie(request, cookieName) : undefined);

/** Fastify pre-handler: answers 401 unless the request carries a valid token; sets `request.userId`. */
export const requireUser =
  (options: RequireUserOptions) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const verified = await verifyTokenClaims(options, requestToken(request, options.cookieName));
    if (!verified) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a valid bearer token is required' });
      return;
    }
    Object.assign(request, { userId: verified.userId, token: verified });
  };

export const userOf = (request: FastifyRequest): string => (request as FastifyRequest & { userId: string }).userId;

/** Everything the verified token said, after requireUser. */
export const tokenOf = (request: FastifyRequest): VerifiedToken => (request as FastifyRequest & { token: VerifiedToken }).token;

/**
 * The pages' sign-in: a signed cookie holding the same JWT as the bearer header, HttpOnly (no
 * script can read it) and SameSite=Lax (another site cannot make a browser send it with a
 * cross-site POST). The status tracker's fax pages and the notifier's settings page both set and
 * take it, so one sign-in serves both; `setSessionCookie` and `clearSessionCookie` (web.ts) write it.
 */
export const SESSION_COOKIE = 'faxnotify_session';

/** The signed-in viewer of a page (bearer header, else the session cookie), or null. */
export const sessionViewer = (options: TokenIssuerOptions, request: FastifyRequest): Promise<VerifiedToken | null> =>
  verifyTokenClaims(options, requestToken(request, SESSION_COOKIE));

/**
 * Where to go after signing in: only a path on this site (`/…`, not `//host` or `/\host`, which
 * browsers treat as another origin), else `fallback`.
 */
export function safeNext(next: unknown, fallback: string): string {
  if (typeof next !== 'string' || next.length > 2000) return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return fallback;
  return next;
}
