/**
 * Reading the monitoring API (`GET /api/v1/metrics`, `MetricsResponse` in
 * src/contracts/monitoring.ts) into chart series. Every bucket of the range is in `points`; one
 * without traffic has `requests: 0` and null ratios and percentiles, which draw as a gap rather
 * than a zero. Pure.
 */
import type { MetricsPoint, MetricsResponse } from '../../../../src/contracts/monitoring.js';

export type Figure = 'requests' | 'errors' | 'errorRate' | 'latencyP50Ms' | 'latencyP95Ms' | 'ttftP50Ms' | 'ttftP95Ms' | 'tokensPerSecond';

/** Errors the model's operator answers for (the contract's error rate counts the same classes). */
export const badErrors = (p: MetricsPoint): number => p.errors.timeout + p.errors.upstream + p.errors.server;

/** One figure of a bucket; null where the bucket has no traffic to measure it on. */
export function figureOf(p: MetricsPoint, figure: Figure): number | null {
  switch (figure) {
    case 'requests':
      return p.requests;
    case 'errors':
      return badErrors(p);
    case 'errorRate':
      return p.errorRate;
    case 'latencyP50Ms':
      return p.latencyMs.p50;
    case 'latencyP95Ms':
      return p.latencyMs.p95;
    case 'ttftP50Ms':
      return p.ttftMs.p50;
    case 'ttftP95Ms':
      return p.ttftMs.p95;
    case 'tokensPerSecond':
      return p.requests > 0 ? p.tokensPerSecond : null;
  }
}

/** The [unix seconds, value] pairs of one figure over an answer's buckets. */
export function figureSeries(res: Pick<MetricsResponse, 'points'>, figure: Figure): [number, number | null][] {
  return res.points.map((p) => [Math.floor(Date.parse(p.at) / 1000), figureOf(p, figure)]);
}

/** Whether any bucket of the answers had traffic. */
export const hasTraffic = (answers: Pick<MetricsResponse, 'totals'>[]): boolean => answers.some((a) => a.totals.requests > 0);
