import { POSTGRES } from '../ledger.suite';
import { describeConversationStore } from './store.suite';

// The same cases on PostgreSQL; TEST_POSTGRES_URL=none leaves them out.
if (POSTGRES === 'none') it.skip('Jabber conversations on PostgreSQL (TEST_POSTGRES_URL=none)', () => undefined);
else describeConversationStore('postgres');
