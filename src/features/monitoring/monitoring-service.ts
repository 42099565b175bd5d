/**
 * Rollups of gateway usage and what is read from them. Each ingested batch is folded in memory
 * into a few rows per minute and dimensions, then upserted adding, in the batch's transaction
 * (a replayed batch is refused before it reaches here, so it is counted once). Minute rows are
 * folded into hour rows as they age, hour rows and raw usage pruned (`compact`). Reads answer
 * every bucket of a range, a bucket without traffic as an explicit zero — never interpolated.
 */
import type { z } from 'zod';
import { durationSeconds, type MetricsQuery, type MetricsResponse } from '../../contracts/monitoring.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { errors } from '../../platform/errors.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { GatewayUsageRow } from '../gateway/gateway-wiring.js';
import { addInto, bucketStart, figures, LATENCY_BOUNDS_MS, quantile, latencyCounts, regroup, rollUp, ttftCounts, VALUE_COLUMNS, type UsageFacts } from './monitoring-fns.js';
import type { MonitoringRepo, RollupFilter } from './monitoring-repo.js';

export interface MonitoringSettings {
  minuteRetentionSeconds: number;
  hourRetentionSeconds: number;
  usageRetentionSeconds: number;
}

/** Steps a default picks from (seconds): about 60 points over the range. */
const STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];
const MAX_POINTS = 1440;
const HOUR = 3600;

/** `1h` back from `now`, or an RFC 3339 time; null when neither. */
export function timeOrAgo(text: string, now: Date): Date | null {
  const s = durationSeconds(text);
  if (s !== null) return addSeconds(now, -s);
  const ms = Date.parse(text);
  return Number.isFinite(ms) && /^\d{4}-\d\d-\d\dT/.test(text) ? new Date(ms) : null;
}

/** The exclusive end of a window that ends now: it holds the bucket that started at now. */
export const throughNow = (now: Date): Date => new Date(now.getTime() + 1);

/** What a minute-grain consumer (SLOs, the live gate, the UI) reads: totals of a window. */
export interface WindowQuery {
  model: string;
  environment?: string;
  version?: string;
  deployment?: string;
  since: Date;
  until?: Date;
}
export interface WindowTotals {
  requests: number;
  /** Server-side errors: timeout, upstream, server (the classes an operator answers for). */
  errors: number;
  /** errors / requests; null without traffic. */
  errorRate: number | null;
  /** Estimated from the histogram; null without traffic. */
  p95LatencyMs: number | null;
  p95TtftMs: number | null;
  /** Output tokens per second of the window. */
  tokensPerSecond: number;
}

