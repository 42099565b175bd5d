/**
 * Pure rules of monitoring: how usage records fold into rollup rows (one per bucket and
 * dimensions, counters and fixed histograms that add), how figures are read back from them
 * (percentiles estimated from a histogram the way Prometheus' histogram_quantile does), the
 * error classes of a status, and the population stability index used for drift.
 */
import type { ErrorCounts, MetricsFigures } from '../../contracts/monitoring.js';

/**
 * Latency and TTFT bucket bounds (ms): Prometheus' default bounds in ms, with more between 0.5 s
 * and 10 s, where LLM answers and their objectives (1 s, 2 s, 5 s) lie, and up to the minutes a
 * long answer can take. A threshold on a bound is counted exactly; between bounds, interpolated.
 */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000] as const;
/** Token-length bucket bounds: powers of two, so a length distribution is comparable across models. */
export const TOKEN_BOUNDS = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16_384, 32_768] as const;

/** Counter columns of a rollup row, then each histogram's bucket columns (the last bucket is +Inf). */
const COUNTERS = [
  'requests',
  'err_client',
  'err_rate_limited',
  'err_cancelled',
  'err_timeout',
  'err_upstream',
  'err_server',
  'latency_sum',
  'ttft_count',
  'ttft_sum',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'refusals',
  'refusal_known',
] as const;
type Counter = (typeof COUNTERS)[number];
const hist = (prefix: string, n: number) => Array.from({ length: n + 1 }, (_, i) => `${prefix}_${i}`);
const LAT_COLS = hist('lat', LATENCY_BOUNDS_MS.length);
const TTFT_COLS = hist('ttft', LATENCY_BOUNDS_MS.length);
const IN_COLS = hist('in', TOKEN_BOUNDS.length);
const OUT_COLS = hist('out', TOKEN_BOUNDS.length);
/** Every additive column of a rollup row, in the order of `Rollup.v`. */
export const VALUE_COLUMNS: readonly string[] = [...COUNTERS, ...LAT_COLS, ...TTFT_COLS, ...IN_COLS, ...OUT_COLS];
const at = (c: Counter) => COUNTERS.indexOf(c);
const C = Object.fromEntries(COUNTERS.map((c) => [c, at(c)])) as Record<Counter, number>;
const LAT0 = COUNTERS.length;
const TTFT0 = LAT0 + LAT_COLS.length;
const IN0 = TTFT0 + TTFT_COLS.length;
const OUT0 = IN0 + IN_COLS.length;

/** What a rollup row is keyed by besides its bucket; '' stands for "none" (primary keys cannot hold null). */
export interface Dims {
  model: string;
  environment: string;
  version: string;
  deployment: string;
  key_id: string;
  namespace: string;
  shadow: number;
}
export const DIM_COLUMNS = ['model', 'environment', 'version', 'deployment', 'key_id', 'namespace', 'shadow'] as const;

export interface Rollup {
  bucket: string;
  step: number;
  dims: Dims;
  /** Values of VALUE_COLUMNS. */
  v: Float64Array;
}

/** The fields of a usage row a rollup reads (the gateway's `gateway_usage` row). */
export interface UsageFacts {
  at: string;
  key_id: string | null;
  namespace: string | null;
  model: string;
  version: string | null;
  deployment: string | null;
  environment: string | null;
  status: number;
  shadow: number;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  refusal: number | null;
}

export type ErrorClass = keyof ErrorCounts;
/** The error class of a status, or null for an answer (1xx–3xx). */
export function errorClass(status: number): ErrorClass | null {
  if (status < 400) return null;
  if (status === 429) return 'rateLimited';
  if (status === 499) return 'cancelled';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 502 || status === 503) return 'upstream';
  if (status >= 500) return 'server';
  return 'client';
}
const ERR_COUNTER: Record<ErrorClass, number> = {
  client: C.err_client,
  rateLimited: C.err_rate_limited,
  cancelled: C.err_cancelled,
  timeout: C.err_timeout,
  upstream: C.err_upstream,
  server: C.err_server,
};

/** Index of the bucket holding `v` (le semantics: v ≤ bound), the last one being +Inf. */
export function bucketIndex(bounds: readonly number[], v: number): number {
  let i = 0;
  while (i < bounds.length && v > bounds[i]!) i++;
  return i;
}

/** Start of the `step`-second bucket holding an RFC 3339 time, as canonical ISO text. */
export function bucketStart(atIso: string, step: number): string {
  const ms = Date.parse(atIso);
  return new Date(ms - (((ms % (step * 1000)) + step * 1000) % (step * 1000))).toISOString();
}

export function newRollup(bucket: string, step: number, dims: Dims): Rollup {
  return { bucket, step, dims, v: new Float64Array(VALUE_COLUMNS.length) };
}

