import { runChaos } from '../chaos/run';

/**
 * The chaos run, shortened: 1,000 results through a 3-node RabbitMQ cluster, two status trackers
 * and two notifiers on PostgreSQL, with one fault of each kind (a notifier and a tracker killed, a
 * broker node stopped and started, SMTP down, Twilio answering errors and losing answers, Prosody
 * restarted, PostgreSQL connections dropped). Every node, process and folder it starts is removed
 * again, also when it fails. `npm run chaos` is the full run.
 */
it('loses no notice and duplicates at most 0.1 % through one fault of each kind', async () => {
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
  expect(report.duplicatedRate).toBeLessThanOrEqual(0.001);
}, 720_000);
