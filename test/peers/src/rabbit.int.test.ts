import { createTestVhost, management, peekMessages, queueDepth, type TestVhost } from './rabbit';
import { eventually } from './wait';

// The management API's queue counts lag the queue by up to its statistics interval (5 s by default).
jest.setTimeout(30_000);

describe('RabbitMQ test vhost', () => {
  let vhost: TestVhost;

  beforeAll(async () => {
    vhost = await createTestVhost('peers');
  });

  afterAll(async () => {
    await vhost?.delete();
  });

  it('is private to the suite and reachable by the guest user', async () => {
    expect(vhost.name).toMatch(/^test-peers-[0-9a-f]{8}$/);
    expect(vhost.amqpUrl).toMatch(new RegExp(`^amqp://guest:guest@[^/]+/${encodeURIComponent(vhost.name)}$`));
    const permissions = (await management(`/vhosts/${encodeURIComponent(vhost.name)}/permissions`)) as Array<{ user: string }>;
    expect(permissions.map((permission) => permission.user)).toEqual(['guest']);
  });

  it('counts and peeks at a queue without consuming it', async () => {
    const name = encodeURIComponent(vhost.name);
    await management(`/queues/${name}/peek-test`, { method: 'PUT', body: { durable: false } });
    for (const payload of ['one', 'two']) {
      await management(`/exchanges/${name}/amq.default/publish`, {
        method: 'POST',
        body: { routing_key: 'peek-test', payload, payload_encoding: 'string', properties: { headers: { n: payload } } },
      });
    }
    await eventually(async () => (await queueDepth(vhost, 'peek-test')) === 2, 20_000);
    const messages = await peekMessages(vhost, 'peek-test');
    expect(messages.map((message) => message.payload)).toEqual(['one', 'two']);
    expect(messages[0].properties.headers).toEqual({ n: 'one' });
    expect(await queueDepth(vhost, 'peek-test')).toBe(2);
  });

  it('is gone once deleted', async () => {
    const other = await createTestVhost('peers-deleted');
    await other.delete();
    await expect(management(`/vhosts/${encodeURIComponent(other.name)}`)).rejects.toThrow(/404/);
  });
});
