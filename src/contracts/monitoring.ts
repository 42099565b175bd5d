/**
 * Contracts of monitoring: time series read from the minute and hour rollups of gateway usage
 * (requests, errors by class, latency and TTFT percentiles estimated from fixed histograms,
 * tokens, cost), drift of input/output lengths and refusals against a baseline, feedback on a
 * request, and service-level objectives with their error budgets and burn-rate alerts.
 *
 * Error classes, from a usage record's status: `client` 4xx other than those below (the caller's
 * mistake), `rateLimited` 429, `cancelled` 499 (the client went away), `timeout` 408 and 504,
 * `upstream` 502 and 503 (the runtime failed or was unreachable), `server` any other 5xx. The
 * error rate, availability and burn rates count `timeout`, `upstream` and `server` as bad: the
 * classes a model's operator answers for.
 */
import { z } from 'zod';
import { Timestamp } from './common.js';
import { EnvironmentName } from './promotions.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;
const DURATION_RE = /^([1-9]\d{0,5})([smhdw])$/;

/** `90s`, `5m`, `24h`, `30d`, `2w` in seconds, or null when the text is not one. */
export function durationSeconds(text: string): number | null {
  const m = DURATION_RE.exec(text);
  return m ? Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS] : null;
}
export const Duration = z.string().regex(DURATION_RE, 'durations look like 5m, 24h, 30d or 2w');
/** A duration back from now (`1h`) or an RFC 3339 time. */
const TimeOrAgo = z.string().max(64).describe('a duration back from now (1h, 7d) or an RFC 3339 time');
const ModelName = z.string().min(1).max(200);

export const ErrorCounts = z
  .object({
    client: z.number().int(),
    rateLimited: z.number().int(),
    cancelled: z.number().int(),
    timeout: z.number().int(),
    upstream: z.number().int(),
    server: z.number().int(),
  })
  .strict();
export type ErrorCounts = z.infer<typeof ErrorCounts>;

/** Figures of one bucket (or of the whole range: `totals`). Ratios and percentiles are null without traffic. */
export const MetricsFigures = z
  .object({
    requests: z.number().int(),
    errors: ErrorCounts,
    /** (timeout + upstream + server) / requests. */
    errorRate: z.number().nullable(),
    latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable(), avg: z.number().nullable() }).strict(),
    ttftMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }).strict(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    /** Output tokens per second of the bucket (throughput). */
    tokensPerSecond: z.number(),
    costUsd: z.number(),
    refusals: z.number().int(),
  })
  .strict();
export type MetricsFigures = z.infer<typeof MetricsFigures>;
export const MetricsPoint = MetricsFigures.extend({ at: Timestamp.describe('start of the bucket') }).strict();
export type MetricsPoint = z.infer<typeof MetricsPoint>;

export const MetricsQuery = z
  .object({
    model: ModelName,
    environment: EnvironmentName.optional(),
    version: z.string().max(64).optional(),
    deployment: z.string().max(64).optional(),
    key: z.string().max(64).optional(),
    since: TimeOrAgo.default('1h'),
    until: TimeOrAgo.optional(),
    step: Duration.optional().describe('bucket size, a whole number of minutes (1m, 5m, 1h); default: about 60 points'),
    shadow: z.enum(['true', 'false']).default('false').describe('shadow copies instead of served traffic'),
  })
  .strict();
export const MetricsResponse = z
  .object({
    model: z.string(),
    environment: z.string().nullable(),
    version: z.string().nullable(),
    deployment: z.string().nullable(),
    key: z.string().nullable(),
    since: Timestamp,
    until: Timestamp,
    step: z.number().int().describe('seconds per point'),
    /** Every bucket of the range, in order; one without traffic has requests 0 (never interpolated). */
    points: z.array(MetricsPoint),
    totals: MetricsFigures,
  })
  .strict();
export type MetricsResponse = z.infer<typeof MetricsResponse>;

// ---------------------------------------------------------------------------------------------
// Drift

export const DRIFT_METRICS = ['input_tokens', 'output_tokens', 'refusal_rate'] as const;
export const DriftLevel = z.enum(['ok', 'warn', 'alert', 'insufficient']);
export type DriftLevel = z.infer<typeof DriftLevel>;
export const DriftQuery = z
  .object({
    model: ModelName,
    environment: EnvironmentName,
    version: z.string().max(64).optional(),
    baseline: z
      .string()
      .max(200)
      .default('first:24h')
      .describe('first:DURATION (the first traffic of the model, or of the version, in the environment) or SINCE/UNTIL (RFC 3339)'),
    window: z.string().max(200).default('24h').describe('DURATION back from now, or SINCE/UNTIL (RFC 3339)'),
  })
  .strict();
