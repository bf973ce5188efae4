import { describeTracker } from './tracker.suite';

describeTracker('sqlite');
