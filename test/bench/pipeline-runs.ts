import { eventually } from '@faxnotify/peers';
import { cpuMs, peakRssMb, percentile, pidOf, resetPeakRss, round, rssMb } from '../support/processes';
import { benchFaxes, faxIdOfMail, publishResult, submitAll, type BenchStack } from './pipeline-stack';
import { stageBreakdown, waitUntilIdle, type TimedResult } from './pipeline-stages';

/** How many results after which peak RSS is sampled the first time (the memory goal compares the end of the run with it). */
export const RSS_MARK = 10_000;

const latencyFigures = (latencies: number[]) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: sorted.length ? round(sorted[sorted.length - 1]) : null,
    samples: sorted.length,
  };
};

const peakRss = (bench: BenchStack) => ({
  statusTracker: peakRssMb(bench.stack.tracker.process.pid),
  notifier: peakRssMb(bench.stack.notifier.process.pid),
});

/** Resident memory of each service now: what grows with a leak, where the peak also catches a passing spike. */
const residentRss = (bench: BenchStack) => ({
  statusTracker: rssMb(bench.stack.tracker.process.pid),
  notifier: rssMb(bench.stack.notifier.process.pid),
});

/**
 * CPU time each part of the run uses from now on, per result, in ms: the tracker, the notifier, the
 * RabbitMQ node (when it runs on this machine) and this process (the publisher and the peers it
 * hosts, such as the SMTP server). Where the two cores go is what bounds throughput.
 */
function cpuMeter(bench: BenchStack) {
  const pids = { statusTracker: bench.stack.tracker.process.pid, notifier: bench.stack.notifier.process.pid, rabbitmq: pidOf('beam.smp') };
  const read = () => ({
    statusTracker: cpuMs(pids.statusTracker),
    notifier: cpuMs(pids.notifier),
    rabbitmq: cpuMs(pids.rabbitmq),
    benchProcess: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  });
  const start = read();
  return (results: number) => {
    const end = read();
    const per = (key: keyof typeof start) => {
      const [a, b] = [start[key], end[key]];
      return a === null || b === null ? null : round((b - a) / results, 2);
    };
    return { statusTracker: per('statusTracker'), notifier: per('notifier'), rabbitmq: per('rabbitmq'), benchProcess: per('benchProcess') };
  };
}

/**
 * The burst: `n` results published at once (200 confirms in flight) for an owner with email only;
 * timed from the first result published to the n-th email accepted. Latency here is mostly the
 * queueing of the burst. Peak RSS of each service is read when the RSS_MARK-th email is accepted
 * and at the end of the same run, and resident memory at both moments beside it: the peak grows
 * with a leak and with one passing spike alike, resident memory only with a leak. The peaks start
 * again from the services' resident memory when the burst starts, so that the submissions
 * before it (the tracker's 100,000 of a soak) are not what they show.
 */
