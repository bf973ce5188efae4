import { describeFaxScope } from './scope.suite';

// The same cases on PostgreSQL at TEST_POSTGRES_URL; `none` leaves them out.
if (process.env.TEST_POSTGRES_URL === 'none') it.skip('the Sent folder scope on PostgreSQL (TEST_POSTGRES_URL=none)', () => undefined);
else describeFaxScope('postgres');
