import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@faxnotify/peers';

const run = promisify(execFile);

/**
 * A RabbitMQ cluster of its own on this machine: `size` nodes of Debian's rabbitmq-server, each
 * with its own node name, AMQP, distribution and management ports and data folder, clustered with
 * the first. The machine's own broker (rabbit@localhost on 5672) is left alone. Nodes run as the
 * `rabbitmq` user, so they share its Erlang cookie with rabbitmqctl.
 */
export interface RabbitCluster {
  /** One AMQP URL per node, guest/guest on the default virtual host. */
  amqpUrls: string[];
  nodes: ClusterNode[];
  /** Stops a node's RabbitMQ application (its Erlang VM stays up), as a node going away. */
  stopNode(index: number): Promise<void>;
  /** Starts a stopped node's application again; it rejoins the cluster and its queue replicas catch up. */
  startNode(index: number): Promise<void>;
  /** `rabbitmqctl` against one node. */
  ctl(index: number, ...args: string[]): Promise<string>;
  /** Stops every node and removes the data folders. */
  stop(): Promise<void>;
}

export interface ClusterNode {
  name: string;
  amqpPort: number;
  dir: string;
}

const asRabbit = async (command: string, env: Record<string, string>): Promise<void> => {
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  await run('su', ['rabbitmq', '-s', '/bin/bash', '-c', `env ${assignments.join(' ')} ${command}`], { timeout: 60_000 });
};

export async function startRabbitCluster(options: { size?: number; label?: string } = {}): Promise<RabbitCluster> {
  const size = options.size ?? 3;
  const tag = `${options.label ?? 'chaos'}${randomBytes(3).toString('hex')}`;
  const root = mkdtempSync(join(tmpdir(), `faxnotify-${tag}-`));
  chmodSync(root, 0o755);
  const nodes: ClusterNode[] = [];
  const ctl = async (index: number, ...args: string[]) =>
    (await run('rabbitmqctl', ['-n', nodes[index].name, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })).stdout;

  const startServer = async (node: ClusterNode, ports: { dist: number; management: number }) => {
    await asRabbit('rabbitmq-server -detached', {
      RABBITMQ_NODENAME: node.name,
      RABBITMQ_NODE_PORT: String(node.amqpPort),
      RABBITMQ_DIST_PORT: String(ports.dist),
      RABBITMQ_MNESIA_BASE: join(node.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(node.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(node.dir, 'rabbitmq.conf'),
      RABBITMQ_PID_FILE: join(node.dir, 'pid'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(node.dir, 'enabled_plugins'),
    });
    await run('rabbitmqctl', ['-n', node.name, 'wait', '--timeout', '90000', join(node.dir, 'pid')], { timeout: 100_000 });
  };

  const cluster: RabbitCluster = {
    nodes,
    amqpUrls: [],
    ctl,
    async stopNode(index) {
      await ctl(index, 'stop_app');
    },
    async startNode(index) {
      await ctl(index, 'start_app');
      await ctl(index, 'await_startup');
    },
    async stop() {
      for (let i = nodes.length - 1; i >= 0; i--) {
        await ctl(i, 'stop').catch(() => {
          // A node that does not answer is killed by its pid.
          try {
            process.kill(Number(readFileSync(join(nodes[i].dir, 'pid'), 'utf8').trim()), 'SIGKILL');
          } catch {
            /* already gone */
          }
        });
      }
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    const starting: Array<Promise<void>> = [];
    for (let n = 1; n <= size; n++) {
      const [amqpPort, dist, management] = [await freePort(), await freePort(), await freePort()];
      const dir = join(root, `n${n}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'rabbitmq.conf'),
        [`listeners.tcp.1 = 127.0.0.1:${amqpPort}`, `management.tcp.port = ${management}`, 'management.tcp.ip = 127.0.0.1', 'loopback_users = none', ''].join(
          '\n',
        ),
      );
      writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
      const node = { name: `${tag}n${n}@localhost`, amqpPort, dir };
      nodes.push(node);
      await run('chown', ['-R', 'rabbitmq:rabbitmq', root]);
      starting.push(startServer(node, { dist, management }));
    }
    // The nodes boot side by side; joining is one at a time.
    const booted = await Promise.allSettled(starting);
    const failed = booted.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    for (let i = 1; i < size; i++) {
      await ctl(i, 'stop_app');
      await ctl(i, 'reset');
      await ctl(i, 'join_cluster', nodes[0].name);
      await ctl(i, 'start_app');
    }
    await ctl(0, 'await_startup');
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  cluster.amqpUrls = nodes.map((node) => `amqp://guest:guest@127.0.0.1:${node.amqpPort}`);
  return cluster;
}

/** Members of each quorum queue on the cluster, as node 1 sees them (name → member node names). */
export async function quorumMembers(cluster: RabbitCluster): Promise<Record<string, string[]>> {
  const out = await cluster.ctl(0, 'list_queues', 'name', 'members', '--formatter', 'json', '--quiet');
  const rows = JSON.parse(out) as Array<{ name: string; members: string[] | string }>;
  return Object.fromEntries(rows.map((row) => [row.name, Array.isArray(row.members) ? row.members : []]));
}