/**
 * Folds usage rows into rollups of `step` seconds: one per bucket and dimensions. A batch of a
 * thousand records from one gateway usually becomes a handful of rows: what makes ingestion
 * with rollups cheap (the rows are then upserted, adding).
 */
export function rollUp(rows: readonly UsageFacts[], step = 60): Rollup[] {
  const out = new Map<string, Rollup>();
  for (const r of rows) {
    // Stored times are canonical (YYYY-MM-DDTHH:MM:SS.sssZ): the minute is a prefix of the text.
    const bucket = step === 60 && r.at.length === 24 && r.at.endsWith('Z') ? `${r.at.slice(0, 17)}00.000Z` : bucketStart(r.at, step);
    const dims: Dims = {
      model: r.model,
      environment: r.environment ?? '',
      version: r.version ?? '',
      deployment: r.deployment ?? '',
      key_id: r.key_id ?? '',
      namespace: r.namespace ?? '',
      shadow: r.shadow ? 1 : 0,
    };
    const k = `${bucket}\u0000${dims.model}\u0000${dims.environment}\u0000${dims.version}\u0000${dims.deployment}\u0000${dims.key_id}\u0000${dims.namespace}\u0000${dims.shadow}`;
    let acc = out.get(k);
    if (!acc) out.set(k, (acc = newRollup(bucket, step, dims)));
    const v = acc.v;
    v[C.requests]!++;
    const cls = errorClass(r.status);
    if (cls) v[ERR_COUNTER[cls]]!++;
    v[C.latency_sum]! += r.latency_ms;
    v[LAT0 + bucketIndex(LATENCY_BOUNDS_MS, r.latency_ms)]!++;
    if (r.ttft_ms !== null) {
      v[C.ttft_count]!++;
      v[C.ttft_sum]! += r.ttft_ms;
      v[TTFT0 + bucketIndex(LATENCY_BOUNDS_MS, r.ttft_ms)]!++;
    }
    v[C.input_tokens]! += r.input_tokens;
    v[C.output_tokens]! += r.output_tokens;
    v[C.cost_usd]! += r.cost_usd;
    v[IN0 + bucketIndex(TOKEN_BOUNDS, r.input_tokens)]!++;
    v[OUT0 + bucketIndex(TOKEN_BOUNDS, r.output_tokens)]!++;
    if (r.refusal !== null) {
      v[C.refusal_known]!++;
      if (r.refusal) v[C.refusals]!++;
    }
  }
  return [...out.values()];
}

/** Rollups re-bucketed into `step`-second buckets (minute rows folded into hour rows). */
export function regroup(rows: readonly { bucket: string; dims: Dims; v: Float64Array }[], step: number): Rollup[] {
  const out = new Map<string, Rollup>();
  for (const r of rows) {
    const bucket = bucketStart(r.bucket, step);
    const d = r.dims;
    const k = `${bucket}\u0000${d.model}\u0000${d.environment}\u0000${d.version}\u0000${d.deployment}\u0000${d.key_id}\u0000${d.namespace}\u0000${d.shadow}`;
    let acc = out.get(k);
    if (!acc) out.set(k, (acc = newRollup(bucket, step, { ...d })));
    addInto(acc.v, r.v);
  }
  return [...out.values()];
}

/** Adds `b`'s values into `a`. */
export function addInto(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
}

/** A row as read from SQL (numbers may come back as strings from PostgreSQL's bigint) → values. */
export function valuesOf(row: Record<string, unknown>): Float64Array {
  const v = new Float64Array(VALUE_COLUMNS.length);
  VALUE_COLUMNS.forEach((c, i) => (v[i] = Number(row[c] ?? 0)));
  return v;
}

/**
 * The q-quantile estimated from bucket counts, as Prometheus' histogram_quantile: linear within
 * the bucket that holds the rank (the first from 0); a rank in the +Inf bucket answers the
 * highest finite bound. Null for an empty histogram.
 */
export function quantile(bounds: readonly number[], counts: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (seen + c >= rank && c > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      return lo + (bounds[i]! - lo) * ((rank - seen) / c);
    }
    seen += c;
  }
  return bounds[bounds.length - 1]!;
}

/** Estimated count of observations ≤ `threshold`, interpolating linearly inside its bucket. */
export function countAtMost(bounds: readonly number[], counts: ArrayLike<number>, threshold: number): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) {
    const lo = i === 0 ? 0 : bounds[i - 1]!;
    const hi = i < bounds.length ? bounds[i]! : Infinity;
    if (hi <= threshold) n += counts[i]!;
    else {
      if (threshold > lo && hi !== Infinity) n += counts[i]! * ((threshold - lo) / (hi - lo));
      break;
    }
  }
  return n;
}

