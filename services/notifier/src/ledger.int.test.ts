import { POSTGRES, describeLedger } from './ledger.suite';

// The same cases on PostgreSQL; TEST_POSTGRES_URL=none leaves them out.
if (POSTGRES === 'none') it.skip('send ledger on PostgreSQL (TEST_POSTGRES_URL=none)', () => undefined);
else describeLedger('postgres');
