import { describeTrackerBatches } from './tracker-batch.suite';
import { describeTracker } from './tracker.suite';

// The same cases on PostgreSQL at TEST_POSTGRES_URL; `none` leaves them out.
if (process.env.TEST_POSTGRES_URL === 'none') it.skip('StatusTracker on PostgreSQL (TEST_POSTGRES_URL=none)', () => undefined);
else {
  describeTracker('postgres');
  describeTrackerBatches('postgres');
}
