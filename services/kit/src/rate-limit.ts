import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql, type Kysely, type Migration } from 'kysely';
import { errorMessage } from './errors';
import type { Logger } from './logger';

/**
 * Limits against abuse, counted in the service's own database so that every replica of a service
 * counts against the same numbers. Each limit is a sliding window, approximated the usual way from
 * two fixed windows: the hits of the current window plus the previous window's hits weighted by how
 * much of it the sliding window still covers. So a burst at a window's edge cannot pass twice the
 * limit, and one row per key and window is all that is stored.
 */

export const RATE_LIMITS_TABLE = 'rate_limits';

/** One counter: the hits of one key (limit name and whose hits) in one fixed window. */
export interface RateLimitsTable {
  /** The limit's name and the key it counts for, e.g. `fax-submissions:alice`. */
  bucket: string;
  /** Unix seconds the window starts at (a multiple of the limit's window). */
  window_start: number;
  hits: number;
  /** Unix seconds after which the row is of no use (the end of the window after it). */
  expires_at: number;
}

interface RateLimitDatabase {
  rate_limits: RateLimitsTable;
}

/** The step each service's migration runs to create the counters' table. */
export async function createRateLimitsTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable(RATE_LIMITS_TABLE)
    .addColumn('bucket', 'varchar(200)', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limits_pk', ['bucket', 'window_start'])
    .execute();
  await db.schema.createIndex('rate_limits_expires_at').on(RATE_LIMITS_TABLE).column('expires_at').execute();
}

/** A migration that creates the counters' table (and drops it going down). */
export const rateLimitsMigration = (): Migration => ({
  up: createRateLimitsTable,
  async down(db) {
    await db.schema.dropTable(RATE_LIMITS_TABLE).execute();
  },
});

/** One limit: at most `max` hits per key in any `windowSeconds`; `max` 0 turns it off. */
export interface RateLimitRule {
  /** Names the limit in its counters, e.g. `fax-submissions`. */
  name: string;
  max: number;
  windowSeconds: number;
  /** What is counted, in the plural: `fax submissions`, `email notices`. */
  what: string;
  /** Whose hits one counter holds, for messages: `account`, `client address`. */
  per?: string;
}

/** The limit as people read it: `100 email notices per hour`. */
export function describeRateLimit(rule: Pick<RateLimitRule, 'max' | 'what' | 'windowSeconds'>): string {
  const w = rule.windowSeconds;
  const period =
    w === 1
      ? 'second'
      : w === 60
        ? 'minute'
        : w === 3600
          ? 'hour'
          : w === 86_400
            ? 'day'
            : w % 3600 === 0
              ? `${w / 3600} hours`
              : w % 60 === 0
                ? `${w / 60} minutes`
                : `${w} seconds`;
  return `${rule.max} ${rule.what} per ${period}`;
}

export type RateLimitDecision =
  | { allowed: true; limit: number; remaining: number; resetSeconds: number }
  | { allowed: false; limit: number; remaining: 0; resetSeconds: number; retryAfterSeconds: number };

export interface RateLimiterOptions {
  logger?: Logger;
  now?: () => Date;
  /** How often at most one limiter deletes counters of windows gone by (default one minute). */
  pruneEveryMs?: number;
}

/** Counters longer than this are stored by their digest (the column holds 200 characters). */
const MAX_BUCKET = 160;

/**
 * Counts hits against limits in the `rate_limits` table of the database it is given (see
 * createRateLimitsTable); `DB` is only the service's schema type, so its Kysely is taken as it is.
 */
export class RateLimiter<DB = unknown> {
  private readonly db: Kysely<RateLimitDatabase>;
  private readonly now: () => Date;
  private readonly pruneEveryMs: number;
  private lastPrune = 0;

  constructor(
    db: Kysely<DB>,
    private readonly options: RateLimiterOptions = {},
  ) {
    this.db = db as unknown as Kysely<RateLimitDatabase>;
    this.now = options.now ?? (() => new Date());
    this.pruneEveryMs = options.pruneEveryMs ?? 60_000;
  }

