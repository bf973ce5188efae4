import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
