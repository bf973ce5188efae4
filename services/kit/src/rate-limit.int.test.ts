import { POSTGRES, describeRateLimiter } from './rate-limit.suite';

// The same cases on PostgreSQL; TEST_POSTGRES_URL=none leaves them out.
if (POSTGRES === 'none') it.skip('rate limiter on PostgreSQL (TEST_POSTGRES_URL=none)', () => undefined);
else describeRateLimiter('postgres');
