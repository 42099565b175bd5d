/**
 * The monitoring module: rollups of the usage gateways report (written in the ingest
 * transaction through the gateway's listener), time series, drift, feedback, SLOs with
 * burn-rate alerts, and the live gate of promotions. Periodic work runs as jobs of the one
 * runner (deduplicated by key, so N replicas evaluate once): `monitoring.slo` every
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

const PERIODIC = [
  { kind: 'monitoring.slo', every: (c: { monitoringEvaluateMs: number }) => c.monitoringEvaluateMs },
  { kind: 'monitoring.drift', every: (c: { monitoringDriftMs: number }) => c.monitoringDriftMs },
  { kind: 'monitoring.compact', every: (c: { monitoringCompactMs: number }) => c.monitoringCompactMs },
] as const;

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

    jobs.register({ kind: 'monitoring.slo', maxAttempts: 1, run: async () => void (await feature.slos.evaluate()) });
    jobs.register({ kind: 'monitoring.drift', maxAttempts: 1, run: async () => void (await feature.checkDrift()) });
    jobs.register({
      kind: 'monitoring.compact',
      maxAttempts: 3,
      run: async ({ signal }) => {
        const r = await feature.compact(signal);
        if (r.folded || r.hoursDeleted || r.usageDeleted) log.info(r, 'monitoring: rollups compacted');
      },
    });

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

    const timers: NodeJS.Timeout[] = [];
    return {
      provides: feature,
      routes: () => monitoringRoutes(feature),
      start() {
        for (const p of PERIODIC) {
          const t = setInterval(() => {
            jobs
              .enqueue(sql.db, { kind: p.kind, key: p.kind, payload: {} })
              .then(() => jobs.poke())
              .catch((err: unknown) => log.error({ err, job: p.kind }, 'monitoring: scheduling failed'));
          }, p.every(config));
          t.unref();
          timers.push(t);
        }
      },
      stop() {
        for (const t of timers) clearInterval(t);
      },
    };
  },
});
