import { parseArgs } from 'node:util';
import { connect } from 'amqplib';
import { createTransport } from 'nodemailer';
import { MessageBus, createLogger } from '@faxnotify/kit';
import { createTestVhost, eventually, startSmtpSink } from '@faxnotify/peers';
import { scriptFaxEvents } from '@faxnotify/transmitter';
import { peakRssMb, percentile, round } from '../support/processes';
import { startStack } from '../support/stack';

/**
 * `npm run bench`: N per-recipient results through the status tracker and the notifier to a local
 * SMTP server, and in the same run the raw limits it is compared against — amqplib
 * publish-with-confirms + consume of messages of the same size, and nodemailer pooled sends to the
 * same kind of SMTP server. Prints one JSON object.
 */
async function rawAmqp(count: number, size: number) {
  const vhost = await createTestVhost('bench-raw');
  try {
    const connection = await connect(vhost.amqpUrl);
    const publisher = await connection.createConfirmChannel();
    const consumer = await connection.createChannel();
    await publisher.assertQueue('raw', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await consumer.prefetch(64);
    const body = Buffer.alloc(size, 'x');
    let received = 0;
    const start = performance.now();
    const done = new Promise<void>((resolve) => {
      void consumer.consume('raw', (m) => {
        if (!m) return;
        consumer.ack(m);
        if (++received === count) resolve();
      });
    });
    const window = 256;
    for (let sent = 0; sent < count; sent += window) {
      const batch = Math.min(window, count - sent);
      await Promise.all(
        Array.from(
          { length: batch },
          () =>
            new Promise<void>((resolve, reject) =>
              publisher.publish('', 'raw', body, { persistent: true }, (error: Error | null) => (error ? reject(error) : resolve())),
            ),
        ),
      );
    }
    await done;
    const seconds = (performance.now() - start) / 1000;
    await connection.close();
    return { messages: count, bytes: size, perSecond: round(count / seconds) };
  } finally {
    await vhost.delete();
  }
}

async function rawSmtp(count: number, html: string, text: string) {
  const sink = await startSmtpSink();
  const transport = createTransport({
    host: '127.0.0.1',
    port: sink.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 5,
    maxMessages: Infinity,
  });
  const start = performance.now();
  const window = 50;
  for (let sent = 0; sent < count; sent += window) {
    await Promise.all(
      Array.from({ length: Math.min(window, count - sent) }, (_, i) =>
        transport.sendMail({ from: 'fax@localhost', to: 'owner@example.test', subject: `Delivered: raw ${sent + i}`, text, html }),
      ),
    );
  }
  const seconds = (performance.now() - start) / 1000;
  transport.close();
  await sink.close();
  return { emails: count, perSecond: round(count / seconds) };
}

async function main() {
  const { values } = parseArgs({ options: { n: { type: 'string', default: process.env.BENCH_N ?? '10000' } } });
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 1) throw new Error('--n must be a positive whole number');
  // One owner gets every notice here: the per-owner limit on email notices is off, as for a bulk sender who raised it.
  const stack = await startStack('bench', { extraEnv: { LOG_LEVEL: 'warn', NOTIFIER_RATE_LIMIT_EMAIL_NOTICES: '0' } });
  const bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('bench', 'silent') });
  try {
    await bus.start();
    await stack.saveSettings('bench', { email: { enabled: true, address: 'owner@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' });
    const publishedAt = new Map<string, number>();
    const latencies: number[] = [];
    stack.smtp.onAccepted = (mail, at) => {
      const faxId = /fax\.([^@>]+)@/.exec(String(mail.references ?? mail.inReplyTo ?? ''))?.[1];
      const t0 = faxId ? publishedAt.get(faxId) : undefined;
      if (t0 !== undefined) latencies.push(at - t0);
    };
    const faxes = Array.from({ length: n }, (_, i) =>
      scriptFaxEvents({
        faxId: `bench-${i}`,
        ownerId: 'bench',
        subject: `Invoice ${i}`,
        pages: 2,
        recipients: [
          {
            number: '+12025550101',
            attempts: [{ csid: 'ACME SALES FAX', pagesConfirmed: 2, status: 'success', reason: { code: 'OK', detail: 'MCF after EOP' } }],
          },
        ],
      }),
    );
    // The submissions go first so that the timed part is result → email.
    for (let i = 0; i < n; i += 200)
      await Promise.all(faxes.slice(i, i + 200).map((f) => bus.publish(f.events[0].key, f.events[0].data as never, { subject: f.events[0].subject })));
    const start = performance.now();
    for (let i = 0; i < n; i += 200)
      await Promise.all(
        faxes.slice(i, i + 200).map((f) => {
          const result = f.events[f.events.length - 1];
          publishedAt.set(f.faxId, performance.now());
          return bus.publish(result.key, result.data, { subject: result.subject });
        }),
      );
    await eventually(() => stack.smtp.mails.length >= n, 30 * 60_000, 50);
    const seconds = (performance.now() - start) / 1000;
    const sample = stack.smtp.mails[0];
    const rss = { statusTracker: peakRssMb(stack.tracker.process.pid), notifier: peakRssMb(stack.notifier.process.pid) };
    const resultEventSize = Buffer.byteLength(JSON.stringify(faxes[0].events[faxes[0].events.length - 1]));
    const amqp = await rawAmqp(n, resultEventSize);
    const smtp = await rawSmtp(Math.min(n, 5000), String(sample.html || ''), String(sample.text || ''));
    latencies.sort((a, b) => a - b);
    const pipeline = {
      results: n,
      seconds: round(seconds, 2),
      resultsPerSecond: round(n / seconds),
      emailsPerSecond: round(stack.smtp.mails.length / seconds),
    };
    process.stdout.write(
      `${JSON.stringify(
        {
          pipeline,
          latencyMs: {
            p50: round(percentile(latencies, 50)),
            p95: round(percentile(latencies, 95)),
            p99: round(percentile(latencies, 99)),
            samples: latencies.length,
          },
          peakRssMb: rss,
          raw: { amqpPublishConfirmConsume: amqp, nodemailerPooledSmtp: smtp },
          ratio: {
            pipelineToRawAmqp: round(pipeline.resultsPerSecond / amqp.perSecond, 3),
            pipelineToRawSmtp: round(pipeline.emailsPerSecond / smtp.perSecond, 3),
          },
          machine: { cores: (await import('node:os')).cpus().length, node: process.version },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await bus.close();
    await stack.stop();
  }
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
