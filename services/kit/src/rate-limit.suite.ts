import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from './db';
import { createLogger } from './logger';
import { RateLimiter, rateLimitsMigration, type RateLimitDecision, type RateLimitRule } from './rate-limit';
import { POSTGRES_URL, createScratchDatabase } from './testing/postgres';

/**
 * The limiter's counting, run by rate-limit.test.ts on the embedded SQLite file and by
 * rate-limit.int.test.ts on PostgreSQL, through the same statements.
 */

export const POSTGRES = process.env.TEST_POSTGRES_URL ?? POSTGRES_URL;
const logger = createLogger('rate-limit-test', 'silent');

/** A place for one test's counters; `open` gives another connection to it, as a replica has. */
interface Place {
  open(): Promise<Database<unknown>>;
  drop(): Promise<void>;
}

async function place(dialect: 'sqlite' | 'postgres', label: string): Promise<Place> {
  const dir = mkdtempSync(join(tmpdir(), 'kit-rate-limit-'));
  const sqlitePath = join(dir, 'limits.sqlite');
  const scratch = dialect === 'postgres' ? await createScratchDatabase(`rate_${label}`) : undefined;
  const opened: Array<Database<unknown>> = [];
  return {
    async open() {
      const database = await openDatabase<unknown>({
        service: 'rate-limit-test',
        url: scratch?.url ?? '',
        sqlitePath,
        migrations: { '001_rate_limits': rateLimitsMigration() },
        logger,
      });
      opened.push(database);
      return database;
    },
    async drop() {
      await Promise.all(opened.map((d) => d.close()));
      await scratch?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const HOUR = 3600;
const rule = (max: number, windowSeconds = HOUR, name = 'submissions'): RateLimitRule => ({ name, max, windowSeconds, what: 'fax submissions' });
/** A clock the test moves: seconds since the epoch, starting on a window's edge. */
const clock = (startSeconds: number) => {
  const c = { seconds: startSeconds, now: () => new Date(c.seconds * 1000) };
  return c;
};
const allowedCount = (decisions: RateLimitDecision[]) => decisions.filter((d) => d.allowed).length;

export function describeRateLimiter(dialect: 'sqlite' | 'postgres'): void {
  describe(`rate limiter on ${dialect}`, () => {
    let where: Place;
    beforeEach(async () => {
      where = await place(dialect, expect.getState().currentTestName?.slice(-12) ?? 'case');
    });
    afterEach(async () => where.drop());

    it('lets max hits through in a window, refuses the next with when to come back, and does not count the refused', async () => {
      const t = clock(1_800_000_000);
      const limiter = new RateLimiter((await where.open()).db, { now: t.now });
      const decisions: RateLimitDecision[] = [];
      for (let i = 0; i < 3; i++) decisions.push(await limiter.hit(rule(3), 'alice'));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true]);
      expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0]);
      expect(decisions[0]).toMatchObject({ limit: 3, resetSeconds: HOUR });

      t.seconds += 600;
      const refused = await limiter.hit(rule(3), 'alice');
      expect(refused).toMatchObject({ allowed: false, limit: 3, remaining: 0, resetSeconds: HOUR - 600 });
      // The three hits slide out of the window only as the next one passes over them: all of it.
      const retryAfter = refused.allowed ? 0 : refused.retryAfterSeconds;
      expect(retryAfter).toBe(HOUR - 600 + HOUR / 3);
      for (let i = 0; i < 5; i++) expect((await limiter.hit(rule(3), 'alice')).allowed).toBe(false);

      // Other keys and other limits count apart.
      expect((await limiter.hit(rule(3), 'bob')).allowed).toBe(true);
      expect((await limiter.hit(rule(3, HOUR, 'uploads'), 'alice')).allowed).toBe(true);

      // Once the previous window's share has shrunk by one hit, one more goes through (refused hits were never counted).
      t.seconds += retryAfter - 1;
      expect((await limiter.hit(rule(3), 'alice')).allowed).toBe(false);
      t.seconds += 1;
      expect((await limiter.hit(rule(3), 'alice')).allowed).toBe(true);
      expect((await limiter.hit(rule(3), 'alice')).allowed).toBe(false);
    });

    it('slides: a burst at the end of one window still counts at the start of the next', async () => {
      const start = 1_800_000_000;
      const t = clock(start + HOUR - 1);
      const limiter = new RateLimiter((await where.open()).db, { now: t.now });
      for (let i = 0; i < 10; i++) expect((await limiter.hit(rule(10), 'alice')).allowed).toBe(true);
      t.seconds = start + HOUR + 1;
      const atEdge = await limiter.hit(rule(10), 'alice');
      expect(atEdge.allowed).toBe(false);
      // A fixed window would let ten more through here; the sliding one lets through what has slid out.
      t.seconds = start + HOUR + HOUR / 2;
      const decisions: RateLimitDecision[] = [];
      for (let i = 0; i < 10; i++) decisions.push(await limiter.hit(rule(10), 'alice'));
      expect(allowedCount(decisions)).toBe(5);
    });

    it('counts the hits of two replicas on one database together, exactly, when they come at once', async () => {
      const t = clock(1_800_000_000);
      const [a, b] = [new RateLimiter((await where.open()).db, { now: t.now }), new RateLimiter((await where.open()).db, { now: t.now })];
      const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).hit(rule(25), 'alice')));
      expect(allowedCount(decisions)).toBe(25);
      expect((await a.hit(rule(25), 'alice')).allowed).toBe(false);
      expect((await b.hit(rule(25), 'alice')).allowed).toBe(false);
    });

    it('counts a cost of several hits at once, and refuses one that does not fit whole', async () => {
      const t = clock(1_800_000_000);
      const limiter = new RateLimiter((await where.open()).db, { now: t.now });
      expect(await limiter.hit(rule(10), 'alice', 7)).toMatchObject({ allowed: true, remaining: 3 });
      expect((await limiter.hit(rule(10), 'alice', 4)).allowed).toBe(false);
      expect(await limiter.hit(rule(10), 'alice', 3)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('keeps a limit with max 0 off, stores a long key by its digest, and prunes windows gone by', async () => {
      const t = clock(1_800_000_000);
      const { db } = await where.open();
      const limiter = new RateLimiter(db, { now: t.now, pruneEveryMs: 0 });
      for (let i = 0; i < 5; i++) expect((await limiter.hit(rule(0), 'alice')).allowed).toBe(true);
      const long = 'x'.repeat(500);
      expect((await limiter.hit(rule(1, 60), long)).allowed).toBe(true);
      expect((await limiter.hit(rule(1, 60), long)).allowed).toBe(false);
      expect((await limiter.hit(rule(1, HOUR, 'other'), 'alice')).allowed).toBe(true);
      const rows = async () =>
        (
          await db
            .selectFrom('rate_limits' as never)
            .select(['bucket' as never])
            .execute()
        )
          .map((r) => (r as { bucket: string }).bucket)
          .sort();
      expect(await rows()).toEqual(['other:alice', expect.stringMatching(/^submissions:sha256:[0-9a-f]{64}$/)]);
      // Two minutes on, the one-minute counter has no use left; the hour's still counts.
      t.seconds += 121;
      expect((await limiter.hit(rule(1, HOUR, 'other'), 'bob')).allowed).toBe(true);
      expect(await rows()).toEqual(['other:alice', 'other:bob']);
    });
  });
}
