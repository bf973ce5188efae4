import { connect } from 'amqplib';
import { createTransport } from 'nodemailer';
import twilio from 'twilio';
import { connectXmppClient, type ProsodyServer, type TwilioEndpoint, type XmppTestClient } from '@faxnotify/notifier/testing';
import { createTestVhost, eventually, startSmtpSink } from '@faxnotify/peers';
import { round } from '../support/processes';

/**
 * The raw limits the pipeline is compared against, each measured in the same run as the pipeline:
 * the broker alone, pooled nodemailer to the same kind of SMTP server, a bare @xmpp/client to the
 * same Prosody and the `twilio` client to the same Twilio-compatible endpoint.
 */

/** Sends `count` jobs, at most `window` at a time, and returns the seconds it took. */
async function windowed(count: number, window: number, job: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let sent = 0; sent < count; sent += window) {
    await Promise.all(Array.from({ length: Math.min(window, count - sent) }, (_, i) => job(sent + i)));
  }
  return (performance.now() - start) / 1000;
}

/** amqplib publish-with-confirms to a quorum queue and consume, messages of `size` bytes. */
export async function rawAmqp(count: number, size: number) {
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
    await windowed(
      count,
      256,
      () =>
        new Promise<void>((resolve, reject) =>
          publisher.publish('', 'raw', body, { persistent: true }, (error: Error | null) => (error ? reject(error) : resolve())),
        ),
    );
    await done;
    const seconds = (performance.now() - start) / 1000;
    await connection.close();
    return { messages: count, bytes: size, perSecond: round(count / seconds) };
  } finally {
    await vhost.delete();
  }
}

/** nodemailer pooled sends (5 connections, 50 in flight) of the pipeline's own email to a fresh SMTP server. */
export async function rawSmtp(count: number, html: string, text: string) {
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
  const seconds = await windowed(count, 50, (i) =>
    transport.sendMail({ from: 'fax@localhost', to: 'owner@example.test', subject: `Delivered: raw ${i}`, text, html }),
  );
  transport.close();
  await sink.close();
  return { emails: count, perSecond: round(count / seconds) };
}

/**
 * A bare @xmpp/client signed in to the same Prosody sends `count` chats with the pipeline's own
 * body to the same user; timed until that user's client has received them all.
 */
export async function rawXmpp(prosody: ProsodyServer, receiver: XmppTestClient, count: number, body: string) {
  await prosody.register('raw-sender', 'raw-sender-pw');
  const sender = await connectXmppClient({ service: prosody.service, domain: prosody.domain, username: 'raw-sender', password: 'raw-sender-pw' });
  try {
    const before = receiver.messages.length;
    const start = performance.now();
    await windowed(count, 50, () => sender.sendChat(receiver.jid, body));
    await eventually(() => receiver.messages.length - before >= count, 10 * 60_000, 20);
    const seconds = (performance.now() - start) / 1000;
    return { messages: count, perSecond: round(count / seconds) };
  } finally {
    await sender.stop();
  }
}

/** The `twilio` client creating `count` messages with the pipeline's own body on the same endpoint, 50 in flight. */
export async function rawSms(endpoint: TwilioEndpoint, count: number, to: string, body: string) {
  const client = twilio(endpoint.accountSid, endpoint.authToken, { httpClient: endpoint.httpClient });
  const seconds = await windowed(count, 50, () => client.messages.create({ to, from: '+15005550006', body }));
  return { messages: count, perSecond: round(count / seconds) };
}