const DriftRange = z.object({ since: Timestamp, until: Timestamp, requests: z.number().int() }).strict();
export const DriftMetric = z
  .object({
    name: z.enum(DRIFT_METRICS),
    psi: z.number().nullable().describe('population stability index; null with too few requests'),
    level: DriftLevel,
    baseline: z.number().nullable().describe('mean length (tokens) or refusal rate of the baseline'),
    window: z.number().nullable(),
  })
  .strict();
export const DriftResponse = z
  .object({
    model: z.string(),
    environment: z.string(),
    version: z.string().nullable(),
    baseline: DriftRange,
    window: DriftRange,
    thresholds: z.object({ warn: z.number(), alert: z.number(), minRequests: z.number().int() }).strict(),
    level: DriftLevel.describe('the worst level of the metrics'),
    metrics: z.array(DriftMetric),
  })
  .strict();
export type DriftResponse = z.infer<typeof DriftResponse>;

// ---------------------------------------------------------------------------------------------
// Feedback

export const FeedbackBody = z
  .object({
    requestId: z.string().min(1).max(200).describe('the x-request-id the gateway answered with'),
    thumbs: z.enum(['up', 'down']).optional(),
    score: z.number().min(0).max(1).optional(),
    comment: z.string().max(4000).optional(),
  })
  .strict()
  .refine((b) => b.thumbs !== undefined || b.score !== undefined || b.comment !== undefined, 'feedback needs thumbs, a score or a comment');
export const FeedbackResponse = z
  .object({
    id: z.string(),
    requestId: z.string(),
    model: z.string(),
    version: z.string().nullable(),
    environment: z.string().nullable(),
    thumbs: z.enum(['up', 'down']).nullable(),
    score: z.number().nullable(),
    comment: z.string().nullable(),
    createdAt: Timestamp,
    createdBy: z.string(),
  })
  .strict();
export const FeedbackSummaryQuery = z.object({ model: ModelName, version: z.string().max(64).optional() }).strict();
export const FeedbackSummary = z
  .object({
    model: z.string(),
    items: z.array(
      z
        .object({
          version: z.string().nullable(),
          count: z.number().int(),
          up: z.number().int(),
          down: z.number().int(),
          scored: z.number().int(),
          scoreAvg: z.number().nullable(),
          comments: z.number().int(),
        })
        .strict(),
    ),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Service-level objectives

export const SloParams = z.object({ model: ModelName, env: EnvironmentName }).strict();
export const SloBody = z
  .object({
    availability: z.number().min(0.5).max(0.99999).nullable().default(null).describe('share of requests without a server-side error, e.g. 0.995'),
    latency: z
      .object({ thresholdMs: z.number().positive().max(600_000), percent: z.number().min(50).max(99.999) })
      .strict()
      .nullable()
      .default(null)
      .describe('percent of requests answered within thresholdMs'),
    window: Duration.default('30d').describe('the compliance window the error budget is counted over'),
  })
  .strict()
  .refine((b) => b.availability !== null || b.latency !== null, 'an SLO needs an availability or a latency objective')
  .refine((b) => (durationSeconds(b.window) ?? 0) >= 3600 && (durationSeconds(b.window) ?? 0) <= 90 * 86400, 'the window is between 1h and 90d');
export type SloBody = z.output<typeof SloBody>;

export const SloKind = z.enum(['availability', 'latency']);
export type SloKind = z.infer<typeof SloKind>;
export const AlertSeverity = z.enum(['page', 'ticket']);
export type AlertSeverity = z.infer<typeof AlertSeverity>;
export const BurnRate = z
  .object({ long: Duration, short: Duration, factor: z.number(), longBurn: z.number().nullable(), shortBurn: z.number().nullable(), firing: z.boolean() })
  .strict();
export type BurnRate = z.infer<typeof BurnRate>;
export const SloStatus = z
  .object({
    slo: SloKind,
    objective: z.number(),
    sli: z.number().nullable().describe('good / valid requests over the window; null without traffic'),
    requests: z.number().int(),
    budgetRemaining: z.number().nullable().describe('1 − (bad share ÷ allowed bad share); below 0 when overspent'),
    burnRates: z.array(BurnRate),
    alert: AlertSeverity.nullable().describe('the alert firing now, if any'),
  })
  .strict();
export type SloStatus = z.infer<typeof SloStatus>;
export const SloResponse = z
  .object({
    model: z.string(),
    environment: z.string(),
    availability: z.number().nullable(),
    latency: z.object({ thresholdMs: z.number(), percent: z.number() }).strict().nullable(),
    window: z.string(),
    updatedAt: Timestamp,
    updatedBy: z.string(),
    status: z.array(SloStatus),
  })
  .strict();
export type SloResponse = z.infer<typeof SloResponse>;
export const ListSlosQuery = z.object({ model: ModelName.optional() }).strict();
export const SloList = z.object({ items: z.array(SloResponse) }).strict();
