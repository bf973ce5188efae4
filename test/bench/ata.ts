import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { issueToken } from '@faxnotify/kit';
import { createTestVhost } from '@faxnotify/peers';
import { ataTestDictionaries, TEST_RADIUS_SECRET } from '@faxnotify/transmitter/testing';
import { encodeRequest, radiusLibrary as radius, vendorAttribute, verifyReply, type ReplyAttribute } from '@faxnotify/radius';
import { freeUdpPort, peakRssMb, percentile, round, startService } from '../support/processes';

/**
 * `npm run bench:ata`: the transmitter's RADIUS server for fax ATAs under load from a port
 * server's point of view, next to the raw limit it is compared against: a bare responder built on
 * the same packet library (decode, check the secret, answer with no attributes, no store). Both
 * run as their own process on loopback and get the same requests from the same client, with a
 * fixed number outstanding. Workloads:
 * - access: Get-Call-Ahead-Mode/Pre-Send-Session for varying numbers (a store read per request);
 * - accounting: Start, Alive and Stop of one send each for an account we know (a transaction per
 *   record, events written to the outbox and relayed to RabbitMQ).
 * Prints one JSON object; progress goes to stderr.
 */

const progress = (text: string) => process.stderr.write(`bench:ata: ${text}\n`);
const JWT_SECRET = 'bench-ata-secret-0123456789abcdef';

type Attributes = ReplyAttribute[];
const fb = (name: string, value: string | number): ReplyAttribute => vendorAttribute('FaxBack', name, value);

interface Target {
  authPort: number;
  acctPort: number;
}

interface RunResult {
  requests: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  timeouts: number;
  unexpected: number;
}

interface BenchRequest {
  code: 'Access-Request' | 'Accounting-Request';
  attributes: Attributes;
  expect: string;
}

/**
 * Sends every group with `concurrency` groups under way (one socket each, so identifiers never
 * clash), the requests of a group one after another as a port server sends a session's records;
 * a lost request is resent, as a port server does.
 */
async function load(port: number, groups: BenchRequest[][], concurrency: number): Promise<RunResult> {
  const latencies: number[] = [];
  let next = 0;
  let timeouts = 0;
  let unexpected = 0;
  const worker = async (socket: Socket) => {
    let identifier = 0;
    for (;;) {
      const index = next++;
      if (index >= groups.length) return;
      for (const request of groups[index]) {
        identifier = (identifier + 1) % 256;
        // Signed with Message-Authenticator, as the server requires.
        const packet = encodeRequest(request.code, TEST_RADIUS_SECRET, request.attributes, { identifier });
        const started = performance.now();
        for (let tries = 0; ; tries++) {
          const reply = await new Promise<Buffer | null>((resolve) => {
            const timer = setTimeout(() => {
              socket.off('message', onMessage);
              resolve(null);
            }, 2000);
            const onMessage = (message: Buffer) => {
              if (message[1] !== identifier) return;
              clearTimeout(timer);
              socket.off('message', onMessage);
              resolve(message);
            };
            socket.on('message', onMessage);
            socket.send(packet, port, '127.0.0.1');
          });
          if (reply) {
            const decoded = radius.decode({ packet: reply, secret: TEST_RADIUS_SECRET });
            if (decoded.code !== request.expect || !verifyReply(packet, reply, TEST_RADIUS_SECRET)) unexpected++;
            break;
          }
          timeouts++;
          if (tries >= 3) {
            unexpected++;
            break;
          }
        }
        latencies.push(performance.now() - started);
      }
    }
  };
  const sockets = await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      return socket;
    }),
  );
  const start = performance.now();
  await Promise.all(sockets.map(worker));
  const seconds = (performance.now() - start) / 1000;
  for (const socket of sockets) socket.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds: round(seconds, 2),
    perSecond: round(latencies.length / seconds),
    latencyMs: {
      p50: round(percentile(latencies, 50), 2),
      p95: round(percentile(latencies, 95), 2),
      p99: round(percentile(latencies, 99), 2),
      max: round(latencies[latencies.length - 1] ?? NaN, 2),
    },
    timeouts,
    unexpected,
  };
}

function accessRequests(count: number): BenchRequest[][] {
  return Array.from({ length: count }, (_, i) => [
    {
      code: 'Access-Request' as const,
      expect: 'Access-Accept',
      attributes: [
        fb('FB-Command', 'Get-Call-Ahead-Mode'),
        fb('FB-Context', 'Pre-Send-Session'),
        ['User-Name', `20255${String(i % 100_000).padStart(5, '0')}`],
        ['Acct-Session-Id', `bench-access-${i}`],
      ] as Attributes,
    },
  ]);
}

