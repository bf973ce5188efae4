import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EVENT_CATALOGUE, QUEUES, describeTopology, envelopeSchema, eventType, olderVersions, type EventKey } from '@faxnotify/contracts';
import { describeConfig } from '@faxnotify/kit';
import { statusTrackerSchema } from '@faxnotify/status-tracker';
import { notifierSchema } from '@faxnotify/notifier';
import { transmitterSchema } from '@faxnotify/transmitter';

/**
 * Everything in the repository that is derived from code: the README's configuration table and
 * message catalogue, the JSON Schema files of the events, and the RabbitMQ definitions.
 * `generate` writes them; `check` reports what differs (a test runs it so docs cannot drift).
 */
export const ROOT = resolve(__dirname, '..', '..', ...(__dirname.includes(`${join('test', 'dist')}`) ? ['..'] : []));

const SERVICES: Array<{ name: string; schema: object }> = [
  { name: 'transmitter', schema: transmitterSchema },
  { name: 'status-tracker', schema: statusTrackerSchema },
  { name: 'notifier', schema: notifierSchema },
];

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
/** Defaults that are paths of files in the repository (resolved where it is installed) are shown relative to it. */
const repositoryRelative = (text: string) => text.replaceAll(`${ROOT}/`, '');

export function configTable(): string {
  const lines: string[] = [];
  for (const { name, schema } of SERVICES) {
    lines.push(`### ${name}`, '', '| key | environment | default | meaning |', '|---|---|---|---|');
    for (const row of describeConfig(schema))
      lines.push(
        `| \`${row.key}\` | \`${row.env}\` | ${row.default === '""' ? '(empty)' : `\`${escapeCell(repositoryRelative(row.default))}\``} | ${escapeCell(row.doc)}${row.sensitive ? ' (secret)' : ''} |`,
      );
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

export function messageCatalogue(): string {
  const lines = ['| CloudEvents type | exchange / routing key | from → to | carries |', '|---|---|---|---|'];
  for (const [key, entry] of Object.entries(EVENT_CATALOGUE) as Array<[EventKey, (typeof EVENT_CATALOGUE)[EventKey]]>) {
    lines.push(`| \`${eventType(key)}\` | \`${entry.exchange}\` / \`${key}\` | ${entry.from} → ${entry.to} | ${escapeCell(entry.doc)} |`);
    for (const older of olderVersions(key))
      lines.push(
        `| \`${eventType(key, older.version)}\` | \`${entry.exchange}\` / \`${key}\` | ${entry.from} → ${entry.to} | Still accepted, no longer published: consumers get it upgraded to \`${eventType(key)}\`. ${escapeCell(older.doc)} |`,
      );
  }
  lines.push('', '| queue | consumes | meaning |', '|---|---|---|');
  for (const q of Object.values(QUEUES)) lines.push(`| \`${q.name}\` | ${q.bindings.map((b) => `\`${b.routingKey}\``).join(', ')} | ${escapeCell(q.doc)} |`);
  lines.push(
    '',
    'Each queue has retry queues `<queue>.retry.1` … `.retry.6` (1 s, 5 s, 30 s, 2 min, 10 min, 30 min) and a dead-letter queue `<queue>.dead` where a message lands with the reason in the `x-faxnotify-reason` header.',
  );
  return lines.join('\n');
}

/** RabbitMQ definitions (import with `rabbitmqctl import_definitions`) for the topology the code declares. */
export function rabbitDefinitions(vhost = '/'): object {
  const { exchanges, queues, bindings } = describeTopology();
  return {
    rabbit_version: '3.10.8',
    vhosts: [{ name: vhost }],
    exchanges: exchanges.map((e) => ({ name: e.name, vhost, type: e.type, durable: e.durable, auto_delete: false, internal: false, arguments: {} })),
    queues: queues.map((q) => ({ name: q.name, vhost, durable: true, auto_delete: false, arguments: q.arguments })),
    bindings: bindings.map((b) => ({ source: b.exchange, vhost, destination: b.queue, destination_type: 'queue', routing_key: b.routingKey, arguments: {} })),
    policies: [],
  };
}

const between = (text: string, name: string, body: string) => {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} … ${end} markers`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
};

/** Every generated file: path → content. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const readmePath = join(ROOT, 'README.md');
  let readme = readFileSync(readmePath, 'utf8');
  readme = between(readme, 'config', configTable());
  readme = between(readme, 'catalogue', messageCatalogue());
  files.set(readmePath, readme);
  files.set(join(ROOT, 'deploy', 'rabbitmq', 'definitions.json'), `${JSON.stringify(rabbitDefinitions(), null, 2)}\n`);
  // The current version of each event, and every older version consumers still accept.
  for (const key of Object.keys(EVENT_CATALOGUE) as EventKey[]) {
    for (const version of [EVENT_CATALOGUE[key].version, ...olderVersions(key).map((o) => o.version)])
      files.set(join(ROOT, 'contracts', 'schemas', `${eventType(key, version)}.json`), `${JSON.stringify(envelopeSchema(key, version), null, 2)}\n`);
  }
  return files;
}

export function checkGenerated(): string[] {
  const stale: string[] = [];
  for (const [path, content] of generatedFiles()) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== content) stale.push(path);
  }
  const schemaDir = join(ROOT, 'contracts', 'schemas');
  const expected = new Set([...generatedFiles().keys()].filter((p) => p.startsWith(schemaDir)));
  for (const name of readdirSafe(schemaDir)) if (!expected.has(join(schemaDir, name))) stale.push(join(schemaDir, name));
  return stale;
}

const readdirSafe = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

if (require.main === module) {
  const schemaDir = join(ROOT, 'contracts', 'schemas');
  rmSync(schemaDir, { recursive: true, force: true });
  mkdirSync(schemaDir, { recursive: true });
  mkdirSync(join(ROOT, 'deploy', 'rabbitmq'), { recursive: true });
  const files = generatedFiles();
  for (const [path, content] of files) writeFileSync(path, content);
  const schemas = [...files.keys()].filter((path) => path.startsWith(schemaDir)).length;
  process.stdout.write(`wrote README.md sections, deploy/rabbitmq/definitions.json and ${schemas} schemas\n`);
}
