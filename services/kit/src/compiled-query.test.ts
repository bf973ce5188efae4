import { describeCompiledQuery } from './compiled-query.suite';

describeCompiledQuery('sqlite');
