/**
 * The fax API's limits against abuse: faxes submitted per account, counted in the database that
 * two replicas share (PostgreSQL here), and recipients on blocked dialling prefixes.
 */
import { makeSamplePdf } from './documents/testing/sample-documents';
import type { ErrorView } from './api';
import type { RunningTransmitter } from './index';
import { TEST_POSTGRES_URL, api, startTestTransmitter, upload, type TestTransmitter } from './testing/harness';

jest.setTimeout(60_000);

let t: TestTransmitter;
let replicas: RunningTransmitter[];
let pdf: string;

beforeAll(async () => {
  if (TEST_POSTGRES_URL === 'none') return;
  const overrides = {
    'rateLimits.submissions.max': 3,
    'rateLimits.submissions.windowSeconds': 3600,
    'dial.region': 'GB',
    'dial.blockedPrefixes': ['+1 (242)', '+44 20 7946 09'],
  };
  t = await startTestTransmitter('limits', overrides, {}, { postgres: true });
  // A second transmitter on the same database, answering at once beside the first.
  replicas = [t.service, await t.restart()];
  pdf = makeSamplePdf(t.dir, 'letter', [['faxnotify limits test', 'one page']]);
});

afterAll(async () => {
  await t?.close();
});

const submit = async (url: string, token: string, to: string[]) => {
  const { body } = await upload(url, token, pdf);
  const response = await fetch(`${url}/v3/accounts/self/outbox`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to, files: [body.path] }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
};

const describeOnPostgres = TEST_POSTGRES_URL === 'none' ? describe.skip : describe;

describeOnPostgres('fax API limits', () => {
  it("refuses an account's fourth fax in the hour on either replica with 429, Retry-After and the limit named", async () => {
    const alice = await t.token('alice');
    const [a, b] = replicas.map((r) => r.url);
    expect(a).not.toBe(b);
    const first = await submit(a, alice, ['+12025550101']);
    expect(first.status).toBe(201);
    expect([first.headers.get('x-ratelimit-limit'), first.headers.get('x-ratelimit-remaining')]).toEqual(['3', '2']);
    expect((await submit(b, alice, ['+12025550102'])).status).toBe(201);
    expect((await submit(a, alice, ['+12025550103'])).status).toBe(201);

    for (const url of [b, a]) {
      const refused = await submit(url, alice, ['+12025550104']);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      // Until enough of the three hits have slid out of the hour: how long depends on where in the hour they fell.
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(7200);
      expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(refused.body).toEqual({
        error: 'rate_limited',
        message: `rate limit: at most 3 fax submissions per hour per account; try again in ${retryAfter} seconds`,
        description: refused.body.message,
        limit: 3,
        windowSeconds: 3600,
        retryAfterSeconds: retryAfter,
      });
    }
    // Reading is not limited; another account has its own count.
    expect((await api(a, alice, 'GET', '/v3/accounts/self/outbox')).status).toBe(200);
    expect((await submit(b, await t.token('bob'), ['+12025550101'])).status).toBe(201);
  });

  it('refuses a recipient on a blocked prefix or a premium-rate number, naming the number and why, on submission and on change', async () => {
    // Refused submissions count against the limit too, so each case comes from an account of its own.
    const [carol, dave, erin, frank] = await Promise.all(['carol', 'dave', 'erin', 'frank'].map((user) => t.token(user)));
    const url = replicas[0].url;
    const blocked = await submit(url, carol, ['+12025550101', '+1 (242) 357-1234']);
    expect(blocked.status).toBe(400);
    expect(blocked.body).toEqual({
      error: 'blocked_number',
      description: '+12423571234 may not be dialled: numbers starting +1242 are blocked by the operator (dial.blockedPrefixes)',
    });
    // Written nationally, the number is read in the dialling region (GB) before it is compared.
    const national = await submit(url, dave, ['020 7946 0958']);
    expect(national.body).toMatchObject({
      error: 'blocked_number',
      description: expect.stringContaining('+442079460958 may not be dialled: numbers starting +4420794609'),
    });
    const premium = await submit(url, erin, ['09012345678']);
    expect(premium.body).toEqual({
      error: 'blocked_number',
      description: '+449012345678 may not be dialled: it is a premium-rate number (dial.blockPremiumRate)',
    });

    const created = await submit(url, frank, ['020 7946 1000']);
    expect(created.status).toBe(201);
    const changed = await api<ErrorView>(url, frank, 'PUT', `/v3/accounts/self/outbox/${String(created.body.id)}`, { to: ['+1 900 234 5678'] });
    expect(changed).toEqual({
      status: 400,
      body: { error: 'blocked_number', description: '+19002345678 may not be dialled: it is a premium-rate number (dial.blockPremiumRate)' },
    });
  });
});
