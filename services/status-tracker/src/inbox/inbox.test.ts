import { describeInbox } from './inbox.suite';

describeInbox('sqlite');
