import { describeRateLimit } from './rate-limit';
import { describeRateLimiter } from './rate-limit.suite';

describeRateLimiter('sqlite');

it('describes a limit as people read it', () => {
  expect(describeRateLimit({ max: 100, what: 'email notices', windowSeconds: 3600 })).toBe('100 email notices per hour');
  expect(describeRateLimit({ max: 5, what: 'sign-in attempts', windowSeconds: 300 })).toBe('5 sign-in attempts per 5 minutes');
  expect(describeRateLimit({ max: 1, what: 'codes', windowSeconds: 60 })).toBe('1 codes per minute');
  expect(describeRateLimit({ max: 9, what: 'posts', windowSeconds: 7200 })).toBe('9 posts per 2 hours');
  expect(describeRateLimit({ max: 9, what: 'posts', windowSeconds: 45 })).toBe('9 posts per 45 seconds');
});
