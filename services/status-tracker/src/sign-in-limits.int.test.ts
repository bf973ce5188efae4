import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestVhost, type TestVhost } from '@faxnotify/peers';
import { startStatusTracker, type RunningStatusTracker } from './index';

/**
 * The running tracker counts sign-in attempts per client address (rateLimits.signIn) before the
 * sign-in routes do anything; here no identity provider is set up, so an attempt let through is
 * told sign-in is not set up.
 */
let vhost: TestVhost;
let dataDir: string;
let service: RunningStatusTracker;

beforeAll(async () => {
  vhost = await createTestVhost('tracker-sign-in-limits');
  dataDir = mkdtempSync(join(tmpdir(), 'tracker-sign-in-limits-'));
  service = await startStatusTracker({
    'log.level': 'silent',
    'amqp.url': vhost.amqpUrl,
    'db.sqlitePath': join(dataDir, 'tracker.sqlite'),
    'http.port': 0,
    'auth.jwtSecret': 'tracker-sign-in-limits-secret-0123456789',
    'rateLimits.signIn.max': 2,
    'rateLimits.signIn.windowSeconds': 600,
  });
}, 30_000);

afterAll(async () => {
  await service?.stop();
  await vhost?.delete();
  rmSync(dataDir, { recursive: true, force: true });
});

it('answers the third sign-in attempt from one address in ten minutes with 429 and Retry-After', async () => {
  const attempt = (path: string) => fetch(`${service.url}${path}`, { redirect: 'manual' });
  expect((await attempt('/auth/login?next=/faxes')).status).toBe(404);
  expect((await attempt('/auth/callback?state=s&code=c')).status).toBe(404);
  const refused = await attempt('/auth/login?next=/faxes');
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await refused.json()).toMatchObject({
    error: 'rate_limited',
    limit: 2,
    windowSeconds: 600,
    message: expect.stringContaining('2 sign-in attempts per 10 minutes per client address'),
  });
  // The pages themselves are not counted.
  expect((await attempt('/faxes')).status).not.toBe(429);
});
