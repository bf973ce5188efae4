import { Client } from 'pg';
import type { FaultRecord } from './report';

/** One step of the fault plan: at `at` seconds after the results start flowing. */
export interface FaultStep {
  at: number;
  kind: string;
  target: string;
  /** Runs the fault; for one that lasts, `endsAfter` seconds later `end` undoes it. */
  start: () => Promise<void>;
  endsAfter?: number;
  end?: () => Promise<void>;
}

/** What the plan acts on. */
export interface FaultTargets {
  killNotifier(slot: number): Promise<void>;
  killTracker(slot: number): Promise<void>;
  stopBrokerNode(index: number): Promise<void>;
  startBrokerNode(index: number): Promise<void>;
  smtpDown(): Promise<void>;
  smtpUp(): Promise<void>;
  twilioFaults(on: boolean): void;
  restartProsody(): Promise<void>;
  dropDatabaseConnections(): Promise<number>;
}

/**
 * The fault plan. The full run: a notifier replica killed 5 times, a tracker replica 3 times, one
 * broker node stopped and started and then another, SMTP down for 60 s, Twilio answering 20 %
 * errors and losing some answers for 90 s, Prosody restarted, PostgreSQL connections dropped once.
 * The short run: one of each kind, closer together.
 */
export function faultPlan(t: FaultTargets, short: boolean): FaultStep[] {
  const twilio = (at: number, lasts: number): FaultStep => ({
    at,
    kind: 'twilio-errors-and-lost-answers',
    target: 'twilio endpoint',
    start: async () => t.twilioFaults(true),
    endsAfter: lasts,
    end: async () => t.twilioFaults(false),
  });
  const notifier = (at: number, slot: number): FaultStep => ({ at, kind: 'sigkill', target: `notifier-${slot + 1}`, start: () => t.killNotifier(slot) });
  const tracker = (at: number, slot: number): FaultStep => ({ at, kind: 'sigkill', target: `status-tracker-${slot + 1}`, start: () => t.killTracker(slot) });
  const broker = (at: number, index: number, lasts: number): FaultStep => ({
    at,
    kind: 'broker-node-stop',
    target: `rabbitmq-node-${index + 1}`,
    start: () => t.stopBrokerNode(index),
    endsAfter: lasts,
    end: () => t.startBrokerNode(index),
  });
  const smtp = (at: number, lasts: number): FaultStep => ({
    at,
    kind: 'smtp-down',
    target: 'smtp',
    start: () => t.smtpDown(),
    endsAfter: lasts,
    end: () => t.smtpUp(),
  });
  const prosody = (at: number): FaultStep => ({ at, kind: 'restart', target: 'prosody', start: () => t.restartProsody() });
  const postgres = (at: number): FaultStep => ({
    at,
    kind: 'pg-terminate-backend',
    target: 'postgresql',
    start: async () => void (await t.dropDatabaseConnections()),
  });
  if (short) return [twilio(2, 25), notifier(4, 0), tracker(6, 0), broker(8, 0, 10), smtp(10, 10), prosody(14), postgres(16)];
  return [
    twilio(5, 90),
    notifier(10, 0),
    tracker(15, 0),
    broker(20, 0, 20),
    notifier(25, 1),
    smtp(30, 60),
    tracker(45, 1),
    notifier(50, 0),
    prosody(55),
    postgres(60),
    broker(65, 1, 20),
    notifier(70, 1),
    tracker(80, 0),
    notifier(95, 0),
  ];
}

/**
 * Runs the plan against the clock (a step that starts late, because the one before took long,
 * runs at once), records each fault with when it started and ended, and resolves once every
 * fault is over.
 */
export async function runFaults(plan: FaultStep[], startedAt: number, log: (line: string) => void): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  const endings: Array<Promise<void>> = [];
  const now = () => (performance.now() - startedAt) / 1000;
  const round = (s: number) => Math.round(s * 10) / 10;
  for (const step of [...plan].sort((a, b) => a.at - b.at)) {
    const wait = step.at - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    const record: FaultRecord = { kind: step.kind, target: step.target, at: round(now()) };
    records.push(record);
    log(`fault at ${record.at}s: ${step.kind} ${step.target}`);
    await step.start();
    if (step.end) {
      const end = step.end;
      endings.push(
        new Promise<void>((resolve) => setTimeout(resolve, (step.endsAfter ?? 0) * 1000)).then(async () => {
          await end();
          record.until = round(now());
          log(`fault over at ${record.until}s: ${step.kind} ${step.target}`);
        }),
      );
    } else record.until = round(now());
  }
  await Promise.all(endings);
  return records;
}

/** Drops every connection to these databases but this one (pg_terminate_backend); returns how many. */
export async function terminateBackends(adminUrl: string, databases: string[]): Promise<number> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pg_terminate_backend(pid) AS t, pid FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()',
      [databases],
    );
    return rows.length;
  } finally {
    await client.end();
  }
}
