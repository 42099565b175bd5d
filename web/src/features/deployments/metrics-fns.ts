/**
 * Reading the monitoring API (`GET /api/v1/metrics`: time buckets of requests, errors, error
 * rate, latency and time-to-first-token percentiles, tokens per second) into chart series. The
 * endpoint belongs to the monitoring feature; this reads its points by field name, so a bucket
 * that lacks a figure leaves a gap rather than a zero. Pure.
 */

export interface MetricPoint {
  /** Start of the bucket (RFC 3339 or epoch ms/s). */
  t: string | number;
  requests?: number | null;
  errors?: number | null;
  errorRate?: number | null;
  latencyP50Ms?: number | null;
  latencyP95Ms?: number | null;
  ttftP50Ms?: number | null;
  ttftP95Ms?: number | null;
  tokensPerSecond?: number | null;
}

export type Figure = Exclude<keyof MetricPoint, 't'>;

/** One answer of the endpoint: its buckets, under `points` (or the first series' points). */
export function pointsOf(body: unknown): MetricPoint[] {
  if (!body || typeof body !== 'object') return [];
  const b = body as { points?: unknown; series?: { points?: unknown }[]; items?: unknown };
  const raw = Array.isArray(b.points) ? b.points : Array.isArray(b.items) ? b.items : Array.isArray(b.series) && b.series.length ? b.series.flatMap((s) => (Array.isArray(s.points) ? s.points : [])) : [];
  return (raw as Record<string, unknown>[]).map(normalise).filter((p): p is MetricPoint => p !== null);
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function normalise(p: Record<string, unknown>): MetricPoint | null {
  const t = (p.t ?? p.at ?? p.time ?? p.start ?? p.bucket) as string | number | undefined;
  if (t === undefined) return null;
  const latency = (p.latency ?? p.latencyMs) as { p50?: unknown; p95?: unknown } | undefined;
  const ttft = (p.ttft ?? p.ttftMs) as { p50?: unknown; p95?: unknown } | undefined;
  return {
    t,
    requests: num(p.requests),
    errors: num(p.errors),
    errorRate: num(p.errorRate) ?? (num(p.requests) ? (num(p.errors) ?? 0) / num(p.requests)! : null),
    latencyP50Ms: num(p.latencyP50Ms) ?? num(latency?.p50),
    latencyP95Ms: num(p.latencyP95Ms) ?? num(latency?.p95),
    ttftP50Ms: num(p.ttftP50Ms) ?? num(ttft?.p50),
    ttftP95Ms: num(p.ttftP95Ms) ?? num(ttft?.p95),
    tokensPerSecond: num(p.tokensPerSecond) ?? num(p.outputTokensPerSecond),
  };
}

export function epochSeconds(t: string | number): number {
  if (typeof t === 'number') return t > 1e12 ? Math.floor(t / 1000) : t;
  return Math.floor(Date.parse(t) / 1000);
}

/** The [time, value] pairs of one figure. */
export function figureSeries(points: MetricPoint[], figure: Figure): [number, number | null][] {
  return points.map((p) => [epochSeconds(p.t), (p[figure] as number | null | undefined) ?? null]);
}
