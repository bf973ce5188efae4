import { POSTGRES } from '../ledger.suite';
import { describeConfirmationStore } from './store.suite';

// The same cases on PostgreSQL; TEST_POSTGRES_URL=none leaves them out.
if (POSTGRES === 'none') it.skip('confirmation codes on PostgreSQL (TEST_POSTGRES_URL=none)', () => undefined);
else describeConfirmationStore('postgres');
