/**
 * The monitoring module: rollups of the usage gateways report (written in the ingest
 * transaction through the gateway's listener), time series, drift, feedback, SLOs with
 * burn-rate alerts, and the live gate of promotions. Periodic work runs as long-lived jobs of
 * the one runner (one per kind, so N replicas evaluate once): `monitoring.slo` every
 * `monitoringEvaluateMs`, `monitoring.drift` every `monitoringDriftMs`, `monitoring.compact`
 * every `monitoringCompactMs`. The last complete minute per model, environment and version is
 * exported on the control plane's /metrics.
 */
import { Gauge } from 'prom-client';
import { defineModule } from '../../platform/module.js';
import { figures } from './monitoring-fns.js';
import { createDriftService } from './monitoring-drift-service.js';
import { monitoringMigrations } from './monitoring-migrations.js';
import { createMonitoringRepo } from './monitoring-repo.js';
import { monitoringRoutes } from './monitoring-routes.js';
import { createMonitoringService } from './monitoring-service.js';
import { createSloService } from './monitoring-slo-service.js';

/** Series exported per gauge at most: the busiest model versions of the last minute. */
const EXPORT_SERIES = 200;

function createMonitoringFeature(deps: Parameters<typeof createMonitoringService>[0] & Omit<Parameters<typeof createSloService>[0], 'rollups'> & Omit<Parameters<typeof createDriftService>[0], 'rollups' | 'settings'> & { drift: Parameters<typeof createDriftService>[0]['settings'] }) {
  const rollups = createMonitoringService(deps);
  const slos = createSloService({ ...deps, rollups });
  const drift = createDriftService({ ...deps, rollups, settings: deps.drift });
  return {
    /** The gateway's ingest listener. */
    ingest: rollups.ingest,
    metrics: rollups.metrics,
    /** Totals of a window at minute grain, for other features (SLOs, live gates, the UI). */
    window: rollups.window,
    lastMinute: rollups.lastMinute,
    compact: rollups.compact,
    drift: drift.drift,
    checkDrift: drift.check,
    createFeedback: drift.createFeedback,
    feedbackSummary: drift.feedbackSummary,
    slos,
  };
}
export type MonitoringFeature = ReturnType<typeof createMonitoringFeature>;

declare module '../../platform/module.js' {
  interface Provided {
    monitoring: MonitoringFeature;
  }
}

/** How often each periodic job is checked to be alive (a re-enqueue is deduplicated by its key). */
const RESCHEDULE_MS = 60_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const t = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}

export const monitoringModule = defineModule({
  name: 'monitoring',
  needs: ['audit', 'events', 'jobs', 'promotions', 'gateway'],
  migrations: monitoringMigrations,
  setup({ sql, clock, config, log, metrics, need }) {
    const gateway = need('gateway');
    const promotions = need('promotions');
    const jobs = need('jobs');
    const feature = createMonitoringFeature({
      repo: createMonitoringRepo(sql.db, sql.dialect),
      clock,
      settings: { minuteRetentionSeconds: config.rollupMinuteRetentionSeconds, hourRetentionSeconds: config.rollupHourRetentionSeconds, usageRetentionSeconds: config.usageRetentionSeconds },
      pruneUsage: gateway.pruneUsage,
      audit: need('audit'),
      events: need('events'),
      promotions,
      gateway,
      minRequests: config.monitoringMinRequests,
      drift: { warn: config.driftWarnPsi, alert: config.driftAlertPsi, minRequests: config.monitoringMinRequests },
    });
    gateway.onUsageIngested(feature.ingest);
    promotions.registerLiveGate(feature.slos.liveGate);

    // One long-lived job per kind: it does its work every period until stopped, holding its lease,
    // so exactly one replica runs it and another takes over if that one dies; the jobs table
    // gains one row per kind, not one per period. A failure is retried with the runner's backoff.
    const periodic: { kind: string; every: number; work: (signal: AbortSignal) => Promise<void> }[] = [
      { kind: 'monitoring.slo', every: config.monitoringEvaluateMs, work: async () => void (await feature.slos.evaluate()) },
      { kind: 'monitoring.drift', every: config.monitoringDriftMs, work: async () => void (await feature.checkDrift()) },
      {
        kind: 'monitoring.compact',
        every: config.monitoringCompactMs,
        work: async (signal) => {
          const r = await feature.compact(signal);
          if (r.folded || r.hoursDeleted || r.usageDeleted) log.info(r, 'monitoring: rollups compacted');
        },
      },
    ];
    for (const p of periodic) {
      jobs.register({
        kind: p.kind,
        maxAttempts: 1000,
        backoff: { baseMs: 1000, maxMs: 60_000 },
        async run({ signal }) {
          while (!signal.aborted) {
            await p.work(signal);
            await sleep(p.every, signal);
          }
        },
      });
    }

    // Filled on scrape from the rollups (every replica exports the database's figures). The three
    // gauges are collected concurrently: they share one read per scrape.
    let inflight: Promise<void> | null = null;
    const refresh = (): Promise<void> =>
      (inflight ??= (async () => {
        const rows = await feature.lastMinute(EXPORT_SERIES);
        for (const g of Object.values(gauges)) g.reset();
        for (const r of rows) {
          const labels = { model: r.model, environment: r.environment || 'none', version: r.version || 'none' };
          const f = figures(r.v, 60);
          gauges.requests.set(labels, f.requests);
          if (f.errorRate !== null) gauges.errorRate.set(labels, f.errorRate);
          if (f.latencyMs.p95 !== null) gauges.p95.set(labels, f.latencyMs.p95);
        }
      })().finally(() => (inflight = null)));
    const labelNames = ['model', 'environment', 'version'] as const;
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames, registers: [metrics], collect: refresh });
    const gauges = {
      requests: gauge('steward_model_requests', 'Requests served in the last complete minute, per model version (the 200 busiest; from the rollups)'),
      errorRate: gauge('steward_model_error_rate', 'Share of server-side errors (timeout, upstream, 5xx) in the last complete minute'),
      p95: gauge('steward_model_latency_p95_ms', 'p95 latency in ms in the last complete minute (estimated from the rollup histogram)'),
    };

    const ensure = () => {
      for (const p of periodic) {
        jobs
          .enqueue(sql.db, { kind: p.kind, key: p.kind, payload: {} })
          .then(() => jobs.poke())
          .catch((err: unknown) => log.error({ err, job: p.kind }, 'monitoring: scheduling failed'));
      }
    };
    let timer: NodeJS.Timeout | null = null;
    return {
      provides: feature,
      routes: () => monitoringRoutes(feature),
      start() {
        // Deduplicated by key while the job lives; the check brings back one that ran out of attempts.
        ensure();
        timer = setInterval(ensure, RESCHEDULE_MS);
        timer.unref();
      },
      stop() {
        if (timer) clearInterval(timer);
      },
    };
  },
});
