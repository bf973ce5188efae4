import Database from 'better-sqlite3';
import { Client } from 'pg';
import { eventually } from '@faxnotify/peers';
import { percentile, round } from '../support/processes';
import type { BenchStack } from './pipeline-stack';

/**
 * Messages a service has handled so far (every outcome), from its own /metrics: read live, unlike
 * the RabbitMQ management API's queue depths, which the broker refreshes only every few seconds (a
 * depth of 0 read just after a publish can be from before it). `queue` counts one queue only.
 */
export async function handledTotal(serviceUrl: string, queue?: string): Promise<number> {
  const response = await fetch(`${serviceUrl}/metrics`);
  if (!response.ok) throw new Error(`${serviceUrl}/metrics answered ${response.status}`);
  let total = 0;
  for (const line of (await response.text()).split('\n')) {
    if (!line.startsWith('faxnotify_messages_handled_total{')) continue;
    if (queue && !line.includes(`queue="${queue}"`)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

const servicesHandled = async (bench: BenchStack) => (await handledTotal(bench.stack.tracker.url)) + (await handledTotal(bench.stack.notifier.url));

/**
 * Waits until neither service has handled a message for `quietMs`: what earlier runs left (the
 * notifier's fax summaries, the tracker's notice outcomes) is done, so it does not share the cores
 * with what is timed next.
 */
export async function waitUntilIdle(bench: BenchStack, quietMs = 1000): Promise<void> {
  let last = await servicesHandled(bench);
  let since = performance.now();
  await eventually(
    async () => {
      const now = await servicesHandled(bench);
      if (now !== last) [last, since] = [now, performance.now()];
      return performance.now() - since >= quietMs;
    },
    30 * 60_000,
    100,
  );
}

/** One timed result: wall-clock ms (epoch) of its publish and of the SMTP server accepting its email. */
export interface TimedResult {
  faxId: string;
  publishedAt: number;
  acceptedAt: number;
}

interface Stamps {
  /** The tracker committed the result with its recipient's final event in the outbox (outbox.created_at). */
  committed?: number;
  /** The relay had the broker's confirm for that event's batch and marked it (outbox.published_at). */
  relayed?: number;
  /** The notifier claimed the email notice in its ledger (ledger.created_at). */
  claimed?: number;
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : undefined);

/** The stamps the services left in their databases for the faxes whose ids start with `prefix`. */
async function readStamps(bench: BenchStack, prefix: string): Promise<Map<string, Stamps>> {
  const outboxSql = `select fax_id, created_at, published_at from outbox where routing_key = 'delivery.recipient.final' and fax_id like `;
  const ledgerSql = `select fax_id, created_at from ledger where channel = 'email' and fax_id like `;
  type OutboxRow = { fax_id: string; created_at: string; published_at: string | null };
  type LedgerRow = { fax_id: string; created_at: string };
  const { env } = bench.stack;
  let outbox: OutboxRow[];
  let ledger: LedgerRow[];
  if (bench.database === 'postgres') {
    const query = async <T>(url: string, sql: string) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(`${sql}$1`, [`${prefix}%`])).rows as T[];
      } finally {
        await client.end();
      }
    };
    outbox = await query<OutboxRow>(env.STATUS_TRACKER_DATABASE_URL, outboxSql);
    ledger = await query<LedgerRow>(env.NOTIFIER_DATABASE_URL, ledgerSql);
  } else {
    const query = <T>(path: string, sql: string) => {
      const file = new Database(path, { readonly: true });
      try {
        return file.prepare(`${sql}?`).all(`${prefix}%`) as T[];
      } finally {
        file.close();
      }
    };
    outbox = query<OutboxRow>(env.STATUS_TRACKER_SQLITE_PATH, outboxSql);
    ledger = query<LedgerRow>(env.NOTIFIER_SQLITE_PATH, ledgerSql);
  }
  const stamps = new Map<string, Stamps>();
  for (const row of outbox) stamps.set(row.fax_id, { committed: ms(row.created_at), relayed: ms(row.published_at) });
  for (const row of ledger) stamps.set(row.fax_id, { ...stamps.get(row.fax_id), claimed: ms(row.created_at) });
  return stamps;
}

/** The stages of a result's way, each from one stamp to the next. */
const STAGES = {
  toTrackerCommit: (r: TimedResult, s: Stamps) => (s.committed ?? NaN) - r.publishedAt,
  trackerCommitToRelayMark: (_: TimedResult, s: Stamps) => (s.relayed ?? NaN) - (s.committed ?? NaN),
  trackerCommitToNotifierClaim: (_: TimedResult, s: Stamps) => (s.claimed ?? NaN) - (s.committed ?? NaN),
  notifierClaimToSmtpAccepted: (r: TimedResult, s: Stamps) => r.acceptedAt - (s.claimed ?? NaN),
} as const;

/**
 * Where the time of the timed results went, stage by stage (p50/p99 of each over all results), and
 * for the slowest 1 % the mean of each stage, so a tail shows the stage that holds it. Stamps are
 * the services' own timestamps (ms, one clock: all run on this machine); the relay's mark comes
 * after the confirms of its whole batch, so the notifier may claim before it.
 */
export async function stageBreakdown(bench: BenchStack, prefix: string, results: readonly TimedResult[]) {
  const stamps = await readStamps(bench, prefix);
  const rows = results.map((r) => ({ r, s: stamps.get(r.faxId) ?? {} })).filter(({ s }) => s.committed !== undefined && s.claimed !== undefined);
  const total = (x: (typeof rows)[number]) => x.r.acceptedAt - x.r.publishedAt;
  const sorted = [...rows].sort((a, b) => total(a) - total(b));
  const slowest = sorted.slice(Math.floor(sorted.length * 0.99));
  const figures: Record<string, { p50: number; p99: number; meanOfSlowest1Percent: number }> = {};
  for (const [name, stage] of Object.entries(STAGES)) {
    const values = rows.map(({ r, s }) => stage(r, s)).filter((v) => !Number.isNaN(v));
    values.sort((a, b) => a - b);
    const slow = slowest.map(({ r, s }) => stage(r, s)).filter((v) => !Number.isNaN(v));
    figures[name] = {
      p50: round(percentile(values, 50)),
      p99: round(percentile(values, 99)),
      meanOfSlowest1Percent: round(slow.reduce((sum, v) => sum + v, 0) / Math.max(1, slow.length)),
    };
  }
  return { stamped: rows.length, slowest1PercentFromMs: slowest.length ? round(total(slowest[0])) : null, stages: figures };
}
