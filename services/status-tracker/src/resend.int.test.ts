import { describeResend } from './resend.suite';

// The same cases on PostgreSQL at TEST_POSTGRES_URL; `none` leaves them out.
if (process.env.TEST_POSTGRES_URL === 'none') it.skip('resend on PostgreSQL (TEST_POSTGRES_URL=none)', () => undefined);
else describeResend('postgres');
