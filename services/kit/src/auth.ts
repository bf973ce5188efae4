import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Bearer tokens: HS256 JWTs naming the user in `sub`, signed with the configured secret.
 * Every read and write is scoped to that user.
 */
export interface TokenIssuerOptions {
  secret: string;
  issuer?: string;
}

const key = (secret: string) => new TextEncoder().encode(secret);
// jose ships as an ES module only; a dynamic import keeps this package CommonJS.
const jose = () => import('jose');

export async function issueToken(options: TokenIssuerOptions, userId: string, ttlSeconds = 3600): Promise<string> {
  const { SignJWT } = await jose();
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(options.issuer ?? 'faxnotify')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key(options.secret));
}

/** Returns the user a token names, or null when it is missing, expired or not signed by us. */
export async function verifyToken(options: TokenIssuerOptions, token: string | undefined): Promise<string | null> {
  if (!token) return null;
  try {
    const { jwtVerify } = await jose();
    const { payload } = await jwtVerify(token, key(options.secret), { issuer: options.issuer ?? 'faxnotify', algorithms: ['HS256'] });
    return typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : null;
  } catch {
    return null;
  }
}

export const bearerToken = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
};

/** Fastify pre-handler: answers 401 unless the request carries a valid token; sets `request.userId`. */
export const requireUser =
  (options: TokenIssuerOptions) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const userId = await verifyToken(options, bearerToken(request));
    if (!userId) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a valid bearer token is required' });
      return;
    }
    (request as FastifyRequest & { userId: string }).userId = userId;
  };

export const userOf = (request: FastifyRequest): string => (request as FastifyRequest & { userId: string }).userId;
