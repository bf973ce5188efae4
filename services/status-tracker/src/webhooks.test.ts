import type { LookupAddress } from 'node:dns';
import { issueToken } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { TEST_SECRET, startTestApp, type TestApp } from './testing/app';
import { result, submitted } from './testing/events';
import { WebhookReceiver } from './testing/webhook-receiver';
import type { ErrorView, FaxView } from './api';
import type { WebhookDeliveriesView, WebhookSetView, WebhookView } from './webhook-api';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, deliveryIdOf, verifyWebhookSignature, type FaxSentBody } from './webhooks';

/**
 * Outbound webhooks against a real HTTP receiver: the body is Fax.Plus's fax_sent shape with our
 * extras, the receiver verifies the signature, and a receiver that is down for a while gets each
 * hook later, exactly once. Only allowed targets get anything: no URL naming an address that is not
 * public is taken, no name resolving to one is connected to, and no redirect is followed.
 */

/**
 * The receivers here listen on loopback, allowed as an operator would allow an internal receiver;
 * in both families, since `localhost` may resolve to ::1 as well and every address a name resolves
 * to must be allowed.
 */
const LOOPBACK = ['127.0.0.0/8', '::1/128'];

let service: TestApp;
const receiver = new WebhookReceiver();

beforeAll(async () => {
  service = await startTestApp('webhooks', { webhooks: { firstRetryMs: 150, maxRetryMs: 400, maxAgeMs: 60_000 }, allowedPrivateRanges: LOOPBACK });
  await receiver.start();
  service.webhooks.start();
});

afterAll(async () => {
  await receiver.stop();
  await service?.close();
});

/** An API request and its JSON answer, read as the answer the test expects (null for 204 No Content). */
const call = async <Answer = ErrorView>(app: TestApp, method: string, path: string, user: string, body?: unknown) => {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (response.status === 204 ? null : await response.json()) as Answer };
};
const api = <Answer = ErrorView>(method: string, path: string, user: string, body?: unknown) => call<Answer>(service, method, path, user, body);

describe('the webhook API', () => {
  it('sets a webhook with a generated secret shown once, and refuses a bad URL', async () => {
    const set = await api<WebhookSetView>('PUT', '/v1/webhooks', 'erin', { url: 'https://hooks.example.test/fax' });
    expect(set.status).toBe(200);
    expect(set.body.secret).toMatch(/^whsec_/);
    const read = await api<WebhookView>('GET', '/v1/webhooks', 'erin');
    expect(read.body).toMatchObject({ url: 'https://hooks.example.test/fax', secretHint: `…${set.body.secret.slice(-4)}` });
    expect(read.body.secret).toBeUndefined();
    expect((await api('PUT', '/v1/webhooks', 'erin', { url: 'ftp://example.test/x' })).status).toBe(400);
    expect((await api('PUT', '/v1/webhooks', 'erin', { url: 'https://x.test', secret: 'short' })).status).toBe(400);
    expect((await api('DELETE', '/v1/webhooks', 'erin')).status).toBe(204);
    expect((await api('GET', '/v1/webhooks', 'erin')).status).toBe(404);
  });
});

