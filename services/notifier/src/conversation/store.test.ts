import { describeConversationStore } from './store.suite';

describeConversationStore('sqlite');
