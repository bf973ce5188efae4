import { describeCompiledQuery } from './compiled-query.suite';

// The same cases on PostgreSQL; TEST_POSTGRES_URL=none leaves them out.
if (process.env.TEST_POSTGRES_URL === 'none') it.skip('PostgreSQL left out (TEST_POSTGRES_URL=none)', () => undefined);
else describeCompiledQuery('postgres');
