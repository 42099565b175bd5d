import { describe, expect, it } from 'vitest';
import {
  availabilityCounts,
  bucketIndex,
  bucketStart,
  countAtMost,
  errorClass,
  figures,
  inputLengthCounts,
  LATENCY_BOUNDS_MS,
  latencyCounts,
  latencySloCounts,
  psi,
  quantile,
  refusalCounts,
  regroup,
  rollUp,
  type UsageFacts,
} from './monitoring-fns.js';

const rec = (over: Partial<UsageFacts> = {}): UsageFacts => ({
  at: '2026-01-01T10:00:30.000Z',
  key_id: 'key_a',
  namespace: 'acme',
  model: 'acme/bot',
  version: '1.0.0',
  deployment: 'dep_1',
  environment: 'production',
  status: 200,
  shadow: 0,
  latency_ms: 120,
  ttft_ms: 40,
  input_tokens: 100,
  output_tokens: 20,
  cost_usd: 0.001,
  refusal: 0,
  ...over,
});

describe('histograms and percentiles', () => {
  it('puts a value in the first bucket whose bound holds it (le), the last being +Inf', () => {
    expect(bucketIndex([10, 20], 0)).toBe(0);
    expect(bucketIndex([10, 20], 10)).toBe(0);
    expect(bucketIndex([10, 20], 10.5)).toBe(1);
    expect(bucketIndex([10, 20], 1e9)).toBe(2);
  });

  it('estimates quantiles like histogram_quantile: linear within the bucket holding the rank', () => {
    // 100 observations spread evenly over (0, 100] in 10 buckets of 10.
    const bounds = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    const counts = [...bounds.map(() => 10), 0];
    expect(quantile(bounds, counts, 0.5)).toBeCloseTo(50);
    expect(quantile(bounds, counts, 0.95)).toBeCloseTo(95);
    expect(quantile(bounds, counts, 0.99)).toBeCloseTo(99);
    // Everything in one bucket (100, 250]: p50 halfway through it.
    expect(quantile([100, 250], [0, 4, 0], 0.5)).toBeCloseTo(175);
    // A rank in the +Inf bucket answers the highest finite bound.
    expect(quantile([100, 250], [0, 0, 3], 0.5)).toBe(250);
    expect(quantile([100, 250], [0, 0, 0], 0.5)).toBeNull();
  });

  it('counts observations under a threshold, interpolating inside its bucket', () => {
    expect(countAtMost([100, 200], [10, 10, 5], 100)).toBe(10);
    expect(countAtMost([100, 200], [10, 10, 5], 150)).toBe(15);
    expect(countAtMost([100, 200], [10, 10, 5], 1e6)).toBe(20);
  });
});

describe('rollups', () => {
  it('folds a batch into one row per minute and dimensions, with error classes and histograms', () => {
    const rows = rollUp([
      rec(),
      rec({ at: '2026-01-01T10:00:59.999Z', status: 502, latency_ms: 3000, ttft_ms: null, refusal: null }),
      rec({ status: 429 }),
      rec({ status: 499 }),
      rec({ status: 504 }),
      rec({ status: 400 }),
      rec({ status: 500, refusal: 1 }),
      rec({ at: '2026-01-01T10:01:00.000Z' }),
      rec({ version: '2.0.0' }),
      rec({ shadow: 1 }),
    ]);
    expect(rows).toHaveLength(4);
    const main = rows.find((r) => r.bucket === '2026-01-01T10:00:00.000Z' && r.dims.version === '1.0.0' && r.dims.shadow === 0)!;
    const f = figures(main.v, 60);
    expect(f.requests).toBe(7);
    expect(f.errors).toEqual({ client: 1, rateLimited: 1, cancelled: 1, timeout: 1, upstream: 1, server: 1 });
    expect(f.errorRate).toBeCloseTo(3 / 7, 5);
    expect(f.inputTokens).toBe(700);
    expect(f.tokensPerSecond).toBeCloseTo(140 / 60, 3);
    expect(f.refusals).toBe(1);
    expect(refusalCounts(main.v)).toEqual({ known: 6, refused: 1 });
    expect(latencyCounts(main.v)[LATENCY_BOUNDS_MS.indexOf(250)]).toBe(6);
    expect(latencyCounts(main.v)[LATENCY_BOUNDS_MS.indexOf(3000)]).toBe(1);
    expect(inputLengthCounts(main.v)[3]).toBe(0);
    expect(inputLengthCounts(main.v)[4]).toBe(7); // 100 tokens: (64, 128]
    expect(availabilityCounts(main.v)).toEqual({ valid: 6, bad: 3 });
    expect(latencySloCounts(main.v, 250)).toEqual({ valid: 7, bad: 1 });
    // Absent dimensions are '' (primary keys hold no null).
    expect(rollUp([rec({ version: null, key_id: null })])[0]!.dims).toMatchObject({ version: '', key_id: '' });
  });

  it('regroups minute rows into hour rows without losing a count', () => {
    const minutes = rollUp([rec(), rec({ at: '2026-01-01T10:59:00.000Z' }), rec({ at: '2026-01-01T11:00:00.000Z' })]);
    const hours = regroup(minutes, 3600);
    expect(hours.map((h) => [h.bucket, figures(h.v, 3600).requests])).toEqual([
      ['2026-01-01T10:00:00.000Z', 2],
      ['2026-01-01T11:00:00.000Z', 1],
    ]);
  });

  it('aligns buckets to their step', () => {
    expect(bucketStart('2026-01-01T10:17:42.123Z', 60)).toBe('2026-01-01T10:17:00.000Z');
    expect(bucketStart('2026-01-01T10:17:42.123Z', 3600)).toBe('2026-01-01T10:00:00.000Z');
    expect(bucketStart('2026-01-01T10:17:42.123Z', 300)).toBe('2026-01-01T10:15:00.000Z');
  });

  it('answers null ratios and percentiles for a bucket without traffic, zeros for counts', () => {
    const f = figures(new Float64Array(rollUp([rec()])[0]!.v.length), 60);
    expect(f).toMatchObject({ requests: 0, errorRate: null, latencyMs: { p50: null, p95: null, p99: null, avg: null }, costUsd: 0 });
  });

  it('classifies statuses', () => {
    expect([200, 304, 400, 404, 408, 429, 499, 500, 502, 503, 504].map(errorClass)).toEqual([null, null, 'client', 'client', 'timeout', 'rateLimited', 'cancelled', 'server', 'upstream', 'upstream', 'timeout']);
  });
});

describe('population stability index', () => {
  it('is 0 for the same distribution and grows with the shift', () => {
    expect(psi([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 10);
    // Known example: 50/50 against 40/60 → (0.4−0.5)ln(0.8) + (0.6−0.5)ln(1.2) = 0.0405
    expect(psi([50, 50], [40, 60])).toBeCloseTo(0.1 * Math.log(1.25) + 0.1 * Math.log(1.2), 6);
    expect(psi([50, 50], [40, 60])).toBeCloseTo(0.0405, 4);
    const far = psi([90, 10, 0], [0, 10, 90])!;
    expect(far).toBeGreaterThan(0.25);
    expect(psi([0, 0], [1, 1])).toBeNull();
  });
});
