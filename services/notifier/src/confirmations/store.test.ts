import { describeConfirmationStore } from './store.suite';

describeConfirmationStore('sqlite');
