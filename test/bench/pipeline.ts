import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { round } from '../support/processes';
import { rawAmqp, rawSms, rawSmtp, rawXmpp } from './pipeline-raw';
import { RSS_MARK, channelBurst, emailBurst, steadyRate } from './pipeline-runs';
import { startBenchStack } from './pipeline-stack';

/**
 * `npm run bench` (the notice pipeline): the status tracker and the notifier as separate processes
 * on SQLite (`--pg`: PostgreSQL) with real peers — an SMTP server, Prosody, a Twilio-compatible
 * endpoint — and in the same run the raw limits each channel is compared against. Prints one JSON
 * object with the figures and each goal of issue 15 met or not, and for each burst the CPU time per
 * result of the tracker, the notifier, the RabbitMQ node and the benchmark process itself (which
 * hosts the SMTP server), so the figures show where the machine's cores went.
 *
 *   --n N            results in the email burst (default 10,000; BENCH_N)
 *   --soak           the email burst of 100,000 results (peak RSS of the burst and resident RSS, after 10,000 and at the end)
 *   --channel-n N    results in each of the SMS and Jabber bursts (default 1,000; 0 leaves them out)
 *   --rate R         the steady run's open-loop load: R results/s (default 500, the goal's rate)
 *   --seconds S      for S seconds (default 60); the steady run comes after the bursts, once the
 *                    services are idle, and gives the latency goal and each stage's share of it
 *   --no-steady      leaves the steady run out (--steady, the default, is still accepted)
 *   --pg             the tracker and the notifier on PostgreSQL (TEST_POSTGRES_URL)
 *   --cpu-prof DIR   each service writes a V8 CPU profile into DIR when it stops (read it with cpu-profile.js)
 */
const GOALS = { emailToRawSmtp: 0.75, steadyP99Ms: 200, rssGrowth: 0.1, xmppToRaw: 0.5, smsToRaw: 0.5 };

const positiveInt = (value: string, name: string, zeroOk = false) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) throw new Error(`--${name} must be a ${zeroOk ? 'whole number' : 'positive whole number'}`);
  return n;
};

async function main() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: process.env.BENCH_N ?? '10000' },
      soak: { type: 'boolean', default: false },
      'channel-n': { type: 'string', default: '1000' },
      steady: { type: 'boolean', default: true },
      'no-steady': { type: 'boolean', default: false },
      rate: { type: 'string', default: '500' },
      seconds: { type: 'string', default: '60' },
      pg: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
    },
  });
  const n = values.soak ? 100_000 : positiveInt(values.n, 'n');
  const channelN = positiveInt(values['channel-n'], 'channel-n', true);
  const rate = positiveInt(values.rate, 'rate');
  const seconds = positiveInt(values.seconds, 'seconds');
  // Profiles: --cpu-prof DIR has each service write a .cpuprofile there when it stops.
  const bench = await startBenchStack({ pg: values.pg, nodeArgs: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : undefined });
  try {
    const burst = await emailBurst(bench, n);
    const sms = channelN ? await channelBurst(bench, 'sms', channelN) : null;
    const xmpp = channelN ? await channelBurst(bench, 'xmpp', channelN) : null;
    const steady = values['no-steady'] ? null : await steadyRate(bench, rate, seconds);

    const amqp = await rawAmqp(n, burst.resultEventBytes);
    const smtp = await rawSmtp(Math.min(n, 5000), String(burst.sample.html || ''), String(burst.sample.text || ''));
    const smsRaw = sms ? await rawSms(bench.twilio, channelN, '+393331234567', sms.body) : null;
    const xmppRaw = xmpp ? await rawXmpp(bench.prosody, bench.jabber, channelN, xmpp.body) : null;

    const ratio = {
      pipelineToRawAmqp: round(burst.resultsPerSecond / amqp.perSecond, 3),
      pipelineToRawSmtp: round(burst.emailsPerSecond / smtp.perSecond, 3),
      smsToRawTwilio: sms && smsRaw ? round(sms.noticesPerSecond / smsRaw.perSecond, 3) : null,
      xmppToRawXmppClient: xmpp && xmppRaw ? round(xmpp.noticesPerSecond / xmppRaw.perSecond, 3) : null,
    };
    // Growth from the RSS_MARK-th result to the end, of each service's peak (the goal) and of its resident memory then.
    const growthOf = (marks: typeof burst.peakRssMb) => {
      const [first, last] = [marks[`after${Math.min(n, RSS_MARK)}`], marks[`after${n}`]];
      return n >= 100_000 && first?.statusTracker && first.notifier && last?.statusTracker && last.notifier
        ? { statusTracker: round(last.statusTracker / first.statusTracker - 1, 3), notifier: round(last.notifier / first.notifier - 1, 3) }
        : null;
    };
    const growth = growthOf(burst.peakRssMb);
    const goal = (value: number | null, target: number, atLeast: boolean, notMeasured: string) =>
      value === null ? { target, value, met: false, notMeasured } : { target, value, met: atLeast ? value >= target : value <= target };
    const goals = {
      emailToRawSmtp: goal(ratio.pipelineToRawSmtp, GOALS.emailToRawSmtp, true, ''),
      steadyP99Ms: goal(steady ? steady.latencyMs.p99 : null, GOALS.steadyP99Ms, false, 'run without --no-steady'),
      rssGrowthAfter100k: goal(growth ? Math.max(growth.statusTracker, growth.notifier) : null, GOALS.rssGrowth, false, 'run with --soak'),
      xmppToRaw: goal(ratio.xmppToRawXmppClient, GOALS.xmppToRaw, true, 'run with --channel-n above 0'),
      smsToRaw: goal(ratio.smsToRawTwilio, GOALS.smsToRaw, true, 'run with --channel-n above 0'),
    };
    const { sample: _sample, resultEventBytes: _bytes, latencyMs, peakRssMb, peaksOfBurst, residentRssMb, ...pipeline } = burst;
    const output = {
      database: bench.database,
      pipeline,
      latencyMs,
      peakRssMb,
      peaksOfBurst,
      rssGrowth: growth,
      residentRssMb,
      residentRssGrowth: growthOf(residentRssMb),
      steady,
      channels: { sms: sms && { ...sms, body: undefined }, xmpp: xmpp && { ...xmpp, body: undefined } },
      raw: { amqpPublishConfirmConsume: amqp, nodemailerPooledSmtp: smtp, twilioClient: smsRaw, xmppClient: xmppRaw },
      ratio,
      goals,
      machine: { cores: cpus().length, node: process.version },
    };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  } finally {
    await bench.stop();
  }
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
