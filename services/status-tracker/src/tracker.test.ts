import { describeTrackerBatches } from './tracker-batch.suite';
import { describeTracker } from './tracker.suite';

describeTracker('sqlite');
describeTrackerBatches('sqlite');
