import { describeResend } from './resend.suite';

describeResend('sqlite');
