import { describe, expect, it } from 'vitest';
import type { MetricsFigures, MetricsResponse } from '../../../../src/contracts/monitoring.js';
import { figureSeries, hasTraffic } from './metrics-fns.js';
import { shares } from './traffic-split.js';

const figures = (over: Partial<MetricsFigures> = {}): MetricsFigures => ({
  requests: 0,
  errors: { client: 0, rateLimited: 0, cancelled: 0, timeout: 0, upstream: 0, server: 0 },
  errorRate: null,
  latencyMs: { p50: null, p95: null, p99: null, avg: null },
  ttftMs: { p50: null, p95: null },
  inputTokens: 0,
  outputTokens: 0,
  tokensPerSecond: 0,
  costUsd: 0,
  refusals: 0,
  ...over,
});

describe('monitoring points', () => {
  // An answer as the endpoint gives it (typed by its contract, so a drift of the contract fails to compile).
  const answer: MetricsResponse = {
    model: 'acme/bot', environment: 'staging', version: null, deployment: 'd1', key: null,
    since: '2026-01-01T00:00:00.000Z', until: '2026-01-01T00:02:00.000Z', step: 60,
    points: [
      { at: '2026-01-01T00:00:00.000Z', ...figures({ requests: 10, errors: { client: 3, rateLimited: 0, cancelled: 0, timeout: 0, upstream: 1, server: 0 }, errorRate: 0.1, latencyMs: { p50: 100, p95: 300, p99: 400, avg: 120 }, ttftMs: { p50: 30, p95: 70 }, tokensPerSecond: 40 }) },
      { at: '2026-01-01T00:01:00.000Z', ...figures() },
    ],
    totals: figures({ requests: 10 }),
  };

  it('reads each figure by its field; a bucket without traffic is a gap, not a zero (requests excepted)', () => {
    expect(figureSeries(answer, 'requests')).toEqual([[1767225600, 10], [1767225660, 0]]);
    expect(figureSeries(answer, 'errorRate')).toEqual([[1767225600, 0.1], [1767225660, null]]);
    expect(figureSeries(answer, 'errors')[0]).toEqual([1767225600, 1]);
    expect(figureSeries(answer, 'latencyP95Ms')).toEqual([[1767225600, 300], [1767225660, null]]);
    expect(figureSeries(answer, 'ttftP50Ms')[0]).toEqual([1767225600, 30]);
    expect(figureSeries(answer, 'tokensPerSecond')).toEqual([[1767225600, 40], [1767225660, null]]);
  });
  it('knows an hour without any request from one with some', () => {
    expect(hasTraffic([answer])).toBe(true);
    expect(hasTraffic([{ totals: figures() }])).toBe(false);
    expect(hasTraffic([])).toBe(false);
  });
});

describe('traffic shares', () => {
  it('are whole percentages that add up to 100', () => {
    expect(shares([{ deployment: 'a', weight: 90 }, { deployment: 'b', weight: 10 }])).toEqual([90, 10]);
    expect(shares([{ deployment: 'a', weight: 1 }, { deployment: 'b', weight: 1 }, { deployment: 'c', weight: 1 }])).toEqual([34, 33, 33]);
    expect(shares([{ deployment: 'a', weight: 0 }])).toEqual([0]);
  });
});
