import { runChaos } from '../chaos/run';

/**
 * The chaos run, shortened: 1,000 results through a 3-node RabbitMQ cluster, two status trackers
 * and two notifiers on PostgreSQL, with one fault of each kind (a notifier and a tracker killed, a
 * broker node stopped and started, SMTP down, Twilio answering errors and losing answers, Prosody
 * restarted, PostgreSQL connections dropped). Every node, process and folder it starts is removed
 * again, also when it fails. `npm run chaos` is the full run.
 */
/** Pooled SMTP connections of each notifier (the service's default, `smtp.maxConnections`). */
const SMTP_POOL = 5;
/** Result notices each notifier handles at once (half of the default `amqp.prefetch`, 32). */
const NOTICE_HANDLERS = 16;

it('loses no notice and sends again only what was in flight when a notifier was killed', async () => {
  // A busy machine drains slowly: the run waits while notices keep coming (and gives up after 150 s without one).
  const report = await runChaos({ results: 1000, short: true, drainTimeoutMs: 360_000 });
  process.stdout.write(`${JSON.stringify({ chaos: 'short', ...report, lostExamples: report.lostExamples.slice(0, 5) })}\n`);
  expect(report.crashes.map((c) => `${c.replica} exited with ${c.code}: ${c.lastOutput.slice(-500)}`)).toEqual([]);
  expect(report.faults.map((f) => f.kind).sort()).toEqual(
    ['broker-node-stop', 'pg-terminate-backend', 'restart', 'sigkill', 'sigkill', 'smtp-down', 'twilio-errors-and-lost-answers'].sort(),
  );
  // Every work queue is replicated on all three nodes.
  expect(Object.values(report.cluster.workQueueMembers).length).toBeGreaterThanOrEqual(3);
  expect(new Set(Object.values(report.cluster.workQueueMembers))).toEqual(new Set([3]));
  expect(report.lost).toBe(0);
  expect(report.unexpected).toBe(0);
  // A copy is only ever a send in flight when its notifier was killed, taken over by the other
  // notifier. SMTP cannot be asked whether a message arrived: a message the server had accepted
  // before the notifier recorded it goes out again, at most one per pooled connection. An SMS is
  // looked up at Twilio before it is sent again, and a Jabber notice is sent again only when the
  // server had not yet confirmed it: at most one per notice handler then running. The full run
  // (`npm run chaos`, 10,000 results) holds copies to 0.1 %; the short one carries the same faults on
  // a tenth of the notices, so its bounds are the mechanism's, per notifier killed.
  const notifierKills = report.faults.filter((f) => f.kind === 'sigkill' && f.target.startsWith('notifier')).length;
  expect(report.notices.email.duplicated).toBeLessThanOrEqual(SMTP_POOL * notifierKills);
  expect(report.notices.sms.duplicated + report.notices.xmpp.duplicated).toBeLessThanOrEqual(NOTICE_HANDLERS * notifierKills);
}, 720_000);