export function createMonitoringService(deps: { repo: MonitoringRepo; clock: Clock; settings: MonitoringSettings; pruneUsage: (before: string) => Promise<number> }) {
  const { repo, clock, settings } = deps;

  function filterOf(q: { model: string; environment?: string | undefined; version?: string | undefined; deployment?: string | undefined; key?: string | undefined }, extra: Pick<RollupFilter, 'shadow' | 'since' | 'until' | 'steps'>): RollupFilter {
    return {
      model: q.model,
      ...(q.environment !== undefined ? { environment: q.environment } : {}),
      ...(q.version !== undefined ? { version: q.version } : {}),
      ...(q.deployment !== undefined ? { deployment: q.deployment } : {}),
      ...(q.key !== undefined ? { key: q.key } : {}),
      ...extra,
    };
  }

  return {
    /** The ingest listener: the batch's rows as minute rollups, in the batch's transaction. */
    async ingest(tx: AnyDb, rows: readonly GatewayUsageRow[]): Promise<void> {
      await repo.upsertRollups(tx, rollUp(rows as readonly UsageFacts[], 60));
    },

    async metrics(q: z.output<typeof MetricsQuery>): Promise<MetricsResponse> {
      const now = clock.now();
      const since = timeOrAgo(q.since, now);
      const until = q.until === undefined ? now : timeOrAgo(q.until, now);
      if (!since || !until) throw errors.invalid('since and until are durations back from now (1h, 7d) or RFC 3339 times', { since: q.since, until: q.until ?? null });
      if (until <= since) throw errors.invalid(`until (${iso(until)}) must be after since (${iso(since)})`);
      const range = (until.getTime() - since.getTime()) / 1000;
      let step = q.step === undefined ? (STEPS.find((s) => range / s <= 60) ?? 86_400) : durationSeconds(q.step)!;
      if (step % 60 !== 0) throw errors.invalid(`step ${q.step} must be a whole number of minutes (rollups are per minute)`, { step: q.step });
      if (step > HOUR && step % HOUR !== 0) throw errors.invalid(`step ${q.step} above an hour must be a whole number of hours`, { step: q.step });
      const minuteFloor = addSeconds(now, -settings.minuteRetentionSeconds);
      if (step < HOUR && since < minuteFloor) {
        if (q.step !== undefined) throw errors.invalid(`minute figures are kept for ${settings.minuteRetentionSeconds / 86400} days; ask for step=1h or more to read back to ${iso(since)}`, { step: q.step });
        step = HOUR;
      }
      const start = new Date(Date.parse(bucketStart(iso(since), step)));
      const points = Math.ceil((until.getTime() - start.getTime()) / 1000 / step);
      if (points > MAX_POINTS) throw errors.invalid(`${points} points of ${step} s; at most ${MAX_POINTS}: ask for a larger step or a shorter range`, { points, step });

      const stored = await repo.perBucket(filterOf(q, { shadow: q.shadow === 'true', since: iso(start), until: iso(until), steps: step < HOUR ? [60] : [60, HOUR] }));
      const buckets = Array.from({ length: points }, () => new Float64Array(VALUE_COLUMNS.length));
      const total = new Float64Array(VALUE_COLUMNS.length);
      for (const s of stored) {
        const i = Math.floor((Date.parse(s.bucket) - start.getTime()) / 1000 / step);
        if (i >= 0 && i < points) addInto(buckets[i]!, s.v);
        addInto(total, s.v);
      }
      return {
        model: q.model,
        environment: q.environment ?? null,
        version: q.version ?? null,
        deployment: q.deployment ?? null,
        key: q.key ?? null,
        since: iso(start),
        until: iso(until),
        step,
        points: buckets.map((v, i) => ({ at: iso(addSeconds(start, i * step)), ...figures(v, step) })),
        totals: figures(total, (until.getTime() - start.getTime()) / 1000),
      };
    },

    /** Totals of served traffic (not shadow) over a window, at minute grain (hour grain beyond the minute retention). */
    async window(q: WindowQuery): Promise<WindowTotals> {
      const until = q.until ?? throughNow(clock.now());
      const v = await repo.sum(filterOf(q, { shadow: false, since: iso(q.since), until: iso(until) }));
      const f = figures(v, (until.getTime() - q.since.getTime()) / 1000);
      return {
        requests: f.requests,
        errors: f.errors.timeout + f.errors.upstream + f.errors.server,
        errorRate: f.errorRate,
        p95LatencyMs: quantile(LATENCY_BOUNDS_MS, latencyCounts(v), 0.95),
        p95TtftMs: quantile(LATENCY_BOUNDS_MS, ttftCounts(v), 0.95),
        tokensPerSecond: f.tokensPerSecond,
      };
    },

    /** Summed values of a filter (SLOs and drift read the counters and histograms themselves). */
    sum: (f: RollupFilter) => repo.sum(f),

    /** The last complete minute per model, environment and version: what /metrics exports (at most `limit` series, busiest first). */
    async lastMinute(limit: number) {
      const bucket = iso(addSeconds(new Date(Date.parse(bucketStart(iso(clock.now()), 60))), -60));
      return repo.perVersion(60, bucket, limit);
    },

    /**
     * Downsampling and retention: minute rows older than the minute retention folded into hour
     * rows (hour by hour, each in one transaction), hour rows past theirs deleted, raw usage
     * past its retention pruned. Idempotent: what is done is not found again.
     */
    async compact(signal?: AbortSignal): Promise<{ folded: number; hoursDeleted: number; usageDeleted: number }> {
      const now = clock.now();
      const cutoff = bucketStart(iso(addSeconds(now, -settings.minuteRetentionSeconds)), HOUR);
      let folded = 0;
      for (;;) {
        if (signal?.aborted) break;
        const oldest = await repo.oldestBefore(60, cutoff);
        if (!oldest) break;
        const from = bucketStart(oldest, HOUR);
        const to = iso(addSeconds(new Date(Date.parse(from)), HOUR));
        folded += await repo.fold(from, to, HOUR, (rows) => regroup(rows, HOUR));
      }
      const hoursDeleted = await repo.deleteBefore(HOUR, iso(addSeconds(now, -settings.hourRetentionSeconds)));
      const usageDeleted = await deps.pruneUsage(iso(addSeconds(now, -settings.usageRetentionSeconds)));
      return { folded, hoursDeleted, usageDeleted };
    },
  };
}
export type MonitoringService = ReturnType<typeof createMonitoringService>;