const slice = (v: Float64Array, from: number, n: number) => v.subarray(from, from + n);
export const latencyCounts = (v: Float64Array) => slice(v, LAT0, LAT_COLS.length);
export const ttftCounts = (v: Float64Array) => slice(v, TTFT0, TTFT_COLS.length);
export const inputLengthCounts = (v: Float64Array) => slice(v, IN0, IN_COLS.length);
export const outputLengthCounts = (v: Float64Array) => slice(v, OUT0, OUT_COLS.length);

/** Requests, and of them the bad ones: server-side errors (timeout, upstream, server). Cancelled requests are not counted. */
export function availabilityCounts(v: Float64Array): { valid: number; bad: number } {
  return { valid: v[C.requests]! - v[C.err_cancelled]!, bad: v[C.err_timeout]! + v[C.err_upstream]! + v[C.err_server]! };
}
/** Requests, and of them those slower than `thresholdMs` (estimated from the histogram). */
export function latencySloCounts(v: Float64Array, thresholdMs: number): { valid: number; bad: number } {
  const valid = v[C.requests]!;
  return { valid, bad: Math.max(0, valid - countAtMost(LATENCY_BOUNDS_MS, latencyCounts(v), thresholdMs)) };
}
export const requestsOf = (v: Float64Array) => v[C.requests]!;
export function refusalCounts(v: Float64Array): { known: number; refused: number } {
  return { known: v[C.refusal_known]!, refused: v[C.refusals]! };
}

const round = (n: number | null, digits = 3) => (n === null ? null : Number(n.toFixed(digits)));

/** The figures of summed values over `seconds`. */
export function figures(v: Float64Array, seconds: number): MetricsFigures {
  const requests = v[C.requests]!;
  const errors: ErrorCounts = {
    client: v[C.err_client]!,
    rateLimited: v[C.err_rate_limited]!,
    cancelled: v[C.err_cancelled]!,
    timeout: v[C.err_timeout]!,
    upstream: v[C.err_upstream]!,
    server: v[C.err_server]!,
  };
  const lat = latencyCounts(v);
  const ttft = ttftCounts(v);
  return {
    requests,
    errors,
    errorRate: requests ? round((errors.timeout + errors.upstream + errors.server) / requests, 6) : null,
    latencyMs: {
      p50: round(quantile(LATENCY_BOUNDS_MS, lat, 0.5)),
      p95: round(quantile(LATENCY_BOUNDS_MS, lat, 0.95)),
      p99: round(quantile(LATENCY_BOUNDS_MS, lat, 0.99)),
      avg: requests ? round(v[C.latency_sum]! / requests) : null,
    },
    ttftMs: { p50: round(quantile(LATENCY_BOUNDS_MS, ttft, 0.5)), p95: round(quantile(LATENCY_BOUNDS_MS, ttft, 0.95)) },
    inputTokens: v[C.input_tokens]!,
    outputTokens: v[C.output_tokens]!,
    tokensPerSecond: round(seconds > 0 ? v[C.output_tokens]! / seconds : 0)!,
    costUsd: round(v[C.cost_usd]!, 9)!,
    refusals: v[C.refusals]!,
  };
}

/**
 * Population stability index of two distributions given as counts over the same bins:
 * Σ (q − p) · ln(q / p), shares floored at `epsilon` so an empty bin does not make it infinite.
 * Null when either side is empty. Usual reading: < 0.1 stable, 0.1–0.25 moderate, > 0.25 shifted.
 */
export function psi(baseline: ArrayLike<number>, recent: ArrayLike<number>, epsilon = 1e-4): number | null {
  let nb = 0;
  let nr = 0;
  for (let i = 0; i < baseline.length; i++) nb += baseline[i]!;
  for (let i = 0; i < recent.length; i++) nr += recent[i]!;
  if (nb === 0 || nr === 0) return null;
  let sum = 0;
  for (let i = 0; i < baseline.length; i++) {
    const p = Math.max(baseline[i]! / nb, epsilon);
    const q = Math.max(recent[i]! / nr, epsilon);
    sum += (q - p) * Math.log(q / p);
  }
  return sum;
}

/** Mean of a histogram, each bucket at its midpoint (the +Inf bucket at its lower bound). */
export function histogramMean(bounds: readonly number[], counts: ArrayLike<number>): number | null {
  let n = 0;
  let s = 0;
  for (let i = 0; i < counts.length; i++) {
    const lo = i === 0 ? 0 : bounds[i - 1]!;
    const mid = i < bounds.length ? (lo + bounds[i]!) / 2 : lo;
    n += counts[i]!;
    s += counts[i]! * mid;
  }
  return n ? s / n : null;
}
