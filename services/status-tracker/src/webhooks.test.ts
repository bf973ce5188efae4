import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { issueToken } from '@faxnotify/kit';
import { eventually } from '@faxnotify/kit/testing';
import { TEST_SECRET, startTestApp, type TestApp } from './testing/app';
import { result, submitted } from './testing/events';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, deliveryIdOf, verifyWebhookSignature } from './webhooks';

/**
 * Outbound webhooks against a real HTTP receiver: the body is Fax.Plus's fax_sent shape with our
 * extras, the receiver verifies the signature, and a receiver that is down for a while gets each
 * hook later, exactly once.
 */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  verified: boolean;
}

/** A webhook receiver as an owner would write one: it verifies every POST before it accepts it. */
class Receiver {
  readonly received: Received[] = [];
  private server?: Server;
  port = 0;
  secret = '';

  async start(port = 0): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const verified = verifyWebhookSignature({
          secret: this.secret,
          timestamp: request.headers[TIMESTAMP_HEADER] as string | undefined,
          signature: request.headers[SIGNATURE_HEADER] as string | undefined,
          body,
        });
        this.received.push({ headers: request.headers, body, verified });
        response.writeHead(verified ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
    this.server?.closeAllConnections();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/fax`;
  }
}

let service: TestApp;
const receiver = new Receiver();

beforeAll(async () => {
  service = await startTestApp('webhooks', { webhooks: { firstRetryMs: 150, maxRetryMs: 400, maxAgeMs: 60_000 } });
  await receiver.start();
  service.webhooks.start();
});

afterAll(async () => {
  await receiver.stop();
  await service?.close();
});

const api = async (method: string, path: string, user: string, body?: unknown) => {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await issueToken({ secret: TEST_SECRET }, user)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: response.status === 204 ? null : ((await response.json()) as any) };
};

describe('the webhook API', () => {
  it('sets a webhook with a generated secret shown once, and refuses a bad URL', async () => {
    const set = await api('PUT', '/v1/webhooks', 'erin', { url: 'https://hooks.example.test/fax' });
    expect(set.status).toBe(200);
    expect(set.body.secret).toMatch(/^whsec_/);
    const read = await api('GET', '/v1/webhooks', 'erin');
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
    await service.tracker.handle(submitted(faxId, 'alice', ['r1', 'r2'], { subject: 'Contract <draft>' }));
    await service.tracker.handle(result(faxId, 'r1', 1, 5, 'success', 3, { remoteCsid: 'ACME SALES FAX' }));
    await service.tracker.handle(result(faxId, 'r2', 2, 1, 'failed_user_busy', 0, { attempts: 2 }));
    service.webhooks.kick();
    await eventually(() => receiver.received.filter((r) => r.body.includes(faxId)).length >= 2);
    const hooks = receiver.received.filter((r) => r.body.includes(faxId));
    expect(hooks.every((h) => h.verified)).toBe(true);
    const bodies = hooks.map((h) => JSON.parse(h.body)).sort((a, b) => a.data.recipient_id.localeCompare(b.data.recipient_id));
    expect(bodies[0]).toEqual({
      hook: { id: deliveryIdOf(`${faxId}:r1`), event: 'fax_sent', event_time: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), target: receiver.url },
      data: expect.objectContaining({
        id: faxId,
        uid: 'alice',
        pages: 3,
        from: 'alice',
        to: '+12025550101',
        start_time: '2026-11-22 09:00:00',
        file: 'report.pdf',
        file_name: 'report.pdf',
        status: 'success',
        cost: 3,
        remote_csid: 'ACME SALES FAX',
        reason: expect.objectContaining({ code: 'OK', detail: 'MCF after EOP; DCN' }),
        subject: 'Contract <draft>',
        link: expect.stringContaining(`/faxes/${faxId}`),
      }),
    });
    expect(bodies[1].data).toMatchObject({ status: 'failed_user_busy', pages_sent: 0, attempts: 2, remote_csid: null, reason: { code: 'BUSY' } });
    expect(hooks[0]!.headers['content-type']).toBe('application/json');

    // Anyone without the secret cannot produce a valid signature, and a changed body fails.
    const sample = hooks[0]!;
    const timestamp = sample.headers[TIMESTAMP_HEADER] as string;
    const signature = sample.headers[SIGNATURE_HEADER] as string;
    expect(verifyWebhookSignature({ secret: receiver.secret, timestamp, signature, body: sample.body.replace('success', 'failed') })).toBe(false);
    expect(verifyWebhookSignature({ secret: 'another-secret-of-some-length', timestamp, signature, body: sample.body })).toBe(false);
    expect(verifyWebhookSignature({ secret: receiver.secret, timestamp, signature, body: sample.body, now: new Date(Number(timestamp) * 1000 + 3_600_000) })).toBe(false);

    const log = await api('GET', `/v1/faxes/${faxId}`, 'alice');
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
      const d = (await api('GET', `/v1/webhooks/deliveries?faxId=${faxId}`, 'alice')).body.deliveries[0];
      return d && d.attempts >= 3 ? d : undefined;
    }, 10_000);
    expect(failing).toMatchObject({ status: 'pending', lastStatusCode: null });
    expect(failing.log.every((a: { outcome: string; error: string }) => a.outcome === 'retry' && a.error.length > 0)).toBe(true);
    expect(receiver.received.filter((r) => r.body.includes(faxId))).toHaveLength(0);

    await receiver.start(port);
    const delivered = await eventually(async () => {
      const d = (await api('GET', `/v1/webhooks/deliveries?faxId=${faxId}`, 'alice')).body.deliveries[0];
      return d?.status === 'delivered' ? d : undefined;
    }, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // time for a second POST, if one were coming
    const got = receiver.received.filter((r) => r.body.includes(faxId));
    expect(got).toHaveLength(1);
    expect(got[0]!.verified).toBe(true);
    expect(JSON.parse(got[0]!.body).hook.id).toBe(delivered.hookId);
    expect(delivered.log.at(-1)).toMatchObject({ outcome: 'delivered', statusCode: 204 });
    expect(delivered.attempts).toBe(delivered.log.length);
    expect(delivered.attempts).toBeGreaterThanOrEqual(4);
  });

  it('gives up after the maximum age and records it', async () => {
    const impatient = await startTestApp('webhooks-give-up', { webhooks: { firstRetryMs: 100, maxRetryMs: 100, maxAgeMs: 500 } });
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
