import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type Database } from './db';
import { createHttpServer } from './http';
import { createLogger } from './logger';
import { RateLimiter, rateLimitsMigration, signInAttemptGuard } from './rate-limit';
import { registerSignIn } from './sign-in';
import { registerWebSecurity } from './web';

/** Sign-in attempts (GET /auth/login and /auth/callback together) counted per client address, before anything else happens. */
const SECRET = 'sign-in-limits-secret-0123456789abcdef';
const logger = createLogger('sign-in-limits-test', 'silent');
let dir: string;
let database: Database<unknown>;
let app: FastifyInstance;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kit-sign-in-limits-'));
  database = await openDatabase<unknown>({
    service: 'sign-in-limits-test',
    url: '',
    sqlitePath: join(dir, 'limits.sqlite'),
    migrations: { '001_rate_limits': rateLimitsMigration() },
    logger,
  });
  // Behind a trusted proxy the client address is the one it forwards.
  app = createHttpServer({ host: '127.0.0.1', port: 0, logger, ready: () => ({}), trustProxy: true });
  await registerWebSecurity(app, { secret: SECRET });
  registerSignIn(app, {
    auth: { secret: SECRET, audience: 'faxnotify-pages' },
    settings: {
      jwtSecret: SECRET,
      allowDevelopmentSecret: false,
      audience: 'faxnotify-pages',
      sessionHours: 8,
      oidc: { issuer: '', clientId: '', clientSecret: '', scopes: 'openid', userClaim: 'sub' },
    },
    publicUrl: () => 'http://127.0.0.1',
    landing: '/home',
    logger,
    render: (_request, reply, view, status) => reply.code(status).send(view),
    attemptGuard: signInAttemptGuard(new RateLimiter(database.db), { max: 3, windowSeconds: 600 }),
  });
});

afterEach(async () => {
  await app.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const from = (address: string, url: string) => app.inject({ method: 'GET', url, headers: { 'x-forwarded-for': address } });

it("refuses a client address's sign-in attempts over the limit with 429, and leaves other addresses and pages alone", async () => {
  // Sign-in is not set up here, so each attempt that gets through is told so (404).
  expect((await from('203.0.113.5', '/auth/login?next=/x')).statusCode).toBe(404);
  expect((await from('203.0.113.5', '/auth/callback?state=s&code=c')).statusCode).toBe(404);
  const third = await from('203.0.113.5', '/auth/login');
  expect(third.statusCode).toBe(404);
  expect(third.headers['x-ratelimit-remaining']).toBe('0');

  const refused = await from('203.0.113.5', '/auth/callback?state=s&code=c');
  expect(refused.statusCode).toBe(429);
  const retryAfter = Number(refused.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(1200);
  expect(refused.json()).toEqual({
    error: 'rate_limited',
    message: `rate limit: at most 3 sign-in attempts per 10 minutes per client address; try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}`,
    limit: 3,
    windowSeconds: 600,
    retryAfterSeconds: retryAfter,
  });
  expect((await from('203.0.113.6', '/auth/login')).statusCode).toBe(404);
  expect((await from('203.0.113.5', '/auth/signed-out')).statusCode).toBe(200);
});