  /**
   * Counts one hit (or `cost` hits) for `key` when the limit leaves room for it, and says whether
   * it did. A refused hit is not counted, so a caller that waits `retryAfterSeconds` gets through.
   * The check and the increment are one statement, so replicas never let more through together.
   */
  async hit(rule: RateLimitRule, key: string, cost = 1): Promise<RateLimitDecision> {
    const { max, windowSeconds: w } = rule;
    if (max <= 0) return { allowed: true, limit: 0, remaining: Number.POSITIVE_INFINITY, resetSeconds: 0 };
    if (!Number.isInteger(w) || w < 1) throw new Error(`rate limit ${rule.name}: the window must be a positive whole number of seconds`);
    const nowMs = this.now().getTime();
    await this.pruneNow(nowMs);
    const bucket = bucketOf(rule.name, key);
    const nowS = nowMs / 1000;
    const start = Math.floor(nowS / w) * w;
    const covered = 1 - (nowS - start) / w;
    const resetSeconds = Math.max(1, Math.ceil(start + w - nowS));
    const previous = await this.hitsIn(bucket, start - w);
    // What the current window may hold so that it and the covered part of the previous stay within max.
    const room = Math.floor(max - previous * covered + 1e-9);
    if (room >= cost) {
      const counted = await this.db
        .insertInto('rate_limits')
        .values({ bucket, window_start: start, hits: cost, expires_at: start + 2 * w })
        .onConflict((oc) =>
          oc
            .columns(['bucket', 'window_start'])
            .doUpdateSet({ hits: sql<number>`${sql.ref('rate_limits.hits')} + ${cost}` })
            .where(sql<number>`${sql.ref('rate_limits.hits')} + ${cost}`, '<=', room),
        )
        .returning('hits')
        .executeTakeFirst();
      if (counted) return { allowed: true, limit: max, remaining: Math.max(0, room - Number(counted.hits)), resetSeconds };
    }
    const current = await this.hitsIn(bucket, start);
    return { allowed: false, limit: max, remaining: 0, resetSeconds, retryAfterSeconds: retryAfter({ max, w, cost, previous, current, covered }) };
  }

  /** Deletes the counters of windows that no longer count. */
  async prune(): Promise<number> {
    const result = await this.db
      .deleteFrom('rate_limits')
      .where('expires_at', '<', Math.floor(this.now().getTime() / 1000))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private async pruneNow(nowMs: number): Promise<void> {
    if (nowMs - this.lastPrune < this.pruneEveryMs) return;
    this.lastPrune = nowMs;
    try {
      await this.prune();
    } catch (error) {
      // Old counters only take room; the limits still hold, and the next pass tries again.
      this.options.logger?.warn({ err: errorMessage(error) }, 'rate-limit counters not pruned');
    }
  }

  private async hitsIn(bucket: string, windowStart: number): Promise<number> {
    const row = await this.db.selectFrom('rate_limits').select('hits').where('bucket', '=', bucket).where('window_start', '=', windowStart).executeTakeFirst();
    return row ? Number(row.hits) : 0;
  }
}

const bucketOf = (name: string, key: string): string => {
  const bucket = `${name}:${key}`;
  return bucket.length <= MAX_BUCKET ? bucket : `${name}:sha256:${createHash('sha256').update(key).digest('hex')}`;
};

/**
 * Seconds until `cost` more hits fit: later in this window, when the previous window's share has
 * shrunk enough; or in the next one, when this window's hits have become the shrinking share.
 */
function retryAfter(a: { max: number; w: number; cost: number; previous: number; current: number; covered: number }): number {
  const { max, w, cost, previous, current, covered } = a;
  let seconds: number;
  if (current + cost <= max && previous > 0) {
    // previous × coveredThen ≤ max − cost − current
    const coveredThen = (max - cost - current) / previous;
    seconds = (covered - coveredThen) * w;
  } else {
    const coveredNext = current > 0 ? Math.min(1, (max - cost) / current) : 1;
    seconds = covered * w + (1 - coveredNext) * w;
  }
  return Math.max(1, Math.ceil(seconds));
}

/** The answer to a request over a limit. */
export interface RateLimitedView {
  error: 'rate_limited';
  message: string;
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
  retryAfterSeconds: number;
}

export interface RateLimitHookOptions {
  limiter: RateLimiter;
  rule: RateLimitRule;
  /** Whose hits the request counts as (the user, the account, the client address); undefined counts nothing. */
  key: (request: FastifyRequest) => string | undefined;
  /** Fields added to the 429 body, for an API whose errors have a shape of their own. */
  extend?: (body: RateLimitedView) => Record<string, unknown>;
}

/**
 * Counts a request against a limit: true when it may go on (with x-ratelimit-limit,
 * x-ratelimit-remaining and x-ratelimit-reset, the seconds until the current window ends, on its
 * answer); false when it is over, after answering 429 with Retry-After and a JSON body naming the
 * limit. For a route that learns whose request it is only inside its handler (a shared secret).
 */
export async function checkRateLimit(
  request: FastifyRequest,
  reply: FastifyReply,
  options: Omit<RateLimitHookOptions, 'key'> & { key: string },
): Promise<boolean> {
  const { limiter, rule, key } = options;
  if (rule.max <= 0) return true;
  const decision = await limiter.hit(rule, key);
  reply.header('x-ratelimit-limit', decision.limit);
  reply.header('x-ratelimit-remaining', decision.remaining);
  reply.header('x-ratelimit-reset', decision.resetSeconds);
  if (decision.allowed) return true;
  const after = decision.retryAfterSeconds;
  const body: RateLimitedView = {
    error: 'rate_limited',
    message: `rate limit: at most ${describeRateLimit(rule)}${rule.per ? ` per ${rule.per}` : ''}; try again in ${after} second${after === 1 ? '' : 's'}`,
    limit: rule.max,
    windowSeconds: rule.windowSeconds,
    retryAfterSeconds: after,
  };
  request.log.warn({ limit: rule.name, key }, 'request over a rate limit');
  await reply
    .code(429)
    .header('retry-after', after)
    .send({ ...body, ...options.extend?.(body) });
  return false;
}

/** A preHandler that counts the request against the limit as checkRateLimit does. A limit with `max` 0 is off. */
export function rateLimitHook(options: RateLimitHookOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    if (options.rule.max <= 0) return;
    const key = options.key(request);
    if (key !== undefined) await checkRateLimit(request, reply, { ...options, key });
  };
}

