import { randomBytes } from 'node:crypto';

/**
 * A private RabbitMQ virtual host per test file, made through the management API, so tests that
 * share the machine's broker never see each other's queues.
 */
export interface TestVhost {
  name: string;
  amqpUrl: string;
  /** Management API base for this broker. */
  managementUrl: string;
  delete(): Promise<void>;
}

// The machine's broker unless the environment names another; a closed port here shows which tests need the broker.
const BROKER_HOST = process.env.TEST_RABBITMQ_HOST ?? '127.0.0.1';
const AMQP_PORT = Number(process.env.TEST_RABBITMQ_PORT ?? 5672);
const MANAGEMENT_PORT = Number(process.env.TEST_RABBITMQ_MANAGEMENT_PORT ?? 15672);
const MANAGEMENT = `http://${BROKER_HOST}:${MANAGEMENT_PORT}/api`;
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

export async function management(path: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
  const response = await fetch(`${MANAGEMENT}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!response.ok) throw new Error(`RabbitMQ management ${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

export async function createTestVhost(label: string): Promise<TestVhost> {
  const name = `test-${label}-${randomBytes(4).toString('hex')}`;
  const vhost = encodeURIComponent(name);
  await management(`/vhosts/${vhost}`, { method: 'PUT', body: {} });
  await management(`/permissions/${vhost}/guest`, { method: 'PUT', body: { configure: '.*', write: '.*', read: '.*' } });
  return {
    name,
    amqpUrl: `amqp://guest:guest@${BROKER_HOST}:${AMQP_PORT}/${vhost}`,
    managementUrl: MANAGEMENT,
    delete: async () => {
      await management(`/vhosts/${vhost}`, { method: 'DELETE' }).catch(() => undefined);
    },
  };
}

/** Messages currently in a queue (ready + unacknowledged), as the broker reports them. */
export async function queueDepth(vhost: TestVhost, queue: string): Promise<number> {
  const info = (await management(`/queues/${encodeURIComponent(vhost.name)}/${encodeURIComponent(queue)}`)) as { messages?: number };
  return info.messages ?? 0;
}

/** Takes up to `count` messages off a queue without a consumer (for dead-letter assertions). */
export async function peekMessages(
  vhost: TestVhost,
  queue: string,
  count = 10,
): Promise<Array<{ payload: string; properties: { headers?: Record<string, unknown> } }>> {
  return (await management(`/queues/${encodeURIComponent(vhost.name)}/${encodeURIComponent(queue)}/get`, {
    method: 'POST',
    body: { count, ackmode: 'ack_requeue_true', encoding: 'auto' },
  })) as Array<{ payload: string; properties: { headers?: Record<string, unknown> } }>;
}
