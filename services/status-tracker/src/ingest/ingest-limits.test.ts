import { issueToken } from '@faxnotify/kit';
import { TEST_INGEST_ADMIN, TEST_SECRET, startTestApp, type TestApp } from '../testing/app';

/** Provider posts per account over rateLimits.ingest: refused with 429 and not recorded; a wrong secret counts for nothing. */
const SECRET = 'faxplus-limit-secret-0123';
let service: TestApp;

beforeAll(async () => {
  service = await startTestApp('ingest-limits', { ingestLimit: { max: 2, windowSeconds: 60 } });
  const headers = { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, TEST_INGEST_ADMIN)}`, 'content-type': 'application/json' };
  for (const account of ['busy-fp', 'quiet-fp'])
    expect(
      (await fetch(`${service.url}/v1/ingest/accounts/faxplus/${account}`, { method: 'PUT', headers, body: JSON.stringify({ secret: SECRET }) })).status,
    ).toBe(200);
});

afterAll(async () => {
  await service?.close();
});

const hook = (session: string) => ({
  hook: { id: session, event: 'fax_sent', event_time: '2026-11-22 10:44:39', target: 'https://example.test/ingest' },
  data: { id: session, uid: 'u1', pages: 1, from: '+1 334-304-0000', to: '+1 202-555-0170', start_time: '2026-11-22 10:43:10', status: 'success', cost: 1 },
});
const post = (account: string, session: string, secret = SECRET) =>
  fetch(`${service.url}/ingest/faxplus/${account}?token=${encodeURIComponent(secret)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(hook(session)),
  });
const recorded = async () => (await service.database.db.selectFrom('ingested_results').select('provider_fax_id').execute()).length;

it("refuses an account's posts over the limit with 429, leaves them unrecorded, and counts no post with a wrong secret", async () => {
  expect((await post('busy-fp', 'wrong-1', 'not-the-secret-at-all')).status).toBe(401);
  const first = await post('busy-fp', 'session-1');
  expect(first.status).toBe(200);
  expect([first.headers.get('x-ratelimit-limit'), first.headers.get('x-ratelimit-remaining')]).toEqual(['2', '1']);
  expect((await post('busy-fp', 'session-2')).status).toBe(200);

  const refused = await post('busy-fp', 'session-3');
  expect(refused.status).toBe(429);
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(120);
  expect(await refused.json()).toEqual({
    error: 'rate_limited',
    message: `rate limit: at most 2 provider posts per minute per provider account; try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}`,
    limit: 2,
    windowSeconds: 60,
    retryAfterSeconds: retryAfter,
  });
  expect(await recorded()).toBe(2);
  // A wrong secret is still told so, not that the account is busy; another account has its own count.
  expect((await post('busy-fp', 'wrong-2', 'not-the-secret-at-all')).status).toBe(401);
  expect((await post('quiet-fp', 'session-4')).status).toBe(200);
  expect(await recorded()).toBe(3);
});