describe('delivery', () => {
  it('POSTs each final result in the fax_sent shape, signed, and the receiver verifies it', async () => {
    receiver.secret = 'alice-webhook-secret-0123456789';
    expect((await api('PUT', '/v1/webhooks', 'alice', { url: receiver.url, secret: receiver.secret })).status).toBe(200);
    const faxId = 'fax-hooked';
    await service.tracker.handle(submitted(faxId, 'alice', ['r1', 'r2'], { subject: 'Contract <draft>', from: '+390612345678' }));
    await service.tracker.handle(result(faxId, 'r1', 1, 5, 'success', 3, { remoteCsid: 'ACME SALES FAX' }));
    await service.tracker.handle(result(faxId, 'r2', 2, 1, 'failed_user_busy', 0, { attempts: 2 }));
    service.webhooks.kick();
    await eventually(() => receiver.received.filter((r) => r.body.includes(faxId)).length >= 2);
    const hooks = receiver.received.filter((r) => r.body.includes(faxId));
    expect(hooks.every((h) => h.verified)).toBe(true);
    const bodies = hooks.map((h) => JSON.parse(h.body) as FaxSentBody).sort((a, b) => a.data.recipient_id.localeCompare(b.data.recipient_id));
    expect(bodies[0]).toEqual({
      hook: { id: deliveryIdOf(`${faxId}:r1`), event: 'fax_sent', event_time: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), target: receiver.url },
      data: expect.objectContaining({
        id: faxId,
        uid: 'alice',
        pages: 3,
        // Fax.Plus's meaning: the fax's sender number (not its owner).
        from: '+390612345678',
        to: '+12025550101',
        start_time: '2026-11-22 09:00:00',
        file_name: 'report.pdf',
        status: 'success',
        remote_csid: 'ACME SALES FAX',
        reason: expect.objectContaining({ code: 'OK', detail: 'MCF after EOP; DCN' }),
        subject: 'Contract <draft>',
        link: expect.stringContaining(`/faxes/${faxId}`),
      }),
    });
    expect(bodies[1].data).toMatchObject({ status: 'failed_user_busy', pages_sent: 0, attempts: 2, remote_csid: null, reason: { code: 'BUSY' } });
    // No cost is known for a fax we sent on our own lines, and there is no file id to fetch by: both left out, not made up.
    for (const body of bodies) {
      expect(body.data).not.toHaveProperty('cost');
      expect(body.data).not.toHaveProperty('file');
    }
    expect(hooks[0].headers['content-type']).toBe('application/json');

    // Anyone without the secret cannot produce a valid signature, and a changed body fails.
    const sample = hooks[0];
    const timestamp = sample.headers[TIMESTAMP_HEADER] as string;
    const signature = sample.headers[SIGNATURE_HEADER] as string;
    expect(verifyWebhookSignature({ secret: receiver.secret, timestamp, signature, body: sample.body.replace('success', 'failed') })).toBe(false);
    expect(verifyWebhookSignature({ secret: 'another-secret-of-some-length', timestamp, signature, body: sample.body })).toBe(false);
    expect(
      verifyWebhookSignature({ secret: receiver.secret, timestamp, signature, body: sample.body, now: new Date(Number(timestamp) * 1000 + 3_600_000) }),
    ).toBe(false);

    const log = await api<FaxView>('GET', `/v1/faxes/${faxId}`, 'alice');
    expect(log.body.webhookDeliveries.map((d: { status: string; attempts: number }) => [d.status, d.attempts])).toEqual([
      ['delivered', 1],
      ['delivered', 1],
    ]);
  });

  it('gets a hook to a receiver that was down for a while, later and once', async () => {
    const faxId = 'fax-receiver-down';
    const port = receiver.port;
    await receiver.stop();
    await service.tracker.handle(submitted(faxId, 'alice', ['r1']));
    await service.tracker.handle(result(faxId, 'r1', 1, 2, 'partially_sent', 2));
    service.webhooks.kick();
    // Connection refused a few times, each recorded, each followed by a longer wait.
    const failing = await eventually(async () => {
      const d = (await api<WebhookDeliveriesView>('GET', `/v1/webhooks/deliveries?faxId=${faxId}`, 'alice')).body.deliveries[0];
      return d && d.attempts >= 3 ? d : undefined;
    }, 10_000);
    expect(failing).toMatchObject({ status: 'pending', lastStatusCode: null });
    expect(failing.log.every((a) => a.outcome === 'retry' && (a.error ?? '').length > 0)).toBe(true);
    expect(receiver.received.filter((r) => r.body.includes(faxId))).toHaveLength(0);

    await receiver.start(port);
    const delivered = await eventually(async () => {
      const d = (await api<WebhookDeliveriesView>('GET', `/v1/webhooks/deliveries?faxId=${faxId}`, 'alice')).body.deliveries[0];
      return d?.status === 'delivered' ? d : undefined;
    }, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // time for a second POST, if one were coming
    const got = receiver.received.filter((r) => r.body.includes(faxId));
    expect(got).toHaveLength(1);
    expect(got[0].verified).toBe(true);
    const body = JSON.parse(got[0].body) as FaxSentBody;
    expect(body.hook.id).toBe(delivered.hookId);
    // A fax that named no sender number has no `from`, rather than its owner's id in its place.
    expect(body.data).not.toHaveProperty('from');
    expect(delivered.log.at(-1)).toMatchObject({ outcome: 'delivered', statusCode: 204 });
    expect(delivered.attempts).toBe(delivered.log.length);
    expect(delivered.attempts).toBeGreaterThanOrEqual(4);
  });

  it('gives up after the maximum age and records it', async () => {
    const impatient = await startTestApp('webhooks-give-up', {
      webhooks: { firstRetryMs: 100, maxRetryMs: 100, maxAgeMs: 500 },
      allowedPrivateRanges: LOOPBACK,
    });
    try {
      const token = await issueToken({ secret: TEST_SECRET }, 'frank');
      await fetch(`${impatient.url}/v1/webhooks`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://127.0.0.1:9/nobody-listens' }),
      });
      await impatient.tracker.handle(submitted('fax-given-up', 'frank', ['r1']));
      await impatient.tracker.handle(result('fax-given-up', 'r1', 1, 1, 'failed_no_answer', 0));
      impatient.webhooks.start();
      const row = await eventually(async () => {
        const d = await impatient.database.db.selectFrom('webhook_deliveries').selectAll().where('fax_id', '=', 'fax-given-up').executeTakeFirst();
        return d?.status === 'failed' ? d : undefined;
      }, 10_000);
      expect(row.next_attempt_at).toBeNull();
      const attempts = await impatient.database.db.selectFrom('webhook_attempts').selectAll().where('fax_id', '=', 'fax-given-up').orderBy('attempt').execute();
      expect(attempts.at(-1)!.outcome).toBe('failed');
    } finally {
      await impatient.close();
    }
  });

  it('writes no delivery for an owner without a webhook, and one per result however often it is seen', async () => {
    await service.tracker.handle(submitted('fax-no-hook', 'gina', ['r1']));
    await service.tracker.handle(result('fax-no-hook', 'r1', 1, 1, 'success', 3));
    expect(await service.database.db.selectFrom('webhook_deliveries').selectAll().where('fax_id', '=', 'fax-no-hook').execute()).toHaveLength(0);
    const again = result('fax-hooked', 'r1', 1, 5, 'success', 3);
    await service.tracker.handle(again);
    await service.tracker.reconcileFax('fax-hooked');
    expect(await service.database.db.selectFrom('webhook_deliveries').selectAll().where('fax_id', '=', 'fax-hooked').execute()).toHaveLength(2);
  });
});

