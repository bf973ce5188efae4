import { authSchema, commonSchema, loadConfig } from '@faxnotify/kit';

/** The status tracker's settings; exported so the README's configuration table is generated from it. */
export const statusTrackerSchema = {
  ...commonSchema('status-tracker', 8082),
  ...authSchema(),
  links: {
    faxUrlTemplate: {
      doc: 'Deep link to one fax, put in every delivery event for the notices; `{faxId}` is replaced by the fax id.',
      format: 'url-template',
      default: 'http://127.0.0.1:8082/faxes/{faxId}',
      env: 'FAX_URL_TEMPLATE',
    },
  },
  outbox: {
    pollMs: {
      doc: 'How often the outbox relay looks for events not yet confirmed by the broker (it also runs right after each handled message).',
      format: 'positive-int',
      default: 1000,
      env: 'STATUS_TRACKER_OUTBOX_POLL_MS',
    },
  },
  reconcile: {
    intervalMs: {
      doc: 'How often the reconciliation sweep runs: it re-publishes final results never confirmed as handed over and restores missing outbox rows.',
      format: 'positive-int',
      default: 60_000,
      env: 'STATUS_TRACKER_RECONCILE_INTERVAL_MS',
    },
    minAgeMs: {
      doc: 'An outbox event still unconfirmed this long after it was written is re-published by the sweep.',
      format: 'positive-int',
      default: 30_000,
      env: 'STATUS_TRACKER_RECONCILE_MIN_AGE_MS',
    },
  },
};

export interface StatusTrackerConfig {
  log: { level: string };
  amqp: { url: string; prefetch: number };
  http: { host: string; port: number };
  db: { url: string; sqlitePath: string };
  auth: { jwtSecret: string };
  links: { faxUrlTemplate: string };
  outbox: { pollMs: number };
  reconcile: { intervalMs: number; minAgeMs: number };
}

/** Defaults, then FAXNOTIFY_CONFIG, then the environment, then `overrides`; a wrong value throws naming the key. */
export function loadStatusTrackerConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): StatusTrackerConfig {
  return loadConfig<StatusTrackerConfig>(statusTrackerSchema, overrides, env);
}
