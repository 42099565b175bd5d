import { describe, expect, it } from 'vitest';
import { compareRuns, summarize, type MetricInstance, type ScoredRow } from './evals-aggregate.js';
import { getMetric } from './metrics/metrics-registry.js';

const em: MetricInstance = { id: 'em', def: getMetric('exact_match')!, params: getMetric('exact_match')!.params.parse({}) };
const rows = (values: (number | null)[], failedAt: number[] = []): ScoredRow[] =>
  values.map((v, i): ScoredRow => ({ caseId: `c${i}`, ok: !failedAt.includes(i), scores: failedAt.includes(i) ? {} : { em: { value: v } } }));

describe('summarize', () => {
  it('aggregates scored cases, counts errors apart, and checks thresholds', () => {
    const s = summarize([em], [{ metric: 'em', op: '>=', value: 0.5 }], rows([1, 0, 1, null, 1], [4]), { total: 5, failed: 1, durationMs: 1000, resamples: 500, seed: 7 });
    expect(s.metrics[0]).toMatchObject({ id: 'em', metric: 'exact_match', value: 2 / 3, scored: 3, errors: 1, higherIsBetter: true });
    expect(s.metrics[0]!.low!).toBeLessThanOrEqual(2 / 3);
    expect(s.metrics[0]!.high!).toBeGreaterThanOrEqual(2 / 3);
    expect(s.thresholds).toEqual([{ metric: 'em', op: '>=', value: 0.5, actual: 2 / 3, passed: true }]);
    expect(s).toMatchObject({ passed: true, errorRate: 0.2, casesPerSecond: 5 });
    // Same seed, same interval.
    const again = summarize([em], [], rows([1, 0, 1, null, 1], [4]), { total: 5, failed: 1, durationMs: 1000, resamples: 500, seed: 7 });
    expect(again.metrics[0]).toEqual(s.metrics[0]);
  });

  it('fails a threshold whose metric scored nothing', () => {
    const s = summarize([em], [{ metric: 'em', op: '>', value: 0 }], rows([null, null]), { total: 2, failed: 0, durationMs: 10, resamples: 100, seed: 1 });
    expect(s.metrics[0]).toMatchObject({ value: null, low: null, high: null, scored: 0, errors: 2 });
    expect(s.passed).toBe(false);
  });
});

describe('compareRuns', () => {
  it('pairs cases by id, reports significant changes and flips both ways', () => {
    const a = rows([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    const b = rows([1, 1, 1, 1, 1, 1, 1, 1, 0, 1]);
    const c = compareRuns([em], a, b, { resamples: 1000, seed: 3, maxFlips: 100 });
    expect(c.commonCases).toBe(10);
    expect(c.metrics[0]).toMatchObject({ a: 0.2, b: 0.9, verdict: 'better' });
    expect(c.metrics[0]!.delta).toBeCloseTo(0.7, 12);
    expect(c.metrics[0]!.low!).toBeGreaterThan(0);
    expect(c.flipped.filter((f) => f.direction === 'fixed')).toHaveLength(8);
    expect(c.flipped.filter((f) => f.direction === 'broke').map((f) => f.caseId)).toEqual(['c8']);
  });

  it('calls a small noisy difference no significant change, truncates flips, and lists failed requests', () => {
    const a = rows([1, 0, 1, 0, 1, 0]);
    const b = rows([0, 1, 1, 0, 1, 0], [5]);
    const c = compareRuns([em], a, b, { resamples: 1000, seed: 3, maxFlips: 1 });
    expect(c.metrics[0]!.verdict).toBe('no significant change');
    expect(c.flipped).toHaveLength(1);
    expect(c.flippedTruncated).toBe(true);
    const all = compareRuns([em], a, b, { resamples: 0, seed: 3, maxFlips: 10 });
    expect(all.flipped.map((f) => [f.caseId, f.metric, f.direction])).toEqual([
      ['c0', 'em', 'broke'],
      ['c1', 'em', 'fixed'],
      ['c5', 'request', 'broke'],
    ]);
  });
});