describe('where webhooks may go', () => {
  /** A tracker as deployed by default: no range allowed beyond public addresses. */
  let guarded: TestApp;

  beforeAll(async () => {
    guarded = await startTestApp('webhooks-guarded', { webhooks: { firstRetryMs: 100, maxRetryMs: 100, maxAgeMs: 60_000 } });
    guarded.webhooks.start();
  });

  afterAll(async () => {
    await guarded?.close();
  });

  const deliveryOf = (app: TestApp, faxId: string) =>
    app.database.db.selectFrom('webhook_deliveries').selectAll().where('fax_id', '=', faxId).executeTakeFirst();

  it('refuses, when it is set, a URL that is not http(s), carries credentials or names an address that is not public', async () => {
    const refused: Array<[string, string]> = [
      ['http://127.0.0.1', "url's host 127.0.0.1 is a loopback address; webhooks are sent only to public addresses"],
      ['http://169.254.169.254/latest', "url's host 169.254.169.254 is a link-local address; webhooks are sent only to public addresses"],
      ['http://[::1]/', "url's host [::1] is a loopback address; webhooks are sent only to public addresses"],
      ['http://10.0.0.5', "url's host 10.0.0.5 is a private (RFC 1918) address; webhooks are sent only to public addresses"],
      ['http://[fd00::5]/hook', "url's host [fd00::5] is a private (unique local, fc00::/7) address; webhooks are sent only to public addresses"],
      ['http://localhost:8080/hook', "url's host localhost is a loopback name; webhooks are sent only to public addresses"],
      ['ftp://x', 'url must use http or https, not ftp'],
      ['http://user:pw@example.test', 'url must not carry a user name or password: receivers check the X-Faxnotify-Signature header instead'],
    ];
    for (const [url, message] of refused) {
      const answer = await call(guarded, 'PUT', '/v1/webhooks', 'ivan', { url });
      expect({ url, status: answer.status, body: answer.body }).toEqual({ url, status: 400, body: { error: 'bad_request', message } });
    }
    expect((await call(guarded, 'GET', '/v1/webhooks', 'ivan')).status).toBe(404);
    // A host name is taken; what it resolves to is checked at every delivery.
    expect((await call(guarded, 'PUT', '/v1/webhooks', 'ivan', { url: 'https://hooks.example.test/fax' })).status).toBe(200);
    // Where the operator allows loopback, the same address is taken.
    expect((await api('PUT', '/v1/webhooks', 'ivan', { url: 'http://127.0.0.1:9/fax' })).status).toBe(200);
    expect((await api('DELETE', '/v1/webhooks', 'ivan')).status).toBe(204);
  });

  it('refuses at delivery a host name that resolves to an address not allowed: failed at once, the reason in the log, nothing sent', async () => {
    // A webhook set while the operator still allowed loopback, its host a name: the allowance is gone now.
    const at = new Date().toISOString();
    const url = `http://localhost:${receiver.port}/hooks/fax`;
    await guarded.database.db
      .insertInto('webhooks')
      .values({ owner_id: 'judy', url, secret: 'judy-webhook-secret-0123456789', created_at: at, updated_at: at })
      .execute();
    const faxId = 'fax-to-loopback';
    await guarded.tracker.handle(submitted(faxId, 'judy', ['r1']));
    await guarded.tracker.handle(result(faxId, 'r1', 1, 1, 'success', 1));
    guarded.webhooks.kick();
    const failed = await eventually(async () => {
      const d = (await call<WebhookDeliveriesView>(guarded, 'GET', `/v1/webhooks/deliveries?faxId=${faxId}`, 'judy')).body.deliveries[0];
      return d?.status === 'failed' ? d : undefined;
    }, 10_000);
    const reason = expect.stringMatching(/^blocked: localhost resolves to (127\.0\.0\.1|::1), a loopback address; webhooks are sent only to public addresses$/);
    expect(failed).toMatchObject({ attempts: 1, nextAttemptAt: null, lastStatusCode: null, lastError: reason });
    expect(failed.log).toEqual([expect.objectContaining({ attempt: 1, target: url, statusCode: null, error: reason, outcome: 'failed' })]);
    await new Promise((resolve) => setTimeout(resolve, 500)); // several retry intervals: none comes
    expect((await deliveryOf(guarded, faxId))!.attempts).toBe(1);
    expect(receiver.received.filter((r) => r.body.includes(faxId))).toHaveLength(0);
  });

  it('delivers to that host name where the operator allows loopback', async () => {
    receiver.secret = 'kate-webhook-secret-0123456789';
    const url = `http://localhost:${receiver.port}/hooks/fax`;
    expect((await api('PUT', '/v1/webhooks', 'kate', { url, secret: receiver.secret })).status).toBe(200);
    const faxId = 'fax-to-localhost';
    await service.tracker.handle(submitted(faxId, 'kate', ['r1']));
    await service.tracker.handle(result(faxId, 'r1', 1, 1, 'success', 1));
    service.webhooks.kick();
    await eventually(async () => (await deliveryOf(service, faxId))?.status === 'delivered', 10_000);
    const got = receiver.received.filter((r) => r.body.includes(faxId));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ path: '/hooks/fax', verified: true });
    expect((JSON.parse(got[0].body) as FaxSentBody).hook.target).toBe(url);
    expect((await api('DELETE', '/v1/webhooks', 'kate')).status).toBe(204);
  });

  it('connects to the addresses its own lookup checked, and refuses a name if any of them is not allowed', async () => {
    // A DNS of its own, which the system's resolver knows nothing of: reaching the receiver through
    // hooks.internal.test proves the socket connects to what the checked lookup answered.
    const dns: Record<string, LookupAddress[]> = {
      'hooks.internal.test': [{ address: '127.0.0.1', family: 4 }],
      'mixed.internal.test': [
        { address: '127.0.0.1', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ],
    };
    const resolving = await startTestApp('webhooks-own-dns', {
      webhooks: { firstRetryMs: 100, maxRetryMs: 100 },
      allowedPrivateRanges: ['127.0.0.0/8'],
      resolveHost: async (hostname) => dns[hostname] ?? Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })),
    });
    try {
      receiver.secret = 'mona-webhook-secret-0123456789';
      const url = `http://hooks.internal.test:${receiver.port}/hooks/fax`;
      expect((await call(resolving, 'PUT', '/v1/webhooks', 'mona', { url, secret: receiver.secret })).status).toBe(200);
      expect((await call(resolving, 'PUT', '/v1/webhooks', 'nils', { url: `http://mixed.internal.test:${receiver.port}/hooks/fax` })).status).toBe(200);
      await resolving.tracker.handle(submitted('fax-own-dns', 'mona', ['r1']));
      await resolving.tracker.handle(result('fax-own-dns', 'r1', 1, 1, 'success', 1));
      await resolving.tracker.handle(submitted('fax-mixed-dns', 'nils', ['r1']));
      await resolving.tracker.handle(result('fax-mixed-dns', 'r1', 1, 1, 'success', 1));
      resolving.webhooks.start();
      await eventually(async () => (await deliveryOf(resolving, 'fax-own-dns'))?.status === 'delivered', 10_000);
      const got = receiver.received.filter((r) => r.body.includes('fax-own-dns'));
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ verified: true, headers: expect.objectContaining({ host: `hooks.internal.test:${receiver.port}` }) });
      const mixed = await eventually(async () => {
        const d = await deliveryOf(resolving, 'fax-mixed-dns');
        return d?.status === 'failed' ? d : undefined;
      }, 10_000);
      expect(mixed).toMatchObject({
        attempts: 1,
        last_error: 'blocked: mixed.internal.test resolves to 10.0.0.5, a private (RFC 1918) address; webhooks are sent only to public addresses',
      });
      expect(receiver.received.filter((r) => r.body.includes('fax-mixed-dns'))).toHaveLength(0);
    } finally {
      await resolving.close();
    }
  });

  it('does not follow a redirect: the attempt fails with the redirect in the log', async () => {
    receiver.secret = 'leo-webhook-secret-0123456789';
    expect((await api('PUT', '/v1/webhooks', 'leo', { url: `http://127.0.0.1:${receiver.port}/moved`, secret: receiver.secret })).status).toBe(200);
    const faxId = 'fax-redirected';
    await service.tracker.handle(submitted(faxId, 'leo', ['r1']));
    await service.tracker.handle(result(faxId, 'r1', 1, 1, 'success', 1));
    service.webhooks.kick();
    const tried = await eventually(async () => {
      const d = (await api<WebhookDeliveriesView>('GET', `/v1/webhooks/deliveries?faxId=${faxId}`, 'leo')).body.deliveries[0];
      return d && d.attempts >= 2 ? d : undefined;
    }, 10_000);
    expect(tried).toMatchObject({ status: 'pending', deliveredAt: null, lastStatusCode: 307 });
    expect(tried.log[0]).toMatchObject({
      statusCode: 307,
      outcome: 'retry',
      error: `HTTP 307: redirect to ${receiver.url} not followed; set the webhook URL to where the receiver is`,
    });
    const got = receiver.received.filter((r) => r.body.includes(faxId));
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.every((r) => r.path === '/moved')).toBe(true);
    expect((await api('DELETE', '/v1/webhooks', 'leo')).status).toBe(204);
  });
});