/**
 * Settings of one limit for a service's convict schema: `max` (0 turns it off) and `windowSeconds`,
 * with environment variables `<env>_MAX` and `<env>_WINDOW_SECONDS`.
 */
export const rateLimitSchema = (options: { what: string; per: string; max: number; windowSeconds: number; env: string; note?: string }) => ({
  max: {
    doc: `Most ${options.what} per ${options.per} in any rate-limit window (0: no limit); more are refused with 429 and Retry-After.${options.note ? ` ${options.note}` : ''}`,
    format: 'nat',
    default: options.max,
    env: `${options.env}_MAX`,
  },
  windowSeconds: {
    doc: `The window of the limit on ${options.what}, in seconds (a sliding window).`,
    format: 'positive-int',
    default: options.windowSeconds,
    env: `${options.env}_WINDOW_SECONDS`,
  },
});

/** The limit on sign-in attempts: GET /auth/login and /auth/callback together, per client address (see http.trustProxy). */
export const SIGN_IN_ATTEMPTS = { name: 'sign-in-attempts', what: 'sign-in attempts', per: 'client address' } as const;

/** A service's rateLimits.signIn settings (env `<SERVICE>_RATE_LIMIT_SIGN_IN_MAX`, `…_WINDOW_SECONDS`). */
export const signInRateLimitSchema = (envPrefix: string) =>
  rateLimitSchema({
    what: 'sign-in attempts (GET /auth/login and /auth/callback together: a sign-in takes two)',
    per: "client address (behind a proxy, set http.trustProxy so it is the browser's)",
    max: 120,
    windowSeconds: 600,
    env: `${envPrefix}_RATE_LIMIT_SIGN_IN`,
  });

/** The preHandlers for registerSignIn's attemptGuard: sign-in attempts counted per client address. */
export const signInAttemptGuard = (limiter: RateLimiter, limit: { max: number; windowSeconds: number }) => [
  rateLimitHook({ limiter, rule: { ...SIGN_IN_ATTEMPTS, ...limit }, key: (request) => request.ip }),
];
