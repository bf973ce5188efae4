import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MessageBus, createLogger } from '@faxnotify/kit';
import { createTestVhost, management, type TestVhost } from '@faxnotify/peers';
import { REPO_ROOT } from '../support/processes';
import { checkGenerated } from '../docs/generate';

interface Definitions {
  exchanges: Array<{ name: string; type: string; durable: boolean }>;
  queues: Array<{ name: string; durable: boolean; arguments: Record<string, unknown> }>;
  bindings: Array<{ source: string; destination: string; routing_key: string }>;
}

const normalise = (d: Definitions) => ({
  exchanges: d.exchanges.map((e) => `${e.name} ${e.type} durable=${e.durable}`).sort(),
  queues: d.queues.map((q) => `${q.name} durable=${q.durable} ${JSON.stringify(Object.entries(q.arguments).sort())}`).sort(),
  bindings: d.bindings
    .filter((b) => b.source !== '')
    .map((b) => `${b.source} -> ${b.destination} [${b.routing_key}]`)
    .sort(),
});

let vhost: TestVhost;
afterAll(async () => vhost?.delete());

it('deploy/rabbitmq/definitions.json is exactly what the services declare on a real broker', async () => {
  vhost = await createTestVhost('definitions');
  const bus = new MessageBus({ url: vhost.amqpUrl, source: '/faxnotify/test', logger: createLogger('definitions', 'silent') });
  await bus.start();
  await bus.close();
  const declared = (await management(`/definitions/${encodeURIComponent(vhost.name)}`)) as Definitions;
  const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy', 'rabbitmq', 'definitions.json'), 'utf8')) as Definitions;
  expect(normalise(committed)).toEqual(normalise(declared));
});

it('the README, the event schemas and the definitions are up to date with the code (npm run docs)', () => {
  expect(checkGenerated()).toEqual([]);
});

interface ComposeFile {
  services: Record<string, { ports?: Array<string | { host_ip?: string; published?: string | number }>; environment?: Record<string, string> }>;
}

const composeText = () => readFileSync(join(REPO_ROOT, 'deploy', 'compose.yaml'), 'utf8');

it('deploy/compose.yaml publishes every port on the loopback address only', () => {
  const compose = parse(composeText(), { merge: true }) as ComposeFile;
  const published = Object.entries(compose.services).flatMap(([name, service]) => (service.ports ?? []).map((port) => ({ name, port })));
  expect(published.length).toBeGreaterThan(0);
  // "host:container", "host:container/udp" or a bare port publish on every interface; only "127.0.0.1:host:container" does not.
  const open = published.filter(({ port }) => (typeof port === 'string' ? !/^127\.0\.0\.1:\d+:\d+(\/(tcp|udp))?$/.test(port) : port.host_ip !== '127.0.0.1'));
  expect(open).toEqual([]);
});

it('deploy/compose.yaml holds no literal credentials: each comes from the generated env file', () => {
  const compose = parse(composeText(), { merge: true }) as ComposeFile;
  const values = Object.entries(compose.services).flatMap(([name, service]) =>
    Object.entries(service.environment ?? {}).map(([key, value]) => ({ name, key, value: String(value) })),
  );
  const secretKeys = /PASS|PASSWORD|SECRET|_KEY$/;
  // A secret setting is only ever a ${VARIABLE} reference, never a value.
  expect(values.filter(({ key, value }) => secretKeys.test(key) && !/^\$\{[A-Z_]+(:\?[^}]*)?\}$/.test(value))).toEqual([]);
  // URLs with user info take the password from a variable too.
  expect(values.filter(({ value }) => /:\/\/[^/@\s]*:(?!\$\{)[^/@\s]+@/.test(value))).toEqual([]);
  // The variables compose reads are the ones deploy/generate-env.sh writes.
  const script = readFileSync(join(REPO_ROOT, 'deploy', 'generate-env.sh'), 'utf8');
  for (const name of ['RABBITMQ_PASSWORD', 'POSTGRES_PASSWORD', 'JWT_SECRET', 'STATUS_TRACKER_SECRETS_KEY']) {
    expect(composeText()).toContain(`\${${name}`);
    expect(script).toMatch(new RegExp(`^${name}=\\$\\(`, 'm'));
  }
});
