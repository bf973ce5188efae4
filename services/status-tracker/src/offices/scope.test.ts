import { describeFaxScope } from './scope.suite';

describeFaxScope('sqlite');