export async function emailBurst(bench: BenchStack, n: number) {
  const { stack, bus } = bench;
  await stack.saveSettings('bench', { email: { enabled: true, address: 'owner@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' });
  const faxes = benchFaxes('bench', n);
  await submitAll(bench, faxes);
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  const mailsBefore = stack.smtp.mails.length;
  stack.smtp.onAccepted = (mail, at) => {
    const faxId = faxIdOfMail(mail);
    const t0 = faxId ? publishedAt.get(faxId) : undefined;
    if (t0 !== undefined) latencies.push(at - t0);
  };
  const cpu = cpuMeter(bench);
  const peaksReset = [stack.tracker.process.pid, stack.notifier.process.pid].every(resetPeakRss);
  const start = performance.now();
  for (let i = 0; i < n; i += 200)
    await Promise.all(
      faxes.slice(i, i + 200).map((f) => {
        publishedAt.set(f.faxId, performance.now());
        return publishResult(bus, f);
      }),
    );
  let atMark: ReturnType<typeof peakRss> | null = null;
  let residentAtMark: ReturnType<typeof residentRss> | null = null;
  const emails = () => stack.smtp.mails.length - mailsBefore;
  await eventually(
    () => {
      if (!atMark && emails() >= Math.min(n, RSS_MARK)) {
        atMark = peakRss(bench);
        residentAtMark = residentRss(bench);
      }
      return emails() >= n;
    },
    60 * 60_000,
    50,
  );
  const seconds = (performance.now() - start) / 1000;
  stack.smtp.onAccepted = undefined;
  return {
    results: n,
    seconds: round(seconds, 2),
    resultsPerSecond: round(n / seconds),
    emailsPerSecond: round(emails() / seconds),
    cpuMsPerResult: cpu(n),
    latencyMs: latencyFigures(latencies),
    peakRssMb: { [`after${Math.min(n, RSS_MARK)}`]: atMark as ReturnType<typeof peakRss> | null, [`after${n}`]: peakRss(bench) },
    /** Whether the peaks are the burst's own (false: since each service started, submissions included). */
    peaksOfBurst: peaksReset,
    residentRssMb: { [`after${Math.min(n, RSS_MARK)}`]: residentAtMark as ReturnType<typeof residentRss> | null, [`after${n}`]: residentRss(bench) },
    resultEventBytes: Buffer.byteLength(JSON.stringify(faxes[0].events[faxes[0].events.length - 1])),
    sample: stack.smtp.mails[mailsBefore],
  };
}

/**
 * The same burst of `n` results for an owner with one other channel only (SMS or Jabber), timed
 * until the channel's peer has received `n` notices; returns the first notice's text so the raw
 * client can send the same.
 */
export async function channelBurst(bench: BenchStack, channel: 'sms' | 'xmpp', n: number) {
  const owner = `bench-${channel}`;
  const { stack, bus, twilio, jabber } = bench;
  await stack.saveSettings(owner, {
    email: { enabled: false, address: null },
    sms: channel === 'sms' ? { enabled: true, number: '+393331234567' } : { enabled: false, number: null },
    xmpp: channel === 'xmpp' ? { enabled: true, jid: jabber.jid } : { enabled: false, jid: null },
    locale: 'en',
    timeZone: 'UTC',
    notifyOn: 'all',
  });
  const faxes = benchFaxes(owner, n);
  await submitAll(bench, faxes);
  const received = () => (channel === 'sms' ? twilio.messages.length : jabber.messages.length);
  const before = received();
  const cpu = cpuMeter(bench);
  const start = performance.now();
  for (let i = 0; i < n; i += 200) await Promise.all(faxes.slice(i, i + 200).map((f) => publishResult(bus, f)));
  await eventually(() => received() - before >= n, 60 * 60_000, 20);
  const seconds = (performance.now() - start) / 1000;
  const body = channel === 'sms' ? twilio.messages[before].body : jabber.messages[before].body;
  return { results: n, seconds: round(seconds, 2), noticesPerSecond: round(n / seconds), cpuMsPerResult: cpu(n), body };
}

/**
 * Open-loop load: results published on a precomputed schedule of `rate` per second for `seconds`
 * seconds, from a timer that never waits for the system (a publish does not hold back the next
 * one); latency is result published → SMTP accepted. It starts once the submissions are handled
 * and both services are idle (what earlier runs left is done). Reports the offered rate actually
 * achieved (results over the span from the first publish to the last), how far publishing fell
 * behind the schedule at worst, and where the time went stage by stage (`stageBreakdown`).
 */
export async function steadyRate(bench: BenchStack, rate: number, seconds: number) {
  const { stack, bus } = bench;
  const owner = 'bench-steady';
  await stack.saveSettings(owner, { email: { enabled: true, address: 'steady@example.test' }, locale: 'en', timeZone: 'UTC', notifyOn: 'all' });
  const total = Math.round(rate * seconds);
  const faxes = benchFaxes(owner, total);
  await submitAll(bench, faxes);
  await waitUntilIdle(bench);
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  const timed: TimedResult[] = [];
  stack.smtp.onAccepted = (mail, at) => {
    const faxId = faxIdOfMail(mail);
    const t0 = faxId ? publishedAt.get(faxId) : undefined;
    if (faxId === undefined || t0 === undefined) return;
    latencies.push(at - t0);
    timed.push({ faxId, publishedAt: performance.timeOrigin + t0, acceptedAt: performance.timeOrigin + at });
  };
  const interval = 1000 / rate;
  const start = performance.now() + 10;
  const schedule = Array.from({ length: total }, (_, i) => start + i * interval);
  const pending: Array<Promise<unknown>> = [];
  let next = 0;
  let worstLagMs = 0;
  let firstAt = 0;
  let lastAt = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && schedule[next] <= now) {
        const fax = faxes[next];
        const at = performance.now();
        worstLagMs = Math.max(worstLagMs, at - schedule[next]);
        if (next === 0) firstAt = at;
        lastAt = at;
        publishedAt.set(fax.faxId, at);
        pending.push(publishResult(bus, fax));
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(interval, schedule[next] - performance.now())));
      else resolve();
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  await Promise.all(pending);
  await eventually(() => latencies.length >= total, 30 * 60_000, 50);
  stack.smtp.onAccepted = undefined;
  const span = (lastAt - firstAt) / 1000;
  return {
    offeredRatePerSecond: rate,
    seconds,
    results: total,
    achievedOfferedRatePerSecond: round((total - 1) / span),
    worstPublishLagMs: round(worstLagMs),
    latencyMs: latencyFigures(latencies),
    stagesMs: await stageBreakdown(bench, `${owner}-`, timed),
  };
}
