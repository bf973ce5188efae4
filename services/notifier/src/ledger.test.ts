import { describeLedger } from './ledger.suite';

describeLedger('sqlite');