/** Start, Alive and Stop of each of `count` sends: one group per send. */
function accountingRequests(count: number, run: string): BenchRequest[][] {
  return Array.from({ length: count }, (_, i) => {
    const common: Attributes = [
      ['Acct-Session-Id', `bench-${run}-${i}`],
      ['User-Name', 'BENCH'],
      fb('FB-Dial-Number', `2025${String(i % 1_000_000).padStart(6, '0')}`),
      fb('FB-Is-Send', 1),
    ];
    return [
      { code: 'Accounting-Request', expect: 'Accounting-Response', attributes: [['Acct-Status-Type', 'Start'], ...common, fb('FB-CDR-Type', 0)] },
      {
        code: 'Accounting-Request',
        expect: 'Accounting-Response',
        attributes: [['Acct-Status-Type', 'Interim-Update'], ...common, fb('FB-Page-Count', 2), fb('FB-Remote-CSID', 'BENCH RECEIVER')],
      },
      {
        code: 'Accounting-Request',
        expect: 'Accounting-Response',
        attributes: [
          ['Acct-Status-Type', 'Stop'],
          ...common,
          fb('FB-CDR-Type', 0),
          fb('FB-Page-Count', 2),
          fb('FB-Remote-CSID', 'BENCH RECEIVER'),
          fb('FB-Fax-Error-Code', 0),
          fb('FB-Called-Number-Result', 0),
        ],
      },
    ];
  });
}

function startRawResponder(dictionary: string): Promise<{ child: ChildProcess; target: Target }> {
  const child = spawn(process.execPath, [join(__dirname, 'radius-responder.js'), dictionary, TEST_RADIUS_SECRET], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`raw responder exited with ${code}`)));
    child.stdout.once('data', (chunk: Buffer) => resolve({ child, target: JSON.parse(chunk.toString()) as Target }));
  });
}

async function main() {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '32' } } });
  const n = Number(values.n);
  const concurrency = Number(values.concurrency);
  const dictionaries = ataTestDictionaries(true);
  radius.add_dictionary(dictionaries.faxback);

  const vhost = await createTestVhost('bench-ata');
  const dir = mkdtempSync(join(tmpdir(), 'faxnotify-bench-ata-'));
  const target: Target = { authPort: await freeUdpPort(), acctPort: await freeUdpPort() };
  const transmitter = await startService('transmitter', {
    AMQP_URL: vhost.amqpUrl,
    JWT_SECRET,
    TRANSMITTER_SQLITE_PATH: join(dir, 'transmitter.sqlite'),
    TRANSMITTER_FILES_DIR: join(dir, 'files'),
    TRANSMITTER_ATA_ENABLED: 'true',
    TRANSMITTER_ATA_HOST: '127.0.0.1',
    TRANSMITTER_ATA_AUTH_PORT: String(target.authPort),
    TRANSMITTER_ATA_ACCT_PORT: String(target.acctPort),
    TRANSMITTER_ATA_DICTIONARY: dictionaries.faxback,
    TRANSMITTER_ATA_CLIENTS: JSON.stringify([{ address: '127.0.0.1', secret: TEST_RADIUS_SECRET }]),
    // The benchmark's user sets up the account it sends as.
    TRANSMITTER_ATA_ADMIN_USERS: 'bench',
    LOG_LEVEL: 'warn',
  });
  const raw = await startRawResponder(dictionaries.faxback);
  try {
    const created = await fetch(`${transmitter.url}/ata/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await issueToken({ secret: JWT_SECRET }, 'bench')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', password: 'bench-pw', callAheadMode: 'dynamic' }),
    });
    if (created.status !== 201) throw new Error(`creating the account failed: ${created.status}`);

    progress(`access: ${n} Get-Call-Ahead-Mode requests, ${concurrency} outstanding`);
    // A short warm-up of each side, not counted.
    await load(target.authPort, accessRequests(200), concurrency);
    await load(raw.target.authPort, accessRequests(200), concurrency);
    const access = await load(target.authPort, accessRequests(n), concurrency);
    const accessRaw = await load(raw.target.authPort, accessRequests(n), concurrency);

    const sends = Math.max(1, Math.floor(n / 3));
    progress(`accounting: ${sends} sends × (Start, Alive, Stop), ${concurrency} outstanding`);
    const accounting = await load(target.acctPort, accountingRequests(sends, 'svc'), concurrency);
    const accountingRaw = await load(raw.target.acctPort, accountingRequests(sends, 'raw'), concurrency);
    // Every Stop became a result: count the results in the transmitter's outbox.
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dir, 'transmitter.sqlite'), { readonly: true });
    const results = (db.prepare("select count(*) as n from event_outbox where routing_key = 'fax.recipient.result'").get() as { n: number }).n;
    const published = (db.prepare('select count(*) as n from event_outbox where published_at is not null').get() as { n: number }).n;
    const total = (db.prepare('select count(*) as n from event_outbox').get() as { n: number }).n;
    db.close();

    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'ata-radius',
          concurrency,
          access: { service: access, raw: accessRaw, ratio: round(access.perSecond / accessRaw.perSecond, 3) },
          accounting: {
            sends,
            service: accounting,
            raw: accountingRaw,
            ratio: round(accounting.perSecond / accountingRaw.perSecond, 3),
            resultsWritten: results,
            eventsPublishedAtEnd: `${published}/${total}`,
          },
          peakRssMb: { transmitter: peakRssMb(transmitter.process.pid), rawResponder: peakRssMb(raw.child.pid) },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    raw.child.removeAllListeners('exit');
    raw.child.kill();
    await transmitter.stop();
    await vhost.delete();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:ata failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
