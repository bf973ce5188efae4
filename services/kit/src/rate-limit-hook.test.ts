import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { openDatabase, type Database } from './db';
import { createLogger } from './logger';
import { RateLimiter, rateLimitHook, rateLimitsMigration, type RateLimitRule } from './rate-limit';

const logger = createLogger('rate-limit-hook-test', 'silent');
const rule: RateLimitRule = { name: 'posts', max: 2, windowSeconds: 60, what: 'posts', per: 'account' };
let dir: string;
let database: Database<unknown>;
let app: FastifyInstance;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kit-rate-hook-'));
  database = await openDatabase<unknown>({
    service: 'rate-hook-test',
    url: '',
    sqlitePath: join(dir, 'limits.sqlite'),
    migrations: { '001_rate_limits': rateLimitsMigration() },
    logger,
  });
  const limiter = new RateLimiter(database.db, { now: () => new Date(1_800_000_030_000) });
  app = Fastify();
  const account = (request: { headers: Record<string, unknown> }) =>
    typeof request.headers['x-account'] === 'string' ? request.headers['x-account'] : undefined;
  app.post('/posts', { preHandler: rateLimitHook({ limiter, rule, key: account }) }, async () => ({ ok: true }));
  app.post(
    '/faxes',
    { preHandler: rateLimitHook({ limiter, rule: { ...rule, name: 'faxes' }, key: account, extend: (b) => ({ description: b.message }) }) },
    async () => ({
      ok: true,
    }),
  );
  app.post('/off', { preHandler: rateLimitHook({ limiter, rule: { ...rule, name: 'off', max: 0 }, key: account }) }, async () => ({ ok: true }));
});

afterEach(async () => {
  await app.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (url: string, account?: string) => app.inject({ method: 'POST', url, headers: account ? { 'x-account': account } : {} });

it('answers 429 with Retry-After and a body naming the limit once an account is over it', async () => {
  const first = await post('/posts', 'alice');
  expect(first.statusCode).toBe(200);
  expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '30' });
  expect((await post('/posts', 'alice')).headers['x-ratelimit-remaining']).toBe('0');

  const refused = await post('/posts', 'alice');
  expect(refused.statusCode).toBe(429);
  expect(refused.headers).toMatchObject({ 'retry-after': '60', 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0' });
  expect(refused.json()).toEqual({
    error: 'rate_limited',
    message: 'rate limit: at most 2 posts per minute per account; try again in 60 seconds',
    limit: 2,
    windowSeconds: 60,
    retryAfterSeconds: 60,
  });
  // Another account, a request that names none, and a limit that is off are not held back.
  expect((await post('/posts', 'bob')).statusCode).toBe(200);
  for (let i = 0; i < 3; i++) expect((await post('/posts')).statusCode).toBe(200);
  for (let i = 0; i < 3; i++) expect((await post('/off', 'alice')).statusCode).toBe(200);
  expect((await post('/off', 'alice')).headers['x-ratelimit-limit']).toBeUndefined();
});

it("adds the fields an API's errors have to the 429 body", async () => {
  for (let i = 0; i < 2; i++) await post('/faxes', 'alice');
  const refused = await post('/faxes', 'alice');
  expect(refused.statusCode).toBe(429);
  expect(refused.json()).toMatchObject({ error: 'rate_limited', description: refused.json<{ message: string }>().message, limit: 2 });
});
